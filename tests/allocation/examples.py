"""Builders for hand-made instances in tests: terse, exact, ids as given."""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations
from typing import Iterable, Mapping

from pb_engine.allocation.instance import Instance, Project
from pb_engine.allocation.outcome import Outcome
from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, OrdinalBallot, Profile, VoteType


def instance(budget, costs: Mapping[str, object]) -> Instance:
    return Instance(Fraction(budget), tuple(Project(pid, Fraction(c)) for pid, c in costs.items()))


def approvals(*sets: Iterable[str], vote_type: VoteType = VoteType.APPROVAL) -> Profile:
    return Profile(vote_type, tuple(ApprovalBallot(frozenset(s)) for s in sets))


def cumulative(*points: Mapping[str, int]) -> Profile:
    return Profile(VoteType.CUMULATIVE, tuple(CumulativeBallot.of(p) for p in points))


def ordinal(*rankings: Iterable[str]) -> Profile:
    return Profile(VoteType.ORDINAL, tuple(OrdinalBallot(tuple(r)) for r in rankings))


def reasons(outcome: Outcome) -> dict[str, str]:
    return {r.id: r.reason for r in outcome.projects}


def spent(outcome: Outcome, inst: Instance) -> Fraction:
    return sum((inst.project(pid).cost for pid in outcome.selected), Fraction(0))


def subsets(items: list[str]):
    for k in range(len(items) + 1):
        yield from combinations(items, k)
