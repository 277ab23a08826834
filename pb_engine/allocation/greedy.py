"""Greedy rules: fund projects in order of score while the money lasts.

    allocate(instance, profile, "greedy")                                  # by score, skip what does not fit
    allocate(instance, profile, "greedy", satisfaction="cardinality")      # by score per unit of cost
    allocate(instance, profile, "greedy-no-skip")                          # stop at the first misfit (Wrocław)
    allocate(instance, profile, "greedy-threshold", threshold=50)          # only projects scoring >= 50
    allocate(instance, profile, "greedy-threshold", threshold_share=Fraction(1, 10))  # >= 10% of ballots cast

Score: votes (approval, choose-1), points (cumulative, scoring), Borda points
(ordinal), see `satisfaction.py`. Order: score, highest first (`satisfaction`
"cost", the default), or score per unit of cost (`satisfaction="cardinality"`,
an analysts' variant; a free project comes first); ties by the tie-breaking
order. This is pabutools' `greedy_utilitarian_welfare` with `Cost_Sat` resp.
`Cardinality_Sat` (points x cost resp. points, Borda x cost resp. Borda for
other ballots), except that a project nobody supports is never funded.

greedy-no-skip: a project that does not fit stops the allocation; every later
project gets STOPPED. A project dearer than the whole budget cannot be funded by
any order, so it does not stop anything (it gets DID_NOT_FIT).

greedy-threshold: projects whose score is under `threshold` (absolute) or
`threshold_share` x number of ballots cast (empty ballots included; Warszawa
2018 used 1/10) get BELOW_THRESHOLD; the others go through plain greedy.
"""

from __future__ import annotations

from fractions import Fraction

from pb_engine.allocation import explain
from pb_engine.allocation.instance import Instance, Project
from pb_engine.allocation.outcome import Outcome
from pb_engine.allocation.registry import SATISFACTION, Option, Rule, RuleOptions, register
from pb_engine.allocation.satisfaction import CARDINALITY, COST, check_satisfaction, score_unit, scores
from pb_engine.allocation.tiebreak import TieBreaking
from pb_engine.ballots.kinds import Profile
from pb_engine.errors import ValidationFailed


THRESHOLD = Option("threshold", "number", "minimum score (votes or points) a project needs to be funded",
                   minimum=0)
THRESHOLD_SHARE = Option("threshold_share", "number", "minimum score as a share of the ballots cast "
                         "(e.g. 0.1 for 10%)", minimum=0, maximum=1)

GREEDY = Rule(
    id="greedy", name="Greedy by votes",
    description="Funds the projects with the most votes first, skipping any that no longer fits, "
                "until the money runs out.",
    options=(SATISFACTION,), exhaustive=True)
GREEDY_NO_SKIP = Rule(
    id="greedy-no-skip", name="Greedy by votes, stopping at the first misfit",
    description="Funds the projects with the most votes first and stops at the first one that does not fit "
                "(as Wrocław does).",
    options=(SATISFACTION,), exhaustive=False)
GREEDY_THRESHOLD = Rule(
    id="greedy-threshold", name="Greedy by votes, above a threshold",
    description="Funds the projects with the most votes first, but only those with at least a minimum "
                "number or share of votes.",
    options=(SATISFACTION, THRESHOLD, THRESHOLD_SHARE), exhaustive=False,
    check=lambda values: _one_threshold(values.get("threshold"), values.get("threshold_share")))


@register(GREEDY)
def greedy(instance: Instance, profile: Profile, options: RuleOptions, tie: TieBreaking) -> Outcome:
    return run(instance, profile, options, tie, skip=True)


@register(GREEDY_NO_SKIP)
def greedy_no_skip(instance: Instance, profile: Profile, options: RuleOptions, tie: TieBreaking) -> Outcome:
    return run(instance, profile, options, tie, skip=False)


