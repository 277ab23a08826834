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
- add1's intermediate runs stop as soon as their verdict is sure (`run`);
- add1's run at the next raise starts at the first step the run before does not prove alike, and is
  not made at all when that run proves its whole outcome alike (`run_tracked`, `Record`).
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
        self.beta_f = None   # run_tracked: d(money)/d(endowment) per id, see `track`

    def track(self) -> None:
        """Also follow each id's slope: how its money grows with the endowment while every step chooses and
        splits its payers alike (run_tracked). Like money, `1 - sum(dq[c] * paid[c])`, dq[c] <= 0 the slope of
        c's price; exact sums of slopes use one common denominator, as money does."""
        self.beta_f = np.zeros(len(self.vals_f))
        self.beta_f[1] = 1.0
        self.Db = 1
        self.dq_int = [0] * self.m
        self.dq_f = 0.0   # the slope of the price being paid (read by _pay)

    def set_dq(self, c: int, dq) -> None:
        den = int(dq.denominator)
        g = gcd(self.Db, den)
        if g != den:
            f = den // g
            self.Db *= f
            self.dq_int = [x * f for x in self.dq_int]
        self.dq_int[c] = int(dq.numerator) * (self.Db // den)

    def beta_sum(self, ids: np.ndarray, counts: np.ndarray):
        """Exact sum of counts[j] * slope(ids[j]) (id 0, no money, has slope 0)."""
        counts = np.asarray(counts, dtype=np.float64)
        keep = ids != 0
        ids, counts = ids[keep], counts[keep]
        if len(ids) == 0:
            return Q(0)
        units = counts @ self.paid.take(ids, axis=0)
        used = np.flatnonzero(units)
        dq_int = self.dq_int
        num = self.Db * int(counts.sum()) - sum(map(mul, (dq_int[c] for c in used.tolist()),
                                                    units.take(used).astype(np.int64).tolist()))
        return Q(num, self.Db)

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
            if self.beta_f is not None:
                self.beta_f = np.concatenate([self.beta_f, np.zeros(grow)])
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
        key, c, ctx, split, price = _choose(P, evaluated, best_hi, money, popped, lb, heap)
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


def _choose(P: Problem, evaluated: list, best_hi: float, money: _Money, popped: list, lb: dict, heap: list):
    """The step's choice among the evaluated projects: exact prices of those whose bounds reach the best
    upper bound, the least price per weight, ties by rank; the other popped projects go back on the heap
    with their lower bounds. Returns (key, project, ctx, split, price)."""
    best = None
    for lo, c, ctx in evaluated:
        if lo > best_hi:
            continue
        price, split = _exact_price(P, c, money, ctx)
        key = (price / P.weight_q[c], P.rank[c])
        if best is None or key < best[0]:
            best = (key, c, ctx, split, price)
    c = best[1]
    for d in popped:
        if d != c:
            heapq.heappush(heap, (lb[d], d))
    return best


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
              stale: dict | None = None, info: list | None = None):
    """(lo, hi, ctx): bounds on c's exact price, or None when its supporters cannot pay for it (exact if close).

    With `info` (run_tracked), appends what the answer rests on, for runs at higher endowments: (kind, x, sb)
    with sb the sum of the supporters' money slopes (money.beta_f) and, for kind "dead", x a lower bound on
    cost - their money; "beat": on cost - what they could pay at price `beat`; "full": x a lower bound on
    the units of the supporters who pay their full share at c's price.
    """
    cost_f = P.costs_f[c]
    delta = money.delta()
    wt = P.weight_f[c]
    if P.uniform(c):
        if beat < float("inf") and stale is not None and c in stale:
            # Supporters hold at most what they held at c's last pricing: if even that cannot pay
            # for c at price `beat`, c is dearer than the best, without looking at their money now.
            v, cnt, bf = stale[c]
            t = beat * wt * (1 + 8 * EPS)
            can = float((np.minimum(v, t) * cnt).sum())
            can_hi = can + P.sup_voters[c] * delta + len(v) * EPS * 4 * (can + cost_f)
            if can_hi < cost_f:
                if info is not None:   # only supporters below t could pay more at t with more money
                    info.append(("beat", cost_f - can_hi, float(bf[v - delta < t * (1 + 4 * EPS)] @ cnt[v - delta < t * (1 + 4 * EPS)])))
                return beat, None, None
        nz, cnt = _histogram(P, c, money, money_id)
        v = money.vals_f.take(nz)
        bf = None if money.beta_f is None else money.beta_f.take(nz)
        if stale is not None:
            stale[c] = (v, cnt, bf)
        sb = None if bf is None else float(bf @ cnt)
        vc = v * cnt
        n_sup = P.sup_voters[c]
        total_f = float(vc.sum())
        err = n_sup * delta + len(v) * EPS * 2 * abs(total_f)
        if total_f + err < cost_f:
            if info is not None:
                info.append(("dead", cost_f - (total_f + err), sb))
            return None
        if total_f - err < cost_f:
            short = P.costs_q[c] - money.exact_sum(nz, cnt)
            if short > 0:
                if info is not None:
                    info.append(("dead", float(short) * (1 - 4 * EPS), sb))
                return None
        if beat < float("inf"):
            # At price `beat` its supporters could pay at most sum(min(money, beat * weight)): if that is
            # short of the cost, its price is above `beat` and the exact level is not needed.
            t = beat * wt * (1 + 8 * EPS)
            can = float((np.minimum(v, t) * cnt).sum())
            can_hi = can + n_sup * delta + len(v) * EPS * 4 * (can + cost_f)
            if can_hi < cost_f:
                if info is not None:
                    below = v - delta < t * (1 + 4 * EPS)
                    info.append(("beat", cost_f - can_hi, float(bf[below] @ cnt[below])))
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
        if info is not None:   # supporters sure to pay the full share (money above the highest possible price),
            # and the slopes of the others (only theirs can lower the price)
            sure = v - delta > (q_f + err_q) * (1 + 4 * EPS)
            info.append(("full", float(cnt[sure].sum()), float(bf.take(o)[~sure] @ cnt[~sure])))
        return (q_f - err_q) / wt * (1 - 4 * EPS), (q_f + err_q) / wt * (1 + 4 * EPS), ("u", nz, cnt, v, k, q_f, err_q)
    sup = P.supporters[c]
    ids = money_id[sup]
    v = money.vals_f[ids]
    w = P.weights_f[c]
    u = P.utils_f[c]
    total_f = float(v @ w)
    err = P.sup_voters[c] * delta + len(v) * EPS * 2 * abs(total_f)
    sb = None if money.beta_f is None else float(money.beta_f[ids] @ w)
    if total_f + err < cost_f:
        if info is not None:
            info.append(("dead", cost_f - (total_f + err), sb))
        return None
    if total_f - err < cost_f:
        short = P.costs_q[c] - money.exact_sum(ids, w)
        if short > 0:
            if info is not None:
                info.append(("dead", float(short) * (1 - 4 * EPS), sb))
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
    if info is not None:
        sure = v - delta > (rho_f + err_r) * u * (1 + 4 * EPS)
        info.append(("full", float((u * w)[sure].sum()), float(money.beta_f[ids][~sure] @ w[~sure])))
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
        beta = money.beta_f
        if beta is not None:
            beta[keep] -= money.dq_f
        if split is not None:
            old, moved = nz_r[split], cnt_r[split]
            new = money.reserve(len(old))
            vals_f, paid, pop = money.vals_f, money.paid, money.pop
            vals_f[new] = vals_f.take(old) - pay_f
            if money.beta_f is not None:
                money.beta_f[new] = money.beta_f.take(old) - money.dq_f
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
    if money.beta_f is not None:
        money.beta_f[new] = money.beta_f[old_ids] - money.dq_f * units
    money.paid[new] = money.paid[old_ids]
    money.paid[new, c] = units
    new_ids = np.zeros(len(sup), dtype=np.int64)
    new_ids[rich_sup] = new[inv]
    money_id[sup] = new_ids
    return step


