"""`pb-engine allocate` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pb_engine.cli import main

DATA = Path(__file__).resolve().parent.parent / "data"
PB = DATA / "pabulib"
KRAKOW = str(PB / "Poland_Krakow_2021_Wzgorza_Krzeslawickie.pb")
WROCLAW = str(PB / "Poland_Wroclaw_2018_Rejon_nr_10_250.pb")
TOULOUSE = str(PB / "France_Toulouse_2022.pb")
STANFORD = str(PB / "US_Stanford_Dataset_PB_Cambridge_2015_vote_knapsacks.pb")
BAD = str(DATA / "pabulib_malformed" / "unknown_project_in_vote.pb")


def run(*args):
    return CliRunner().invoke(main, ["allocate", *args], catch_exceptions=False)


def jsonl(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_table_for_one_file():
    r = run(KRAKOW, "--rule", "official")
    assert r.exit_code == 0, r.output
    out = r.output
    assert "rule official (greedy) · ordinal · 2296 ballots · 33 projects · budget 1 487 040" in out
    assert "Wykonanie nakładki bitumicznej" in out
    assert "funded 10 project(s), total cost 1 486 650 of 1 487 040" in out
    assert "matches official: yes" in out


def test_json_fields():
    r = run(WROCLAW, "--rule", "official", "--json")
    assert r.exit_code == 0
    (d,) = jsonl(r.output)
    assert d["file"] == WROCLAW and d["rule"] == "official" and d["official_rule"] == "greedy-no-skip"
    assert d["selected"] == ["374", "626", "45"] and all(isinstance(x, str) for x in d["selected"])
    assert d["total_cost"] == 750000 and d["matches_official"] is True
    assert isinstance(d["notes"], list)
    reasons = {p["id"]: p["reason"] for p in d["projects"]}
    assert reasons["374"] == "funded" and reasons["462"] == "stopped"
    assert all("message" in p for p in d["projects"])


def test_matches_official_is_null_without_selected_column():
    (d,) = jsonl(run(TOULOUSE, "--rule", "official", "--json").output)
    assert d["matches_official"] is None and d["selected"]


def test_unknown_rule_file_says_why():
    r = run(STANFORD, "--rule", "official")
    assert r.exit_code == 0
    assert "matches official: n/a" in r.output and "rule is unknown" in r.output
    (d,) = jsonl(run(STANFORD, "--rule", "official", "--json").output)
    assert d["selected"] == [] and d["matches_official"] is None
    assert any("rule is unknown" in n for n in d["notes"])


def test_several_files_and_a_directory():
    r = run(KRAKOW, WROCLAW, "--rule", "official", "--json")
    assert [d["file"] for d in jsonl(r.output)] == [KRAKOW, WROCLAW]
    r = run(str(PB), "--rule", "official", "--json")
    rows = jsonl(r.output)
    assert len(rows) == 13 and r.exit_code == 0
    assert {Path(d["file"]).name for d in rows if d["matches_official"]} >= {
        "Poland_Katowice_2022_Osiedle_Witosa.pb", "Poland_Warszawa_2026.pb", "Poland_Wroclaw_2018_Rejon_nr_10_250.pb"}
    assert not [d for d in rows if d["matches_official"] is False]


def test_bad_file_is_reported_and_the_others_run():
    r = CliRunner().invoke(main, ["allocate", KRAKOW, BAD, WROCLAW, "--rule", "official", "--json"])
    assert r.exit_code == 1
    rows = jsonl(r.stdout)
    assert [d["file"] for d in rows] == [KRAKOW, BAD, WROCLAW]
    assert rows[1]["error"].endswith("line 22: vote for unknown project '9' (not in PROJECTS)")
    assert rows[1]["line"] == 22
    assert "error:" in r.stderr and "1 of 3 file(s) failed" in r.stderr


def test_bad_file_in_table_mode():
    r = CliRunner().invoke(main, ["allocate", BAD, KRAKOW, "--rule", "official"])
    assert r.exit_code == 1
    assert "matches official: yes" in r.stdout
    assert "line 22" in r.stderr


def test_named_rule_and_options():
    r = run(WROCLAW, "--rule", "greedy", "--json")
    assert r.exit_code == 0, r.output
    (d,) = jsonl(r.output)
    assert d["rule"] == "greedy" and d["selected"] == ["374", "626", "45"]  # the three fill the budget exactly
    r = run(str(PB / "Poland_Warszawa_2018_rejon_6.pb"), "--rule", "greedy-threshold", "--threshold", "274", "--json")
    (d,) = jsonl(r.output)
    assert d["matches_official"] is True


def test_unknown_rule_and_bad_threshold_are_usage_errors():
    r = CliRunner().invoke(main, ["allocate", KRAKOW, "--rule", "dictator"])
    assert r.exit_code == 2 and "unknown rule 'dictator'" in r.output
    r = CliRunner().invoke(main, ["allocate", KRAKOW, "--rule", "greedy-threshold", "--threshold", "ten"])
    assert r.exit_code == 2 and "--threshold" in r.output and "threshold must be a number, got 'ten'" in r.output


def test_no_progress_bar_when_not_a_terminal():
    r = CliRunner().invoke(main, ["allocate", KRAKOW, WROCLAW, "--rule", "official"])
    assert "allocating" not in r.stderr


def test_pabulib_validate_and_format(tmp_path):
    r = CliRunner().invoke(main, ["pabulib", "validate", KRAKOW, BAD])
    assert r.exit_code == 1
    assert "ok: " in r.stdout and "ordinal, 33 projects, 2296 ballots" in r.stdout
    assert "line 22: vote for unknown project" in r.stderr
    out = tmp_path / "assen.pb"
    r = CliRunner().invoke(main, ["pabulib", "format", str(PB / "Netherlands_Assen_2024.pb"), str(out), "--lf"])
    assert r.exit_code == 0
    from pb_engine import pabulib

    assert b"\r" not in out.read_bytes()
    assert pabulib.parse(out).instance == pabulib.parse(PB / "Netherlands_Assen_2024.pb").instance


def test_official_says_it_ignores_rule_options():
    r = CliRunner().invoke(main, ["allocate", WROCLAW, "--rule", "official", "--satisfaction", "cardinality"])
    assert r.exit_code == 0
    assert "ignoring satisfaction" in r.stderr


def test_a_directory_without_pb_files_is_a_usage_error(tmp_path):
    r = CliRunner().invoke(main, ["allocate", str(tmp_path), "--rule", "greedy"])
    assert r.exit_code == 2 and "no .pb files found" in r.output


def test_pabulib_validate_warns_when_meta_counts_disagree(tmp_path):
    f = tmp_path / "counts.pb"
    f.write_text("META\nkey;value\nbudget;10\nvote_type;approval\nnum_projects;2\nnum_votes;5\n"
                 "PROJECTS\nproject_id;cost\n1;5\n2;5\nVOTES\nvoter_id;vote\n1;1\n2;1,2\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["pabulib", "validate", str(f)])
    assert r.exit_code == 0
    assert "warning: META num_votes is 5 but the file holds 2" in r.stdout
    assert r.stdout.count("warning") == 1  # num_projects agrees


def test_comparison_is_structured_in_json_and_worded_in_the_table(tmp_path):
    f = tmp_path / "mismatch.pb"
    f.write_text("META\nkey;value\nbudget;100\nvote_type;approval\nrule;greedy\n"
                 "PROJECTS\nproject_id;cost;votes;selected\na;60;3;0\nb;50;2;1\nc;10;1;2\n"
                 "VOTES\nvoter_id;vote\n1;a,b,c\n2;a,b\n3;a\n", encoding="utf-8")
    (d,) = jsonl(run(str(f), "--rule", "official", "--json").output)
    assert d["matches_official"] is False and d["not_published"] == ["a", "c"] and d["not_funded"] == ["b"]
    assert d["differences"] == [{"code": "not_selected_in_file", "project": "a"},
                                {"code": "missing_from_rule", "project": "b", "reason": "did_not_fit"},
                                {"code": "not_selected_in_file", "project": "c"}]
    assert d["set_aside"] == [{"code": "selected_outside_rule", "project": "c", "mark": "2"}]
    out = run(str(f), "--rule", "official").output
    assert "matches official: NO — funded here but not published: a, c; published but not funded here: b" in out
    assert "note: project c is marked selected='2': funded outside the plain rule" in out


def test_official_on_the_quirk_files():
    r = run(str(DATA / "pabulib_quirks"), "--rule", "official", "--json")
    assert r.exit_code == 0, r.stderr
    rows = jsonl(r.output)
    assert len(rows) == 6 and all("error" not in d and d["warnings"] for d in rows)
    matched = {Path(d["file"]).name for d in rows if d["matches_official"]}
    assert matched == {"Poland_Warszawa_2026_Blonia_Wilanowskie.pb", "Poland_Warszawa_2026_Natolin_Kabaty.pb",
                       "Poland_Warszawa_2026_Tarchomin.pb"}  # the others publish no `selected`, or no rule
    assert not [d for d in rows if d["matches_official"] is False]
    assert r.stderr.count("warning: ") == sum(len(d["warnings"]) for d in rows)
