"""A round's ballot settings (`BallotRules.from_dict`): every refusal names its key."""

from __future__ import annotations

from fractions import Fraction

import pytest

from pb_engine.ballots.kinds import VoteType
from pb_engine.ballots.rules import BallotRules


@pytest.mark.parametrize("data, key, fragment", [
    ({"kind": "approval", "max_projets": 3}, "ballot.max_projets", "unknown key"),
    ({"kind": "plurality"}, "ballot.kind", "must be one of approval, knapsack, cumulative, ranked"),
    ({"kind": "approval", "max_projects": 2.5}, "ballot.max_projects", "must be a whole number"),
    ({"kind": "approval", "max_projects": True}, "ballot.max_projects", "must be a whole number"),
    ({"kind": "approval", "max_projects": 0}, "ballot.max_projects", "must be at least 1"),
    ({"kind": "approval", "min_projects": -1}, "ballot.min_projects", "must be zero or more"),
    ({"kind": "approval", "min_projects": 3, "max_projects": 2}, "ballot.min_projects",
     "min_projects 3 is more than max_projects 2"),
    ({"kind": "ranked", "min_rank": 4, "max_rank": 3}, "ballot.min_rank", "min_rank 4 is more than max_rank 3"),
    ({"kind": "cumulative", "max_points": 5, "max_points_per_project": 6}, "ballot.max_points_per_project",
     "is more than max_points"),
    ({"kind": "cumulative"}, "ballot.max_points", "a cumulative ballot needs max_points"),
    ({"kind": "knapsack", "min_spend_share": "half"}, "ballot.min_spend_share", "must be a number between 0 and 1"),
    ({"kind": "knapsack", "min_spend_share": 1.5}, "ballot.min_spend_share", "must be between 0 and 1"),
    ({"kind": "approval", "max_points": 10}, "ballot.max_points", "does not apply to an approval ballot"),
    ({"kind": "ranked", "max_projects": 3}, "ballot.max_projects", "does not apply to a ranked ballot"),
    ({"kind": "cumulative", "max_points": 10, "min_spend_share": 0.5}, "ballot.min_spend_share", "does not apply to"),
])
def test_bad_settings_name_the_key(data, key, fragment):
    rules, problems = BallotRules.from_dict(data)
    assert rules is None
    assert any(k == key and fragment in m for k, m in problems), problems


def test_every_problem_is_listed_under_the_prefix():
    _, problems = BallotRules.from_dict({"kind": "cumulative", "max_rank": 0, "colour": "red"}, prefix="rounds.x.ballot")
    assert {k for k, _ in problems} == {"rounds.x.ballot.colour", "rounds.x.ballot.max_rank", "rounds.x.ballot.max_points"}


def test_good_settings_round_trip_and_map_to_a_vote_type():
    knapsack, problems = BallotRules.from_dict({"kind": "knapsack", "min_spend_share": 0.5, "max_projects": 4})
    assert not problems and knapsack.min_spend_share == Fraction(1, 2)
    assert knapsack.to_dict() == {"kind": "knapsack", "max_projects": 4, "min_spend_share": 0.5}
    assert BallotRules.from_dict(knapsack.to_dict())[0] == knapsack
    assert knapsack.vote_type is VoteType.APPROVAL
    kinds = {("approval", 1): VoteType.CHOOSE_1, ("approval", 3): VoteType.APPROVAL}
    for (kind, most), vote_type in kinds.items():
        assert BallotRules.from_dict({"kind": kind, "max_projects": most})[0].vote_type is vote_type
    assert BallotRules.from_dict({"kind": "cumulative", "max_points": 10})[0].vote_type is VoteType.CUMULATIVE
    assert BallotRules.from_dict({"kind": "ranked", "max_rank": 3})[0].vote_type is VoteType.ORDINAL