# --------------------------------------------------------------------------- runs that start where a lower one stood


@dataclass
class Record:
    """What `run_tracked` keeps of a run at endowment e so that a run at a higher endowment can start at its
    step s instead of at the beginning (add1 raises the endowment hundreds of times).

    Along a fixed sequence of choices and of payer splits (which supporters pay their full share), every money
    value and every price is an affine function of the endowment. `H[t]` (a float, a proven lower bound) is an
    endowment up to which steps 0..t choose and split alike: then a run at e' < H[t] is in the state this run
    was in before step t + 1, with prices q0 + dq * (e' - qe) (exact). Per step: what was chosen and its
    price, and the state before it (money ids of the groups, voters per id, projects in the race, lower
    bounds on their prices valid above e, see `run_tracked`). `H_end`: every e' < H_end (a complete run)
    funds the same projects.
    """

    e: Fraction
    n_free: int
    selected: list            # free projects, then one per step
    proj: list                # per step
    q0: list                  # per step: exact price per unit of utility unit at endowment qe[t]
    qe: list
    dq: list                  # per step: exact slope of that price (<= 0)
    H: list                   # per step, non-increasing
    ids: list                 # before each step (and after the last): money id per group
    pop: list                 # ... voters per money id
    size: list                # ... number of money ids
    alive: list               # ... projects in the race (bool mask)
    bounds: list              # ... (val, slope, e0, until) arrays: price per unit of utility >= val - slope * (e' - e0) for e' < until
    dead_min: list            # ... cheapest project out of the race for good (exact) or None
    paid: np.ndarray | None = None   # units paid per money id and project at the end
    H_end: float = -1.0
    complete: bool = False
    watch: tuple = (None, False)   # (budget, exhaustive) of a run that stopped early
    start: int = 0                 # the step this run started at (taken from its base before)
    total: Fraction | None = None  # the cost of `selected`, once asked for

    def certified(self, e_hi: float) -> int:
        """How many first steps a run at an endowment below e_hi (and above self.e) shares with this one."""
        H = self.H
        lo, hi = 0, len(H)
        while lo < hi:   # H is non-increasing
            mid = (lo + hi) // 2
            if H[mid] > e_hi:
                lo = mid + 1
            else:
                hi = mid
        return lo


