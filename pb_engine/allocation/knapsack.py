"""Exact 0/1 knapsack through an integer-program solver (PuLP: CBC bundled, or HiGHS).

`best_set(values, costs, capacity, order, solver)` returns the set of items with
the largest total value within capacity; among several such sets, the first in
the lexicographic order that `order` induces: the set containing the
best-ranked item that some optimal set contains, then, among those, the next
best-ranked item, and so on.

Solvers compute in floating point, so nothing they return is trusted as it is:
- values and costs are scaled to integers first (common denominator, then
  divided by their gcd), so any better set is better by at least 1;
- every set a solver returns is checked exactly (cost within capacity, value
  recomputed with integers);
- optimality: one more solve looks for the best set different from the
  incumbent. Better: adopt it and repeat; equal: there is a tie, settled as
  above; worse (or none): the incumbent is the unique optimum;
- a tie is settled item by item in `order`: "is there an optimal set with the
  decisions so far and this item?" is first answered by an exact LP bound
  (fractional knapsack with Fractions) and only when that cannot exclude it, by
  a solve.
- a set over capacity in exact arithmetic (accepted within the solver's float
  tolerance) is cut off and the solve repeated.
What remains trusted is the solver's claim that nothing better exists, on
integer data. Doubles hold integers exactly below 2**53; above that (values or
costs after scaling), `exact` is False: the set is still within budget, but its
optimality is only as good as the solver's floating point.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import gcd, lcm
from typing import Hashable, Mapping, Sequence

import warnings

import pulp

SOLVERS = ("cbc", "highs")


class SolverFailed(RuntimeError):
    """The solver returned no usable answer (not a user error)."""


@dataclass(frozen=True)
class Knapsack:
    chosen: frozenset
    value: Fraction          # total value, in the caller's units
    tied: bool               # other optimal sets exist; `chosen` is the first in `order`
    solves: int              # solver calls made (for the record and the tests)
    exact: bool = True       # all scaled figures below 2**53, see module doc


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

    best = problem.solve()
    if best is None:
        raise SolverFailed("the solver found no feasible set, although the empty set is one")
    while True:
        other = problem.solve(exclude=best)
        if other is None or problem.value(other) < problem.value(best):
            tied = False
            break
        if problem.value(other) > problem.value(best):
            best = other
            continue
        tied = True
        best = _first_optimal(problem, best)
        break
    chosen = frozenset(free) | {items[k] for k in best}
    exact = max(sum(v), sum(c_and_cap)) < 2**53
    return Knapsack(chosen, sum((values[i] for i in chosen), Fraction(0)), tied, problem.solves, exact)


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
        self.v, self.c, self.cap, self.solver, self.solves = v, c, cap, solver, 0
        self.cuts: list[frozenset[int]] = []  # sets found over capacity in exact arithmetic

    def value(self, chosen: frozenset[int]) -> int:
        return sum(self.v[k] for k in chosen)

    def solve(self, fix_in=(), fix_out=(), exclude: frozenset[int] | None = None) -> frozenset[int] | None:
        """The solver's best set under the fixings (None if infeasible), within capacity exactly.

        A set the solver accepts but that is over capacity in exact arithmetic (its float
        tolerance) is cut off for good and the solve repeated.
        """
        for _ in range(100):
            chosen = self._solve_once(fix_in, fix_out, exclude)
            if chosen is None or sum(self.c[k] for k in chosen) <= self.cap:
                return chosen
            self.cuts.append(chosen)
        raise SolverFailed(f"solver {self.solver} kept returning sets over the budget")

    def _solve_once(self, fix_in, fix_out, exclude) -> frozenset[int] | None:
        n = len(self.v)
        model = pulp.LpProblem("max_welfare", pulp.LpMaximize)
        x = [_variable(model, f"x{k}") for k in range(n)]
        model += pulp.lpSum(self.v[k] * x[k] for k in range(n))
        model += pulp.lpSum(self.c[k] * x[k] for k in range(n)) <= self.cap
        for k in fix_in:
            model += x[k] == 1
        for k in fix_out:
            model += x[k] == 0
        for cut in self.cuts + ([exclude] if exclude is not None else []):
            # "no-good" cut: at least one item changes side
            model += pulp.lpSum(1 - x[k] for k in cut) + pulp.lpSum(x[k] for k in range(n) if k not in cut) >= 1
        model.solve(self._solver())
        self.solves += 1
        if model.status != pulp.LpStatusOptimal:
            if model.status == pulp.LpStatusInfeasible:
                return None
            raise SolverFailed(f"solver {self.solver} ended with status {pulp.LpStatus[model.status]}")
        chosen = frozenset(k for k in range(n) if (x[k].varValue or 0) > 0.5)
        if any(k not in chosen for k in fix_in) or any(k in chosen for k in fix_out) or chosen == exclude:
            raise SolverFailed(f"solver {self.solver} returned a set breaking its constraints")
        return chosen

    def _solver(self):
        # gapRel=0: never stop at a "good enough" set; values are integers, so 0.5 suffices.
        if self.solver == "highs":
            return pulp.HiGHS(msg=False, gapRel=0, gapAbs=0.5)
        with warnings.catch_warnings():
            # PuLP 3 deprecates its bundled CBC in favour of a system one; the bundled one is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(msg=False, gapRel=0, gapAbs=0.5)

    def lp_bound(self, fix_in: set[int], fix_out: set[int]) -> Fraction:
        """Exact upper bound of the best value under the fixings: the fractional knapsack (Dantzig bound)."""
        room = self.cap - sum(self.c[k] for k in fix_in)
        if room < 0:
            return Fraction(-1)
        bound = Fraction(sum(self.v[k] for k in fix_in))
        rest = [k for k in range(len(self.v)) if k not in fix_in and k not in fix_out]
        rest.sort(key=lambda k: Fraction(self.v[k], self.c[k]), reverse=True)
        for k in rest:
            if self.c[k] <= room:
                room -= self.c[k]
                bound += self.v[k]
            else:
                return bound + Fraction(self.v[k] * room, self.c[k])
        return bound


def _variable(model: pulp.LpProblem, name: str) -> pulp.LpVariable:
    if hasattr(model, "add_variable"):  # PuLP >= 3.3; the constructor is deprecated there
        return model.add_variable(name, 0, 1, cat=pulp.LpBinary)
    return pulp.LpVariable(name, cat=pulp.LpBinary)


def _first_optimal(problem: _Problem, witness: frozenset[int]) -> frozenset[int]:
    """Among optimal sets, the first in tie order; `witness` is optimal."""
    target = problem.value(witness)
    fix_in: set[int] = set()
    fix_out: set[int] = set()
    for k in range(len(problem.v)):
        if k in witness:  # the witness is optimal and agrees with every decision so far
            fix_in.add(k)
            continue
        trial = fix_in | {k}
        if problem.lp_bound(trial, fix_out) < target:
            fix_out.add(k)
            continue
        found = problem.solve(fix_in=trial, fix_out=fix_out)
        if found is not None and problem.value(found) == target:
            witness = found
            fix_in.add(k)
        elif found is not None and problem.value(found) > target:
            raise SolverFailed("a better set appeared after the optimality check")
        else:
            fix_out.add(k)
    return frozenset(fix_in)
