"""Exact Equal Shares (EES) and its add-opt / add-opt-skip completions, exact.

    allocate(instance, profile, "ees")                              # plain EES, cost satisfaction
    allocate(instance, profile, "ees", satisfaction="cardinality")
    allocate(instance, profile, "ees", completion="add-opt")
    allocate(instance, profile, "ees", completion="add-opt-skip")

From Kraiczy, Robinson and Elkind, "Streamlining Equal Shares" (2025,
arXiv:2502.11797). We could not read the paper itself; the rule below is
written from its definitions as reported by public implementations of it
(read, not copied) and is checked in tests against a brute-force enumeration of
payer sets (tests/allocation/test_ees.py).

The rule. Every voter starts with the same money e (budget / voters). A voter's
utility for a project she supports is u = units x weight: units are 1 for an
approval (points, or the Borda score, on other ballots: see satisfaction.py),
weight is the project's cost under `cost` satisfaction (default) and 1 under
`cardinality`. Paying a price q per unit, a supporter owes q x units. Unlike
MES, a supporter who cannot pay her full share pays *nothing*: at price q the
payers of project p are the supporters whose money is at least q x units, and p
is affordable at q when those payers together owe at least its cost. The
smallest such q makes them owe exactly the cost (so every payer pays exactly
her share; with approval ballots the payers split the cost exactly equally,
cost / k each, and the k payers are the largest group of supporters that can
do so). Each step funds the project with the lowest price per unit of utility
rho = q / weight (the paper's highest "bang per buck" k x u / cost), ties
broken by the tie-breaking order; projects of cost 0 that someone supports are
funded first. It stops when no project is affordable. With cost satisfaction
and approval ballots this funds, at each step, the project with the most
payers; with cardinality, the one with the smallest equal share.

Completions: EES leaves money unspent, so, like add1 for MES, the money per
voter is raised and EES re-run, but only to the values at which its outcome can
change (between two such values every decision of the run is the same):
- add-opt: the next endowment is the smallest e' > e at which some step of
  the run decides differently: a project's largest group of payers grows, or
  an unfunded project becomes affordable at a lower price than the one funded
  at that step (on a tie, when it comes first in the tie-breaking order), or,
  after the last step, any remaining project becomes affordable. At step t
  with project p needing K payers, raising every voter's money by d makes
  that possible exactly when d >= min over j >= K of (cost / j - m_j), m_j
  being the j-th largest money among p's supporters then; the smallest such d
  over all steps and projects is the jump. (The paper computes it from the
  final outcome's leftovers and largest payments, its GreedyProjectChange;
  its Example 4.3 and Remark 1, which we could not read, give such next
  budgets. Here it comes from replaying the run, and the tests check that it
  is exact: the same run everywhere below it, another one at it.) Stops at
  the first outcome over the budget, keeping the one before, or when every
  supported project is funded.
- add-opt-skip: the paper's faster variant: the jump looks only at projects
  the current outcome does not fund, so changes that would only re-split the
  cost of funded projects (or re-order them) are jumped over and fewer EES
  runs are needed; it may therefore land on a later outcome than add-opt.
  Same stops as add-opt. (A public implementation instead goes on until every
  project is funded and keeps the outcome within the budget that spends most;
  that needs many more runs, e.g. over 40 on Warszawa 2026, and we did not
  follow it.)
The jumps are computed for projects whose supporters all give them the same
utility (approval-style ballots; a cumulative ballot where each supporter
gives a project the same points counts too). Where supporters give different
points or Borda scores the next change is not a one-dimensional search, and
the completions refuse the file naming `completion`; plain EES runs on every
ballot kind.

Explanations: a funded project has its step, rho, the price per unit paid,
what each payer paid (approval-style), how many supporters paid and how many
could not pay their share and paid nothing, its supporters' money before and
the money per voter of the run (`endowment`); an unfunded one has its
supporters' money at the end, the richest supporter's money and the equal share
if all paid (SUPPORTERS_COULD_NOT_PAY), or NO_SUPPORT. Projects the plain run
would not fund are marked FUNDED_IN_COMPLETION. Floats only screen; every
comparison that decides is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
import copy
import heapq
from typing import Any

import numpy as np

from pb_engine.allocation.instance import Instance
from pb_engine.allocation.mes import Prepared, prepare
from pb_engine.allocation.mes_engine import Q, to_fraction
from pb_engine.allocation.registry import SATISFACTION, Option, Rule, RuleOptions, register
from pb_engine.allocation.outcome import (
    FUNDED, FUNDED_IN_COMPLETION, NO_SUPPORT, SUPPORTERS_COULD_NOT_PAY, Outcome, ProjectResult,
)
from pb_engine.allocation.satisfaction import weight as weight_of
from pb_engine.allocation.shares import Entries, Wallets
from pb_engine.allocation.tiebreak import TieBreaking
from pb_engine.ballots.kinds import Profile
from pb_engine.errors import ValidationFailed

EES_COMPLETIONS = ("none", "add-opt", "add-opt-skip")
_REL = 1e-12    # floats screen products against costs with this relative margin; closer calls are exact


@dataclass
class Pick:
    """One funded project of a run."""

    project: int
    rho: Any                 # price per unit of utility (exact)
    price: Any               # what a payer pays per unit she gives the project (vote, point, Borda point)
    payers: int              # supporters who paid their full share
    nonpayers: int           # supporters who could not pay their share and paid nothing
    supporters_money: Any    # the supporters' money just before


@dataclass
class _Eval:
    ent: Entries | None      # None for approval-like projects, whose `order` holds class ids
    order: np.ndarray        # classes, richest first (approval-like) or entries by money per unit, highest first
    counts: np.ndarray       # cumulative voters (uniform) / units (otherwise) along `order`
    vf: np.ndarray           # float money per unit along `order`
    j: int | None            # last paying position along `order`; None: not affordable
    price: Any = None        # exact price per unit when affordable


@dataclass
class Run:
    endowment: Fraction
    picks: list[Pick]
    total_cost: Fraction
    wallets: Wallets | None      # the voters' money at the end
    # per paid step: every group's class just before it, and the chosen project's evaluation (for next_change)
    history: list | None = None

    @property
    def selected(self) -> list[int]:
        return [p.project for p in self.picks]


@dataclass
class _Cached:
    """A project's histogram at some step: lower bounds for every later step (money only falls in a run)."""

    counts: np.ndarray   # cumulative supporters, richest class first
    suffix: np.ndarray   # suffix[j] = min over i >= j of (cost / counts[i] - money[i]) (floats)


