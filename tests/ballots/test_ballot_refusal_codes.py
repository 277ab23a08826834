"""Every refusal of a ballot carries a stable code and its figures beside the English message.

One row per refusal: the ballot, then each problem's (field, code, params) exactly. A page in
another language words the code from its catalogue, so the figures must be figures (ints,
Fractions of minor units, ids as strings), and every code in BALLOT_PROBLEMS must be met here.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from pb_engine.ballots.kinds import OrdinalBallot
from pb_engine.ballots.refusals import (
    BALLOT_PROBLEMS,
    DATE_PARAMS,
    MONEY_PARAMS,
    REFUSALS,
    SHARE_PARAMS,
    VOTING_PROBLEMS,
    Refusals,
    refusal,
)
from pb_engine.ballots.rules import BallotRules
from pb_engine.ballots.validation import Catalog, refusals, validate
from pb_engine.errors import Conflict, Problem, ValidationFailed

COSTS = {"1": 300_000_00, "2": 250_000_00, "3": 200_000_00, "4": 400_000_00, "5": 100_000_00}
NORTH = Catalog(district="north", budget=1_000_000_00, costs=COSTS, elsewhere={"17": "south"},
                money=lambda m: f"{m / 100:,.2f} zł")  # the message's money format never reaches the params


def rules(**kw) -> BallotRules:
    r, problems = BallotRules.from_dict(kw)
    assert not problems, problems
    return r


APPROVAL = {"kind": "approval"}
CUMULATIVE = {"kind": "cumulative", "max_points": 10}

# (row id, ballot rules, content, [(field, code, params), ...] in the order they are reported)
ROWS = [
    ("not an object", APPROVAL, [1, 2], [("projects", "ballot_not_object", {"kind": "approval", "got": "list"})]),
    ("null", {"kind": "ranked"}, None, [("ranking", "ballot_not_object", {"kind": "ranked", "got": "NoneType"})]),
    ("foreign key and missing field", {"kind": "knapsack"}, {"ranking": [1]},
     [("ranking", "field_not_allowed", {"kind": "knapsack", "name": "ranking"}),
      ("projects", "field_missing", {"kind": "knapsack", "name": "projects"})]),
    ("not a list", APPROVAL, {"projects": "1,2"}, [("projects", "not_a_list", {"field": "projects", "got": "str"})]),
    ("ranking not a list", {"kind": "ranked"}, {"ranking": {"1": 1}},
     [("ranking", "not_a_list", {"field": "ranking", "got": "dict"})]),
    ("points not an object", CUMULATIVE, {"points": [1, 2]}, [("points", "points_not_object", {"got": "list"})]),
    ("not a project id", APPROVAL, {"projects": [1, 2.5, True]},
     [("projects", "not_a_project_id", {"field": "projects", "index": 1, "value": "2.5"}),
      ("projects", "not_a_project_id", {"field": "projects", "index": 2, "value": "True"})]),
    ("points key not an id", CUMULATIVE, {"points": {"  ": 1}},
     [("points", "points_key_not_a_project_id", {"value": "'  '"})]),
    ("chosen twice", APPROVAL, {"projects": [1, "1"]}, [("projects", "chosen_twice", {"project": "1"})]),
    ("ranked twice", {"kind": "ranked"}, {"ranking": [3, 1, 3]},
     [("ranking", "ranked_twice", {"project": "3", "first": 1, "second": 3})]),
    ("points given twice", CUMULATIVE, {"points": {"1": 1, " 1": 2}},
     [("points", "points_given_twice", {"project": "1"})]),
    ("points not whole", CUMULATIVE, {"points": {"1": 1.5, "2": "3"}},
     [("points", "points_not_whole", {"project": "1", "value": "1.5"}),
      ("points", "points_not_whole", {"project": "2", "value": "'3'"})]),
    ("points not positive", CUMULATIVE, {"points": {"1": 0, "2": -2}},
     [("points", "points_not_positive", {"project": "1", "points": 0}),
      ("points", "points_not_positive", {"project": "2", "points": -2})]),
    ("not on this ballot", APPROVAL, {"projects": [1, 99]},
     [("projects", "not_on_ballot", {"project": "99", "district": "north"})]),
    ("on another district's ballot", {"kind": "ranked"}, {"ranking": [1, 17]},
     [("ranking", "on_other_ballot", {"project": "17", "district": "north", "other_district": "south"})]),
    ("too few (empty)", APPROVAL, {"projects": []}, [("projects", "too_few_projects", {"chosen": 0, "min": 1})]),
    ("too few", {"kind": "knapsack", "min_projects": 2}, {"projects": [5]},
     [("projects", "too_few_projects", {"chosen": 1, "min": 2})]),
    ("too many", {"kind": "approval", "max_projects": 3}, {"projects": [1, 2, 3, 4]},
     [("projects", "too_many_projects", {"chosen": 4, "max": 3})]),
    ("over budget", {"kind": "knapsack"}, {"projects": [1, 2, 3, 4]},
     [("projects", "over_budget", {"total": 1_150_000_00, "budget": 1_000_000_00, "excess": 150_000_00})]),
    ("under min spend", {"kind": "knapsack", "min_spend_share": "2/3"}, {"projects": [1, 3]},
     [("projects", "under_min_spend", {"total": 500_000_00, "minimum": 666_666_67, "share": Fraction(2, 3),
                                       "budget": 1_000_000_00, "shortfall": 166_666_67})]),
    ("too few given points", {**CUMULATIVE, "min_projects": 2}, {"points": {"1": 1}},
     [("points", "too_few_projects_with_points", {"projects": 1, "min": 2})]),
    ("too many given points", {**CUMULATIVE, "max_projects": 1}, {"points": {"1": 1, "2": 1}},
     [("points", "too_many_projects_with_points", {"projects": 2, "max": 1})]),
    ("points over total", CUMULATIVE, {"points": {"1": 6, "2": 5}},
     [("points", "too_many_points", {"given": 11, "max": 10})]),
    ("points over per project", {**CUMULATIVE, "max_points_per_project": 5}, {"points": {"1": 6, "2": 3}},
     [("points", "too_many_points_on_project", {"project": "1", "points": 6, "max": 5})]),
    ("ranking too short", {"kind": "ranked", "min_rank": 2}, {"ranking": [3]},
     [("ranking", "ranking_too_short", {"ranked": 1, "min": 2})]),
    ("ranking too long", {"kind": "ranked", "max_rank": 3}, {"ranking": [3, 1, 2, 4]},
     [("ranking", "ranking_too_long", {"ranked": 4, "max": 3})]),
    ("several at once", {"kind": "approval", "max_projects": 1}, {"projects": [1, 2, 99]},
     [("projects", "not_on_ballot", {"project": "99", "district": "north"}),
      ("projects", "too_many_projects", {"chosen": 3, "max": 1})]),
]


@pytest.mark.parametrize("spec, content, expected", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_each_refusal_carries_its_code_and_figures(spec, content, expected):
    with pytest.raises(ValidationFailed) as e:
        validate(rules(**spec), content, NORTH)
    err = e.value
    assert [(p.field, p.code, dict(p.params)) for p in err.problems] == expected
    # Same problems as the English messages, in the same order under the same fields.
    assert err.errors == {f: [p.message for p in err.problems if p.field == f] for f, _, _ in expected}
    assert err.message == "; ".join(m for ms in err.errors.values() for m in ms)
    if len(expected) == 1:
        assert (err.reason, err.params) == (expected[0][1], expected[0][2])
    else:
        assert (err.reason, err.params) == ("ballot_refused", {"count": len(expected)})
    for p in err.problems:
        assert set(p.params) == set(BALLOT_PROBLEMS[p.code])
        for name, value in p.params.items():
            # Figures, not text: a page formats them for the visitor's locale and currency.
            assert isinstance(value, (int, Fraction)) or name in ("kind", "got", "name", "field", "value", "project",
                                                                  "district", "other_district"), (name, value)
            assert not isinstance(value, float)
            if name in MONEY_PARAMS:
                assert isinstance(value, int), (name, value)
            if name in SHARE_PARAMS:
                assert isinstance(value, Fraction) and 0 <= value <= 1, (name, value)


def test_the_messages_are_the_ones_the_api_has_always_shown():
    plain = Catalog("north", 1_000_000_00, COSTS, elsewhere={"17": "south"})
    with pytest.raises(ValidationFailed) as e:
        validate(rules(kind="knapsack", min_spend_share="2/3"), {"projects": [1, 3]}, plain)
    assert e.value.message == ("total 500 000 is below the minimum spend 666 666.67 (66.67 % of the district "
                               "budget 1 000 000) by 166 666.67")


def test_a_duplicate_in_a_ranking_built_elsewhere_is_refused_with_a_code():
    # parse never builds such a ballot; refusals() is public and may be handed one.
    found = refusals(rules(kind="ranked"), OrdinalBallot(("1", "2", "1")), NORTH)
    assert [(p.field, p.code, p.params) for p in found.problems] == [("ranking", "ranking_has_duplicates", {})]
    assert found.errors == {"ranking": ["a project is ranked more than once"]}


def test_every_ballot_code_is_met_by_a_row():
    met = {code for *_, expected in ROWS for _, code, _ in expected} | {"ranking_has_duplicates", "ballot_refused"}
    assert met == set(BALLOT_PROBLEMS)


def test_codes_are_snake_case_and_listed_once():
    assert set(REFUSALS) == set(BALLOT_PROBLEMS) | set(VOTING_PROBLEMS)
    assert not set(BALLOT_PROBLEMS) & set(VOTING_PROBLEMS)
    for code, params in REFUSALS.items():
        assert code.isidentifier() and code == code.lower(), code
        assert len(set(params)) == len(params) and all(p.isidentifier() for p in params), code


def test_typed_params_are_params_of_some_code():
    named = {p for params in REFUSALS.values() for p in params}
    assert MONEY_PARAMS | SHARE_PARAMS | DATE_PARAMS <= named
    assert not MONEY_PARAMS & SHARE_PARAMS and not MONEY_PARAMS & DATE_PARAMS


def test_an_unlisted_code_or_wrong_params_cannot_be_raised():
    out = Refusals()
    with pytest.raises(KeyError, match="not listed"):
        out.add("projects", "too_many_projectz", "x", chosen=1, max=0)
    with pytest.raises(TypeError, match="takes params"):
        out.add("projects", "too_many_projects", "x", chosen=1)
    with pytest.raises(KeyError):
        refusal(Conflict, "district", "too_many_projects", "x", chosen=1, max=0)  # a ballot code, not a voting one
    err = refusal(Conflict, "channel", "voted_online", "msg")
    assert (err.errors, err.problems, err.reason) == ({"channel": ["msg"]}, [Problem("channel", "voted_online", "msg")],
                                                      "voted_online")
    assert refusal(Conflict, "session", "voter_session_expired", "msg", errors=False).errors == {}
