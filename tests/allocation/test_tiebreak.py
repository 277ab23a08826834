"""A round's tie-breaking setting becomes an explicit order; the project id settles what the setting leaves tied."""

from fractions import Fraction

import pytest

from pb_engine.allocation import Instance, Project, allocate
from pb_engine.allocation.tiebreak import ROUND_KINDS, explicit, for_round
from pb_engine.ballots.kinds import ApprovalBallot, Profile, VoteType

INSTANCE = Instance(Fraction(100), [Project("10", Fraction(30)), Project("9", Fraction(50)),
                                    Project("2", Fraction(30)), Project("7", Fraction(80))])
PROFILE = Profile(VoteType.APPROVAL, [ApprovalBallot(frozenset(s)) for s in ({"7", "9"}, {"7"}, {"10", "2"}, {"9"})])


@pytest.mark.parametrize("kind,order", [
    ("id", ("2", "7", "9", "10")),              # numeric ids as numbers
    ("cost-asc", ("2", "10", "9", "7")),        # 30, 30 (id 2 before 10), 50, 80
    ("cost-desc", ("7", "9", "2", "10")),
    ("votes-desc", ("7", "9", "2", "10")),      # 2 votes each for 7 and 9, then 1 each for 2 and 10
])
def test_each_round_kind_gives_its_order(kind, order):
    tie = for_round(kind, INSTANCE, PROFILE)
    assert tie.kind == kind and tie.order == order


def test_every_kind_a_round_may_choose_is_built():
    assert {for_round(k, INSTANCE, PROFILE).kind for k in ROUND_KINDS} == set(ROUND_KINDS)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="coin"):
        for_round("coin", INSTANCE, PROFILE)


def test_the_order_decides_a_tie_and_is_recorded():
    # 7 leads; 2 and 10 then tie on votes and on cost, and only one fits in what 7 leaves: the order picks it.
    tied = Instance(Fraction(110), INSTANCE.projects)
    profile = Profile(VoteType.APPROVAL, [ApprovalBallot(frozenset({"7", "10", "2"}))] * 2
                      + [ApprovalBallot(frozenset({"7"}))])
    for kind in ("id", "cost-asc", "votes-desc"):
        out = allocate(tied, profile, "greedy", tie_breaking=for_round(kind, tied, profile))
        assert out.selected == ("7", "2")
        assert out.tie_breaking["kind"] == kind
    out = allocate(tied, profile, "greedy", tie_breaking=explicit(("10", "2", "7", "9")))
    assert out.selected == ("7", "10")
