"""The one entry point: rules by id, the outcome record, the input hash."""

from fractions import Fraction

import pytest

from pb_engine import __version__
from pb_engine.allocation import Instance, Project, allocate, rule_ids
from pb_engine.allocation.tiebreak import by_id, explicit
from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, OrdinalBallot, Profile, VoteType
from pb_engine.errors import ValidationFailed

INSTANCE = Instance(Fraction(10), [Project("1", Fraction(6)), Project("2", Fraction(5)), Project("3", Fraction(4))])
BALLOTS = [ApprovalBallot(frozenset({"1"})), ApprovalBallot(frozenset({"1", "2"})), ApprovalBallot(frozenset({"3"}))]


def test_every_rule_is_registered():
    assert set(rule_ids()) >= {"greedy", "greedy-no-skip", "greedy-threshold", "max-welfare", "mes", "phragmen"}


def test_unknown_rule_is_refused_naming_the_field():
    with pytest.raises(ValidationFailed) as err:
        allocate(INSTANCE, Profile(VoteType.APPROVAL, BALLOTS), "lottery")
    assert "rule" in err.value.errors and "lottery" in err.value.message


def test_outcome_records_rule_options_tie_breaking_version_and_hash():
    out = allocate(INSTANCE, Profile(VoteType.APPROVAL, BALLOTS), "mes", completion="greedy",
                   tie_breaking=explicit(["3", "2", "1"]))
    assert out.rule == "mes"
    assert out.options == {"completion": "greedy"}  # only what was asked: no default leaks in
    assert out.tie_breaking == {"kind": "explicit", "order": ["3", "2", "1"]}
    assert out.engine_version == __version__
    assert out.input_hash.startswith("sha256:") and len(out.input_hash) == 7 + 64


def test_default_tie_breaking_orders_numeric_ids_as_numbers():
    assert by_id(["10", "9", "x", "1"]).order == ("1", "9", "10", "x")


def test_input_hash_ignores_ballot_order_but_not_content():
    h = allocate(INSTANCE, Profile(VoteType.APPROVAL, BALLOTS), "greedy").input_hash
    assert allocate(INSTANCE, Profile(VoteType.APPROVAL, BALLOTS[::-1]), "greedy").input_hash == h
    changed = BALLOTS[:2] + [ApprovalBallot(frozenset({"2"}))]
    assert allocate(INSTANCE, Profile(VoteType.APPROVAL, changed), "greedy").input_hash != h
    cheaper = Instance(INSTANCE.budget, [Project("1", Fraction(5)), *INSTANCE.projects[1:]])
    assert allocate(cheaper, Profile(VoteType.APPROVAL, BALLOTS), "greedy").input_hash != h


def test_input_hash_tells_ballot_shapes_apart():
    approval = Profile(VoteType.APPROVAL, [ApprovalBallot(frozenset({"1", "2"}))])
    ranked = Profile(VoteType.ORDINAL, [OrdinalBallot(("2", "1"))])
    points = Profile(VoteType.CUMULATIVE, [CumulativeBallot.of({"1": 1, "2": 1})])
    hashes = {allocate(INSTANCE, p, "greedy").input_hash for p in (approval, ranked, points)}
    assert len(hashes) == 3


@pytest.mark.parametrize("x, expected", [
    (Fraction(7), 7), (Fraction(5, 2), "2.5"), (Fraction(-1, 20), "-0.05"), (Fraction(1, 3), "1/3"),
    (1 + Fraction(1, 2**100), "1." + str(5**100).rjust(100, "0")),  # 101 significant digits, all of them kept
])
def test_outcome_numbers_are_exact_in_json(x, expected):
    from pb_engine.allocation.outcome import number_json

    assert number_json(x) == expected


# --------------------------------------------------------------------------- descriptors

import subprocess  # noqa: E402
import sys  # noqa: E402

from hypothesis import given, settings  # noqa: E402

from examples import instance as make_instance  # noqa: E402
from strategies import elections  # noqa: E402
from pb_engine.allocation.registry import (  # noqa: E402
    ALL_KINDS, OPTION_TYPES, RULES, Option, Rule, all_options, describe, descriptors_json, register, rules,
)
from pb_engine.allocation.spec import RuleSpec  # noqa: E402

BUILT_IN = {"greedy", "greedy-no-skip", "greedy-threshold", "max-welfare", "mes", "phragmen"}
POINTS = Profile(VoteType.CUMULATIVE, [CumulativeBallot.of({"1": 2, "2": 1}), CumulativeBallot.of({"3": 3})])
ELECTIONS = {
    "approval": Profile(VoteType.APPROVAL, BALLOTS),
    "choose-1": Profile(VoteType.CHOOSE_1, [ApprovalBallot(frozenset({"1"})), ApprovalBallot(frozenset({"3"}))]),
    "cumulative": POINTS,
    "scoring": Profile(VoteType.SCORING, POINTS.ballots),
    "ordinal": Profile(VoteType.ORDINAL, [OrdinalBallot(("2", "1")), OrdinalBallot(("3",))]),
}


