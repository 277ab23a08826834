"""Equal Shares with Bounded Overspending (BOS Equal Shares), exact.

    allocate(instance, profile, "bos")                              # cost satisfaction
    allocate(instance, profile, "bos", satisfaction="cardinality")

From Papasotiropoulos, Pishbin, Skibski, Skowron and Wąs, "Method of Equal
Shares with Bounded Overspending" (EC 2025, arXiv:2409.15005). We could not
read the paper's text; the definition below is our reading of it, checked
against the authors' published function `bounded_overspending` (in
PishbinZein/FairnessInTheMultiSecretaryProblem_AAAI2026, read, not copied)
and its unit tests, which tests/allocation/test_bos.py reproduces.

The rule. Voters start with equal shares of the budget; a supporter's utility
is units x weight as in MES (satisfaction.py; weight: the cost, or 1). MES
funds a project only when its supporters can pay all of it. BOS may fund a
project whose supporters can pay only a fraction alpha of it, the rest being
"overspent" from the budget: for alpha in (0, 1], the alpha-part of project c
is bought at price rho per unit of utility when

    sum over supporters i of min(money_i, alpha * rho * u_i) = alpha * cost(c),

and the rule funds, at each step, the project and alpha with the smallest
rho / alpha (a small part bought cheaply counts for little), among the
projects that still fit in what is left of the budget; each supporter pays
min(money_i, alpha * rho * u_i), in all alpha * cost(c). With alpha = 1 this
is MES's price. The smallest rho / alpha is reached where one more supporter
would have to pay all she has, or at alpha = 1, so only those points are
tried. A project whose supporters have no money left has no alpha > 0 and is
never funded; it stops when no project fits and has supporters with money.
Ties between projects: the tie-breaking order (the authors' function prefers
the project with more total utility first); within a project, the larger
alpha (less overspending).

Where we differ from the published function:
- in its tie branch (`ratio[c] == lowest_ratio`), a project whose supporters
  have no money has ratio infinity, equal to the initial lowest ratio, and is
  chosen and funded with a stale price; the definition does not allow it
  (alpha must be positive), and neither do we (test_bos.py shows an instance);
- it charges min(money_i, rho * u_i) where the definition above charges
  min(money_i, alpha * rho * u_i): the same when alpha = 1 or every supporter
  pays all she has, otherwise it charges the richer supporters more than the
  alpha-part. Its tests do not tell the two apart; we follow the definition.
- it computes in floats with 1e-8 cut-offs; we compute exactly.

Explanations: a funded project has its step, alpha, rho, rho / alpha, what
voters paid (alpha x cost) and what was overspent, how many supporters paid
all they had and how many paid their share, its supporters' money before;
an unfunded one DID_NOT_FIT (cost over what was left of the budget) or
SUPPORTERS_COULD_NOT_PAY (its supporters had no money left), or NO_SUPPORT.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from pb_engine.allocation.instance import Instance
from pb_engine.allocation.mes import Prepared, prepare
from pb_engine.allocation.mes_engine import Q, to_fraction
from pb_engine.allocation.registry import SATISFACTION, Option, Rule, RuleOptions, register
from pb_engine.allocation.outcome import (
    DID_NOT_FIT, FUNDED, NO_SUPPORT, SUPPORTERS_COULD_NOT_PAY, Outcome, ProjectResult,
)
from pb_engine.allocation.shares import Wallets
from pb_engine.allocation.tiebreak import TieBreaking
from pb_engine.ballots.kinds import Profile


@dataclass
class Offer:
    """The best way to buy (a part of) one project now."""

    key: Any                 # rho / alpha (per unit of utility)
    alpha: Any               # the part the supporters pay for
    level: Any               # alpha * rho * weight: a supporter pays min(money, level * units)
    groups: list             # (class, units, voters, money per supporter) of supporters with money


@dataclass
class BosPick:
    project: int
    alpha: Any
    rho: Any
    key: Any
    paid: Any                # by the voters: alpha * cost
    all_in: int              # supporters who paid all they had
    share: int               # supporters who paid their share (level * units) and kept money
    supporters_money: Any


def _groups(W: Wallets, P, c: int) -> list:
    """c's supporters with money, as (ratio money/units, class, units, voters), ascending by ratio."""
    if P.utils_int[c] is None:
        cls, n = W.histogram(c)
        out = [(W.values[k], k, 1, int(x)) for k, x in zip(cls[::-1].tolist(), n[::-1].tolist())]
    else:
        ent = W.entries(c)
        out = sorted(((W.values[k] / u, k, u, v) for k, u, v in
                      zip(ent.cls.tolist(), ent.units.tolist(), ent.voters.tolist())), key=lambda g: g[0])
    return [g for g in out if g[0] > 0]


