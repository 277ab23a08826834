"""`pb-engine rules [--json]`, `GET /api/v1/rules` and the `allocate` flags all come from the rule descriptors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pb_engine.allocation.registry import all_options, descriptors_json, rule_ids
from pb_engine.allocation.spec import RuleSpec
from pb_engine.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "pabulib"
APPROVAL_FILE = DATA / "Poland_Warszawa_2017_Plac_Wojska_Polskiego.pb"
POINTS_FILE = DATA / "Worldwide_Mechanical_Turk_Utilities_3.pb"


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def rules_json():
    out = cli("rules", "--json")
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_rules_json_is_every_descriptor():
    data = rules_json()
    assert data == descriptors_json()
    assert [d["id"] for d in data] == rule_ids()
    mes = next(d for d in data if d["id"] == "mes")
    completion = next(o for o in mes["options"] if o["name"] == "completion")
    assert completion == {"name": "completion", "type": "choice", "default": None,
                          "choices": ["add1", "add1-comparison", "greedy"], "help": completion["help"]}


def test_rules_for_people_name_each_rule_and_its_flags():
    text = cli("rules").output
    for d in descriptors_json():
        assert f"{d['id']}: {d['name']}" in text and d["description"] in text
        for o in d["options"]:
            assert f"--{o['name'].replace('_', '-')} " in text
    assert "--overflow skip|stop (default skip)" in text


def test_allocate_has_one_flag_per_option_name():
    help_text = cli("allocate", "--help").output
    for name, takers in all_options().items():
        assert f"--{name.replace('_', '-')}" in help_text
        for _rule, o in takers:
            for choice in o.choices:
                assert choice in help_text


def test_a_registered_rule_shows_in_the_cli_the_json_and_the_spec_parser(dummy_rule):
    assert "--colour [red|blue]" in cli("allocate", "--help").output
    assert "--dummy-weight N" in cli("allocate", "--help").output
    assert dummy_rule.to_json() in rules_json()
    assert "dummy-rule: A test's own rule (exhaustive)" in cli("rules").output

    spec, problems = RuleSpec.from_dict({"id": "dummy-rule", "colour": "blue", "dummy_weight": 2.5})
    assert problems == [] and spec.colour == "blue" and spec.to_dict() == {"id": "dummy-rule", "colour": "blue",
                                                                         "dummy_weight": 2.5}
    spec, problems = RuleSpec.from_dict({"id": "dummy-rule", "colour": "green", "dummy_weight": 9})
    assert spec is None and [k for k, _m in problems] == ["rule.colour", "rule.dummy_weight"]
    spec, problems = RuleSpec.from_dict({"id": "greedy", "colour": "red"})
    assert problems == [("rule.colour", "greedy takes no colour (it is an option of dummy-rule); "
                                        "it takes satisfaction")]

    ran = cli("allocate", "--rule", "dummy-rule", "--colour", "blue", "--json", str(APPROVAL_FILE))
    assert ran.exit_code == 0, ran.output
    line = json.loads(ran.stdout)
    assert line["rule"] == "dummy-rule" and line["options"] == {"colour": "blue"}
    refused = CliRunner().invoke(main, ["allocate", "--rule", "dummy-rule", "--dummy-weight", "7", str(APPROVAL_FILE)])
    assert refused.exit_code == 2 and "--dummy-weight" in refused.output and "between 0 and 5" in refused.output


def test_after_unregistering_the_rule_is_gone_everywhere(dummy_rule):
    from pb_engine.allocation.registry import unregister

    unregister(dummy_rule.id)
    assert "--colour" not in cli("allocate", "--help").output
    assert all(d["id"] != "dummy-rule" for d in rules_json())
    assert RuleSpec.from_dict({"id": "dummy-rule"})[1][0][0] == "rule.id"


def test_allocate_refuses_a_flag_the_rule_does_not_take_naming_it():
    out = CliRunner().invoke(main, ["allocate", "--rule", "greedy", "--completion", "add1", str(APPROVAL_FILE)])
    assert out.exit_code == 2 and "--completion" in out.output and "greedy takes no completion" in out.output
    out = CliRunner().invoke(main, ["allocate", "--rule", "mes", "--increment", "zero", str(APPROVAL_FILE)])
    assert out.exit_code == 2 and "--increment" in out.output and "must be a number" in out.output


def test_allocate_flags_reach_the_rule():
    out = cli("allocate", "--rule", "mes", "--completion", "add1", "--increment", "1/2", "--no-exhaustive-stop",
              "--workers", "1", "--json", str(APPROVAL_FILE))
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["options"] == {"completion": "add1", "increment": "1/2",
                                                 "exhaustive_stop": False, "workers": 1}
    out = cli("allocate", "--rule", "max-welfare", "--satisfaction", "cost", "--json", str(POINTS_FILE))
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["options"] == {"satisfaction": "cost"}


def test_get_api_rules_serves_what_rules_json_prints(client, dummy_rule):
    r = client.get("/api/v1/rules")
    assert r.status_code == 200
    assert r.get_json() == rules_json()
    assert any(d["id"] == "dummy-rule" for d in r.get_json())


def test_the_readme_lists_the_rules_as_their_descriptors_do():
    from pb_engine.commands.rules import markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    begin, end = "<!-- rules: pb-engine rules --markdown -->\n", "\n<!-- /rules -->"
    listed = readme[readme.index(begin) + len(begin):readme.index(end)]
    assert listed == markdown(), "README's rules section is out of date: paste `pb-engine rules --markdown` there"


def test_the_api_rule_schema_has_one_field_per_option_name():
    from api.schemas.outcomes import RuleInSchema

    schema = RuleInSchema()
    assert set(schema.fields) == {"id", *all_options()}
    assert {"add1", "add1-comparison", "greedy"} <= set(schema.fields["completion"].metadata["enum"])
    assert "mes: " in schema.fields["completion"].metadata["description"]
    # values are bounded here and judged by RuleSpec for the chosen rule, which names the key
    assert schema.load({"id": "phragmen", "overflow": "wait"}) == {"id": "phragmen", "overflow": "wait"}
    assert "threshold_share" in schema.validate({"id": "greedy-threshold", "threshold_share": 2})


def test_a_config_names_the_bad_option_with_its_key_path():
    spec, problems = RuleSpec.from_dict({"id": "phragmen", "overflow": "wait", "colour": "red"},
                                        prefix="rounds.warszawa.rule")
    assert spec is None and [k for k, _m in problems] == ["rounds.warszawa.rule.colour",
                                                         "rounds.warszawa.rule.overflow"]
    assert "unknown key; allowed: id, satisfaction" in problems[0][1]
    assert problems[1][1] == "phragmen: overflow must be one of skip, stop, got 'wait'"