def needed(rule: Rule) -> dict:
    """The least options under which `rule` runs (greedy-threshold needs a threshold)."""
    return {"threshold": 1} if rule.id == "greedy-threshold" else {}


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.id)
def test_every_descriptor_field_is_filled_and_consistent(rule):
    assert RULES[rule.id] is rule and describe(rule.id) is rule
    assert rule.name and rule.name != rule.id
    assert rule.description.endswith(".") and "\n" not in rule.description and len(rule.description) < 200
    assert rule.ballot_kinds and set(rule.ballot_kinds) <= set(ALL_KINDS)
    assert isinstance(rule.exhaustive, bool) and callable(rule.run)
    for o in rule.options:
        assert o.type in OPTION_TYPES and o.help and "\n" not in o.help
        assert bool(o.choices) == (o.type == "choice")
        if o.default is not None:
            assert o.convert(o.default) == o.default  # a default passes its own check
    for name, why in rule.refusals.items():
        assert rule.option(name) is None and why
    data = rule.to_json()
    assert set(data) == {"id", "name", "description", "ballot_kinds", "exhaustive", "options"}
    assert [o["name"] for o in data["options"]] == [o.name for o in rule.options]
    assert all({"name", "type", "default", "help"} <= set(o) for o in data["options"])


def test_descriptors_say_what_the_rules_are():
    assert BUILT_IN <= set(RULES)
    assert {r: RULES[r].exhaustive for r in BUILT_IN} == {
        "greedy": True, "greedy-no-skip": False, "greedy-threshold": False, "max-welfare": True, "mes": False,
        "phragmen": True}
    assert [o.name for o in RULES["mes"].options] == [
        "satisfaction", "completion", "increment", "exhaustive_stop", "then_greedy", "comparison", "workers"]
    assert RULES["mes"].option("completion").choices == ("add1", "add1-comparison", "greedy")
    assert RULES["phragmen"].option("overflow").default == "skip"
    assert RULES["max-welfare"].option("solver").choices == ("cbc", "highs")
    assert RULES["greedy"].option("satisfaction").default == "cost"
    mes = next(d for d in descriptors_json() if d["id"] == "mes")
    assert {"name": "increment", "type": "number", "default": 1, "exclusive_minimum": 0,
            "help": RULES["mes"].option("increment").help} in mes["options"]


@pytest.mark.parametrize("rule", [r for r in rules() if r.exhaustive], ids=lambda r: r.id)
@settings(max_examples=40, deadline=None)
@given(election=elections())
def test_a_rule_described_exhaustive_leaves_no_supported_project_that_fits(rule, election):
    inst, prof = election
    out = allocate(inst, prof, rule.id, **needed(rule))
    left = inst.budget - out.total_cost
    unfunded = [r for r in out.projects if not r.funded and r.reason != "no_support"]
    assert all(r.cost > left for r in unfunded), (rule.id, left, unfunded)


def bad_values(o: Option):
    if o.type == "choice":
        return ["no-such-value", 3]
    if o.type == "boolean":
        return ["yes", 1]
    out = ["ten", True]
    if o.minimum is not None:
        out.append(Fraction(o.minimum) - 1)
        if o.exclusive_minimum:
            out.append(o.minimum)
    if o.maximum is not None:
        out.append(Fraction(o.maximum) + 1)
    if o.type == "integer":
        out.append(2.5)
    return out


BAD = [(r.id, o.name, v) for r in rules() for o in r.options for v in bad_values(o)]
FOREIGN = [(r.id, name) for r in rules() for name in all_options() if r.option(name) is None]


@pytest.mark.parametrize("rule_id, name, value", BAD, ids=[f"{r}-{n}-{v!r}" for r, n, v in BAD])
def test_each_bad_option_value_is_refused_naming_the_option(rule_id, name, value):
    with pytest.raises(ValidationFailed) as err:
        allocate(INSTANCE, Profile(VoteType.APPROVAL, BALLOTS), rule_id, **{**needed(RULES[rule_id]), name: value})
    assert list(err.value.errors) == [name] and name in err.value.message
    spec, problems = RuleSpec.from_dict(
        {"id": rule_id, **needed(RULES[rule_id]), name: value})
    assert spec is None and [k for k, _m in problems] == [f"rule.{name}"]


