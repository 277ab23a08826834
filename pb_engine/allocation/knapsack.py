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
   optimum. With a good proposal this explores few nodes on real rounds
   (all Pabulib test files: well under a second). Searches share a budget of
   NODE_LIMIT nodes, so that the result never depends on the machine's speed;
   rounds that exhaust it are subset-sum-like (e.g. every voter approving
   every project, under cost satisfaction). Then the optimality question goes
   to the solver when all figures are integers below 2**31, where its
   tolerances cannot blur a difference of 1 (`proof` "solver"), else, or if
   the solver cannot prove it within SOLVER_NODES nodes, the best set found
   stands (`proof` "none"). Limits are counted in nodes, never in seconds, so
   the outcome is the same on every machine.
4. Ties: item by item in `order`, "is there an optimal set with the decisions
   so far and this item?", answered by the exact bound when it can exclude the
   item, else by the same integer search. Where the answer is the incumbent
   itself, one more question ("... and without this item?") tells whether any
   other optimal set exists, so `tied` is exact. (Once the node budget is
   spent, a tie question the search cannot settle is answered "no":
   `ties_exact` False.)
Floats never decide: on Warszawa-sized figures (cost satisfaction ~1e11, ~1e13
in cents) two sets can differ by less than a solver's tolerance; at 1e12 CBC
even accepts sets over the budget. Step 3 settles it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction
from math import gcd, lcm
from typing import Hashable, Mapping, Sequence

import pulp


class SolverFailed(RuntimeError):
    """The solver returned no usable answer (not a user error)."""


NODE_LIMIT = 150_000      # search nodes for one `best_set` call, all searches together (~1 s)
NODES_WHEN_SPENT = 2_000  # per search once those are spent
SOLVER_NODES = 5_000      # per solver call


