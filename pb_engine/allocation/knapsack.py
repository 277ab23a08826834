"""Exact 0/1 knapsack: an integer-program solver proposes, exact integer search proves.

`best_set(values, costs, capacity, order, solver)` returns the set of items with
the largest total value within capacity; among several such sets, the first in
the lexicographic order that `order` induces: the set containing the
best-ranked item that some optimal set contains, then, among those, the next
best-ranked item, and so on.

1. Values and costs are scaled to integers (common denominator, then divided by
   their gcd): any better set is better by at least 1.
2. The solver (PuLP: CBC, bundled, or HiGHS) solves the integer program on
   magnitudes normalised to ~1e6, where its float tolerances behave. Its set is
   only a proposal: it is checked exactly against the capacity (a set over it
   is cut off and the solve repeated); if the solver fails, the greedy set by
   value per cost is the proposal.
3. Branch and bound in integers (Dantzig's fractional bound, floored) then
   looks for a set worth more than the proposal: the answer is the exact
   optimum. With a good proposal this explores few nodes; a search that
   exceeds NODE_LIMIT keeps the best set found and sets `proven` False.
4. Ties: item by item in `order`, "is there an optimal set with the decisions
   so far and this item?", answered by the exact bound when it can exclude the
   item, else by the same integer search. Where the answer is the incumbent
   itself, one more question ("... and without this item?") tells whether any
   other optimal set exists, so `tied` is exact.
Floats never decide: on Warszawa-sized figures (cost satisfaction ~1e13) two
sets can differ by less than a solver's tolerance, which step 3 settles.
"""

from __future__ import annotations

import os
import sys
import warnings
from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction
from math import gcd, lcm
from typing import Hashable, Mapping, Sequence

import pulp

SOLVERS = ("cbc", "highs")


class SolverFailed(RuntimeError):
    """The solver returned no usable answer (not a user error)."""


NODE_LIMIT = 200_000


@dataclass(frozen=True)
class Knapsack:
    chosen: frozenset
    value: Fraction          # total value, in the caller's units
    tied: bool               # other optimal sets exist; `chosen` is the first in `order`
    solves: int              # solver calls made (for the record and the tests)
    proven: bool = True      # False: a search hit NODE_LIMIT; the set is within capacity, maybe not optimal


def best_set(values: Mapping[Hashable, Fraction], costs: Mapping[Hashable, Fraction], capacity: Fraction,
             order: Sequence[Hashable], solver: str = "cbc") -> Knapsack:
    """Items: the keys of `values` (positive values; `costs` >= 0); `order`: every item, best first."""
    free = [i for i in order if i in values and costs[i] == 0]  # positive value at no cost: always in
    items = [i for i in order if i in values and 0 < costs[i] <= capacity]
    if not items:
        return Knapsack(frozenset(free), sum((values[i] for i in free), Fraction(0)), False, 0)
    v = _integers([values[i] for i in items])
    c_and_cap = _integers([costs[i] for i in items] + [Fraction(capacity)], floor_last=True)
    problem = _Problem(v, c_and_cap[:-1], c_and_cap[-1], solver)

    proposal = problem.propose()
    better = problem.search(set(), set(), problem.value(proposal))
    best = better if better is not None else proposal
    best, tied = _first_optimal(problem, best)
    chosen = frozenset(free) | {items[k] for k in best}
    return Knapsack(chosen, sum((values[i] for i in chosen), Fraction(0)), tied, problem.solves, problem.proven)