@pytest.mark.parametrize("rule_id, name", FOREIGN, ids=[f"{r}-{n}" for r, n in FOREIGN])
def test_an_option_of_another_rule_is_refused_naming_it(rule_id, name):
    other = next(r for r in rules() if r.option(name) is not None)
    value = other.option(name).default
    if value is None:
        o = other.option(name)
        value = o.choices[0] if o.choices else True if o.type == "boolean" else 1
    with pytest.raises(ValidationFailed) as err:
        allocate(INSTANCE, Profile(VoteType.APPROVAL, BALLOTS), rule_id, **{**needed(RULES[rule_id]), name: value})
    assert list(err.value.errors) == [name]
    assert f"{rule_id} takes no {name}" in err.value.message


SATISFACTION_RULES = ["greedy", "greedy-no-skip", "greedy-threshold", "mes", "max-welfare"]


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("rule_id", SATISFACTION_RULES)
def test_cost_and_cardinality_are_taken_by_every_rule_they_mean_something_to(rule_id, kind):
    for satisfaction in ("cost", "cardinality"):
        out = allocate(INSTANCE, ELECTIONS[kind], rule_id, satisfaction=satisfaction, **needed(RULES[rule_id]))
        assert out.options["satisfaction"] == satisfaction


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_phragmen_refuses_satisfaction_saying_why(kind):
    with pytest.raises(ValidationFailed) as err:
        allocate(INSTANCE, ELECTIONS[kind], "phragmen", satisfaction="cardinality")
    assert list(err.value.errors) == ["satisfaction"]
    assert "phragmen takes no satisfaction: Phragmén counts supporters" in err.value.message


def test_satisfaction_changes_the_max_welfare_outcome_on_every_ballot_kind_it_can():
    # points and rankings weighed by cost as greedy and MES weigh them (a cheap pair against a dear one)
    inst = make_instance(10, {"1": 10, "2": 5, "3": 5})
    for prof in (Profile(VoteType.CUMULATIVE, [CumulativeBallot.of({"1": 3}), CumulativeBallot.of({"2": 2, "3": 2})]),
                 Profile(VoteType.ORDINAL, [OrdinalBallot(("1", "2", "3")), OrdinalBallot(("1", "3", "2")),
                                            OrdinalBallot(("2", "3", "1"))])):
        cost = allocate(inst, prof, "max-welfare", satisfaction="cost").selected
        cardinality = allocate(inst, prof, "max-welfare", satisfaction="cardinality").selected
        assert (cost, cardinality) == (("1",), ("2", "3")), prof.vote_type


@pytest.mark.parametrize("first", ["pb_engine.allocation", "pb_engine.allocation.registry",
                                   "pb_engine.allocation.spec", "pb_engine.allocation.mes",
                                   "pb_engine.allocation.welfare"])
def test_importing_any_allocation_module_first_registers_every_rule(first):
    code = (f"import {first}\nfrom pb_engine.allocation import registry\n"
            "print(','.join(registry.rule_ids()), hasattr(registry, '_load_rules'), 'pulp' in __import__('sys').modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert set(out[0].split(",")) >= BUILT_IN
    assert out[1] == "False"       # no lazy filling
    assert out[2] == "False"       # and PuLP only once max-welfare runs


def test_a_rule_refuses_a_ballot_kind_it_does_not_take(dummy_rule):
    with pytest.raises(ValidationFailed) as err:
        allocate(INSTANCE, POINTS, dummy_rule.id)
    assert "rule" in err.value.errors and "does not take cumulative ballots" in err.value.message


def test_register_refuses_a_rule_id_twice_and_a_bare_id(dummy_rule):
    with pytest.raises(ValueError):
        register(dummy_rule)(lambda *a: None)
    with pytest.raises(TypeError):
        register("dummy")


def test_an_option_name_keeps_its_type_across_rules():
    clash = Rule(id="clash", name="Clash", description="Takes a completion that is a number.",
                 options=(Option("completion", "number", "not a choice here"),))
    with pytest.raises(ValueError, match="option 'completion' is a number, but a choice in 'mes'"):
        register(clash)(lambda *a: None)
    assert "clash" not in RULES


@pytest.mark.parametrize("option, problem", [
    (dict(name="x", type="text", help="h"), "type must be one of"),
    (dict(name="x", type="choice", help="h"), "choices go with type 'choice'"),
    (dict(name="x", type="number", help="h", choices=("a",)), "choices go with type 'choice'"),
])
def test_a_malformed_option_descriptor_is_refused(option, problem):
    with pytest.raises(ValueError, match=problem):
        Option(**option)


def test_a_malformed_rule_descriptor_is_refused():
    with pytest.raises(ValueError, match="unknown ballot kinds"):
        Rule(id="x", name="X", description="X.", ballot_kinds=("knapsack-set",))
    with pytest.raises(ValueError, match="described twice"):
        Rule(id="x", name="X", description="X.", options=(Option("a", "boolean", "h"), Option("a", "boolean", "h")))