@dataclass(frozen=True)
class Knapsack:
    chosen: frozenset
    value: Fraction          # total value, in the caller's units
    tied: bool               # other optimal sets exist; `chosen` is the first in `order`
    solves: int              # solver calls made (for the record and the tests)
    proof: str = "search"    # how optimality was established: "search" (exact integer search), "solver"
                             # (the search was too long; the solver, on integers below 2**31), "none" (neither)
    ties_exact: bool = True  # False: a tie question outran the search budget; `chosen` is optimal (per
                             # `proof`) but another optimal set may come first in `order`


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
    better = problem.search(set(), set(), problem.value(proposal), certify=True)
    best = better if better is not None else proposal
    best, tied = _first_optimal(problem, best)
    chosen = frozenset(free) | {items[k] for k in best}
    return Knapsack(chosen, sum((values[i] for i in chosen), Fraction(0)), tied, problem.solves, problem.proof,
                    problem.ties_exact)


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
        self.solves, self.proof, self.nodes_left, self.ties_exact = 0, "search", NODE_LIMIT, True
        # Integers this small are exact in doubles with room to spare: a solver's tolerances cannot
        # blur a difference of 1, so its word may stand in for a search that takes too long.
        self.small = sum(v) < 2**31 and cap < 2**31
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
                chosen, _ = self._solve(cuts)
            except (SolverFailed, pulp.PulpSolverError):  # e.g. no solver binary: the search still decides
                chosen = None
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

    def _solve(self, cuts: list[frozenset[int]], fix_in=(), fix_out=(), min_value: int | None = None):
        """The solver's set (None if it has none) and whether it proved its answer (optimal or infeasible).

        Without `min_value`, on magnitudes normalised to ~1e6 (the solver's tolerances are absolute,
        tuned for figures near 1); with it (only for small integers), on the integers themselves.
        The solver stops after SOLVER_NODES branch-and-bound nodes: deterministic, unlike a time limit.
        """
        n = len(self.v)
        cs, vs = (max(1, self.cap / 1e6), max(self.v) / 1e6) if min_value is None else (1, 1)
        model = pulp.LpProblem("max_welfare", pulp.LpMaximize)
        x = [_variable(model, f"x{k}") for k in range(n)]
        model += pulp.lpSum((self.v[k] / vs) * x[k] for k in range(n))
        model += pulp.lpSum((self.c[k] / cs) * x[k] for k in range(n)) <= self.cap / cs
        if min_value is not None:
            model += pulp.lpSum(self.v[k] * x[k] for k in range(n)) >= min_value
        for k in fix_in:
            model += x[k] == 1
        for k in fix_out:
            model += x[k] == 0
        for cut in cuts:  # "no-good" cut: at least one item changes side
            model += pulp.lpSum(1 - x[k] for k in cut) + pulp.lpSum(x[k] for k in range(n) if k not in cut) >= 1
        try:
            model.solve(self._solver())
        except KeyError:  # PuLP 3.3 knows no status for HiGHS's node limit; it assigned the values first
            pass
        self.solves += 1
        proved, infeasible = self._outcome(model)
        if infeasible:
            return None, proved
        values = [x[k].varValue for k in range(n)]
        chosen = None if any(val is None for val in values) else frozenset(k for k in range(n) if values[k] > 0.5)
        return chosen, proved

    def _outcome(self, model: pulp.LpProblem) -> tuple[bool, bool]:
        """(proved, infeasible) from the solver itself: PuLP reports HiGHS stopped at a limit as optimal."""
        if self.solver == "highs":
            import highspy

            status = model.solverModel.getModelStatus()
            infeasible = status == highspy.HighsModelStatus.kInfeasible
            return status == highspy.HighsModelStatus.kOptimal or infeasible, infeasible
        infeasible = model.status == pulp.LpStatusInfeasible
        proved = infeasible or (model.status == pulp.LpStatusOptimal and model.sol_status == pulp.LpSolutionOptimal)
        return proved, infeasible

    def _solver_search(self, fixed_in: set[int], fixed_out: set[int], floor_value: int) -> frozenset[int] | None:
        """`search` by the solver, every answer checked exactly; None when it proves nothing is better.

        Raises SolverFailed when it proves nothing (node limit, odd answers)."""
        cuts: list[frozenset[int]] = []
        for _ in range(20):
            chosen, proved = self._solve(cuts, fixed_in, fixed_out, floor_value + 1)
            if not proved:
                raise SolverFailed(f"solver {self.solver} stopped before proving its answer")
            if chosen is None:
                return None
            if (self.fits(chosen) and self.value(chosen) > floor_value and fixed_in <= chosen
                    and not chosen & fixed_out):
                return chosen
            cuts.append(chosen)
        raise SolverFailed(f"solver {self.solver} kept returning sets that break the constraints")

    def _solver(self):
        if self.solver == "highs":
            # HiGHS prints a banner on the process's stdout at its first construction; the CLI, which owns
            # its stdout, mutes it (pb_engine.commands.quiet_highs_banner), library code does not
            return pulp.HiGHS(msg=False, gapRel=0, mip_max_nodes=SOLVER_NODES)
        # PuLP's bundled CBC binary through COIN_CMD: PULP_CBC_CMD warns that it is deprecated, and silencing
        # that would change the process's warning filters (catch_warnings is not thread-safe)
        return pulp.COIN_CMD(path=pulp.PULP_CBC_CMD.pulp_cbc_path, msg=False, gapRel=0, maxNodes=SOLVER_NODES)

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

    def search(self, fixed_in: set[int], fixed_out: set[int], floor_value: int,
               certify: bool = False) -> frozenset[int] | None:
        """The best set under the fixings if it is worth more than `floor_value`, else None (exact).

        When the node budget runs out: with `certify` (the optimality question), the solver answers
        on small integers (`proof` "solver"), else the best set found stands (`proof` "none");
        without (a tie question), the best set found stands and `ties_exact` becomes False.
        Solver calls are not bounded in time, so only the one optimality question may use them.
        """
        budget = self.nodes_left if self.nodes_left > 0 else NODES_WHEN_SPENT
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
        nodes = [0]  # spent in this search
        chosen: list[int] = []

        def bound(pos: int, room: int) -> int:
            j = bisect_right(pre_c, pre_c[pos] + room, lo=pos) - 1  # items pos..j-1 fit entirely
            total = pre_v[j] - pre_v[pos]
            if j < len(free):
                rest = room - (pre_c[j] - pre_c[pos])
                total += v[free[j]] * rest // c[free[j]]
            return total

        def dfs(room: int, value: int) -> None:
            # Depth first, item in before item out, with an explicit stack: a recursion one frame per item
            # would need a raised recursion limit, which is the whole process's, not this search's.
            stack: list[tuple[int, int, int] | None] = [(0, room, value)]   # None: take the last item out
            while stack:
                node = stack.pop()
                if node is None:
                    chosen.pop()
                    continue
                pos, room, value = node
                nodes[0] += 1
                if nodes[0] > budget:
                    raise _TooBig
                if value > best[0]:
                    best[0], best[1] = value, frozenset(chosen)
                if pos == len(free) or value + bound(pos, room) <= best[0]:
                    continue
                k = free[pos]
                stack.append((pos + 1, room, value))            # without k, once every set with k is seen
                if c[k] <= room:
                    chosen.append(k)
                    stack.append(None)
                    stack.append((pos + 1, room - c[k], value + v[k]))

        base = sum(v[k] for k in fixed_in)
        try:
            dfs(room0, base)
        except _TooBig:
            found = None if best[1] is None else best[1] | frozenset(fixed_in)
            self.nodes_left = 0
            if not certify:
                self.ties_exact = False
            elif self.small:
                return self._solver_answer(fixed_in, fixed_out, best[0], found)
            else:
                self.proof = "none"
            return found
        finally:
            if self.nodes_left > 0:
                self.nodes_left -= nodes[0]
        return None if best[1] is None else best[1] | frozenset(fixed_in)

    def _solver_answer(self, fixed_in, fixed_out, floor_value: int, found):
        """The solver's better set than `found` (worth `floor_value`), or `found`."""
        try:
            better = self._solver_search(fixed_in, fixed_out, floor_value)
        except (SolverFailed, pulp.PulpSolverError):
            self.proof = "none"
            return found
        if self.proof == "search":
            self.proof = "solver"
        return better if better is not None else found


class _TooBig(Exception):
    pass


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
