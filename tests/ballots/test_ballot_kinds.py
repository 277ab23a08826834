"""The ballot-kind registry: one entry per kind, and the settings, checks and exports all read it."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, OrdinalBallot, VoteType
from pb_engine.ballots.registry import BALLOT_KINDS, KINDS, LIMITS, describe, kind, kind_of_ballot
from pb_engine.ballots.rules import BallotRules
from pb_engine.ballots.validation import Catalog, from_content, to_content, validate

CATALOG = Catalog("north", 1_000_00, {"1": 300_00, "2": 200_00, "3": 100_00})
# A value each limit accepts, for settings built from the registry alone.
GOOD = {"min_projects": 1, "max_projects": 2, "min_spend_share": "1/2", "max_points": 10,
        "max_points_per_project": 5, "min_rank": 1, "max_rank": 2}
# A ballot each kind accepts in CATALOG under GOOD limits.
CONTENT = {"approval": {"projects": [1]}, "knapsack": {"projects": [1, 2]}, "cumulative": {"points": {"1": 5, "3": 2}},
           "ranked": {"ranking": [3, 1]}}


def settings(kind_id: str, **extra) -> dict:
    return {"kind": kind_id, **{k: GOOD[k] for k in BALLOT_KINDS[kind_id].limits}, **extra}


def test_the_four_kinds_in_order():
    assert KINDS == ("approval", "knapsack", "cumulative", "ranked")
    assert [d["id"] for d in describe()] == list(KINDS)


def test_limits_are_exactly_the_settings_fields():
    assert set(LIMITS) == {f.name for f in dataclasses.fields(BallotRules)} - {"kind"}
    for entry in BALLOT_KINDS.values():
        assert set(entry.limits) <= set(LIMITS) and set(entry.required) <= set(entry.limits), entry.id


@pytest.mark.parametrize("kind_id", KINDS)
def test_an_entry_describes_its_kind_in_plain_words(kind_id):
    entry = kind(kind_id)
    assert entry.id == kind_id and entry.noun.endswith(f"{kind_id} ballot")
    assert entry.shape.startswith('{"' + entry.field + '": ')
    line = entry.description
    assert line and "\n" not in line and line[0].isupper() and line.endswith(".") and len(line) < 120


@pytest.mark.parametrize("kind_id", KINDS)
def test_settings_take_the_kinds_limits_and_refuse_the_others(kind_id):
    entry = kind(kind_id)
    rules, problems = BallotRules.from_dict(settings(kind_id))
    assert not problems, problems
    for limit in set(LIMITS) - set(entry.limits):
        _, problems = BallotRules.from_dict(settings(kind_id, **{limit: GOOD[limit]}))
        assert (f"ballot.{limit}", f"does not apply to {entry.noun}") in problems
    for limit in entry.required:
        data = settings(kind_id)
        del data[limit]
        assert (f"ballot.{limit}", f"{entry.noun} needs {limit}") in BallotRules.from_dict(data)[1]


@pytest.mark.parametrize("kind_id, vote_type, meta", [
    ("approval", VoteType.APPROVAL, {"min_length": "1", "max_length": "2"}),
    ("knapsack", VoteType.APPROVAL, {"min_length": "1", "max_length": "2", "max_sum_cost": "<100000>",
                                     "min_sum_cost": "<50000>"}),
    ("cumulative", VoteType.CUMULATIVE, {"min_length": "1", "max_length": "2", "max_sum_points": "10",
                                         "max_points": "5"}),
    ("ranked", VoteType.ORDINAL, {"min_length": "1", "max_length": "2"}),
])
def test_vote_type_and_pabulib_limits(kind_id, vote_type, meta):
    rules = BallotRules.from_dict(settings(kind_id))[0]
    assert rules.vote_type is vote_type
    assert kind(kind_id).pabulib_meta(rules, 100_000, lambda minor: f"<{minor}>") == meta


def test_choose_one_is_an_approval_ballot_of_one_project():
    assert BallotRules("approval", max_projects=1).vote_type is VoteType.CHOOSE_1
    assert BallotRules("knapsack", max_projects=1).vote_type is VoteType.APPROVAL
    # An odd share of an odd budget rounds the minimum spend up to the next minor unit.
    assert kind("knapsack").pabulib_meta(BallotRules("knapsack", min_spend_share=Fraction(1, 3)), 100,
                                         str)["min_sum_cost"] == "34"


@pytest.mark.parametrize("kind_id", KINDS)
def test_content_round_trips_through_the_entry(kind_id):
    rules = BallotRules.from_dict(settings(kind_id))[0]
    ballot = validate(rules, CONTENT[kind_id], CATALOG)
    assert isinstance(ballot, kind(kind_id).ballot)
    assert to_content(ballot) == CONTENT[kind_id]
    assert from_content(kind_id, to_content(ballot)) == ballot
    assert kind_of_ballot(ballot).ballot is kind(kind_id).ballot


def test_only_drops_projects_no_longer_on_the_ballot():
    keep = {"1", "3"}
    assert ApprovalBallot(frozenset({"1", "2"})).only(keep) == ApprovalBallot(frozenset({"1"}))
    same = ApprovalBallot(frozenset({"1"}))
    assert same.only(keep) is same
    assert CumulativeBallot.of({"1": 2, "2": 3, "3": 1}).only(keep) == CumulativeBallot.of({"1": 2, "3": 1})
    assert OrdinalBallot(("2", "3", "1")).only(keep) == OrdinalBallot(("3", "1"))


def test_unknown_kind_is_named():
    with pytest.raises(KeyError, match="unknown ballot kind 'plurality'; one of approval, knapsack"):
        kind("plurality")
    with pytest.raises(TypeError):
        kind_of_ballot({"projects": [1]})
    # A kind that is not a string is refused as a setting, not a crash.
    assert BallotRules.from_dict({"kind": ["approval"]})[1][0][0] == "ballot.kind"
