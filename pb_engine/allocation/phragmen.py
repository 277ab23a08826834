"""Sequential Phragmén, exact (rationals: gmpy2's when installed, else Fraction).

    allocate(instance, profile, "phragmen")                   # skip what does not fit, go on
    allocate(instance, profile, "phragmen", overflow="stop")  # stop at the first misfit (pabutools)

Approval-based: the supporters of a project are the voters with positive
utility for it (approved it, gave it points, ranked it above last place; see
`satisfaction.py`); points and ranks beyond that are not used, a documented
restriction (no weighted generalisation).

Every voter carries a load, 0 at the start. Buying project p would spread its
cost over its supporters so that they all end with the same load
t_p = (sum of their loads + cost) / number of supporters. Each step buys the
project with the smallest t_p (ties by the tie-breaking order) and sets its
supporters' loads to t_p. A funded project's `score` is its number of
supporters and `details["load"]` that t_p.

When that project costs more than the money left:
- overflow="skip" (default): it gets DID_NOT_FIT and the rule goes on with the
  others, so the budget is used while any supported project fits;
- overflow="stop": the rule stops there, exactly as pabutools'
  `sequential_phragmen` 1.2.3 does: it stops when any of the projects tied at
  the smallest t_p does not fit. Those get DID_NOT_FIT, all others left STOPPED.
Either way a project dearer than the whole budget is set aside first
(DID_NOT_FIT) and never stops anything; projects nobody supports are never
funded (NO_SUPPORT; pabutools would fund them last if money is left).
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

from pb_engine.allocation import explain
from pb_engine.allocation.instance import Instance
from pb_engine.allocation.outcome import Outcome
from pb_engine.allocation.registry import Option, Rule, RuleOptions, register
from pb_engine.allocation.satisfaction import support_sets
from pb_engine.allocation.tiebreak import TieBreaking
from pb_engine.ballots.kinds import Profile
from pb_engine.errors import ValidationFailed

try:  # gmpy2's rationals are exact like Fraction and ~10x faster on the growing denominators of loads
    from gmpy2 import mpq as Q
except ImportError:  # pragma: no cover - gmpy2 comes with pabutools, not with pb_engine
    Q = Fraction

OVERFLOWS = ("skip", "stop")

PHRAGMEN = Rule(
    id="phragmen", name="Sequential Phragmén",
    description="Supporters share the cost of each funded project as equal loads; the next project is the "
                "one that keeps the highest load lowest.",
    options=(Option("overflow", "choice", "a project that no longer fits: skip it and go on, or stop there "
                    "(as pabutools)", default="skip", choices=OVERFLOWS),),
    exhaustive=True,
    refusals={"satisfaction": "Phragmén counts supporters, each carrying an equal load; neither a project's "
                              "cost nor a ballot's points weigh a vote"},
)


@register(PHRAGMEN)
def phragmen(instance: Instance, profile: Profile, options: RuleOptions, tie: TieBreaking) -> Outcome:
    overflow = _check_options(options)
    rank = explain.tie_ranks(tie, instance)
    by_id = instance.by_id

    # Identical ballots always carry identical loads: one load per distinct support set.
    # Every load is one of the t values reached so far (`levels`): a group keeps the index
    # of its level, so that moving supporters up is counted in integers per (project, old
    # level) and each project's load sum changes by one Fraction product per pair.
    groups = list(support_sets(instance, profile).items())
    levels = [Q(0)]
    level_of = [0] * len(groups)
    groups_of: dict[str, list[int]] = defaultdict(list)
    for g, (projects, _) in enumerate(groups):
        for pid in projects:
            groups_of[pid].append(g)
    supporters = {p.id: sum(groups[g][1] for g in groups_of[p.id]) for p in instance.projects}
    load_sum = {pid: Q(0) for pid in supporters}  # sum of the supporters' loads
    cost = {p.id: Q(p.cost.numerator, p.cost.denominator) for p in instance.projects}

    results = {}
    remaining: set[str] = set()
    for p in instance.projects:
        if supporters[p.id] == 0:
            results[p.id] = explain.no_support(p, 0)
        elif p.cost > instance.budget:
            results[p.id] = explain.did_not_fit(p, supporters[p.id], instance.budget, 0, budget=instance.budget)
        else:
            remaining.add(p.id)

    left = instance.budget
    selected: list[str] = []
    while remaining:
        t = {pid: (load_sum[pid] + cost[pid]) / supporters[pid] for pid in remaining}
        best = min(t.values())
        load = _fraction(best)
        tied = sorted((pid for pid in remaining if t[pid] == best), key=rank.__getitem__)
        misfits = [pid for pid in tied if by_id[pid].cost > left]
        if overflow == "stop" and misfits:
            for pid in misfits:
                results[pid] = explain.did_not_fit(by_id[pid], supporters[pid], left, len(selected), load=load)
                remaining.discard(pid)
            for pid in remaining:
                results[pid] = explain.stopped(by_id[pid], supporters[pid], misfits[0], left)
            break
        pid = tied[0]
        p = by_id[pid]
        remaining.discard(pid)
        if p.cost > left:
            results[pid] = explain.did_not_fit(p, supporters[pid], left, len(selected), load=load)
            continue
        left -= p.cost
        selected.append(pid)
        levels.append(best)
        moved: dict[tuple[str, int], int] = defaultdict(int)  # (project, old level) -> voters moved up
        for g in groups_of[pid]:
            projects, m = groups[g]
            old, level_of[g] = level_of[g], len(levels) - 1
            for q in projects:
                moved[q, old] += m
        for (q, old), m in moved.items():
            load_sum[q] += m * (best - levels[old])
        n = supporters[pid]
        results[pid] = explain.funded(
            p, len(selected), n,
            f"funded in step {len(selected)}: its {explain.number(n)} supporter{'s' if n != 1 else ''} "
            f"share the cost, each one's load rising to {explain.number(load)}; "
            f"{explain.number(left)} left after it",
            load=load, supporters=n, money_left=left,
        )
    return explain.outcome(instance, results, selected, tie)


def _fraction(x) -> Fraction:
    return x if isinstance(x, Fraction) else Fraction(int(x.numerator), int(x.denominator))


def _check_options(options: RuleOptions) -> str:
    overflow = options.get("overflow", "skip")
    if overflow not in OVERFLOWS:  # allocate checked it; a direct call may not have
        raise ValidationFailed.field("overflow", f"must be one of {', '.join(OVERFLOWS)}, got {overflow!r}")
    return overflow