class Engine:
    """EES on one prepared election; `run(e)` runs it with money e per voter, `next_change` finds the next e."""

    def __init__(self, prep: Prepared):
        self.prep = prep
        P = prep.problem
        self.P = P
        m = len(P.costs)
        self.supported = [c for c in range(m) if P.sup_voters[c] > 0]
        self.free = sorted((c for c in self.supported if P.costs_q[c] == 0), key=lambda c: P.rank[c])
        self.paid = [c for c in self.supported if P.costs_q[c] > 0]
        self.uniform = all(P.utils_int[c] is None for c in self.paid)
        self.max_cost = max((float(P.costs[c]) for c in self.paid), default=0.0)
        # units all supporters give each project together (voters, for approval-like projects)
        self._cost_f = np.asarray(P.costs_f, dtype=np.float64)
        self._sup = np.asarray(P.sup_voters, dtype=np.float64)
        self._w_f = np.asarray(P.weight_f, dtype=np.float64)
        self.units = [P.sup_voters[c] if P.utils_int[c] is None else
                      int(P.utils_int[c] @ P.mult.take(P.supporters[c])) for c in range(m)]
        # every supporter paying: a lower bound of a project's key at any step of any run
        self._key0 = {c: (P.costs_q[c] / (self.units[c] * P.weight_q[c]), P.rank[c]) for c in self.paid}

    # ------------------------------------------------------------------ one project

    def _evaluate(self, W: Wallets, c: int) -> _Eval:
        P = self.P
        cost = P.costs_q[c]
        if P.utils_int[c] is None:
            cls, n, vf = W.histogram_floats(c)
            counts = np.cumsum(n)
            prod = vf * counts
            cost_f = P.costs_f[c]
            slack = counts * W.err          # each float money is within W.err of the exact one
            for j in (prod >= cost_f * (1 - _REL) - slack).nonzero()[0][::-1].tolist():
                k = int(counts[j])
                if prod[j] >= cost_f * (1 + _REL) + slack[j] or W.values[int(cls[j])] * k >= cost:
                    return _Eval(None, cls, counts, vf, j, cost / k)
            return _Eval(None, cls, counts, vf, None)
        # supporters give different units: order entries by money per unit, exactly (small files only)
        ent = W.entries(c)
        ratio = [W.values[k] / u for k, u in zip(ent.cls.tolist(), ent.units.tolist())]
        order = np.array(sorted(range(len(ratio)), key=lambda i: ratio[i], reverse=True), dtype=np.int64)
        units = (ent.units * ent.voters).take(order)
        counts = np.cumsum(units)
        vf = np.array([float(ratio[i]) for i in order.tolist()])
        j_ok = None
        for j in range(len(order)):
            last_of_tie = j + 1 == len(order) or ratio[order[j + 1]] != ratio[order[j]]
            if last_of_tie and ratio[order[j]] * int(counts[j]) >= cost:
                j_ok = j
        if j_ok is None:
            return _Eval(ent, order, counts, vf, None)
        return _Eval(ent, order, counts, vf, j_ok, cost / int(counts[j_ok]))

    def _key(self, c: int, ev: _Eval):
        return (ev.price / self.P.weight_q[c], self.P.rank[c])

    def _pay(self, W: Wallets, c: int, ev: _Eval, trace: bool = True) -> Pick:
        P = self.P
        before = W.money(c) if trace else None
        if ev.ent is None:
            n_payers = int(ev.counts[ev.j])
            W.charge_uniform(c, ev.order[: ev.j + 1], ev.price)
        else:
            payers = ev.order[: ev.j + 1].tolist()
            payments = [Q(0)] * len(ev.ent.cls)
            for i in payers:
                payments[i] = ev.price * int(ev.ent.units[i])
            n_payers = int(ev.ent.voters.take(payers).sum())
            W.charge(c, ev.ent, payments)
        return Pick(c, ev.price / P.weight_q[c], ev.price, n_payers, P.sup_voters[c] - n_payers, before)

    # ------------------------------------------------------------------ a run

    def run(self, endowment: Fraction, trace: bool = True) -> Run:
        """EES at `endowment` per voter. Prices only rise during a run (money only falls), so a project whose
        last price cannot beat the best fresh one is not re-priced (lazy evaluation)."""
        P = self.P
        W = Wallets(P, endowment)
        picks = [Pick(c, Q(0), Q(0), 0, P.sup_voters[c], Q(0)) for c in self.free]
        total = Q(0)
        # heap of (stale key, project); a stale key is a lower bound of the fresh one (at first: every
        # supporter paying). At first everyone holds `endowment`, so an approval-like project is affordable
        # at all in this run only if its cost split among all its supporters is at most that (money only
        # falls): the others are left out of the heap, as their first evaluation would drop them.
        e = Q(endowment)
        heap = [(self._key0[c], c) for c in self.paid
                if P.utils_int[c] is not None or P.costs_q[c] <= e * P.sup_voters[c]]
        heapq.heapify(heap)
        history = []
        while heap:
            stale, c = heapq.heappop(heap)
            ev = self._evaluate(W, c)
            if ev.j is None:
                continue            # never affordable again in this run
            key = self._key(c, ev)
            if heap and key > heap[0][0]:
                heapq.heappush(heap, (key, c))
                continue
            history.append((W.cls.copy(), ev))
            picks.append(self._pay(W, c, ev, trace))
            total += P.costs_q[c]
        history.append((W.cls, None))
        return Run(Fraction(endowment), picks, to_fraction(total), W, history)

    # ------------------------------------------------------------------ the next change

    def next_change(self, run: Run, projects) -> Fraction | None:
        """Smallest raise d > 0 of everyone's money at which a decision of `run` about one of `projects` changes.

        Replays the run step by step. At step t, project p (not funded yet) changes the decision when, with
        d more per voter, K of its supporters could split its cost equally: the chosen project's K is its
        payers + 1, another's the fewest payers that would beat the chosen price (ties: the tie-breaking
        order); after the last step K = 1. That needs d >= min over j >= K (cost / j - m_j), m_j the j-th
        largest money among p's supporters at step t. A histogram seen at an earlier step bounds this from
        below, so only projects whose bound is under the best raise so far are looked at again.
        """
        P = self.P
        relevant = set(projects)
        W = copy.copy(run.wallets)     # shares the (append-only) classes; its `cls` is set per step below
        funded = set(self.free)
        tol = 1e-10 * (float(run.endowment) + self.max_cost) + 4 * W.err    # floats' error, with room
        cache: dict[int, _Cached] = {}
        m = len(P.costs)
        live = np.zeros(m, dtype=bool)           # relevant projects not funded yet
        live[[c for c in self.paid if c in relevant]] = True
        # per project, a lower bound on its change at any later step (its cheapest change seen so far)
        lowest = np.full(m, -np.inf)
        best_f = float("inf")
        best = None                              # exact
        paid_picks = [pk for pk in run.picks if pk.project not in funded]
        for t in range(len(paid_picks) + 1):
            chosen = paid_picks[t].project if t < len(paid_picks) else None
            W.cls, ch_ev = run.history[t]
            bar = None if ch_ev is None else ch_ev.price / P.weight_q[chosen]
            bar_f = None if bar is None else float(bar)
            look = live & (lowest <= best_f + tol)
            if chosen is not None:
                # more payers than all its supporters would be needed to beat the chosen price (floats' error
                # allowed for): no change from this project at this step
                hopeless = self._cost_f > (self._sup + 1) * self._w_f * bar_f * (1 + 1e-9)
                hopeless[chosen] = False
                look &= ~hopeless
            for c in look.nonzero()[0].tolist():
                if chosen is None:
                    need = 1
                elif c == chosen:
                    need = int(ch_ev.counts[ch_ev.j]) + 1
                else:
                    # payers c needs to beat the chosen price: more than x (at least x if c wins ties)
                    x = P.costs_q[c] / (P.weight_q[c] * bar)
                    num, den = int(x.numerator), int(x.denominator)
                    need = -(-num // den) if P.rank[c] < P.rank[chosen] else num // den + 1
                if need > P.sup_voters[c]:
                    continue
                old = cache.get(c)
                if old is not None:
                    s = int(np.searchsorted(old.counts, need, side="left"))
                    if s >= len(old.counts) or old.suffix[s] > best_f + tol:
                        continue
                ev = ch_ev if c == chosen else self._evaluate(W, c)
                d = P.costs_f[c] / ev.counts - ev.vf
                cache[c] = _Cached(ev.counts, np.minimum.accumulate(d[::-1])[::-1])
                lowest[c] = cache[c].suffix[0]
                s = int(np.searchsorted(ev.counts, need, side="left"))
                if s >= len(ev.counts):
                    continue
                low = float(cache[c].suffix[s])
                if low > best_f + tol:
                    continue
                for j in ((d[s:] <= low + tol).nonzero()[0] + s).tolist():
                    exact_d = P.costs_q[c] / int(ev.counts[j]) - W.values[int(ev.order[j])]
                    if best is None or exact_d < best:
                        best = exact_d
                best_f = min(best_f, float(best))
            if chosen is None:
                break
            funded.add(chosen)
            live[chosen] = False
        if best is None:
            return None
        assert best > 0
        return to_fraction(best)


# --------------------------------------------------------------------------- completions


def complete(engine: Engine, completion: str, budget: Fraction, n_voters: int) -> tuple[Run, Run, int]:
    """(final run, plain run, number of EES runs)."""
    e0 = budget / n_voters
    if completion != "none" and not engine.uniform:
        raise ValidationFailed.field(
            "completion", f"completion {completion!r} needs every supporter of a project to give it the same "
            "utility (approval-style ballots); these ballots give different points or Borda scores, and the "
            "paper's next-budget search (GreedyProjectChange, ADD-OPT) is given for approval-style and uniform "
            "utilities only: use completion 'none'")
    plain = engine.run(e0)
    runs = 1
    if completion == "none":
        return plain, plain, runs
    supported = set(engine.supported)
    current = best = plain
    while not supported <= set(current.selected):
        if completion == "add-opt":
            among = engine.paid
        else:
            funded = set(current.selected)
            among = [c for c in engine.paid if c not in funded]
        d = engine.next_change(current, among)
        if d is None:
            break
        nxt = engine.run(current.endowment + d, trace=False)
        runs += 1
        if nxt.total_cost > budget:
            break
        best = current = nxt
    if best is not plain:
        best = engine.run(best.endowment)      # again, with the figures the explanations quote
    return best, plain, runs


# --------------------------------------------------------------------------- the rule


def ees(instance: Instance, profile: Profile, satisfaction: str | None, completion: str | None,
        tie: TieBreaking) -> Outcome:
    """Exact Equal Shares as a pure function (the registered rule calls it)."""
    completion = completion or "none"
    if completion not in EES_COMPLETIONS:
        raise ValidationFailed.field("completion", f"ees completion must be one of {', '.join(EES_COMPLETIONS)}")
    prep = prepare(instance, profile, satisfaction, tie)
    budget = Fraction(instance.budget)
    if len(profile.ballots) == 0:
        empty = Run(Fraction(0), [], Fraction(0), None)
        return _outcome(prep, empty, empty, ("no ballots: nothing funded",))
    engine = Engine(prep)
    final, plain, runs = complete(engine, completion, budget, len(profile.ballots))
    notes: tuple[str, ...] = ()
    if completion != "none":
        notes = (f"{completion}: {runs} EES run(s); money per voter raised from {_fmt(plain.endowment)} "
                 f"to {_fmt(final.endowment)}",)
    return _outcome(prep, final, plain, notes, completion)


def _units(prep: Prepared, c: int) -> Fraction:
    """Units every supporter gives an approval-like project (1 for approvals, the points otherwise)."""
    P = prep.problem
    sat = weight_of(prep.instance.projects[c], prep.satisfaction)
    return Fraction(P.weight[c]) / sat if sat else Fraction(1)


def _fmt(x) -> str:
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{float(x):.2f}"


def _outcome(prep: Prepared, final: Run, plain: Run, notes, completion: str = "none") -> Outcome:
    P = prep.problem
    steps = {p.project: (t, p) for t, p in enumerate(final.picks, 1)}
    plain_selected = set(plain.selected)
    results = []
    for c, pid in enumerate(prep.ids):
        cost, score, n_sup = P.costs[c], prep.score[c], P.sup_voters[c]
        if c in steps:
            t, pk = steps[c]
            price = to_fraction(pk.price)
            uniform = P.utils_int[c] is None
            # an approval-like project's units were folded into its weight (mes.prepare): a payer pays `price`
            per_unit = price / _units(prep, c) if uniform else price
            details: dict[str, Any] = {
                "endowment": final.endowment,
                "rho": to_fraction(pk.rho),
                "price_per_unit": per_unit,
                "supporters": n_sup,
                "payers": pk.payers,
                "nonpayers": pk.nonpayers,
                "supporters_money_before": to_fraction(pk.supporters_money),
            }
            if uniform:
                details["payment_per_payer"] = price
            late = c not in plain_selected
            if late:
                details["completion"] = completion
            if cost == 0:
                msg = f"Funded at step {t}: it costs nothing."
            else:
                pay = (f"{pk.payers} supporter(s) each paid {_fmt(price)}" if uniform else
                       f"{pk.payers} supporter(s) each paid {_fmt(price)} per point (or Borda point) they gave it")
                msg = f"Funded at step {t}: {pay}, its cost of {_fmt(cost)} split exactly"
                if pk.nonpayers:
                    msg += f"; {pk.nonpayers} supporter(s) could not pay that share and paid nothing"
                msg += f" (money per voter {_fmt(final.endowment)})."
            if late:
                msg += " Plain EES would not fund it; the completion (more money per voter) did."
            results.append(ProjectResult(pid, True, FUNDED_IN_COMPLETION if late else FUNDED, msg, cost, score, t,
                                         to_fraction(pk.rho), details))
        elif n_sup == 0:
            results.append(ProjectResult(pid, False, NO_SUPPORT, "Nobody voted for it.", cost, score, None, None, {}))
        else:
            W = final.wallets
            money = to_fraction(W.money(c))
            richest = to_fraction(W.richest(c))
            share = cost / n_sup
            details = {"endowment": final.endowment, "supporters": n_sup, "supporters_money": money,
                       "richest_supporter_money": richest, "equal_share_if_all_paid": share}
            msg = (f"Not funded: at the end no group of its {n_sup} supporter(s) could split its cost of "
                   f"{_fmt(cost)} exactly equally (k of them would each need cost/k; they had {_fmt(money)} "
                   f"in all, the richest {_fmt(richest)}).")
            results.append(ProjectResult(pid, False, SUPPORTERS_COULD_NOT_PAY, msg, cost, score, None, None,
                                         details))
    selected = tuple(prep.ids[c] for c in final.selected)
    return Outcome("ees", {}, prep.budget, selected, final.total_cost, tuple(results), {}, "", "", tuple(notes))


EES = Rule(
    id="ees", name="Exact Equal Shares",
    description="Every voter gets an equal share of the budget; a project is funded when a group of its "
                "supporters can split its cost exactly equally (supporters who cannot pay their share pay nothing).",
    options=(
        SATISFACTION,
        Option("completion", "choice", "spend what plain EES leaves: add-opt (raise each voter's share straight "
               "to the next value that changes the outcome, until the budget would be exceeded) or add-opt-skip "
               "(faster: only values that could fund another project); none by default. Refused where supporters "
               "give a project different points or Borda scores: the paper gives its next-budget search "
               "(GreedyProjectChange, ADD-OPT) for approval-style and uniform utilities only",
               default="none", choices=EES_COMPLETIONS),
    ),
    exhaustive=False,
)


@register(EES)
def ees_rule(instance: Instance, profile: Profile, options: RuleOptions, tie: TieBreaking) -> Outcome:
    return ees(instance, profile, options.satisfaction, options.completion, tie)
