"""Ballot validation: every limit of every kind, at the edge and one past it, with the message."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, OrdinalBallot
from pb_engine.ballots.rules import BallotRules
from pb_engine.ballots.validation import Catalog, from_content, plain_money, to_content, validate
from pb_engine.errors import ValidationFailed

# north: five projects, budget 1 000 000 (minor units: grosze)
COSTS = {"1": 300_000_00, "2": 250_000_00, "3": 200_000_00, "4": 400_000_00, "5": 100_000_00}
NORTH = Catalog(district="north", budget=1_000_000_00, costs=COSTS, elsewhere={"17": "south"})


def rules(**kw) -> BallotRules:
    r, problems = BallotRules.from_dict(kw)
    assert not problems, problems
    return r


def refused(r, content, catalog=NORTH) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as e:
        validate(r, content, catalog)
    return e.value


# --- approval --------------------------------------------------------------------

def test_approval_max_edge_and_one_past():
    r = rules(kind="approval", max_projects=3)
    assert validate(r, {"projects": [1, 2, 3]}, NORTH) == ApprovalBallot(frozenset({"1", "2", "3"}))
    e = refused(r, {"projects": [1, 2, 3, 4]})
    assert e.message == "4 projects chosen, at most 3 allowed"
    assert e.errors == {"projects": ["4 projects chosen, at most 3 allowed"]}


def test_approval_min_edge_and_one_below():
    r = rules(kind="approval", min_projects=2, max_projects=4)
    validate(r, {"projects": [1, 2]}, NORTH)
    assert refused(r, {"projects": [1]}).message == "1 project chosen, at least 2 required"


def test_empty_ballot_refused_unless_min_zero():
    assert refused(rules(kind="approval"), {"projects": []}).message == "0 projects chosen, at least 1 required"
    assert validate(rules(kind="approval", min_projects=0), {"projects": []}, NORTH) == ApprovalBallot(frozenset())


def test_choose_one():
    r = rules(kind="approval", max_projects=1)
    validate(r, {"projects": ["5"]}, NORTH)
    assert refused(r, {"projects": [5, 4]}).message == "2 projects chosen, at most 1 allowed"


def test_duplicate_in_approval_refused():
    e = refused(rules(kind="approval"), {"projects": [1, 1]})
    assert "project 1 is chosen more than once" in e.message


# --- knapsack ----------------------------------------------------------------------

def test_knapsack_budget_edge_and_one_past():
    r = rules(kind="knapsack")
    # 300 000 + 250 000 + 200 000 + 100 000 = 850 000; + 400 000 = 1 250 000
    validate(r, {"projects": [1, 2, 3, 5]}, NORTH)
    exact = Catalog("north", 1_000_000_00, {**COSTS, "6": 150_000_00})
    validate(r, {"projects": [1, 2, 3, 5, 6]}, exact)  # exactly the budget
    one_past = Catalog("north", 1_000_000_00, {**COSTS, "6": 150_000_01})
    assert refused(r, {"projects": [1, 2, 3, 5, 6]}, one_past).message == (
        "total 1 000 000.01 exceeds the district budget 1 000 000 by 0.01")
    assert refused(r, {"projects": [1, 2, 3, 4]}).message == (
        "total 1 150 000 exceeds the district budget 1 000 000 by 150 000")
    assert refused(r, {"projects": [1, 2, 3, 4, 5]}).message == (
        "total 1 250 000 exceeds the district budget 1 000 000 by 250 000")


def test_knapsack_min_spend_share():
    r = rules(kind="knapsack", min_spend_share=0.7)
    validate(r, {"projects": [1, 4]}, NORTH)  # 700 000: exactly 70 %
    just_below = Catalog("north", 1_000_000_00, {"a": 699_999_99})
    e = refused(r, {"projects": ["a"]}, just_below)
    assert e.message == ("total 699 999.99 is below the minimum spend 700 000 (70 % of the district budget "
                         "1 000 000) by 0.01")
    assert refused(r, {"projects": [1, 3]}).message == (
        "total 500 000 is below the minimum spend 700 000 (70 % of the district budget 1 000 000) by 200 000")


def test_knapsack_count_limits():
    r = rules(kind="knapsack", min_projects=2, max_projects=3)
    validate(r, {"projects": [3, 5]}, NORTH)
    validate(r, {"projects": [2, 3, 5]}, NORTH)
    assert refused(r, {"projects": [5]}).message == "1 project chosen, at least 2 required"
    assert refused(r, {"projects": [1, 2, 3, 5]}).message == "4 projects chosen, at most 3 allowed"


def test_money_uses_the_catalog_formatter():
    cat = Catalog("north", 1_000_000_00, COSTS, money=lambda m: f"{m // 100:,} zł")
    e = refused(rules(kind="knapsack"), {"projects": [1, 2, 3, 4, 5]}, cat)
    assert e.message == "total 1,250,000 zł exceeds the district budget 1,000,000 zł by 250,000 zł"


# --- cumulative --------------------------------------------------------------------

def test_cumulative_total_edge_and_one_past():
    r = rules(kind="cumulative", max_points=10)
    assert validate(r, {"points": {"1": 6, "2": 4}}, NORTH) == CumulativeBallot.of({"1": 6, "2": 4})
    assert refused(r, {"points": {"1": 6, "2": 5}}).message == "11 points given, at most 10 allowed"


def test_cumulative_per_project_edge_and_one_past():
    r = rules(kind="cumulative", max_points=10, max_points_per_project=5)
    validate(r, {"points": {"1": 5, "2": 5}}, NORTH)
    assert refused(r, {"points": {"1": 6, "2": 3}}).message == "project 1: 6 points, at most 5 allowed on one project"


def test_cumulative_project_count():
    r = rules(kind="cumulative", max_points=10, min_projects=2, max_projects=3)
    validate(r, {"points": {"1": 1, "2": 1}}, NORTH)
    validate(r, {"points": {"1": 1, "2": 1, "3": 1}}, NORTH)
    assert refused(r, {"points": {"1": 1}}).message == "1 project given points, at least 2 required"
    assert refused(r, {"points": {"1": 1, "2": 1, "3": 1, "4": 1}}).message == (
        "4 projects given points, at most 3 allowed")


@pytest.mark.parametrize("value, fragment", [
    (0, "project 1: 0 points; points must be positive whole numbers"),
    (-2, "project 1: -2 points; points must be positive whole numbers"),
    (1.5, "project 1: 1.5 is not a whole number of points"),
    ("3", "project 1: '3' is not a whole number of points"),
    (True, "project 1: True is not a whole number of points"),
    (None, "project 1: None is not a whole number of points"),
])
def test_cumulative_points_must_be_positive_integers(value, fragment):
    e = refused(rules(kind="cumulative", max_points=10), {"points": {"1": value, "2": 1}})
    assert fragment in e.message
    assert list(e.errors) == ["points"]


def test_cumulative_integral_float_is_taken():
    assert validate(rules(kind="cumulative", max_points=10), {"points": {"1": 3.0}}, NORTH) == CumulativeBallot.of({"1": 3})


# --- ranked ------------------------------------------------------------------------

def test_ranked_limits():
    r = rules(kind="ranked", min_rank=2, max_rank=3)
    assert validate(r, {"ranking": [3, 1]}, NORTH) == OrdinalBallot(("3", "1"))
    validate(r, {"ranking": [3, 1, 2]}, NORTH)
    assert refused(r, {"ranking": [3]}).message == "1 project ranked, at least 2 required"
    assert refused(r, {"ranking": [3, 1, 2, 4]}).message == "4 projects ranked, at most 3 allowed"


def test_ranked_duplicates():
    e = refused(rules(kind="ranked"), {"ranking": [3, 1, 3]})
    assert e.message == "project 3 is ranked more than once (positions 1 and 3)"


# --- projects and shapes -----------------------------------------------------------

def test_unknown_project():
    e = refused(rules(kind="approval"), {"projects": [1, 99]})
    assert e.message == "project 99 is not on the ballot of district north"


def test_other_districts_project():
    e = refused(rules(kind="approval"), {"projects": [17]})
    assert e.message == "project 17 is not on the ballot of district north (it is on the ballot of district south)"
    assert "project 17" in refused(rules(kind="cumulative", max_points=5), {"points": {"17": 1}}).message
    assert "project 17" in refused(rules(kind="ranked"), {"ranking": [1, 17]}).message


@pytest.mark.parametrize("kind, content, fragment", [
    ("approval", {"points": {"1": 1}}, "'points' does not belong in it"),
    ("approval", {"projects": "1,2"}, "projects must be a list of project ids, got str"),
    ("approval", [1, 2], 'an approval ballot is {"projects": [project ids]}, got list'),
    ("knapsack", {"ranking": [1]}, "'projects' is missing"),
    ("cumulative", {"projects": [1]}, "'points' is missing"),
    ("cumulative", {"points": [1, 2]}, "points must be an object"),
    ("ranked", {"ranking": {"1": 1}}, "ranking must be a list of project ids, got dict"),
    ("ranked", {"ranking": [1], "projects": [1]}, "'projects' does not belong in it"),
    ("approval", {"projects": [1, 2.5]}, "projects[1]: 2.5 is not a project id"),
    ("approval", {"projects": [True]}, "projects[0]: True is not a project id"),
    ("approval", None, "got NoneType"),
])
def test_wrong_shape(kind, content, fragment):
    extra = {"max_points": 5} if kind == "cumulative" else {}
    e = refused(rules(kind=kind, **extra), content)
    assert fragment in e.message


def test_every_problem_is_reported_at_once():
    e = refused(rules(kind="approval", max_projects=1), {"projects": [1, 2, 99]})
    assert e.errors["projects"] == ["project 99 is not on the ballot of district north",
                                    "3 projects chosen, at most 1 allowed"]


def test_content_round_trip():
    for kind, content in [("approval", {"projects": [1, 3]}), ("cumulative", {"points": {"1": 2, "3": 1}}),
                          ("ranked", {"ranking": [3, 1]})]:
        extra = {"max_points": 5} if kind == "cumulative" else {}
        ballot = validate(rules(kind=kind, **extra), content, NORTH)
        assert to_content(ballot) == content
        assert from_content(kind, to_content(ballot)) == ballot


def test_plain_money():
    assert plain_money(125_000_000) == "1 250 000"
    assert plain_money(5) == "0.05"
    assert plain_money(-150) == "-1.50"
    assert plain_money(1234, digits=0) == "1 234"


# --- property: validate never accepts a ballot over a limit ----------------------------

IDS = list(COSTS) + ["17", "99"]
small = st.one_of(st.none(), st.integers(min_value=0, max_value=6))


@st.composite
def rules_and_content(draw):
    kind = draw(st.sampled_from(["approval", "knapsack", "cumulative", "ranked"]))
    spec: dict = {"kind": kind}
    if kind in ("approval", "knapsack", "cumulative"):
        lo, hi = draw(small), draw(small)
        if lo is not None:
            spec["min_projects"] = lo
        if hi:
            spec["max_projects"] = max(hi, lo or 0)
    if kind == "knapsack" and draw(st.booleans()):
        spec["min_spend_share"] = str(Fraction(draw(st.integers(0, 10)), 10))
    if kind == "cumulative":
        spec["max_points"] = draw(st.integers(1, 12))
        if draw(st.booleans()):
            spec["max_points_per_project"] = draw(st.integers(1, spec["max_points"]))
    if kind == "ranked":
        lo, hi = draw(small), draw(small)
        if lo is not None:
            spec["min_rank"] = lo
        if hi:
            spec["max_rank"] = max(hi, lo or 0)
    ids = st.one_of(st.sampled_from(IDS), st.sampled_from(IDS).map(int))
    if kind == "cumulative":
        content = {"points": draw(st.dictionaries(st.sampled_from(IDS), st.one_of(
            st.integers(-2, 8), st.floats(allow_nan=True), st.booleans()), max_size=7))}
    else:
        key = "ranking" if kind == "ranked" else "projects"
        content = {key: draw(st.lists(ids, max_size=8))}
    return rules(**spec), content


@settings(max_examples=600, deadline=None)
@given(rules_and_content())
def test_validate_never_accepts_a_ballot_over_a_limit(case):
    r, content = case
    try:
        ballot = validate(r, content, NORTH)
    except ValidationFailed as e:
        assert e.message and e.errors
        return
    if isinstance(ballot, CumulativeBallot):
        pts = ballot.as_dict()
        named = list(pts)
        assert all(isinstance(v, int) and v > 0 for v in pts.values())
        assert sum(pts.values()) <= r.max_points
        if r.max_points_per_project is not None:
            assert max(pts.values(), default=0) <= r.max_points_per_project
    elif isinstance(ballot, OrdinalBallot):
        named = list(ballot.ranking)
        assert len(named) == len(set(named)) == len(content["ranking"])
        assert len(named) >= (1 if r.min_rank is None else r.min_rank)
        assert r.max_rank is None or len(named) <= r.max_rank
    else:
        named = list(ballot.projects)
        assert len(named) == len(content["projects"])  # nothing merged silently
        if r.kind == "knapsack":
            total = sum(COSTS[p] for p in named)
            assert total <= NORTH.budget
            assert r.min_spend_share is None or total >= r.min_spend_share * NORTH.budget
    assert all(p in COSTS for p in named)
    if r.kind != "ranked":
        assert len(named) >= (1 if r.min_projects is None else r.min_projects)
        assert r.max_projects is None or len(named) <= r.max_projects
