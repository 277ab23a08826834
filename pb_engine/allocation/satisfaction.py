"""What a ballot gives each project, and how the greedy, max-welfare and Phragmén rules weigh it.

Utility of one ballot for one project (an int, 0 when the ballot does not mention it):
- approval, choose-1 and knapsack ballots (sets): 1 for each project in the set;
- cumulative and scoring ballots: the points given;
- ordinal ballots: the Borda score, in pabutools' variant (`Additive_Borda_Sat`,
  `borda_sat_func`): on a ranking of k projects the one at 0-based position i gets
  k - 1 - i, so the best gets k - 1 and the last ranked gets 0. This is what the MES
  rule uses too, and it lets us compare with pabutools. Cities that publish their own
  points (Kraków: 3, 2, 1 for 3 ranked) give every ranked project one point more than
  this: the totals differ by the number of rankings a project is in, so the greedy
  order can differ from the city's.

A project's *score* is the sum of utilities over the ballots: votes, points or Borda
points. A project *has support* when its score is positive; rules never fund a project
without support (reason NO_SUPPORT), even when money is left.

Satisfaction, the `satisfaction` option, weighs a utility for rules that add it up:
- "cost": utility x the project's cost (a voter values the money spent on what they like);
- "cardinality": utility as it is (each project counts once, whatever its price).
Greedy orders by total satisfaction per unit of cost, so "cost" orders by score (the
usual greedy rule) and "cardinality" by score per unit of cost (analysts' variant).
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import Iterable, Mapping

from pb_engine.allocation.instance import Instance, Project
from pb_engine.ballots.kinds import ApprovalBallot, Ballot, CumulativeBallot, OrdinalBallot, Profile, VoteType
from pb_engine.errors import ValidationFailed

COST = "cost"
CARDINALITY = "cardinality"
SATISFACTIONS = (COST, CARDINALITY)
APPROVAL_SHAPED = (VoteType.APPROVAL, VoteType.CHOOSE_1)


def borda(ranking: Iterable[str]) -> dict[str, int]:
    """pabutools' Borda: k - 1 - position on a ranking of k projects."""
    ranking = tuple(ranking)
    k = len(ranking)
    return {pid: k - 1 - i for i, pid in enumerate(ranking)}


def utility(ballot: Ballot) -> dict[str, int]:
    """Utility of one ballot for every project it mentions (see module doc)."""
    if isinstance(ballot, ApprovalBallot):
        return dict.fromkeys(ballot.projects, 1)
    if isinstance(ballot, CumulativeBallot):
        return ballot.as_dict()
    if isinstance(ballot, OrdinalBallot):
        return borda(ballot.ranking)
    raise TypeError(f"not a ballot: {type(ballot).__name__}")


def scores(instance: Instance, profile: Profile) -> dict[str, int]:
    """Total utility per project of the instance (votes, points or Borda points)."""
    total = dict.fromkeys((p.id for p in instance.projects), 0)
    for ballot in profile.ballots:
        if isinstance(ballot, ApprovalBallot):
            # The common case on big files: skip building a dict per ballot.
            for pid in ballot.projects:
                if pid in total:
                    total[pid] += 1
            continue
        for pid, u in utility(ballot).items():
            if pid in total:
                total[pid] += u
    return total


def support_sets(instance: Instance, profile: Profile) -> Counter[frozenset[str]]:
    """Each ballot as the set of instance projects it gives positive utility, with multiplicity.

    Phragmén is approval-based: its supporters of a project are the voters with positive
    utility for it (approved, given points, ranked above last place).
    """
    ids = frozenset(p.id for p in instance.projects)
    sets: Counter[frozenset[str]] = Counter()
    for ballot in profile.ballots:
        if isinstance(ballot, ApprovalBallot):
            sets[ballot.projects & ids] += 1
        else:
            sets[frozenset(pid for pid, u in utility(ballot).items() if u > 0 and pid in ids)] += 1
    return sets


def weight(project: Project, satisfaction: str) -> Fraction:
    """What one unit of utility for `project` is worth under `satisfaction`."""
    return Fraction(project.cost) if satisfaction == COST else Fraction(1)


def check_satisfaction(value: str | None, default: str) -> str:
    """The satisfaction to use; refuses unknown names (RuleOptions are also built without `allocate`)."""
    if value is None:
        return default
    if value not in SATISFACTIONS:
        raise ValidationFailed.field("satisfaction", f"must be one of {', '.join(SATISFACTIONS)}, got {value!r}")
    return value


def score_unit(vote_type: VoteType, n: int | Fraction | None = None) -> str:
    """The word for a score in messages: 'votes', 'points', 'Borda points'."""
    if vote_type in APPROVAL_SHAPED:
        return "vote" if n == 1 else "votes"
    if vote_type is VoteType.ORDINAL:
        return "Borda point" if n == 1 else "Borda points"
    return "point" if n == 1 else "points"


def total_welfare(projects: Iterable[Project], score: Mapping[str, int], satisfaction: str) -> Fraction:
    """Sum over the given projects of score x weight: the quantity max-welfare maximises."""
    return sum((score[p.id] * weight(p, satisfaction) for p in projects), Fraction(0))