def offer(W: Wallets, P, c: int) -> Offer | None:
    """The smallest rho / alpha for project c (exact); None when its supporters have no money."""
    groups = _groups(W, P, c)
    if not groups:
        return None
    cost = P.costs_q[c]
    weight = P.weight_q[c]
    units_left = sum((u * v for _, _, u, v in groups), 0)     # units of supporters not yet capped
    money_capped = Q(0)                                        # money of supporters capped below the level
    best = None
    i = 0
    while i < len(groups):
        r = groups[i][0]
        collected = money_capped + units_left * r              # everyone pays min(money, r * units)
        if collected >= cost:
            level = (cost - money_capped) / units_left          # alpha = 1 inside this segment
            cand = (level / weight, Q(1), level)
        else:
            alpha = collected / cost
            cand = (r / (weight * alpha * alpha), alpha, r)
        # smaller key wins; on a tie the larger alpha (less overspending)
        if best is None or cand[0] < best[0] or (cand[0] == best[0] and cand[1] > best[1]):
            best = cand
        if collected >= cost:
            break
        while i < len(groups) and groups[i][0] == r:           # supporters at this ratio are now capped
            _, k, u, v = groups[i]
            money_capped += W.values[k] * v
            units_left -= u * v
            i += 1
    key, alpha, level = best
    return Offer(key, alpha, level, groups)


def run(prep: Prepared, budget: Fraction, n_voters: int) -> tuple[list[BosPick], Wallets]:
    P = prep.problem
    W = Wallets(P, budget / n_voters)
    picks: list[BosPick] = []
    left = Q(budget)
    supported = [c for c in range(len(P.costs)) if P.sup_voters[c] > 0]
    for c in sorted((c for c in supported if P.costs_q[c] == 0), key=lambda c: P.rank[c]):
        picks.append(BosPick(c, Q(1), Q(0), Q(0), Q(0), 0, P.sup_voters[c], W.money(c)))
    # the best rho / alpha of a project only rises as money falls: stale keys are lower bounds
    heap = [((Q(0), P.rank[c]), c) for c in supported if P.costs_q[c] > 0]
    heapq.heapify(heap)
    while heap:
        _, c = heapq.heappop(heap)
        if P.costs_q[c] > left:
            continue
        off = offer(W, P, c)
        if off is None:
            continue
        key = (off.key, P.rank[c])
        if heap and key > heap[0][0]:
            heapq.heappush(heap, (key, c))
            continue
        before = W.money(c)
        payments, all_in, share, paid = [], 0, 0, Q(0)
        classes = []
        for r, k, u, v in off.groups:
            owe = off.level * u
            pay = W.values[k] if W.values[k] <= owe else owe
            if pay == W.values[k]:
                all_in += v
            else:
                share += v
            classes.append(k)
            payments.append(pay)
            paid += pay * v
        if P.utils_int[c] is None:
            W.charge_classes(c, classes, payments)
        else:
            ent = W.entries(c)
            by_key = {(k, u): pay for (_, k, u, _), pay in zip(off.groups, payments)}
            W.charge(c, ent, [by_key.get((k, u), Q(0)) for k, u in zip(ent.cls.tolist(), ent.units.tolist())])
        left -= P.costs_q[c]
        picks.append(BosPick(c, off.alpha, off.key * off.alpha, off.key, paid, all_in, share, before))
    return picks, W


