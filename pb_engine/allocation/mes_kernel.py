"""One MES run in compiled code (numba), in floats whose every decision is proven, or left undecided.

add1 reads one MES outcome per raise of the budget per voter: 1,618 on Toulouse 2022, each about a
hundred steps. The exact engine (mes_engine.py) spends most of a step in Python-level bookkeeping;
here a whole run is one call into machine code, over voter groups (identical ballots).

Exactness. Every float carries a proven bound on its distance to the exact rational:
- money, per group: a full payer's new money is off by what it was, plus the error of the share she
  paid, plus rounding; a partial payer's is exactly 0;
- a price: the water-filling over the supporters, bounded as in mes_engine._evaluate (the poor
  supporters' money errors, rounding), after checking that every supporter is on her side of the
  level by more than the bounds allow (so the split, hence the formula, is the exact one);
- affordability: the supporters' money against the cost, by more than its bound.
A step's choice is proven when one price's upper bound is below every other project's lower bound.
Where intervals overlap, prices of the form cost / (rich units x weight) (every supporter who is not
a full payer holds nothing) are compared exactly, in integers or, when they are too large, by the
caller in rationals (TIE). Anything else (a supporter's money too close to the level, a total too
close to the cost, an overlap of other prices) ends the run with UNSURE, and add1 runs the exact
engine at that endowment instead. So a float never decides on its own; tests/allocation/
test_mes_kernel.py holds the kernel against the exact engine on random elections and on real files.

Speed: the loops over supporters are branch-free (whether a supporter is below the level is as good
as random); a project is first asked only whether it can beat the best price so far (one cheap
pass), and the project the caller's previous run funded at the same step is priced first.

numba compiles on the first call and caches the machine code beside this file (or in numba's
per-user cache when that is not writable), so later processes load it in a fraction of a second.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import threading

import numpy as np

# numba is imported on the first Kernel (it takes about 0.15 s): importing pb_engine.allocation stays quick
INSTALLED = importlib.util.find_spec("numba") is not None

EPS = 2.3e-16  # a little over the float64 unit roundoff (as mes_engine.EPS)

DONE, UNSURE, OVER, GO, TIE = 0, 1, 2, 3, 5   # complete; undecided; stopped over budget; stopped sure to go on;
# an exact tie-break the kernel leaves to Python (see _advance)

DEAD, PRICED, BEAT = -1, 4, 6   # _price also returns UNSURE

# A run's scalars between calls of _advance, in one float array `st`:
TOTAL, ALIVE_COST, DEAD_MIN, N_SEL, N_ORDER = range(5)   # funded cost; cost of the projects in the race;
# the cheapest project out of it for good; projects funded (sel[:n]); projects in order[:n] (those in the
# race, and maybe some out of it)


def available() -> bool:
    """Whether runs go through the compiled kernel (numba installed, not switched off by PB_MES_KERNEL=0)."""
    return INSTALLED and os.environ.get("PB_MES_KERNEL", "1") != "0"


def _cap_pass(a, b, uni, t, sup_grp, sup_u, sup_mult, me):
    """One pass over a project's supporters (entries a:b of the supporter lists): their money T and its
    error Et, and, if t < inf, what they could pay at level t per unit (cap) and the units of those
    who may hold at least t per unit (above)."""
    T = 0.0
    Et = 0.0
    cap = 0.0
    above = 0.0
    if t < np.inf:
        for j in range(a, b):
            g = sup_grp[j]
            m = me[g, 0]
            x = me[g, 1]
            w = sup_mult[j]
            u = 1.0 if uni else sup_u[j]
            tu = t * u
            T += w * m
            Et += w * x
            cap += w * min(m, tu)
            above += w * u if m + x >= tu else 0.0
    else:
        for j in range(a, b):
            g = sup_grp[j]
            w = sup_mult[j]
            T += w * me[g, 0]
            Et += w * me[g, 1]
    return T, Et, cap, above


def _level_pass(a, b, uni, q, sup_grp, sup_u, sup_mult, me):
    """One pass over a project's supporters at level q per unit: (S, Wp, Ep) the money, units and money
    error of those below q (the poor), the highest money-plus-error per unit among them and the
    lowest money-minus-error per unit among the others (both widened by rounding); and, as _cap_pass, the
    money T of all and its error Et."""
    T = 0.0
    Et = 0.0
    S = 0.0
    Wp = 0.0
    Ep = 0.0
    top_poor = -np.inf
    low_rich = np.inf
    # branch-free: whether a supporter is below the level is as good as random, a branch would mispredict
    for j in range(a, b):
        g = sup_grp[j]
        m = me[g, 0]
        x = me[g, 1]
        w = sup_mult[j]
        u = 1.0 if uni else sup_u[j]
        s = q * u
        T += w * m
        Et += w * x
        poor = m < s
        S += w * m if poor else 0.0
        Wp += w * u if poor else 0.0
        Ep += w * x if poor else 0.0
        r = 4 * EPS * (s + m)
        yp = m + x + r
        yr = m - x - r
        if not uni:
            yp = yp / u * (1 + 2 * EPS)
            yr = yr / u
            yr -= abs(yr) * 2 * EPS
        top_poor = max(top_poor, yp if poor else -np.inf)
        low_rich = min(low_rich, np.inf if poor else yr)
    return S, Wp, Ep, top_poor, low_rich, T, Et


def _price(c, beat, q_lb, cost, weight, tunits, sup_ptr, sup_grp, sup_u, sup_mult, uniform, me, out):
    """The water level of project c at the current money: out = (q, err_q, exact, rich units), q the price
    per unit of units (exact: the poor supporters hold exactly nothing, so q = cost / rich units).
    Returns DEAD (its supporters cannot pay for it), BEAT (its price per unit of utility is above
    `beat`), UNSURE, or PRICED; all proven. q_lb: a proven lower bound on q (where the search starts)."""
    a, b = sup_ptr[c], sup_ptr[c + 1]
    n = b - a
    cost_c = cost[c]
    W = tunits[c]
    uni = uniform[c]
    # water-filling: q from a set of poor supporters, then the set at that q, until it stays (from a
    # lower bound the level only rises towards the exact one)
    q = cost_c / W
    from_empty = q >= q_lb   # q is then (cost - 0) / (W - 0): the formula of an empty set of poor
    if not from_empty:
        q = q_lb
    S = Wp = Ep = cap = above = 0.0
    top_poor = -np.inf
    low_rich = np.inf
    if beat < np.inf:
        # first only whether it can beat the best so far: one cheap pass
        t = beat * weight[c] * (1 + 8 * EPS)
        T, Et, cap, above = _cap_pass(a, b, uni, t, sup_grp, sup_u, sup_mult, me)
    else:
        # nothing to beat yet: the first pass of the water-filling also sums the money
        t = np.inf
        S, Wp, Ep, top_poor, low_rich, T, Et = _level_pass(a, b, uni, q, sup_grp, sup_u, sup_mult, me)
    rounding = (n + 2) * 2 * EPS * (T + cost_c)
    if T + Et + rounding < cost_c:
        return DEAD
    if T - Et - rounding < cost_c:
        return UNSURE
    if t < np.inf:
        cap_hi = cap + Et + (n + 2) * 4 * EPS * (cap + cost_c)
        if cap_hi < cost_c:
            # at price `beat` its supporters could not pay for it: its price is above. What they can pay
            # is concave in the level, rising at most by `above` units past t: a lower bound on q
            out[0] = t / (1 + 8 * EPS)
            if above > 0.0:
                out[0] = (t + (cost_c - cap_hi) / above) * (1 - 8 * EPS)
            return BEAT
        S, Wp, Ep, top_poor, low_rich, T, Et = _level_pass(a, b, uni, q, sup_grp, sup_u, sup_mult, me)
    if not (from_empty and Wp == 0.0):
        it = 0
        while True:
            if W - Wp <= 0.0:
                return UNSURE
            q = (cost_c - S) / (W - Wp)
            S2, Wp2, Ep2, top_poor, low_rich, T, Et = _level_pass(a, b, uni, q, sup_grp, sup_u, sup_mult, me)
            if Wp2 == Wp and S2 == S:
                break   # q = (cost - S) / (W - Wp) of the very set below it
            S, Wp, Ep = S2, Wp2, Ep2
            it += 1
            if it > n + 2:
                return UNSURE
    rich = W - Wp
    err_q = ((cost_c + abs(S)) * (n + 4) * 4 * EPS + Ep * (1 + 8 * EPS)) / rich + abs(q) * 8 * EPS
    # every supporter on her side of the level by more than the bounds: the split is the exact one
    m_q = err_q * (1 + 8 * EPS)
    if top_poor + m_q >= q * (1 - 2 * EPS) or low_rich - m_q < q * (1 + 2 * EPS):
        return UNSURE
    out[0] = q
    out[1] = err_q
    # a poor supporter with no money left at all holds exactly 0 (a full payer keeps more than the
    # margin, so her float money is never 0): then q = cost / (units of the others), exactly
    out[2] = 1.0 if S == 0.0 else 0.0
    out[3] = rich
    return PRICED


def _start(e, cost, tunits, weight, alive0, me, alive, lb, st, order):
    """The state of a run at endowment e before its first step (see _advance)."""
    for g in range(me.shape[0]):
        me[g, 0] = e
        me[g, 1] = EPS * e   # bound on |money - exact money|, per group
    alive_cost = 0.0
    n = 0
    for c in range(cost.shape[0]):
        alive[c] = alive0[c]
        if alive[c]:
            lb[c] = cost[c] / tunits[c] / weight[c] * (1 - 1e-9)
            alive_cost += cost[c]
            order[n] = c
            n += 1
    st[TOTAL] = 0.0
    st[ALIVE_COST] = alive_cost
    st[DEAD_MIN] = np.inf
    st[N_SEL] = 0.0
    st[N_ORDER] = n


def _less(a, b, rr, cwn, cwd, rank):
    """Exactly: does a beat b, when both prices per unit of utility are cost / (rich units x weight) =
    (cwn / cwd) / rr? 0 no, 1 yes, -1 the integers are too large to tell here."""
    x = float(cwn[a]) * float(cwd[b]) * rr[b]
    y = float(cwn[b]) * float(cwd[a]) * rr[a]
    if cwn[a] == 0 or cwn[b] == 0 or x >= 4e18 or y >= 4e18:
        return -1
    xi = cwn[a] * cwd[b] * np.int64(rr[b])
    yi = cwn[b] * cwd[a] * np.int64(rr[a])
    if xi != yi:
        return 1 if xi < yi else 0
    return 1 if rank[a] < rank[b] else 0


def _advance(e, budget, watch, exhaustive, forced, cost, weight, rank, cwn, cwd, tunits,
             sup_ptr, sup_grp, sup_u, sup_mult, uniform, me, alive, lb, lo, hi, qs, eqs, rr, exact, ev, st, sel,
             hint, n_hint, order):
    """Runs MES from the state in (money, alive, lb, st, sel) until it ends or needs the caller.

    Returns (status, k): DONE (sel[:st[N_SEL]] the funded projects), UNSURE, OVER or GO (with watch:
    stopped once the funded cost is above budget, or once sure to stay within it while a supported
    project is out of the race for good and, with exhaustive, would still fit: mes_engine.run's
    early stops), or TIE: ev[:k] are projects whose prices cannot be told apart by the bounds but
    are exactly (cwn / cwd) / rr each, with integers too large to compare here; the caller picks
    the winner exactly and calls again with `forced` = the winner."""
    m = cost.shape[0]
    total = st[TOTAL]
    alive_cost = st[ALIVE_COST]
    dead_min = st[DEAD_MIN]
    nsel = int(st[N_SEL])
    tol = 1e-9 * (budget + 1.0)
    out = np.empty(4)
    status = DONE
    nties = 0
    while True:
        c = forced
        forced = -1
        if c < 0:
            if watch:
                if total > budget + tol:
                    status = OVER
                    break
                room = budget - total - alive_cost
                if room >= tol and dead_min < np.inf and ((not exhaustive) or dead_min <= room - tol):
                    status = GO
                    break
            # the projects in the race by lower bound: compacted and re-sorted in place (insertion sort,
            # as the bounds change little from step to step)
            n_ord = 0
            for i in range(int(st[N_ORDER])):
                c2 = order[i]
                if alive[c2]:
                    x = lb[c2]
                    k = n_ord
                    while k > 0 and lb[order[k - 1]] > x:
                        order[k] = order[k - 1]
                        k -= 1
                    order[k] = c2
                    n_ord += 1
            st[N_ORDER] = n_ord
            if n_ord == 0:
                break
            # the project this step funded in the caller's last run (at a nearby endowment) first: it
            # often wins again, and its price as the bar lets most others be dismissed in one pass
            first = -1
            if nsel < n_hint and alive[hint[nsel]]:
                first = hint[nsel]
            H = np.inf
            nev = 0
            unsure = False
            for i in range(-1, n_ord):
                if i < 0:
                    if first < 0:
                        continue
                    c2 = first
                else:
                    c2 = order[i]
                    if c2 == first:
                        continue
                    if lb[c2] > H:
                        break   # its price is at least lb > H: neither it nor a later one can win
                r = _price(c2, H, lb[c2] * weight[c2] * (1 - 16 * EPS), cost, weight, tunits, sup_ptr,
                           sup_grp, sup_u, sup_mult, uniform, me, out)
                if r == BEAT:
                    x = out[0] / weight[c2] * (1 - 4 * EPS)
                    if x > lb[c2]:
                        lb[c2] = x   # its price per unit of utility is above H, and above x
                    continue
                if r == DEAD:
                    alive[c2] = False
                    alive_cost -= cost[c2]
                    if cost[c2] < dead_min:
                        dead_min = cost[c2]
                    continue
                if r == UNSURE:
                    unsure = True
                    break
                w = weight[c2]
                qs[c2] = out[0]
                eqs[c2] = out[1]
                exact[c2] = out[2] > 0.5
                rr[c2] = out[3]
                lo[c2] = (out[0] - out[1]) / w * (1 - 4 * EPS)
                hi[c2] = (out[0] + out[1]) / w * (1 + 4 * EPS)
                if lo[c2] > lb[c2]:
                    lb[c2] = lo[c2]   # prices only rise during a run
                ev[nev] = c2
                nev += 1
                if hi[c2] < H:
                    H = hi[c2]
            if unsure:
                status = UNSURE
                break
            if nev == 0:
                break
            # the winner's price is at most H; a project whose lower bound is above H cannot win
            best = -1
            n_close = 0
            all_exact = True
            for i in range(nev):
                c2 = ev[i]
                if lo[c2] <= H:
                    ev[n_close] = c2
                    n_close += 1
                    if not exact[c2]:
                        all_exact = False
            if n_close == 1:
                best = ev[0]
            elif not all_exact:
                status = UNSURE
                break
            else:
                best = ev[0]
                for i in range(1, n_close):
                    t = _less(ev[i], best, rr, cwn, cwd, rank)
                    if t < 0:
                        best = -1
                        break
                    if t == 1:
                        best = ev[i]
                if best < 0:
                    status = TIE
                    nties = n_close
                    break
            c = best
        q = qs[c]
        a, b = sup_ptr[c], sup_ptr[c + 1]
        # a full payer's money is off by what it was, plus her share's error, plus rounding;
        # a partial payer's is exactly 0
        ge = eqs[c] * (1 + 8 * EPS)
        r3 = 3 * EPS * e
        for j in range(a, b):   # branch-free, as _level_pass
            g = sup_grp[j]
            u = 1.0 if uniform[c] else sup_u[j]
            share = q * u
            m = me[g, 0]
            poor = m < share
            me[g, 0] = 0.0 if poor else m - share
            me[g, 1] = 0.0 if poor else me[g, 1] + ge * u + r3
        alive[c] = False
        alive_cost -= cost[c]
        total += cost[c]
        sel[nsel] = c
        nsel += 1
    st[TOTAL] = total
    st[ALIVE_COST] = alive_cost
    st[DEAD_MIN] = dead_min
    st[N_SEL] = nsel
    return status, nties


_COMPILED = False
_COMPILING = threading.Lock()


def _compile() -> None:
    """Hand the loops to numba (each compiles on its first call, or loads from numba's cache). In order:
    numba reads the helpers a function calls from this module's globals when it compiles it."""
    global _COMPILED
    with _COMPILING:
        if _COMPILED:
            return
        from numba import njit

        g = globals()
        for name in ("_cap_pass", "_level_pass", "_price", "_start", "_less", "_advance"):
            try:
                g[name] = njit(cache=True, nogil=True)(g[name])
            except RuntimeError:   # no writable cache here (numba: "no locator available"): compile each time
                g[name] = njit(nogil=True)(g[name])
        _COMPILED = True


def warm() -> None:
    """Compile the kernel now (or load it from numba's cache): before forking worker processes, which then
    inherit the machine code instead of loading it each (about 0.4 s a process)."""
    from fractions import Fraction

    from pb_engine.allocation.mes_engine import Problem

    if available():
        P = Problem([Fraction(2), Fraction(1)], np.array([2, 1]), [np.array([0, 1]), np.array([1])],
                    [None, np.array([2])], [Fraction(1), Fraction(1)], [0, 1])
        Kernel(P).run(1.0)


class Kernel:
    """A Problem (mes_engine) in the kernel's arrays, built once per add1, and its runs."""

    def __init__(self, P):
        from fractions import Fraction

        _compile()
        m = len(P.costs)
        self.m = m
        self.cost = np.array([float(c) for c in P.costs])
        self.weight = np.array([float(w) for w in P.weight])
        self.rank = np.asarray(P.rank, dtype=np.int64)
        ptr = np.zeros(m + 1, dtype=np.int64)
        for c in range(m):
            ptr[c + 1] = ptr[c] + len(P.supporters[c])
        self.sup_ptr = ptr
        self.sup_grp = np.concatenate([np.asarray(s, dtype=np.int64) for s in P.supporters] + [np.zeros(0, np.int64)])
        self.sup_u = np.concatenate([
            np.ones(len(P.supporters[c])) if P.utils_int[c] is None else P.utils_int[c].astype(np.float64)
            for c in range(m)] + [np.zeros(0)])
        self.n_groups = len(P.mult)
        self.sup_mult = P.mult.astype(np.float64)[self.sup_grp]   # voters per supporter entry
        self.uniform = np.array([P.utils_int[c] is None for c in range(m)], dtype=np.bool_)
        self.tunits = np.array([max(float(t), 1.0) for t in P.total_units_f])
        self.alive0 = np.array([P.sup_voters[c] > 0 and P.costs[c] != 0 for c in range(m)], dtype=np.bool_)
        # cost / weight exactly, as integers when they are small enough for the kernel's own tie-breaks
        self.cw = [Fraction(P.costs[c]) / Fraction(P.weight[c]) if P.weight[c] else Fraction(0) for c in range(m)]
        small = [x.numerator < 2 ** 62 and x.denominator < 2 ** 62 for x in self.cw]
        self.cwn = np.array([x.numerator if ok else 0 for x, ok in zip(self.cw, small)], dtype=np.int64)
        self.cwd = np.array([x.denominator if ok else 1 for x, ok in zip(self.cw, small)], dtype=np.int64)
        self.rank_list = list(P.rank)
        self.free = sorted((c for c in range(m) if P.sup_voters[c] > 0 and P.costs[c] == 0), key=lambda c: P.rank[c])
        self._buffers()

    def _buffers(self) -> None:
        """What a run writes: its own per kernel (one per thread), the rest is read-only and shared."""
        m = self.m
        self.me = np.empty((self.n_groups, 2))   # per group: money, a bound on its error
        self.alive = np.empty(m, dtype=np.bool_)
        self.lb, self.lo, self.hi, self.qs, self.eqs, self.rr = (np.empty(m) for _ in range(6))
        self.exact = np.empty(m, dtype=np.bool_)
        self.ev = np.empty(max(m, 1), dtype=np.int64)
        self.st = np.zeros(N_ORDER + 1)
        self.sel = np.empty(max(m, 1), dtype=np.int64)
        self.hint = np.empty(max(m, 1), dtype=np.int64)   # the last run's funded projects, in order
        self.n_hint = 0
        self.order = np.empty(max(m, 1), dtype=np.int64)
        self.ties = 0   # tie-breaks settled in Python (for the benchmarks)

    def twin(self) -> "Kernel":
        """A kernel for the same Problem with buffers of its own (for another thread)."""
        other = copy.copy(self)
        other._buffers()
        return other

    def run(self, e: float, budget: float | None = None, exhaustive: bool = False) -> tuple[int, list[int]]:
        """(status, funded projects in order, free ones first) of MES at endowment e (a float: the exact
        endowment's nearest, within the money error every group starts with)."""
        e = float(e)
        _start(e, self.cost, self.tunits, self.weight, self.alive0, self.me, self.alive, self.lb, self.st, self.order)
        forced = -1
        while True:
            status, n = _advance(e, float(budget or 0.0), budget is not None, bool(exhaustive), forced,
                                 self.cost, self.weight, self.rank, self.cwn, self.cwd, self.tunits,
                                 self.sup_ptr, self.sup_grp, self.sup_u, self.sup_mult, self.uniform, self.me,
                                 self.alive, self.lb, self.lo, self.hi, self.qs, self.eqs, self.rr, self.exact,
                                 self.ev, self.st, self.sel, self.hint, self.n_hint, self.order)
            if status != TIE:
                break
            self.ties += 1
            tied = self.ev[:n].tolist()
            forced = min(tied, key=lambda c: (self.cw[c] / int(self.rr[c]), self.rank_list[c]))
        n = int(self.st[N_SEL])
        self.hint[:n] = self.sel[:n]
        self.n_hint = n
        return int(status), self.free + self.sel[:n].tolist()