@register(GREEDY_THRESHOLD)
def greedy_threshold(instance: Instance, profile: Profile, options: RuleOptions, tie: TieBreaking) -> Outcome:
    return run(instance, profile, options, tie, skip=True, threshold=threshold_of(options, len(profile)))


def threshold_of(options: RuleOptions, ballots: int) -> Fraction:
    """The minimum score, from `threshold` or `threshold_share` (exactly one of them)."""
    for name, message in _one_threshold(options.threshold, options.threshold_share):
        raise ValidationFailed.field(name, message)
    if options.threshold is not None:
        if options.threshold < 0:
            raise ValidationFailed.field("threshold", "must not be negative")
        return Fraction(options.threshold)
    if not 0 <= options.threshold_share <= 1:
        raise ValidationFailed.field("threshold_share", "must be between 0 and 1 (a share of the ballots cast)")
    return Fraction(options.threshold_share) * ballots


def _one_threshold(threshold, share) -> list[tuple[str, str]]:
    if threshold is None and share is None:
        return [("threshold", "greedy-threshold needs threshold or threshold_share")]
    if threshold is not None and share is not None:
        return [("threshold", "give either threshold or threshold_share, not both")]
    return []


def order_key(p: Project, score: int, satisfaction: str, rank: dict[str, int]):
    """Sort key: best first. Under cardinality a free project beats any price."""
    if satisfaction == COST:
        return (-score, rank[p.id])
    if p.cost == 0:
        return (0, 0, rank[p.id])
    return (1, -Fraction(score) / p.cost, rank[p.id])


def run(instance: Instance, profile: Profile, options: RuleOptions, tie: TieBreaking, *,
        skip: bool, threshold: Fraction | None = None, score: dict[str, Fraction] | None = None,
        unit=None, fund_unsupported: bool = False) -> Outcome:
    """The greedy family. `score`, `unit` and `fund_unsupported` serve `official` (a city's published
    count ranks the projects, named by `unit(n)`; Pabulib's greedy funds a project nobody voted for
    when it fits); the registered rules leave them as they are."""
    satisfaction = check_satisfaction(options.satisfaction, COST)
    rank = explain.tie_ranks(tie, instance)
    if score is None:
        score = scores(instance, profile)
    if unit is None:
        def unit(n):
            return score_unit(profile.vote_type, n)
    results = {}
    candidates = []
    for p in instance.projects:
        s = score[p.id]
        if s <= 0 and not (fund_unsupported and (threshold is None or s >= threshold)):
            results[p.id] = explain.no_support(p, s)
        elif threshold is not None and s < threshold:
            results[p.id] = explain.below_threshold(p, s, threshold, unit(s),
                                                    **_threshold_details(options, profile))
        else:
            candidates.append(p)
    candidates.sort(key=lambda p: order_key(p, score[p.id], satisfaction, rank))

    left = instance.budget
    selected: list[str] = []
    blocker: str | None = None
    for position, p in enumerate(candidates, 1):
        s = score[p.id]
        figures = {"position": position}
        if satisfaction == CARDINALITY and p.cost:
            figures["score_per_cost"] = Fraction(s) / p.cost
        if blocker is not None:
            results[p.id] = explain.stopped(p, s, blocker, left, **figures)
        elif p.cost <= left:
            left -= p.cost
            selected.append(p.id)
            message = (f"funded in step {len(selected)}: {explain.number(s)} {unit(s)}, "
                       f"costs {explain.number(p.cost)}, {explain.number(left)} left after it")
            results[p.id] = explain.funded(p, len(selected), s, message, money_left=left, **figures)
        else:
            results[p.id] = explain.did_not_fit(p, s, left, len(selected), budget=instance.budget, **figures)
            if not skip and p.cost <= instance.budget:
                blocker = p.id
    return explain.outcome(instance, results, selected, tie)


def _threshold_details(options: RuleOptions, profile: Profile) -> dict:
    if options.threshold_share is None:
        return {}
    return {"threshold_share": options.threshold_share, "ballots": len(profile)}

