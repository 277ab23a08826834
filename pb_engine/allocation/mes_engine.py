"""The computational core of the method of equal shares: one run at a given endowment, exact and fast.

Exactness: every number that decides something (money, prices, affordability)
is an exact rational (gmpy2's `mpq` when installed, else `Fraction`). Floats
(numpy) only *screen*: each float carries a proven error bound, and whatever
the bound cannot settle (close prices, ties, a supporter's money near the
price, a total near the cost) is settled exactly. A float never funds or drops
a project on its own (tests/allocation/test_mes_properties.py blurs the floats
to check this).

Speed:
- voters with identical ballots are one group (with a multiplicity);
- a voter's money is 0 if she ever paid less than her share (she paid all she
  had), else `e - sum(price[c] * units)` over the funded projects she
  supports. Voters with the same such history form a money class; groups hold
  a class id. A project's supporters fall in a few hundred classes, so its
  price is a water-filling over that short histogram, and exact sums over
  classes take one small matrix product plus one rational product per funded
  project (`_Money.exact_sum`);
- prices only rise during a run, so each step re-prices projects in order of
  their previous price and stops as soon as no further project can beat the
  best one (the "lazy" trick of the equalshares.net reference code); a
  project whose supporters could not pay the best price even with the money
  they held at its last pricing is skipped without a new histogram;
- add1's intermediate runs stop as soon as their verdict is sure (`run`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
import heapq
from math import gcd
from operator import mul
from typing import Sequence

import numpy as np

try:  # gmpy2 is ~10x faster than Fraction; both are exact.
    from gmpy2 import mpq as Q
except ImportError:  # pragma: no cover - exercised only without gmpy2
    Q = Fraction



def to_fraction(x) -> Fraction:
    if isinstance(x, Fraction):
        return x
    return Fraction(int(x.numerator), int(x.denominator))


@dataclass
class Problem:
    """A MES instance in engine form: projects by index, voters by group of identical ballots.

    A supporter's utility for project c is `units * weight[c]`: `units` is a
    whole number per supporter group (votes: 1, points, Borda score) and
    `weight` the satisfaction's factor (the cost, or 1). `units[c]` is None
    when every supporter has one unit (approval ballots).
    """

    costs: Sequence[Fraction]
    mult: np.ndarray                       # voters per group (int64)
    supporters: list[np.ndarray]           # per project: group indices with positive utility
    units: list[Sequence[int] | None]      # per project: units per supporter group, None = all 1
    weight: list[Fraction]                 # per project: utility of one unit
    rank: Sequence[int]                    # tie-breaking rank per project, lower wins
    n_voters: int = 0
    # derived
    costs_q: list = field(init=False)
    costs_f: np.ndarray = field(init=False)
    weight_q: list = field(init=False)
    weight_f: list = field(init=False)
    weights_f: list[np.ndarray] = field(init=False)
    sup_voters: list[int] = field(init=False)
    sup_rep: list[np.ndarray] = field(init=False)
    utils_q: list = field(init=False)
    utils_f: list = field(init=False)
    utils_int: list = field(init=False)
    units_none: list = field(init=False)
    total_units_f: list = field(init=False)
    buffers: tuple | None = field(init=False, default=None)
    units_dtype: type = field(init=False, default=np.int8)

    def __post_init__(self):
        m = len(self.costs)
        self.costs_q = [Q(c) for c in self.costs]
        self.costs_f = np.array([float(c) for c in self.costs])
        self.weight_q = [Q(w) for w in self.weight]
        self.weight_f = [float(w) for w in self.weight]
        self.mult = np.asarray(self.mult, dtype=np.int64)
        self.supporters = [np.asarray(s, dtype=np.int64) for s in self.supporters]
        self.weights_f = [self.mult[s].astype(np.float64) for s in self.supporters]
        # one entry per supporting voter: sorting their money classes gives the histogram
        self.sup_rep = [np.repeat(s, self.mult[s]) for s in self.supporters]
        self.sup_voters = [int(self.mult[s].sum()) for s in self.supporters]
        self.utils_int = [None if us is None else np.asarray(us, dtype=np.int64) for us in self.units]
        self.units_none = [us is None for us in self.utils_int]
        if any(us is not None and (us <= 0).any() for us in self.utils_int):
            raise ValueError("supporters have positive units")
        self.utils_q = [None if us is None else [Q(int(x)) for x in us.tolist()] for us in self.utils_int]
        self.utils_f = [None if us is None else us.astype(np.float64) for us in self.utils_int]
        self.total_units_f = [
            float(self.sup_voters[c]) if self.utils_int[c] is None else float(self.utils_f[c] @ self.weights_f[c])
            for c in range(m)
        ]
        if not self.n_voters:
            self.n_voters = int(self.mult.sum())
        most = max((int(us.max()) for us in self.utils_int if us is not None and len(us)), default=1)
        if self.n_voters * most >= 2 ** 52:
            raise ValueError("too many voters or points for exact float sums of whole numbers")
        # units paid per (money class, project): small whole numbers, kept small to copy rows fast
        self.units_dtype = np.int8 if most < 2 ** 7 else np.int16 if most < 2 ** 15 else np.int64

    def uniform(self, c: int) -> bool:
        return self.units_none[c]


@dataclass
class Step:
    project: int
    rho: Fraction                 # price per unit of utility
    max_payment: Fraction | None  # one unit per supporter: what every supporter who could afford it paid
    price_per_unit: Fraction      # a full payer paid this times her units (votes, points, Borda score)
    full_payers: int              # supporters who could pay their full share
    partial_payers: int           # supporters who paid all the money they had left (less than the share)
    paid_by_partial: Fraction     # total paid by the latter
    supporters_money: Fraction    # supporters' money just before funding (>= cost)


@dataclass
class Run:
    endowment: Fraction
    selected: list[int]
    total_cost: Fraction
    steps: list[Step] | None = None                 # with trace=True
    money_left: dict[int, Fraction] | None = None   # with trace=True: unfunded project -> its supporters' money at the end
    complete: bool = True   # False: stopped as soon as the add1 verdict was sure (see `run`'s `budget`)
    rhos: list | None = None  # exact price per unit of utility of each step after the free projects
    n_free: int = 0           # selected[:n_free] are the free projects, funded before any step
    covers: bool = False      # with `below`: this run's verdict holds at every endowment between (see `run`)


EPS = 2.3e-16  # a little over the float64 unit roundoff


class _Money:
    """Distinct money values held by voters during one run.

    A voter who ever paid less than her share paid everything: her money is 0
    (id 0). Every other voter paid her full share for each funded project she
    supports, so her money is `e - sum(price[c] * paid[c])` over funded c;
    `paid[id]` holds those units (1 per project for uniform utilities, the
    utility otherwise). Exact values and exact sums are computed from that
    formula on demand, with a handful of rational operations; the float
    column `vals_f` (accurate to `delta()`) is for screening only.
    """

    def __init__(self, P: Problem, e):
        self.e = e
        self.e_f = float(e)
        self.m = len(P.costs)
        self.P = P
        # buffers are reused from run to run (add1 runs MES hundreds of times)
        self.vals_f, self.paid = P.buffers if P.buffers is not None else (
            np.zeros(1024), np.zeros((1024, self.m), dtype=P.units_dtype))
        self.vals_f[0] = 0.0
        self.vals_f[1] = self.e_f
        self.paid[1] = 0
        self.pop = np.zeros(len(self.vals_f))  # voters holding each id (uniform utilities only)
        self.pop[1] = P.n_voters
        self.size = 2
        self.price = [None] * self.m
        self.steps = 0
        # Exact sums add up many prices whose denominators keep growing; adding them as fractions
        # recomputes gcds every time. Instead every price (and e) is kept as an integer over one
        # common denominator D, so a sum is an integer dot product and a single division.
        self.D = int(e.denominator)
        self.e_int = int(e.numerator)
        self.price_int = [0] * self.m

    def set_price(self, c: int, price) -> None:
        self.price[c] = price
        den = int(price.denominator)
        g = gcd(self.D, den)
        if g != den:
            f = den // g
            self.D *= f
            self.e_int *= f
            self.price_int = [x * f for x in self.price_int]
        self.price_int[c] = int(price.numerator) * (self.D // den)

    def delta(self) -> float:
        """Bound on |vals_f - exact| for every id."""
        return (3 * self.steps + 2) * EPS * self.e_f * 1.01

    def reserve(self, k: int) -> np.ndarray:
        need = self.size + k
        if need > len(self.vals_f):
            cap = max(need, 2 * len(self.vals_f))
            grow = cap - len(self.vals_f)
            self.vals_f = np.concatenate([self.vals_f, np.zeros(grow)])
            self.pop = np.concatenate([self.pop, np.zeros(grow)])
            self.paid = np.concatenate([self.paid, np.zeros((grow, self.m), dtype=self.paid.dtype)])
            self.P.buffers = (self.vals_f, self.paid)
        new = np.arange(self.size, need, dtype=np.int64)
        self.size = need
        return new

    def exact(self, i: int):
        if i == 0:
            return Q(0)
        row = self.paid[i]
        price_int = self.price_int
        num = self.e_int
        for c in np.flatnonzero(row).tolist():
            num -= price_int[c] * int(row[c])
        return Q(num, self.D)

    def exact_sum(self, ids: np.ndarray, counts: np.ndarray):
        """Exact sum of counts[j] * value(ids[j]) (counts: integer-valued).

        `paid` and `counts` hold whole numbers and every sum below stays under
        2**53 (checked in Problem), so the float64 product is exact.
        """
        counts = np.asarray(counts, dtype=np.float64)
        keep = ids != 0
        ids, counts = ids[keep], counts[keep]
        if len(ids) == 0:
            return Q(0)
        units = counts @ self.paid.take(ids, axis=0)
        price_int = self.price_int
        used = np.flatnonzero(units)
        num = self.e_int * int(counts.sum()) - sum(map(mul, (price_int[c] for c in used.tolist()),
                                                        units.take(used).astype(np.int64).tolist()))
        return Q(num, self.D)


def run(problem: Problem, endowment: Fraction, trace: bool = False, budget: Fraction | None = None,
        exhaustive: bool = False, below: Run | None = None) -> Run:
    """MES with every voter starting with `endowment`; returns the funded projects in order.

    With `budget` (add1's intermediate runs) the run may stop early, `complete=False`, once what
    add1 asks of it is sure: the funded cost is already over the budget (it only grows), or it will
    stay within the budget (funded + every project still in the race fits) while some supported
    project is out of the race for good (so not everything gets funded) and, with `exhaustive`,
    that project would still fit at the end (so the outcome is not exhaustive). A partial run
    answers those questions as the complete one would.

    With `below`, a run at a lower endowment a, this run (at b) also checks whether every run at
    an endowment e between a and b funds the same projects in the same order, and sets `covers`
    if so (when it stops early: the same ones up to that point, so that its verdict holds at e
    too). The argument (monotonicity), for runs that made the same choices up to step t:
    - money at e lies between money at a and money at b, voter by voter, at every step: all
      start with a <= e <= b, and a project's price falls as its supporters' money rises, so
      each voter pays less at e than at a and keeps less than at b (induction over the steps);
    - so at step t the chosen project c costs at most rho_a per unit of utility at e (its price
      at a) and is affordable (money at e >= money at a), while any other project d costs at
      least its price at b's state: if that exceeds rho_a (or equals it, d after c in the tie
      order), d cannot beat c at e. A project out of the race at b (its supporters cannot pay
      it) is out at e too, and so is everything b leaves unfunded at the end.
    Projects with a price bound above rho_a are dismissed from the bound alone (as in the race
    itself); the others are priced at b's state, exactly when the bounds are close.
    """
    P = problem
    e = Q(endowment)
    money = _Money(P, e)
    money_id = np.ones(len(P.mult), dtype=np.int64)
    selected: list[int] = []
    steps: list[Step] | None = [] if trace else None
    total = Q(0)

    remaining = []
    free = []
    for c in range(len(P.costs)):
        if P.sup_voters[c] == 0:
            continue
        if P.costs_q[c] == 0:
            free.append(c)   # free projects with support are funded up front (as pabutools does)
        else:
            remaining.append(c)
    n_free = len(free)
    rhos: list = []
    sig_a = below.selected[below.n_free:] if below is not None else None
    covers = below is not None
    for c in sorted(free, key=lambda c: P.rank[c]):
        selected.append(c)
        if trace:
            steps.append(Step(c, Fraction(0), Fraction(0), Fraction(0), P.sup_voters[c], 0, Fraction(0), Fraction(0)))
    # a lower bound on each project's price, which can only rise during a run
    lb = {c: P.costs_f[c] / P.total_units_f[c] / float(P.weight[c]) * (1 - 1e-9) for c in remaining}
    alive = set(remaining)
    heap = [(lb[c], c) for c in remaining]   # projects by lower bound; outdated entries are skipped
    heapq.heapify(heap)
    stale: dict[int, tuple] = {}   # project -> money classes seen at its last pricing (money only falls since)
    watch = budget is not None and not trace
    if watch:
        budget_q = Q(budget)
        alive_cost = sum((P.costs_q[c] for c in alive), Q(0))
        dead_min = None   # cheapest project eliminated for good

    while alive:
        if watch:
            if total > budget_q:
                return Run(to_fraction(e), selected, to_fraction(total), complete=False, rhos=rhos, n_free=n_free)
            room = budget_q - total - alive_cost
            if room >= 0 and dead_min is not None and (not exhaustive or dead_min <= room):
                # at an endowment between `below`'s and this one, fewer projects are in the race and
                # the same are out: the same verdict
                return Run(to_fraction(e), selected, to_fraction(total), complete=False, rhos=rhos, n_free=n_free,
                           covers=covers)
        best_hi = float("inf")
        evaluated = []   # (lo, c, ctx): the exact price of c lies in [lo, hi]
        popped = []
        while heap:
            bound, c = heap[0]
            if c not in alive or bound != lb[c]:
                heapq.heappop(heap)   # an outdated entry
                continue
            if bound > best_hi:
                break  # c's price is at least lb[c]: neither c nor any later one can beat or tie the best
            heapq.heappop(heap)
            ev = _evaluate(P, c, money, money_id, best_hi, stale)
            if ev is None:
                alive.discard(c)
                if watch:
                    alive_cost -= P.costs_q[c]
                    if dead_min is None or P.costs_q[c] < dead_min:
                        dead_min = P.costs_q[c]
                continue
            popped.append(c)
            lo, hi, ctx = ev
            lb[c] = lo
            if ctx is None:          # proved dearer than the best so far without computing its price
                continue
            evaluated.append((lo, c, ctx))
            if hi < best_hi:
                best_hi = hi
        if not evaluated:
            break
        best = None
        for lo, c, ctx in evaluated:
            if lo > best_hi:
                continue
            price, split = _exact_price(P, c, money, ctx)
            key = (price / P.weight_q[c], P.rank[c])
            if best is None or key < best[0]:
                best = (key, c, ctx, split, price)
        key, c, ctx, split, price = best
        for d in popped:
            if d != c:
                heapq.heappush(heap, (lb[d], d))
        if covers:
            i = len(rhos)
            covers = i < len(sig_a) and sig_a[i] == c and _all_dearer(
                P, c, below.rhos[i], money, money_id, heap, lb, alive, stale)
        rhos.append(key[0])
        step = _pay(P, c, price, money, money_id, ctx, split, trace)
        money.steps += 1
        selected.append(c)
        total += P.costs_q[c]
        alive.discard(c)
        if watch:
            alive_cost -= P.costs_q[c]
        if trace:
            steps.append(step)

    out = Run(to_fraction(e), selected, to_fraction(total), steps, rhos=rhos, n_free=n_free,
              covers=covers and len(rhos) == len(sig_a))
    if trace:
        chosen = set(selected)
        out.money_left = {}
        for c in range(len(P.costs)):
            if c not in chosen and P.sup_voters[c] > 0:
                nz, cnt = _histogram(P, c, money, money_id)
                out.money_left[c] = to_fraction(money.exact_sum(nz, cnt))
    return out


def _all_dearer(P: Problem, c: int, rho_a, money: _Money, money_id: np.ndarray, heap: list, lb: dict, alive: set,
                stale: dict) -> bool:
    """Does every project in the race other than c cost more than rho_a per unit of utility at this state,
    or exactly rho_a and come after c in the tie order? (`run`'s `below`.) Leaves the race as it was,
    with bounds possibly raised (still lower bounds: prices only rise)."""
    beat = float(rho_a) * (1 + 4 * EPS)   # >= rho_a: dearer than beat is dearer than rho_a
    seen = []
    ok = True
    while heap:
        bound, d = heap[0]
        if d not in alive or bound != lb[d] or d == c:
            heapq.heappop(heap)   # an outdated entry, or c's own (c leaves the race now)
            continue
        if bound > beat:
            break   # this one and every later one cost at least their bound > rho_a
        heapq.heappop(heap)
        seen.append(d)
        ev = _evaluate(P, d, money, money_id, beat, stale)
        if ev is None:
            continue   # its supporters cannot pay for it (the race itself drops it later)
        lo, hi, ctx = ev
        lb[d] = max(lb[d], lo)
        if ctx is None or lo > beat:
            continue
        price, _ = _exact_price(P, d, money, ctx)
        rho_d = price / P.weight_q[d]
        if rho_d > rho_a or (rho_d == rho_a and P.rank[d] > P.rank[c]):
            continue
        ok = False
        break
    for d in seen:
        heapq.heappush(heap, (lb[d], d))
    return ok


def _histogram(P: Problem, c: int, money: _Money, money_id: np.ndarray):
    """c's supporters' money classes (ascending) and how many supporters hold each (floats)."""
    if len(P.supporters[c]) > money.size:
        # many supporters, few classes: counting beats sorting
        h = np.bincount(money_id.take(P.supporters[c]), weights=P.weights_f[c], minlength=money.size)
        nz = h.nonzero()[0]
        return nz, h.take(nz)
    ids = money_id.take(P.sup_rep[c])
    n = len(ids)
    if n == 0:
        return ids, np.zeros(0)
    ids.sort()
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(ids[1:], ids[:-1], out=first[1:])
    starts = first.nonzero()[0]
    nz = ids.take(starts)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1] = n
    ends -= starts
    return nz, ends.astype(np.float64)


def _evaluate(P: Problem, c: int, money: _Money, money_id: np.ndarray, beat: float = float("inf"),
              stale: dict | None = None):
    """(lo, hi, ctx): bounds on c's exact price, or None when its supporters cannot pay for it (exact if close)."""
    cost_f = P.costs_f[c]
    delta = money.delta()
    wt = P.weight_f[c]
    if P.uniform(c):
        if beat < float("inf") and stale is not None and c in stale:
            # Supporters hold at most what they held at c's last pricing: if even that cannot pay
            # for c at price `beat`, c is dearer than the best, without looking at their money now.
            v, cnt = stale[c]
            t = beat * wt * (1 + 8 * EPS)
            can = float((np.minimum(v, t) * cnt).sum())
            if can + P.sup_voters[c] * delta + len(v) * EPS * 4 * (can + cost_f) < cost_f:
                return beat, None, None
        nz, cnt = _histogram(P, c, money, money_id)
        v = money.vals_f.take(nz)
        if stale is not None:
            stale[c] = (v, cnt)
        vc = v * cnt
        n_sup = P.sup_voters[c]
        total_f = float(vc.sum())
        err = n_sup * delta + len(v) * EPS * 2 * abs(total_f)
        if total_f + err < cost_f or (total_f - err < cost_f and money.exact_sum(nz, cnt) < P.costs_q[c]):
            return None
        if beat < float("inf"):
            # At price `beat` its supporters could pay at most sum(min(money, beat * weight)): if that is
            # short of the cost, its price is above `beat` and the exact level is not needed.
            t = beat * wt * (1 + 8 * EPS)
            can = float((np.minimum(v, t) * cnt).sum())
            if can + n_sup * delta + len(v) * EPS * 4 * (can + cost_f) < cost_f:
                return beat, None, None
        o = v.argsort()
        nz, cnt, v, vc = nz.take(o), cnt.take(o), v.take(o), vc.take(o)
        poor = vc.cumsum()
        poor -= vc
        poor_n = cnt.cumsum()
        poor_n -= cnt
        rich = n_sup - poor_n
        q = (cost_f - poor) / rich
        k = int((q <= v).argmax())
        if not q[k] <= v[k]:
            k = len(v) - 1
        q_f = float(q[k])
        err_q = ((cost_f + abs(float(poor[k]))) * (len(v) + 4) * 4 * EPS + float(poor_n[k]) * delta) / float(rich[k]) \
            + abs(q_f) * 8 * EPS
        return (q_f - err_q) / wt * (1 - 4 * EPS), (q_f + err_q) / wt * (1 + 4 * EPS), ("u", nz, cnt, v, k, q_f, err_q)
    sup = P.supporters[c]
    ids = money_id[sup]
    v = money.vals_f[ids]
    w = P.weights_f[c]
    u = P.utils_f[c]
    total_f = float(v @ w)
    err = P.sup_voters[c] * delta + len(v) * EPS * 2 * abs(total_f)
    if total_f + err < cost_f or (total_f - err < cost_f and money.exact_sum(ids, w) < P.costs_q[c]):
        return None
    r = v / u
    o = np.argsort(r, kind="stable")
    poor = np.concatenate(([0.0], np.cumsum((v * w)[o])[:-1]))
    poor_n = np.concatenate(([0.0], np.cumsum(w[o])[:-1]))
    rich = P.total_units_f[c] - np.concatenate(([0.0], np.cumsum((u * w)[o])[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = (cost_f - poor) / rich
    ok = rho <= r[o]
    k = int(np.argmax(ok)) if ok.any() else len(o) - 1
    rho_f = float(rho[k])
    err_r = ((cost_f + abs(float(poor[k]))) * (len(o) + 4) * 4 * EPS + float(poor_n[k]) * delta) / float(rich[k]) \
        + abs(rho_f) * 8 * EPS
    return (rho_f - err_r) / wt * (1 - 4 * EPS), (rho_f + err_r) / wt * (1 + 4 * EPS), ("g", o, ids, v, k, rho_f, err_r)


def _exact_price(P: Problem, c: int, money: _Money, ctx):
    """Exact price per unit of c and the exact split (`rich` mask over the ctx entries) into full and partial payers."""
    cost = P.costs_q[c]
    delta = money.delta()
    if ctx[0] == "u":
        _, nz, cnt, v, k, q_f, err_q = ctx
        L = len(nz)
        rich_n = int(cnt[k:].sum())
        q = (cost - money.exact_sum(nz[:k], cnt[:k])) / rich_n
        if not _split_ok(money, nz, v, 1.0, q, q_f, err_q + delta, k, lambda j: q):
            rich = _exact_split(money, nz, cnt, [Q(1)] * L, cost)
            rich_n = int(cnt[rich].sum())
            q = (cost - money.exact_sum(nz[~rich], cnt[~rich])) / rich_n
            return q, rich
        return q, k
    _, o, ids, v, k, rho_f, err_r = ctx
    sup = P.supporters[c]
    ids_o = ids[o]
    w_o = P.mult[sup][o]
    u_o = P.utils_f[c][o]
    uq = P.utils_q[c]
    uq_o = [uq[j] for j in o.tolist()]
    L = len(o)
    rich = np.arange(L) >= k
    rich_u = sum((uq_o[j] * int(w_o[j]) for j in range(k, L)), Q(0))
    rho = (cost - money.exact_sum(ids_o[:k], w_o[:k])) / rich_u
    if not _split_ok(money, ids_o, v[o], u_o, rho, rho_f, err_r, k, lambda j: rho * uq_o[j], delta):
        rich = _exact_split(money, ids_o, w_o, uq_o, cost)
        rich_u = sum((uq_o[j] * int(w_o[j]) for j in np.flatnonzero(rich).tolist()), Q(0))
        rho = (cost - money.exact_sum(ids_o[~rich], w_o[~rich])) / rich_u
    return rho, rich


def _split_ok(money, ids, v, u, level, level_f, err, k, share, delta=0.0) -> bool:
    """Do entries [k:] pay their full share and entries [:k] not? Floats decide far from the level, exact near it."""
    margin = err * u + delta + 1e-300
    share_f = level_f * u
    diff = v - share_f
    near = np.abs(diff) <= margin
    side = diff >= 0
    if k:
        if not (near[:k] | ~side[:k]).all():
            return False
    if not (near[k:] | side[k:]).all():
        return False
    for j in near.nonzero()[0].tolist():
        if (share(j) <= money.exact(int(ids[j]))) != (j >= k):
            return False
    return True


def _exact_split(money, ids, ns, us, cost) -> np.ndarray:
    """Slow exact water-filling over all entries (floats misled us; kept for rigour)."""
    L = len(ids)
    vs = [money.exact(int(i)) for i in ids.tolist()]
    order = sorted(range(L), key=lambda j: vs[j] / us[j])
    poor = Q(0)
    rich_u = sum((us[j] * int(ns[j]) for j in range(L)), Q(0))
    rich = np.zeros(L, dtype=bool)
    for t, j in enumerate(order):
        rho = (cost - poor) / rich_u
        if rho * us[j] <= vs[j]:
            rich[order[t:]] = True
            return rich
        poor += vs[j] * int(ns[j])
        rich_u -= us[j] * int(ns[j])
    raise AssertionError("water level not found for an affordable project")


def _pay(P: Problem, c: int, price, money: _Money, money_id: np.ndarray, ctx, rich, trace: bool) -> Step | None:
    """Full payers pay price * units, the others all they have; update the money table."""
    sup = P.supporters[c]
    step = None
    rho = price / P.weight_q[c]
    money.set_price(c, price)
    if ctx[0] == "u":
        _, nz, cnt, v, k, q_f, err_q = ctx
        pay = price
        if trace:
            rm = rich if isinstance(rich, np.ndarray) else np.arange(len(nz)) >= rich
            paid_partial = money.exact_sum(nz[~rm], cnt[~rm])
            step = Step(c, to_fraction(rho), to_fraction(pay), to_fraction(price), int(cnt[rm].sum()), int(cnt[~rm].sum()),
                        to_fraction(paid_partial), to_fraction(paid_partial + money.exact_sum(nz[rm], cnt[rm])))
        if isinstance(rich, np.ndarray):    # a split repaired exactly: reorder so that the rich come last
            order = np.argsort(rich, kind="stable")
            nz, cnt = nz[order], cnt[order]
            k = len(nz) - int(rich.sum())
        else:
            k = rich
        pop = money.pop
        vals_f, paid = money.vals_f, money.paid
        pay_f = float(pay)
        nz_r, cnt_r = nz[k:], cnt[k:]
        whole = cnt_r == pop.take(nz_r)   # ids held by supporters only: update in place, no new id
        remap = None
        if whole.all():
            keep = nz_r
            split = None
        else:
            keep = nz_r[whole]
            split = ~whole
        vals_f[keep] -= pay_f
        paid[keep, c] = 1
        if split is not None:
            old, moved = nz_r[split], cnt_r[split]
            new = money.reserve(len(old))
            vals_f, paid, pop = money.vals_f, money.paid, money.pop
            vals_f[new] = vals_f.take(old) - pay_f
            paid[new] = paid.take(old, axis=0)
            paid[new, c] = 1
            pop[new] = moved
            pop[old] -= moved
            remap = np.arange(money.size, dtype=np.int64)
            remap[old] = new
        if k:
            gone, cnt_p = nz[:k], cnt[:k]
            pop[gone] -= cnt_p
            pop[0] += float(cnt_p.sum())
            if remap is None:
                remap = np.arange(money.size, dtype=np.int64)
            remap[gone] = 0
        if remap is not None:
            money_id[sup] = remap.take(money_id.take(sup))
        return step
    _, o, ids, v, k, rho_f, err_r = ctx
    w = P.mult[sup]
    rich_sup = np.zeros(len(sup), dtype=bool)
    rich_sup[o[rich]] = True
    if trace:
        paid_partial = money.exact_sum(ids[~rich_sup], w[~rich_sup])
        step = Step(c, to_fraction(rho), None, to_fraction(price), int(w[rich_sup].sum()), int(w[~rich_sup].sum()),
                    to_fraction(paid_partial), to_fraction(paid_partial + money.exact_sum(ids[rich_sup], w[rich_sup])))
    uint = P.utils_int[c]
    key = ids * (int(uint.max()) + 1) + uint
    rk = key[rich_sup]
    uk, inv = np.unique(rk, return_inverse=True)
    old_ids, units = np.divmod(uk, int(uint.max()) + 1)
    new = money.reserve(len(uk))
    money.vals_f[new] = money.vals_f[old_ids] - float(price) * units
    money.paid[new] = money.paid[old_ids]
    money.paid[new, c] = units
    new_ids = np.zeros(len(sup), dtype=np.int64)
    new_ids[rich_sup] = new[inv]
    money_id[sup] = new_ids
    return step