def bos(instance: Instance, profile: Profile, satisfaction: str | None, tie: TieBreaking) -> Outcome:
    """BOS Equal Shares as a pure function (the registered rule calls it)."""
    prep = prepare(instance, profile, satisfaction, tie)
    budget = Fraction(instance.budget)
    P = prep.problem
    if len(profile.ballots) == 0:
        picks, W, notes = [], None, ("no ballots: nothing funded",)
    else:
        (picks, W), notes = run(prep, budget, len(profile.ballots)), ()
    step = {p.project: (t, p) for t, p in enumerate(picks, 1)}
    total = sum((P.costs[p.project] for p in picks), Fraction(0))
    left = budget - total
    results = []
    for c, pid in enumerate(prep.ids):
        cost, score, n_sup = P.costs[c], prep.score[c], P.sup_voters[c]
        if c in step:
            t, pk = step[c]
            paid = to_fraction(pk.paid)
            details: dict[str, Any] = {
                "endowment": budget / len(profile.ballots), "alpha": to_fraction(pk.alpha),
                "rho": to_fraction(pk.rho), "rho_per_alpha": to_fraction(pk.key),
                "paid_by_voters": paid, "overspent": cost - paid, "supporters": n_sup,
                "paid_all_they_had": pk.all_in, "paid_their_share": pk.share,
                "had_no_money": n_sup - pk.all_in - pk.share,
                "supporters_money_before": to_fraction(pk.supporters_money),
            }
            if cost == 0:
                msg = f"Funded at step {t}: it costs nothing."
            elif paid == cost:
                msg = (f"Funded at step {t}: its supporters paid all of its cost of {_fmt(cost)} "
                       f"({pk.all_in} paid all they had, {pk.share} paid their share).")
            else:
                msg = (f"Funded at step {t}: its supporters paid {_fmt(paid)} of its cost of {_fmt(cost)} "
                       f"(a fraction {_fmt(pk.alpha)}); the other {_fmt(cost - paid)} was overspent from the "
                       f"budget ({pk.all_in} paid all they had, {pk.share} paid their share).")
            results.append(ProjectResult(pid, True, FUNDED, msg, cost, score, t, to_fraction(pk.rho), details))
        elif n_sup == 0:
            results.append(ProjectResult(pid, False, NO_SUPPORT, "Nobody voted for it.", cost, score, None, None, {}))
        elif cost > left:
            results.append(ProjectResult(
                pid, False, DID_NOT_FIT, f"Not funded: it costs {_fmt(cost)}, more than the {_fmt(left)} left of "
                "the budget.", cost, score, None, None, {"money_left": left, "supporters": n_sup}))
        else:
            money = to_fraction(W.money(c)) if W is not None else Fraction(0)
            results.append(ProjectResult(
                pid, False, SUPPORTERS_COULD_NOT_PAY, f"Not funded: its {n_sup} supporter(s) had no money left "
                "to pay for any part of it.", cost, score, None, None,
                {"supporters": n_sup, "supporters_money": money, "money_left": left}))
    selected = tuple(prep.ids[p.project] for p in picks)
    return Outcome("bos", {}, Fraction(budget), selected, total, tuple(results), {}, "", "", tuple(notes))


def _fmt(x) -> str:
    x = Fraction(to_fraction(x)) if not isinstance(x, (int, Fraction)) else Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{float(x):.2f}"


BOS = Rule(
    id="bos", name="Equal Shares with Bounded Overspending",
    description="Like the method of equal shares, but a project its supporters can pay only part of may be "
                "funded, the rest coming from the budget, when that part is bought cheaply enough.",
    options=(SATISFACTION,),
    exhaustive=False,
)


@register(BOS)
def bos_rule(instance: Instance, profile: Profile, options: RuleOptions, tie: TieBreaking) -> Outcome:
    return bos(instance, profile, options.satisfaction, tie)