def _horizon(e_f: float, margin: float, sb) -> float:
    """Endowment below which supporters whose money slopes sum to sb gain less than `margin` (see run_tracked)."""
    if margin <= 0:
        return -np.inf
    if sb is None or sb <= 0:
        return np.inf
    return (e_f + margin / (sb * (1 + 1e-9)) * (1 - 1e-9)) * (1 - 4 * EPS)


REPRICE = 4   # at most this many projects priced again per step for a longer-lasting bound (run_tracked)


def _reach(il, vv, ss, ee, uu, rt):
    """Per project: the endowment below which its bound stays above rt (inf: its lowest possible price does)."""
    reach = np.full(len(il), np.inf)
    low = il <= rt
    if low.any():
        vv, ss, ee, uu = vv[low], ss[low], ee[low], uu[low]
        r = np.full(len(vv), -np.inf)
        ok = vv > rt   # then vv is finite and (vv - rt) / ss is +inf (ss = 0), 0 (ss = inf) or positive
        if ok.any():
            with np.errstate(divide="ignore"):
                r[ok] = np.minimum(uu[ok], ee[ok] + (vv[ok] - rt) / ss[ok] * (1 - 1e-9))
        reach[low] = r
    return reach


def run_tracked(problem: Problem, endowment: Fraction, budget: Fraction | None = None, exhaustive: bool = False,
                base: Record | None = None, want: float | None = None) -> tuple[Run, Record, bool]:
    """`run` (no trace, no `below`) that also returns its Record, and starts from `base` (a run at a lower
    endowment) where `base` proves the first steps alike. Returns (run, record, computed): computed is False
    when base proves the whole outcome alike (nothing was run).

    Why a step t of base is repeated at e' > e (base's endowment), given steps before it were:
    - money at e' is, class by class, base's money plus slope * (e' - e) with slope >= 0 (a full payer's
      money grows faster than the price she pays falls), so the chosen project c is affordable and costs at
      most its price at e;
    - a supporter who paid all she had keeps doing so while her money stays under the level (the step's
      split holds below a computed endowment: `H`); full payers stay full payers (their margin grows);
    - every other project d in the race costs more than c at e' while a lower bound on its price at e'
      stays above c's price at e. Bounds (per unit of utility), from d's last look in a tracked run at e0:
      its price, minus sum(voters * slope) / (units of its sure full payers) * (e' - e0) (concavity: the
      supporters' capacity at a price grows at most by sum(voters * slope) * (e' - e0), and falls at
      least at the full payers' units per unit of price below its price); or `beat` when at that price
      they could pay less than the cost by a margin that their growth covers below `until`; or the lower
      bound cost / (everybody's units) that holds at any money. Prices only rise during a run, so a bound
      from an earlier step still holds.
    - a project out of the race (its supporters' money short of its cost by a margin) stays out while
      their growth stays under that margin.
    """
    P = problem
    e = Q(endowment)
    e_f = float(e)
    e_hi = e_f * (1 + 4 * EPS)   # >= e
    m = len(P.costs)
    watch = budget is not None
    budget_q = Q(budget) if watch else None
    init_lb = P.__dict__.get("_init_lb")
    if init_lb is None:   # the lower bound on each price that holds at any money (as in `run`)
        init_lb = np.full(m, np.inf)
        for c in range(m):
            if P.sup_voters[c] and P.costs_q[c] != 0:
                init_lb[c] = P.costs_f[c] / P.total_units_f[c] / float(P.weight[c]) * (1 - 1e-9)
        P.__dict__["_init_lb"] = init_lb
    if base is not None:
        s = base.certified(e_hi)
        if s == len(base.proj) and ((base.complete and base.H_end > e_hi) or
                                    (not base.complete and base.watch == (budget, exhaustive))):
            # the same outcome; or, for a run that stopped early, the same stop: the same projects
            # funded, the same still in the race, the same out of it for good
            if base.total is None:
                base.total = sum((P.costs[c] for c in base.selected), Fraction(0))
            return Run(to_fraction(e), list(base.selected), base.total, n_free=base.n_free,
                       complete=base.complete), base, False
        money = _Money(P, e)
        money.track()
        rec = Record(e, base.n_free, base.selected[:base.n_free + s], base.proj[:s], base.q0[:s], base.qe[:s],
                     base.dq[:s], base.H[:s], base.ids[:s], base.pop[:s], base.size[:s], base.alive[:s],
                     base.bounds[:s], base.dead_min[:s], start=s)
        size = base.size[s]
        if size > len(money.vals_f):
            money.reserve(size - money.size)
        money.size = size
        paid = money.paid
        paid[:size] = base.paid[:size]
        later = base.proj[s:]
        if later:
            paid[:size, later] = 0
        cols = base.proj[:s]
        for t, c in enumerate(cols):
            dq = base.dq[t]
            money.set_price(c, base.q0[t] + dq * (e - base.qe[t]))
            money.set_dq(c, dq)
        if cols:
            M = paid[:size][:, cols].astype(np.float64)
            money.vals_f[:size] = e_f - M @ np.array([float(money.price[c]) for c in cols])
            money.beta_f[:size] = 1.0 - M @ np.array([float(base.dq[t]) for t in range(s)])
        else:
            money.vals_f[:size] = e_f
            money.beta_f[:size] = 1.0
        money.vals_f[0] = 0.0
        money.beta_f[0] = 0.0
        money.pop[:size] = base.pop[s]
        money.steps = s + 2   # vals_f are sums of s products: within delta() of s + 2 steps
        money_id = base.ids[s].copy()
        alive_mask = base.alive[s].copy()
        val, slope, e0, until = (a.copy() for a in base.bounds[s])
        dead_min = base.dead_min[s]
        selected = list(rec.selected)
        n_free = base.n_free
        lb_now = np.where(until > e_hi, val - slope * (e_hi - e0), -np.inf)
        lb_now -= 4 * EPS * (np.abs(val) + np.abs(slope * (e_hi - e0)))
        lb_arr = np.maximum(init_lb, np.nan_to_num(lb_now, nan=-np.inf))
    else:
        money = _Money(P, e)
        money.track()
        rec = Record(e, 0, [], [], [], [], [], [], [], [], [], [], [], [])
        money_id = np.ones(len(P.mult), dtype=np.int64)
        free = [c for c in range(m) if P.sup_voters[c] and P.costs_q[c] == 0]
        selected = sorted(free, key=lambda c: P.rank[c])
        n_free = rec.n_free = len(selected)
        rec.selected = selected
        alive_mask = np.isfinite(init_lb)
        val = np.full(m, -np.inf)
        slope = np.zeros(m)
        e0 = np.zeros(m)
        until = np.full(m, -np.inf)
        dead_min = None
        lb_arr = init_lb
    alive = set(np.flatnonzero(alive_mask).tolist())
    lb = {c: float(lb_arr[c]) for c in alive}
    heap = [(lb[c], c) for c in alive]
    heapq.heapify(heap)
    total = sum((P.costs_q[c] for c in selected), Q(0))
    alive_cost = sum((P.costs_q[c] for c in alive), Q(0))
    stale: dict[int, tuple] = {}
    info: list = []
    priced = np.full(m, -1)   # the step at which each project was last priced in full
    want = -np.inf if want is None else want
    H_prev = rec.H[-1] if rec.H else np.inf
    dead_h = np.inf   # deaths in this run: below this endowment they stay out of the race

    def snapshot():
        rec.ids.append(money_id.copy())
        rec.pop.append(money.pop[:money.size].copy())
        rec.size.append(money.size)
        rec.alive.append(alive_mask.copy())
        rec.bounds.append((val.copy(), slope.copy(), e0.copy(), until.copy()))
        rec.dead_min.append(dead_min)

    def close(complete: bool) -> tuple[Run, Record, bool]:
        rec.paid = money.paid[:money.size].copy()
        rec.complete = complete
        rec.H_end = min(H_prev, dead_h) if complete else -1.0
        rec.selected = selected
        rec.watch = (budget, exhaustive)
        return Run(to_fraction(e), selected, to_fraction(total), complete=complete, n_free=n_free), rec, True

    def note(c: int, ev) -> None:
        """Turn what _evaluate appended to `info` into c's bound (or its exit from the race)."""
        nonlocal dead_h, dead_min, alive_cost
        kind, x, sb = info.pop()
        if ev is None:
            dead_h = min(dead_h, _horizon(e_f, x - 4 * EPS * P.costs_f[c], sb))
            alive.discard(c)
            alive_mask[c] = False
            if watch:
                alive_cost -= P.costs_q[c]
            if dead_min is None or P.costs_q[c] < dead_min:
                dead_min = P.costs_q[c]
            return
        if kind == "beat":
            val[c], slope[c], e0[c], until[c] = ev[0], 0.0, e_f, _horizon(e_f, x - 4 * EPS * P.costs_f[c], sb)
        else:
            priced[c] = len(rec.proj)
            val[c], e0[c], until[c] = ev[0], e_f, np.inf
            slope[c] = np.inf if x <= 0 else sb * (1 + 1e-9) / (x * P.weight_f[c]) * (1 + 1e-9)

    while True:
        snapshot()
        if not alive:
            break
        if watch:
            if total > budget_q:
                return close(False)
            room = budget_q - total - alive_cost
            if room >= 0 and dead_min is not None and (not exhaustive or dead_min <= room):
                return close(False)
        best_hi = float("inf")
        evaluated = []
        popped = []
        while heap:
            bound, c = heap[0]
            if c not in alive or bound != lb[c]:
                heapq.heappop(heap)
                continue
            if bound > best_hi:
                break
            heapq.heappop(heap)
            ev = _evaluate(P, c, money, money_id, best_hi, stale, info)
            note(c, ev)
            if ev is None:
                continue
            popped.append(c)
            lo, hi, ctx = ev
            lb[c] = lo
            if ctx is None:
                continue
            evaluated.append((lo, c, ctx))
            if hi < best_hi:
                best_hi = hi
        if not evaluated:
            break
        key, c, ctx, split, price = _choose(P, evaluated, best_hi, money, popped, lb, heap)
        # how far up the endowment this choice provably stays: every other project in the race dearer
        rt = float(key[0]) * (1 + 4 * EPS)
        others = alive_mask.copy()
        others[c] = False
        idx = np.flatnonzero(others)
        H_t = H_prev
        if len(idx):
            reach = _reach(init_lb[idx], val[idx], slope[idx], e0[idx], until[idx], rt)
            short = np.flatnonzero(reach < want)
            if len(short) and want > e_hi:
                # bounds from the race's shortcuts (or from earlier steps) are weak: price the few
                # projects whose bound ends first at this state, for a bound that lasts
                for j in short[np.argsort(reach[short])][:REPRICE].tolist():
                    d = int(idx[j])
                    if priced[d] == len(rec.proj):
                        continue
                    ev = _evaluate(P, d, money, money_id, float("inf"), stale, info)
                    note(d, ev)
                    if ev is None:
                        reach[j] = np.inf   # out of the race: dead_h says how far up it stays out
                        continue
                    priced[d] = len(rec.proj)
                    if ev[0] > lb[d]:
                        lb[d] = ev[0]
                        heapq.heappush(heap, (lb[d], d))
                    reach[j] = _reach(init_lb[d:d + 1], val[d:d + 1], slope[d:d + 1], e0[d:d + 1],
                                      until[d:d + 1], rt)[0]
            # a price that cannot fall below the chosen one's (everybody paying her share, as at the
            # lowest possible price) and loses the tie stays behind: decided exactly
            close_ = np.flatnonzero((reach <= e_hi) & (init_lb[idx] > rt * (1 - 1e-6)))
            if len(close_):
                rho_c, rank_c = key
                for j in close_.tolist():
                    d = int(idx[j])
                    floor_d = P.costs_q[d] / (Q(int(P.total_units_f[d])) * P.weight_q[d])
                    if floor_d > rho_c or (floor_d == rho_c and P.rank[d] > rank_c):
                        reach[j] = np.inf
            H_t = min(H_t, float(reach.min()) * (1 - 4 * EPS))
        H_t = min(H_t, dead_h)
        # the split: its slope, and how far up it holds (supporters who paid all they had keep doing so)
        delta = money.delta()
        beta = money.beta_f
        if ctx[0] == "u":
            _, nz, cnt, v, k, q_f, err_q = ctx
            rich = split if isinstance(split, np.ndarray) else np.arange(len(nz)) >= split
            poor = ~rich
            rich_n = int(cnt[rich].sum())
            dq = -money.beta_sum(nz[poor], cnt[poor]) / rich_n
            p_ids, p_v, p_u = nz[poor], v[poor], 1.0
        else:
            _, o, ids, v, k, rho_f, err_r = ctx
            sup = P.supporters[c]
            rich_sup = np.zeros(len(sup), dtype=bool)
            rich_sup[o[split]] = True
            poor = ~rich_sup
            rich_u = int((P.utils_int[c][rich_sup] * P.mult[sup][rich_sup]).sum())
            dq = -money.beta_sum(ids[poor], P.mult[sup][poor]) / rich_u
            p_ids, p_v, p_u = ids[poor], v[poor], P.utils_f[c][poor]
        dq_f = float(dq)
        keep = p_ids != 0
        if keep.any():
            pu = p_u[keep] if isinstance(p_u, np.ndarray) else p_u
            gap = float(price) * (1 - 2 * EPS) * pu - p_v[keep] - delta
            den = (beta.take(p_ids[keep]) - dq_f * pu) * (1 + 1e-9)
            with np.errstate(divide="ignore", invalid="ignore"):
                reach = np.where(gap > 0, (e_f + gap / den * (1 - 1e-9)) * (1 - 4 * EPS), -np.inf)
            H_t = min(H_t, float(reach.min()))
        money.set_dq(c, dq)
        money.dq_f = dq_f
        _pay(P, c, price, money, money_id, ctx, split, False)
        money.steps += 1
        selected.append(c)
        total += P.costs_q[c]
        alive.discard(c)
        alive_mask[c] = False
        if watch:
            alive_cost -= P.costs_q[c]
        rec.proj.append(c)
        rec.q0.append(price)
        rec.qe.append(e)
        rec.dq.append(dq)
        rec.H.append(H_t)
        H_prev = H_t
    return close(True)


def rhos_at(problem: Problem, rec: Record, r: Run) -> list:
    """Run.rhos (exact price per unit of utility of each step) of `r`, a run that `rec` proves alike."""
    e = Q(r.endowment)
    return [(rec.q0[t] + rec.dq[t] * (e - rec.qe[t])) / problem.weight_q[c] for t, c in enumerate(rec.proj)]