def _integers(xs: list[Fraction], floor_last: bool = False) -> list[int]:
    """Scale Fractions to integers with the same ratios; smaller by their gcd (the last one floored if asked)."""
    xs = [Fraction(x) for x in xs]
    scale = lcm(*(x.denominator for x in xs))
    ints = [int(x * scale) for x in xs]
    # With floor_last the last one (a capacity) is left out of the gcd and floored:
    # sum(cost) <= cap  <=>  sum(cost / g) <= floor(cap / g), as the sum is an integer.
    g = gcd(*(ints[:-1] if floor_last else ints)) or 1
    return [n // g for n in ints]


class _Problem:
    """max sum v_k x_k  s.t.  sum c_k x_k <= cap, x binary; items are indices 0..n-1 in tie order."""

    def __init__(self, v: list[int], c: list[int], cap: int, solver: str):
        self.v, self.c, self.cap, self.solver = v, c, cap, solver
        self.solves, self.proven = 0, True
        # Search order: value per cost, best first (ties by tie order), for good early sets and the bound.
        self.by_density = sorted(range(len(v)), key=lambda k: (Fraction(-v[k], c[k]), k))

    def value(self, chosen) -> int:
        return sum(self.v[k] for k in chosen)

    def fits(self, chosen) -> bool:
        return sum(self.c[k] for k in chosen) <= self.cap

    # ----------------------------------------------------------------- the solver's proposal

    def propose(self) -> frozenset[int]:
        cuts: list[frozenset[int]] = []
        for _ in range(20):
            try:
                chosen = self._solve(cuts)
            except (SolverFailed, pulp.PulpSolverError):  # e.g. no solver binary: the search still decides
                break
            if chosen is None:
                break
            if self.fits(chosen):
                return chosen
            cuts.append(chosen)  # over capacity in exact arithmetic: cut it off, ask again
        return self._greedy()

    def _greedy(self) -> frozenset[int]:
        room, chosen = self.cap, set()
        for k in self.by_density:
            if self.c[k] <= room:
                chosen.add(k)
                room -= self.c[k]
        return frozenset(chosen)

    def _solve(self, cuts: list[frozenset[int]]) -> frozenset[int] | None:
        n = len(self.v)
        # Normalised magnitudes: the solver's tolerances are absolute, tuned for figures near 1.
        cs, vs = max(1, self.cap / 1e6), max(self.v) / 1e6
        model = pulp.LpProblem("max_welfare", pulp.LpMaximize)
        x = [_variable(model, f"x{k}") for k in range(n)]
        model += pulp.lpSum((self.v[k] / vs) * x[k] for k in range(n))
        model += pulp.lpSum((self.c[k] / cs) * x[k] for k in range(n)) <= self.cap / cs
        for cut in cuts:  # "no-good" cut: at least one item changes side
            model += pulp.lpSum(1 - x[k] for k in cut) + pulp.lpSum(x[k] for k in range(n) if k not in cut) >= 1
        model.solve(self._solver())
        self.solves += 1
        if model.status != pulp.LpStatusOptimal:
            raise SolverFailed(f"solver {self.solver} ended with status {pulp.LpStatus[model.status]}")
        return frozenset(k for k in range(n) if (x[k].varValue or 0) > 0.5)

    def _solver(self):
        if self.solver == "highs":
            _swallow_highs_banner()
            return pulp.HiGHS(msg=False, gapRel=0)
        with warnings.catch_warnings():
            # PuLP 3 deprecates its bundled CBC in favour of a system one; the bundled one is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(msg=False, gapRel=0)

    # ----------------------------------------------------------------- exact search

    def bound(self, fixed_in: set[int], fixed_out: set[int]) -> int:
        """Dantzig's bound under the fixings, floored (values are integers); -1 if the fixings do not fit."""
        room = self.cap - sum(self.c[k] for k in fixed_in)
        if room < 0:
            return -1
        total = sum(self.v[k] for k in fixed_in)
        for k in self.by_density:
            if k in fixed_in or k in fixed_out:
                continue
            if self.c[k] <= room:
                room -= self.c[k]
                total += self.v[k]
            else:
                return total + self.v[k] * room // self.c[k]
        return total

    def search(self, fixed_in: set[int], fixed_out: set[int], floor_value: int) -> frozenset[int] | None:
        """The best set under the fixings if it is worth more than `floor_value`, else None (exact)."""
        room0 = self.cap - sum(self.c[k] for k in fixed_in)
        if room0 < 0:
            return None
        free = [k for k in self.by_density if k not in fixed_in and k not in fixed_out]
        v, c = self.v, self.c
        # suffix sums in density order let the bound find its break item by bisection
        pre_c, pre_v = [0], [0]
        for k in free:
            pre_c.append(pre_c[-1] + c[k])
            pre_v.append(pre_v[-1] + v[k])
        best = [floor_value, None]
        nodes = [0]
        chosen: list[int] = []

        def bound(pos: int, room: int) -> int:
            j = bisect_right(pre_c, pre_c[pos] + room, lo=pos) - 1  # items pos..j-1 fit entirely
            total = pre_v[j] - pre_v[pos]
            if j < len(free):
                rest = room - (pre_c[j] - pre_c[pos])
                total += v[free[j]] * rest // c[free[j]]
            return total

        def dfs(pos: int, room: int, value: int) -> None:
            nodes[0] += 1
            if nodes[0] > NODE_LIMIT:
                raise _TooBig
            if value > best[0]:
                best[0], best[1] = value, frozenset(chosen)
            if pos == len(free) or value + bound(pos, room) <= best[0]:
                return
            k = free[pos]
            if c[k] <= room:
                chosen.append(k)
                dfs(pos + 1, room - c[k], value + v[k])
                chosen.pop()
            dfs(pos + 1, room, value)

        base = sum(v[k] for k in fixed_in)
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, len(free) + 100))  # one frame per item on the deepest path
        try:
            dfs(0, room0, base)
        except _TooBig:
            self.proven = False
        finally:
            sys.setrecursionlimit(limit)
        return None if best[1] is None else best[1] | frozenset(fixed_in)


class _TooBig(Exception):
    pass


_highs_banner_done = False


def _swallow_highs_banner() -> None:
    """HiGHS prints a banner on stdout (the C-level file descriptor) at its first construction in a process,
    whatever its options; it would corrupt `pb-engine allocate --json`. Construct it once with fd 1 muted."""
    global _highs_banner_done
    if _highs_banner_done:
        return
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _highs_banner_done = True


def _variable(model: pulp.LpProblem, name: str) -> pulp.LpVariable:
    if hasattr(model, "add_variable"):  # PuLP >= 3.3; the constructor is deprecated there
        return model.add_variable(name, 0, 1, cat=pulp.LpBinary)
    return pulp.LpVariable(name, cat=pulp.LpBinary)


def _first_optimal(problem: _Problem, witness: frozenset[int]) -> tuple[frozenset[int], bool]:
    """Among optimal sets, the first in tie order, and whether any other optimal set exists."""
    target = problem.value(witness)
    fix_in: set[int] = set()
    fix_out: set[int] = set()
    tied = False
    for k in range(len(problem.v)):
        if k in witness:  # the witness is optimal and agrees with every decision so far
            # Another optimal set that first differs here would lack k: look for one, unless known.
            if not tied and problem.bound(fix_in, fix_out | {k}) >= target:
                tied = problem.search(fix_in, fix_out | {k}, target - 1) is not None
            fix_in.add(k)
            continue
        trial = fix_in | {k}
        if problem.bound(trial, fix_out) < target:
            fix_out.add(k)
            continue
        found = problem.search(trial, fix_out, target - 1)
        if found is not None and problem.value(found) > target:  # only after a search was cut short
            return _first_optimal(problem, found)
        if found is not None:  # worth >= target, so exactly target: another optimal set
            witness, tied = found, True
            fix_in.add(k)
        else:
            fix_out.add(k)
    return frozenset(fix_in), tied
