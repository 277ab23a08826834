"""max-welfare: the set of projects within budget with the highest total satisfaction.

    allocate(instance, profile, "max-welfare")                              # cost satisfaction, CBC
    allocate(instance, profile, "max-welfare", satisfaction="cardinality")  # approval ballots only
    allocate(instance, profile, "max-welfare", solver="highs")

Total satisfaction of a set: the sum over its projects of score x weight
(`satisfaction.py`), as in greedy and MES: `satisfaction` "cost" (score x cost)
or "cardinality" (the score: votes, points or Borda points). The default is
"cost" on approval and choose-1 ballots and "cardinality" on points and ranking
ballots (the points as given). pabutools: `max_additive_utilitarian_welfare`
with `Cost_Sat`, `Cardinality_Sat`, `Additive_Cardinal_Sat`, `Additive_Borda_Sat`.

Solved as an integer program (`knapsack.py`), then proven optimal by an exact
integer search; when several sets tie for the highest total, the one chosen is
the first in the tie-breaking order: it holds the best-ranked project that any
optimal set holds, then the next, and so on. Projects nobody supports are never
funded (they add nothing), nor is anything dearer than the whole budget; a
supported project that costs nothing always is (under cost satisfaction it adds
nothing either, but no voter would understand leaving it out).
"""

from __future__ import annotations

from fractions import Fraction

from pb_engine.allocation import explain
from pb_engine.allocation.instance import Instance
from pb_engine.allocation.outcome import Outcome
from pb_engine.allocation.registry import SATISFACTION, Option, Rule, RuleOptions, register
from pb_engine.allocation.satisfaction import (
    APPROVAL_SHAPED, CARDINALITY, COST, check_satisfaction, score_unit, scores, weight,
)
from pb_engine.allocation.tiebreak import TieBreaking
from pb_engine.ballots.kinds import Profile
from pb_engine.errors import ValidationFailed

DEFAULT_SOLVER = "cbc"  # bundled with PuLP; "highs" needs highspy
SOLVERS = ("cbc", "highs")

MAX_WELFARE = Rule(
    id="max-welfare", name="Maximum welfare",
    description="Funds the set of projects within budget that gives voters the most satisfaction in total.",
    options=(
        Option("satisfaction", "choice", "what a funded project is worth to a supporter: cost = score x cost, "
               "cardinality = the score; default cost on approval ballots, cardinality on points and rankings",
               choices=SATISFACTION.choices),
        Option("solver", "choice", "the integer-program solver that proposes the set (an exact search proves it)",
               default=DEFAULT_SOLVER, choices=SOLVERS),
    ),
    exhaustive=True,
)


@register(MAX_WELFARE)
def max_welfare(instance: Instance, profile: Profile, options: RuleOptions, tie: TieBreaking) -> Outcome:
    from pb_engine.allocation.knapsack import best_set  # PuLP only when the rule runs, not on every import

    satisfaction = _check_options(options, profile)
    rank = explain.tie_ranks(tie, instance)
    score = scores(instance, profile)
    value = {p.id: score[p.id] * weight(p, satisfaction) for p in instance.projects if score[p.id] > 0}
    order = sorted((p.id for p in instance.projects), key=rank.__getitem__)
    result = best_set(value, {p.id: p.cost for p in instance.projects}, instance.budget, order, options.solver or DEFAULT_SOLVER)

    by_id = instance.by_id
    selected = [pid for pid in order if pid in result.chosen]
    left = instance.budget - sum((by_id[pid].cost for pid in selected), Fraction(0))
    total = explain.number(result.value)
    results = {}
    for p in instance.projects:
        s = score[p.id]
        if s <= 0:
            results[p.id] = explain.no_support(p, s)
        elif p.id in result.chosen:
            results[p.id] = explain.funded(
                p, None, s,
                f"funded: part of the set within budget with the highest total satisfaction ({total}); "
                f"adds {explain.number(value[p.id])} to it",
                satisfaction=value[p.id], total_satisfaction=result.value,
            )
        elif p.cost > instance.budget:
            results[p.id] = explain.did_not_fit(p, s, instance.budget, None, budget=instance.budget)
        else:
            results[p.id] = explain.not_selected(
                p, s,
                f"not funded: not part of the set within budget with the highest total satisfaction ({total}); "
                f"it costs {explain.number(p.cost)}, {explain.number(left)} is left unspent",
                satisfaction=value[p.id], total_satisfaction=result.value, money_left=left,
            )
    if profile.vote_type in APPROVAL_SHAPED:
        what = f"{satisfaction} satisfaction"
    else:
        what = score_unit(profile.vote_type) + (" x cost" if satisfaction == COST else "")
    if result.tied:
        first = "; several sets reach it" + (", the first in tie-breaking order was chosen" if result.ties_exact else "")
    else:
        first = "; no other set reaches it" if result.ties_exact else ""
    notes = [f"total {what} {total}{first}"]
    if result.proof == "solver":
        notes.append(f"optimality certified by the {options.solver or DEFAULT_SOLVER} solver on whole numbers "
                     "(the exact search would have taken too long)")
    elif result.proof == "none":
        notes.append("the set is within budget, but neither the exact search nor the solver could prove "
                     "within their limits that no better set exists")
    if not result.ties_exact:
        notes.append("ties were settled as far as a bounded search could: another set with the same "
                     "total may come first in tie-breaking order")
    return explain.outcome(instance, results, selected, tie, notes=notes)


def _check_options(options: RuleOptions, profile: Profile) -> str:
    if options.solver is not None and options.solver not in SOLVERS:  # allocate checked it; a direct call may not
        raise ValidationFailed.field("solver", f"must be one of {', '.join(SOLVERS)}, got {options.solver!r}")
    return check_satisfaction(options.satisfaction, COST if profile.vote_type in APPROVAL_SHAPED else CARDINALITY)
