"""hypothesis strategies: small random elections of every ballot shape.

    @given(elections(vote_types=(VoteType.APPROVAL,)))
    def test_x(election): instance, profile = election

Ids are numeric strings drawn so that "9" and "10" often meet (pabutools orders
names as strings, we as numbers); costs are small integers (0 allowed unless
`min_cost=1`) with an occasional half, so that ties and exact fits are common.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from pb_engine.allocation.instance import Instance, Project
from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, OrdinalBallot, Profile, VoteType

ALL_TYPES = tuple(VoteType)


@st.composite
def elections(draw, vote_types=ALL_TYPES, max_projects: int = 7, max_ballots: int = 8, min_cost: int = 0):
    vote_type = draw(st.sampled_from(vote_types))
    ids = draw(st.lists(st.sampled_from([str(i) for i in range(1, 13)]), min_size=1, max_size=max_projects,
                        unique=True))
    costs = [Fraction(draw(st.integers(min_cost, 20))) + draw(st.sampled_from([0, 0, 0, Fraction(1, 2)]))
             for _ in ids]
    projects = tuple(Project(pid, cost) for pid, cost in zip(ids, costs))
    budget = Fraction(draw(st.integers(0, 60)))
    n = draw(st.integers(0, max_ballots))
    ballots = [draw(_ballot(vote_type, ids)) for _ in range(n)]
    return Instance(budget, projects), Profile(vote_type, tuple(ballots))


def _ballot(vote_type: VoteType, ids: list[str]):
    if vote_type is VoteType.CHOOSE_1:
        return st.sampled_from(ids).map(lambda pid: ApprovalBallot(frozenset([pid])))
    if vote_type is VoteType.APPROVAL:
        return st.sets(st.sampled_from(ids)).map(lambda s: ApprovalBallot(frozenset(s)))
    if vote_type in (VoteType.CUMULATIVE, VoteType.SCORING):
        return st.dictionaries(st.sampled_from(ids), st.integers(0, 5)).map(CumulativeBallot.of)
    return st.permutations(ids).flatmap(
        lambda perm: st.integers(1, len(perm)).map(lambda k: OrdinalBallot(tuple(perm[:k]))))


@st.composite
def dear_projects(draw):
    """Small shares per voter against dear projects, often many voters alike: add1 raises them tens of
    times, with partial payers and ties (approval or cumulative)."""
    ids = [str(i) for i in range(1, draw(st.integers(2, 7)) + 1)]
    costs = [Fraction(draw(st.integers(1, 60))) for _ in ids]
    budget = Fraction(draw(st.integers(1, 90)))
    n = draw(st.integers(3, 14))
    votes = [draw(st.sets(st.sampled_from(ids), min_size=1, max_size=len(ids))) for _ in range(n)]
    if draw(st.booleans()):
        profile = Profile(VoteType.CUMULATIVE,
                          tuple(CumulativeBallot.of({p: draw(st.integers(1, 4)) for p in v}) for v in votes))
    else:
        profile = Profile(VoteType.APPROVAL, tuple(ApprovalBallot(frozenset(v)) for v in votes))
    return Instance(budget, tuple(Project(i, c) for i, c in zip(ids, costs))), profile
