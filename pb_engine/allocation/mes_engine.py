"""The computational core of the method of equal shares: one run at a given endowment, exact and fast.

Exactness: every number that decides something (money, prices, affordability)
is an exact rational (gmpy2's `mpq` when installed, else `Fraction`). Floats
(numpy) only *screen*: they find the few projects whose price is within a
relative 1e-9 of the best one, and those are then compared exactly. A float
never funds or drops a project on its own.

Speed comes from three things:
- voters with identical ballots are one *group* (with a multiplicity);
- money is stored per group as an index into a table of distinct money values:
  voters who supported the same funded projects (and never ran dry) hold the
  same money, so a project's supporters have few distinct money values, and
  its price is a water-filling over that short histogram (numpy `bincount`);
- prices only rise during a run, so each step re-prices projects in order of
  their previous price and stops as soon as no further project can beat the
  best one (the "lazy" trick of the equalshares.net reference code).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

import numpy as np

try:  # gmpy2 is ~10x faster than Fraction; both are exact.
    from gmpy2 import mpq as Q
except ImportError:  # pragma: no cover - exercised only without gmpy2
    Q = Fraction

TOL = 1e-9  # relative width of a "close call" that floats may not decide


def to_fraction(x) -> Fraction:
    if isinstance(x, Fraction):
        return x
    return Fraction(int(x.numerator), int(x.denominator))


@dataclass
class Problem:
    """A MES instance in engine form: projects by index, voters by group of identical ballots."""

    costs: Sequence[Fraction]
    mult: np.ndarray                       # voters per group (int64)
    supporters: list[np.ndarray]           # per project: group indices with positive utility
    uniform: list[Fraction | None]         # per project: the utility every supporter has, else None
    utils: list[list[Fraction] | None]     # per project, when not uniform: utility per supporter group
    rank: Sequence[int]                    # tie-breaking rank per project, lower wins
    n_voters: int = 0
    # derived
    costs_q: list = field(init=False)
    costs_f: np.ndarray = field(init=False)
    weights_f: list[np.ndarray] = field(init=False)
    sup_voters: list[int] = field(init=False)
    utils_q: list = field(init=False)
    utils_f: list = field(init=False)
    uniform_q: list = field(init=False)
    total_util_f: list = field(init=False)

    def __post_init__(self):
        m = len(self.costs)
        self.costs_q = [Q(c) for c in self.costs]
        self.costs_f = np.array([float(c) for c in self.costs])
        self.mult = np.asarray(self.mult, dtype=np.int64)
        self.weights_f = [self.mult[s].astype(np.float64) for s in self.supporters]
        self.sup_voters = [int(self.mult[s].sum()) for s in self.supporters]
        self.uniform_q = [None if u is None else Q(u) for u in self.uniform]
        self.utils_q = [None if us is None else [Q(x) for x in us] for us in self.utils]
        self.utils_f = [None if us is None else np.array([float(x) for x in us]) for us in self.utils]
        self.total_util_f = [
            (float(self.uniform[c]) * self.sup_voters[c]) if self.uniform[c] is not None
            else float(self.utils_f[c] @ self.weights_f[c])
            for c in range(m)
        ]
        if not self.n_voters:
            self.n_voters = int(self.mult.sum())


@dataclass
class Step:
    project: int
    rho: Fraction                 # price per unit of utility
    max_payment: Fraction | None  # uniform utilities: what every supporter who could afford it paid
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


class _Money:
    """A growable table of distinct money values; value 0 has id 0."""

    def __init__(self, endowment_q):
        self.vals = [Q(0), endowment_q]
        self.vals_f = np.zeros(64)
        self.vals_f[1] = float(endowment_q)
        self.size = 2

    def add(self, v) -> int:
        if v == 0:
            return 0
        if self.size == len(self.vals_f):
            self.vals_f = np.concatenate([self.vals_f, np.zeros(self.size)])
        self.vals.append(v)
        self.vals_f[self.size] = float(v)
        self.size += 1
        return self.size - 1


def run(problem: Problem, endowment: Fraction, trace: bool = False, excluded: frozenset[int] = frozenset()) -> Run:
    """MES with every voter starting with `endowment`; returns the funded projects in order."""
    P = problem
    e = Q(endowment)
    money = _Money(e)
    G = len(P.mult)
    money_id = np.ones(G, dtype=np.int64)
    selected: list[int] = []
    steps: list[Step] = [] if trace else None
    total = Q(0)

    remaining = []
    for c in range(len(P.costs)):
        if c in excluded or P.sup_voters[c] == 0:
            continue
        if P.costs_q[c] == 0:
            # Free projects with support cost nobody anything (pabutools funds them up front too).
            selected.append(c)
            if trace:
                steps.append(Step(c, Fraction(0), Fraction(0), 0, 0, Fraction(0), Fraction(0)))
            continue
        remaining.append(c)
    selected.sort(key=lambda c: P.rank[c])
    # lower bound on each project's price: it can only rise during a run
    lb = {c: P.costs_f[c] / P.total_util_f[c] * (1 - TOL) for c in remaining}
    alive = set(remaining)

    while alive:
        order = sorted(alive, key=lb.__getitem__)
        best_hi = float("inf")
        evaluated = []   # (lo, c, ctx): the exact price of c lies in [lo, hi]
        for c in order:
            if lb[c] > best_hi:
                break  # lb is a true lower bound on c's price, so c cannot beat (or tie) the best
            ev = _evaluate(P, c, money, money_id)
            if ev is None:
                alive.discard(c)
                continue
            lo, hi, ctx = ev
            lb[c] = lo
            evaluated.append((lo, c, ctx))
            if hi < best_hi:
                best_hi = hi
        if not evaluated:
            break
        close = [(c, ctx) for lo, c, ctx in evaluated if lo <= best_hi]
        best = None
        for c, ctx in close:
            rho = _exact_price(P, c, money, ctx)
            key = (rho, P.rank[c])
            if best is None or key < best[0]:
                best = (key, c, ctx)
        (rho, _), c, ctx = best
        step = _pay(P, c, rho, money, money_id, ctx, trace)
        selected.append(c)
        total += P.costs_q[c]
        alive.discard(c)
        if trace:
            steps.append(step)

    out = Run(to_fraction(e), selected, to_fraction(total), steps)
    if trace:
        chosen = set(selected)
        out.money_left = {}
        for c in range(len(P.costs)):
            if c in chosen or P.sup_voters[c] == 0:
                continue
            out.money_left[c] = to_fraction(_supporters_money(P, c, money, money_id))
    return out


def _histogram(P: Problem, c: int, money: _Money, money_id: np.ndarray):
    ids = money_id[P.supporters[c]]
    h = np.bincount(ids, weights=P.weights_f[c], minlength=money.size)
    nz = np.flatnonzero(h)
    return nz, h[nz]


def _supporters_money(P: Problem, c: int, money: _Money, money_id: np.ndarray):
    nz, cnt = _histogram(P, c, money, money_id)
    vals = money.vals
    return sum((vals[i] * int(k) for i, k in zip(nz.tolist(), cnt.tolist())), Q(0))


def _affordable(P: Problem, c: int, total_f: float, exact_total) -> bool:
    cost_f = P.costs_f[c]
    if total_f < cost_f * (1 - TOL):
        return False
    if total_f > cost_f * (1 + TOL):
        return True
    return exact_total() >= P.costs_q[c]


def _evaluate(P: Problem, c: int, money: _Money, money_id: np.ndarray):
    """Float price of c, or None when its supporters' money (checked exactly if close) cannot cover it."""
    cost_f = P.costs_f[c]
    if P.uniform[c] is not None:
        nz, cnt = _histogram(P, c, money, money_id)
        v = money.vals_f[nz]
        if not _affordable(P, c, float(v @ cnt),
                           lambda: sum((money.vals[i] * int(k) for i, k in zip(nz.tolist(), cnt.tolist())), Q(0))):
            return None
        o = np.argsort(v, kind="stable")
        nz, cnt, v = nz[o], cnt[o], v[o]
        poor = np.concatenate(([0.0], np.cumsum(v * cnt)[:-1]))
        rich = P.sup_voters[c] - np.concatenate(([0.0], np.cumsum(cnt)[:-1]))
        q = (cost_f - poor) / rich
        ok = q <= v
        k = int(np.argmax(ok)) if ok.any() else len(v) - 1
        rho_f = float(q[k]) / float(P.uniform[c])
        err = _error(cost_f, float(poor[k]), float(rich[k]), len(v)) / float(P.uniform[c]) + rho_f * 1e-12
        return rho_f - err, rho_f + err, ("u", nz, cnt, v, k)
    sup = P.supporters[c]
    ids = money_id[sup]
    v = money.vals_f[ids]
    w = P.weights_f[c]
    u = P.utils_f[c]
    if not _affordable(P, c, float(v @ w),
                       lambda: sum((money.vals[i] * int(k) for i, k in zip(ids.tolist(), P.mult[sup].tolist())), Q(0))):
        return None
    r = v / u
    o = np.argsort(r, kind="stable")
    poor = np.concatenate(([0.0], np.cumsum((v * w)[o])[:-1]))
    rich = P.total_util_f[c] - np.concatenate(([0.0], np.cumsum((u * w)[o])[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = (cost_f - poor) / rich
    ok = rho <= r[o]
    k = int(np.argmax(ok)) if ok.any() else len(o) - 1
    rho_f = float(rho[k])
    err = _error(cost_f, float(poor[k]), float(rich[k]), len(o)) + rho_f * 1e-12
    return rho_f - err, rho_f + err, ("g", o, ids, k)


def _error(cost_f: float, poor_f: float, rich_f: float, terms: int) -> float:
    """A generous bound on the float error of (cost - poor) / rich (sequential sums of `terms` terms)."""
    return 4 * (terms + 4) * 2.3e-16 * (cost_f + poor_f) / rich_f


def _exact_price(P: Problem, c: int, money: _Money, ctx):
    """Exact rho of c; the float split into poor/rich supporters is verified and repaired if wrong."""
    vals = money.vals
    cost = P.costs_q[c]
    if ctx[0] == "u":
        _, nz, cnt, v, k = ctx
        ids = nz.tolist()
        ns = [int(x) for x in cnt.tolist()]
        q = _water_level([vals[i] for i in ids], None, ns, cost, k)
        return q / P.uniform_q[c]
    _, o, ids, k = ctx
    ol = o.tolist()
    idl = ids.tolist()
    sup_mult = P.mult[P.supporters[c]].tolist()
    uq = P.utils_q[c]
    vs = [vals[idl[j]] for j in ol]
    us = [uq[j] for j in ol]
    ns = [sup_mult[j] for j in ol]
    return _water_level(vs, us, ns, cost, k)


def _water_level(vs, us, ns, cost, k):
    """Smallest rho with sum n*min(v, rho*u) = cost (us=None: all utilities 1).

    Entries come sorted by their float v/u and `k` is the float guess of the
    first entry that can pay rho*u. The guess is accepted only after every
    entry's side (pays in full / pays all it has) is checked exactly.
    """
    L = len(vs)
    if us is None:
        us = [1] * L
    poor = Q(0)
    for j in range(k):
        poor += vs[j] * ns[j]
    rich_u = Q(0)
    for j in range(k, L):
        rich_u += us[j] * ns[j]
    if rich_u:
        rho = (cost - poor) / rich_u
        if all((rho * us[j] <= vs[j]) == (j >= k) for j in range(L)):
            return rho
    # Fallback: exact sort and scan (floats were misleading; kept for rigour).
    order = sorted(range(L), key=lambda j: Q(vs[j]) / us[j])
    vs = [vs[j] for j in order]
    us = [us[j] for j in order]
    ns = [ns[j] for j in order]
    poor = Q(0)
    rich_u = sum((us[j] * ns[j] for j in range(L)), Q(0))
    for j in range(L):
        rho = (cost - poor) / rich_u
        if rho * us[j] <= vs[j]:
            return rho
        poor += vs[j] * ns[j]
        rich_u -= us[j] * ns[j]
    raise AssertionError("water level not found for an affordable project")


def _pay(P: Problem, c: int, rho, money: _Money, money_id: np.ndarray, ctx, trace: bool) -> Step | None:
    """Every supporter pays min(money, rho * utility); update the money table."""
    sup = P.supporters[c]
    vals = money.vals
    full = partial = 0
    paid_partial = Q(0)
    before = Q(0)
    if ctx[0] == "u":
        _, nz, cnt, _v, _k = ctx
        pay = rho * P.uniform_q[c]
        remap = np.arange(money.size, dtype=np.int64)
        for i, n in zip(nz.tolist(), cnt.tolist()):
            n = int(n)
            v = vals[i]
            if trace:
                before += v * n
            if pay <= v:
                remap[i] = money.add(v - pay)
                full += n
            else:
                remap[i] = 0
                partial += n
                paid_partial += v * n
        money_id[sup] = remap[money_id[sup]]
        step_max = to_fraction(pay)
    else:
        ids = money_id[sup]
        uq = P.utils_q[c]
        ulist = uq
        # group supporters by (money id, utility) so that each distinct new value is computed once
        uidx = {}
        ucode = np.array([uidx.setdefault(x, len(uidx)) for x in ulist], dtype=np.int64)
        key = ids * (len(uidx) + 1) + ucode
        uk, inv = np.unique(key, return_inverse=True)
        inv_u = {v: k for k, v in uidx.items()}
        newid = np.empty(len(uk), dtype=np.int64)
        counts = np.bincount(inv, weights=P.weights_f[c]).tolist()
        for t, kk in enumerate(uk.tolist()):
            i, uc = divmod(kk, len(uidx) + 1)
            v = vals[i]
            p = rho * inv_u[uc]
            n = int(counts[t])
            if trace:
                before += v * n
            if p <= v:
                newid[t] = money.add(v - p)
                full += n
            else:
                newid[t] = 0
                partial += n
                paid_partial += v * n
        money_id[sup] = newid[inv]
        step_max = None
    if not trace:
        return None
    return Step(c, to_fraction(rho), step_max, full, partial, to_fraction(paid_partial), to_fraction(before))
