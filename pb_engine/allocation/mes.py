"""The method of equal shares (MES) and its completions, exact.

    allocate(instance, profile, "mes")                                  # plain MES, cost satisfaction
    allocate(instance, profile, "mes", satisfaction="cardinality")
    allocate(instance, profile, "mes", completion="add1")               # equalshares.net's standard
    allocate(instance, profile, "mes", completion="add1", then_greedy=True)   # add1, then greedy leftover
    allocate(instance, profile, "mes", completion="add1-comparison")    # Wieliczka 2023
    allocate(instance, profile, "mes", completion="greedy")             # MES, then greedy leftover

Utilities follow `satisfaction.py`: a ballot gives a project units (approval
and choose-1: 1 vote; cumulative and scoring: its points; ordinal: its Borda
score, L-1 ... 0 on a ranking of L, as pabutools), and `satisfaction` weighs
a unit: `cost` (default, the equalshares.net convention: an approved funded
project is worth its cost) or `cardinality` (worth 1).

Every voter starts with budget / n. A project is affordable when its
supporters' money covers its cost; each step funds the affordable project with
the lowest price rho per unit of utility (each supporter pays
min(money, rho * utility)), ties broken by the tie-breaking order.

Completions (extra options in brackets):
- add1 [increment=1, exhaustive_stop=True, then_greedy=False]: as
  equalshares.net's recommended completion (docs/implementation/completion)
  and pabutools (`voter_budget_increment=1`): raise every voter's starting
  money by `increment` currency units and re-run MES from scratch, again and
  again; stop at the first outcome that is exhaustive (no other supported
  project fits in the budget) or when the next raise would exceed the
  budget, keeping the last outcome within budget; also stop once every
  supported project is funded. `exhaustive_stop=False` drops the exhaustive
  stop (the equalshares.net compute tool with its `exhaustive` box unticked,
  Pabulib's reading; Assen 2024 comes out the same either way). With
  `then_greedy=True` the leftover is then filled greedily by votes. Projects
  that plain MES would not fund are marked FUNDED_IN_COMPLETION.
- add1-comparison [comparison="satisfaction", exhaustive_stop=False]: add1
  without the exhaustive early stop, then compared once with the
  greedy-by-votes outcome, which replaces it if more voters prefer it; see
  `mes_compare.py` for the definition and its source.
- greedy: plain MES, then the leftover is filled greedily by votes (score,
  ties by the tie-breaking order), skipping what does not fit.

Explanations: a funded project has its step, rho (`price_per_supporter`),
what each full payer paid, how many paid all they had left and how much,
and its supporters' money before; an unfunded one has its supporters' money
at the end of the (final) run against its cost (SUPPORTERS_COULD_NOT_PAY), or
DID_NOT_FIT when a greedy completion skipped it, or NO_SUPPORT.

add1 reads one MES outcome per raise (185 on Warszawa 2026). With numba
installed each run is one call into compiled code (`mes_kernel.py`: floats with
proven error bounds; a run they cannot settle is made by the exact engine), one
run per raise (`_add1_compiled`), and [workers] = 2 lets a second thread run
blocks of raises ahead (None: 2 when a core is idle). Without numba (or with
PB_MES_KERNEL=0) a run starts where the run before stood as far as that one
proves alike, or is skipped when it proves the whole outcome alike
(`_add1_skipping`), and [workers] runs them ahead in other processes instead
(None: 2 for big elections, from the main thread only; 1: never). The outcome
never depends on either.

The exact computation lives in `mes_engine.py` (exact rationals, floats only screen).
"""

from __future__ import annotations

from collections import Counter
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from pb_engine.allocation import mes_engine as E
from pb_engine.allocation import mes_kernel
from pb_engine.allocation.instance import Instance
from pb_engine.allocation.outcome import (
    DID_NOT_FIT, FUNDED, FUNDED_IN_COMPLETION, NO_SUPPORT, SUPPORTERS_COULD_NOT_PAY, Outcome, ProjectResult,
)
from pb_engine.allocation.registry import SATISFACTION, Option, Rule, RuleOptions, register
from pb_engine.allocation.satisfaction import COST, check_satisfaction, utility
from pb_engine.allocation.satisfaction import weight as weight_of
from pb_engine.allocation.tiebreak import TieBreaking, natural_key
from pb_engine.ballots.kinds import ApprovalBallot, Profile
from pb_engine.errors import ValidationFailed


# --------------------------------------------------------------------------- preparation


@dataclass
class Prepared:
    instance: Instance
    ids: list[str]
    problem: E.Problem
    score: list[Fraction]        # votes (approval), points or Borda points: the greedy completion's order
    satisfaction: str            # cost | cardinality

    @property
    def budget(self) -> Fraction:
        return Fraction(self.instance.budget)

    @property
    def supporters(self) -> list[int]:
        """Voters with positive utility, per project."""
        return self.problem.sup_voters

    def supported(self) -> set[int]:
        """The projects somebody supports."""
        return {c for c, n in enumerate(self.problem.sup_voters) if n > 0}


def prepare(instance: Instance, profile: Profile, satisfaction: str | None, tie: TieBreaking) -> Prepared:
    """Engine form: identical ballots merged into groups; utilities as units (satisfaction.utility) x weight."""
    kind = check_satisfaction(satisfaction, COST)
    projects = list(instance.projects)
    ids = [p.id for p in projects]
    index = {pid: j for j, pid in enumerate(ids)}
    costs = [Fraction(p.cost) for p in projects]
    groups = Counter(profile.ballots)   # identical ballots share their fate: one group each
    mult = np.fromiter(groups.values(), dtype=np.int64, count=len(groups))
    sup: list = [[] for _ in ids]
    units: list[list[int]] = [[] for _ in ids]
    score = [0] * len(ids)
    if all(isinstance(b, ApprovalBallot) for b in groups):
        # (project, group) pairs in one pass, then sorted by project: 60,000 ballots in tens of milliseconds
        get = index.get
        lens = np.fromiter((len(b.projects) for b in groups), dtype=np.int64, count=len(groups))
        proj = np.fromiter((-1 if j is None else j for b in groups for j in map(get, b.projects)), dtype=np.int64,
                           count=int(lens.sum()))
        grp = np.repeat(np.arange(len(groups), dtype=np.int64), lens)
        o = np.argsort(proj, kind="stable")   # by project, groups ascending within each
        proj, grp = proj[o], grp[o]
        bounds = np.searchsorted(proj, np.arange(len(ids) + 1))
        sup = [grp[bounds[j]:bounds[j + 1]] for j in range(len(ids))]
        units = [[1] if len(s) else [] for s in sup]   # every supporter has one unit (read below as all alike)
        score = [int(mult.take(s).sum()) for s in sup]
    else:
        for g, (ballot, m) in enumerate(groups.items()):
            if isinstance(ballot, ApprovalBallot):
                for pid in ballot.projects:
                    j = index.get(pid)
                    if j is not None:
                        sup[j].append(g)
                        units[j].append(1)
                        score[j] += m
                continue
            for pid, x in utility(ballot).items():
                j = index.get(pid)
                if j is not None and x > 0:
                    sup[j].append(g)
                    units[j].append(x)
                    score[j] += m * x
    rank_of = tie.rank()
    missing = sorted((pid for pid in ids if pid not in rank_of), key=natural_key)
    rank_of = {**rank_of, **{pid: len(rank_of) + k for k, pid in enumerate(missing)}}
    rank = [rank_of[pid] for pid in ids]
    weight = [weight_of(p, kind) for p in projects]
    # a project whose supporters all have the same units u is an approval-like project of weight u * weight
    unit_lists: list[list[int] | None] = []
    for j, us in enumerate(units):
        if not us or min(us) == max(us):
            weight[j] *= us[0] if us else 1
            unit_lists.append(None)
        else:
            unit_lists.append(us)
    problem = E.Problem(costs, mult, sup, unit_lists, weight, rank, n_voters=len(profile.ballots))
    return Prepared(instance, ids, problem, [Fraction(s) for s in score], kind)


# --------------------------------------------------------------------------- completions


def endowment(prep: Prepared, k: int = 0, increment: Fraction = Fraction(1)) -> Fraction:
    return prep.budget / prep.problem.n_voters + k * increment


def is_exhaustive(prep: Prepared, selected: list[int]) -> bool:
    """No supported project outside `selected` fits in what is left (pabutools' `is_exhaustive` on MES's projects)."""
    P = prep.problem
    chosen = set(selected)
    left = prep.budget - sum((P.costs[c] for c in chosen), Fraction(0))
    return not any(
        c not in chosen and P.sup_voters[c] > 0 and P.costs[c] > 0 and P.costs[c] <= left for c in range(len(P.costs))
    )


def add1(prep: Prepared, increment: Fraction = Fraction(1), exhaustive_stop: bool = True,
         workers: int | None = None, complete: bool = True, stats: dict | None = None) -> tuple[E.Run, int, E.Run]:
    """The add1 completion. Returns (final run, number of raises, plain run), runs without trace.

    Besides the two stops (exhaustive outcome, next outcome over budget), it
    stops when the outcome funds every supported project: nothing is left to
    add (the equalshares.net tool skips add1 when all projects fit, and would
    otherwise loop for ever). So it always stops: once the money per voter
    exceeds the total cost of the supported projects, MES funds all of them.

    The answer is that of the plain loop (`add1_plain`: one MES run per raise), but raises whose
    outcome provably equals the neighbours' are skipped (`_add1_skipping`). `workers` > 1 computes
    the runs ahead on other cores instead (mes_parallel.py); None picks 2 for big elections on an
    idle multi-core machine, from the main thread. With the compiled kernel (`_add1_compiled`) every
    raise is one fast run instead, and `workers` (None: 2 on an idle core) is its threads.
    `complete=False` may return the final run unfinished (`Run.complete`), for a caller that reruns
    it anyway (with trace). `stats`, if given, receives the number of MES runs made ("runs").
    """
    from pb_engine.allocation.mes_parallel import add1_parallel, threads_for, workers_for

    P = prep.problem
    if mes_kernel.available():
        last, k, plain, runs = _add1_compiled(prep, increment, exhaustive_stop, stats, threads_for(workers))
    else:
        w = workers_for(prep, workers)
        if w > 1:
            try:
                sel, k, plain_sel = add1_parallel(prep, increment, exhaustive_stop, w)
            except (OSError, AssertionError, RuntimeError):   # no fork here after all: do it on this core
                pass
            else:
                cost = lambda s: sum((P.costs[c] for c in s), Fraction(0))  # noqa: E731
                if stats is not None:
                    stats["runs"] = k + 2
                if sel is None:
                    final = E.run(P, endowment(prep, k, increment)) if complete else \
                        E.Run(endowment(prep, k, increment), [], Fraction(0), complete=False)
                else:
                    final = E.Run(endowment(prep, k, increment), sel, cost(sel))
                return final, k, E.Run(endowment(prep, 0, increment), plain_sel, cost(plain_sel))
        last, k, plain, runs = _add1_skipping(prep, increment, exhaustive_stop)
    if complete and not last.complete:
        last = E.run(P, last.endowment)
        runs += 1
    if stats is not None:
        stats["runs"] = runs
    return last, k, plain


def _verdict(prep: Prepared, r: E.Run, exhaustive_stop: bool, supported: set[int]) -> str:
    """add1's reading of a run: "over" (over budget), "stop" (exhaustive or everything funded) or "go"."""
    if r.total_cost > prep.budget:
        return "over"
    if (exhaustive_stop and is_exhaustive(prep, r.selected)) or supported <= set(r.selected):
        return "stop"
    return "go"


def _add1_compiled(prep: Prepared, increment: Fraction, exhaustive_stop: bool, stats: dict | None = None,
                   threads: int = 1):
    """add1's plain loop (one MES run per raise, `add1_plain`) with each run made by the compiled kernel
    (mes_kernel.py), and by the exact engine at the raises where the kernel's bounds cannot settle a
    decision. Returns (last, k, plain, runs) as `_add1_skipping`; `runs` counts the runs read, of both
    kinds (with threads, not those made ahead past the stop), and `stats` (if given) also receives how
    many were exact ("exact"), how many ties went to rationals ("ties") and the threads used.

    threads=2: a second thread runs the next block of raises while this one runs its own (the kernel
    releases the GIL); the loop then reads both blocks in order, so the answer is the same. The exact
    engine runs on this thread only (it reuses buffers of the Problem)."""
    P = prep.problem
    kerns = [mes_kernel.Kernel(P)]
    supported = prep.supported()
    budget = prep.budget
    integral = all(Fraction(c).denominator == 1 for c in P.costs)
    costs = [int(c) for c in P.costs] if integral else [Fraction(c) for c in P.costs]
    zero = 0 if integral else Fraction(0)
    budget_f = float(budget)
    # is_exhaustive asks whether the cheapest supported project left out fits: by cost, once
    by_cost = sorted((c for c in supported if costs[c] > 0), key=lambda c: costs[c])
    exact_runs = 0

    def verdict(r: E.Run, t) -> str:
        """_verdict(prep, r, exhaustive_stop, supported), with t the exact cost of r.selected."""
        if t > budget:
            return "over"
        chosen = set(r.selected)
        if supported <= chosen:
            return "stop"
        if exhaustive_stop:
            cheapest = next((c for c in by_cost if c not in chosen), None)
            if cheapest is None or costs[cheapest] > budget - t:
                return "stop"
        return "go"

    def kernel_run(k: int, watch: bool, kern: mes_kernel.Kernel):
        """(run, its exact cost), or (raise, None) where the exact engine must run (see `settled`)."""
        e = endowment(prep, k, increment)
        status, sel = kern.run(float(e), budget_f if watch else None, exhaustive_stop)
        if status != mes_kernel.UNSURE:
            t = sum((costs[c] for c in sel), zero)
            # an early stop's verdict, checked exactly: over the budget already, or sure to go on
            if status == mes_kernel.DONE or (status == mes_kernel.OVER) == (t > budget):
                return E.Run(e, sel, Fraction(t), complete=status == mes_kernel.DONE, n_free=len(kern.free)), t
        return k, None

    def settled(got, watch: bool):
        nonlocal exact_runs
        r, t = got
        if t is not None:
            return r, t
        exact_runs += 1
        e = endowment(prep, r, increment)
        r = E.run(P, e, budget=budget, exhaustive=exhaustive_stop) if watch else E.run(P, e)
        return r, r.total_cost

    t0 = time.perf_counter()
    plain, t = settled(kernel_run(0, False, kerns[0]), False)
    per_run = time.perf_counter() - t0
    last, k = plain, 0
    runs = 1
    v = verdict(plain, t)
    if threads > 1 and v == "go" and per_run >= MIN_THREADED_RUN:
        from concurrent.futures import ThreadPoolExecutor

        kerns.append(kerns[0].twin())
        # blocks of about BLOCK_SECONDS of kernel time each, so that handing one over costs little
        block = max(1, min(64, int(BLOCK_SECONDS / max(per_run, 1e-6))))
        with ThreadPoolExecutor(1, thread_name_prefix="pb-add1") as pool:
            while v == "go":
                base = k
                ahead = pool.submit(lambda b=base: [kernel_run(b + block + i, True, kerns[1]) for i in range(1, block + 1)])
                mine = [kernel_run(base + i, True, kerns[0]) for i in range(1, block + 1)]
                for got in mine + ahead.result():
                    nxt, t = settled(got, True)
                    runs += 1
                    v = verdict(nxt, t)
                    if v != "over":
                        last, k = nxt, k + 1
                    if v != "go":
                        break
    while v == "go":
        nxt, t = settled(kernel_run(k + 1, True, kerns[0]), True)
        runs += 1
        v = verdict(nxt, t)
        if v != "over":
            last, k = nxt, k + 1
    if stats is not None:
        stats.update(exact=exact_runs, ties=sum(kern.ties for kern in kerns), threads=len(kerns))
    return last, k, plain, runs


BLOCK_SECONDS = 0.002   # _add1_compiled with threads: kernel time per block of raises handed to the other thread
MIN_THREADED_RUN = 5e-5  # ... and no second thread for runs shorter than this (small elections: nothing to gain)


def _add1_skipping(prep: Prepared, increment: Fraction, exhaustive_stop: bool):
    """add1's loop. Returns (last, k, plain, runs), `runs` the MES runs made.

    It reads the runs at raises 1, 2, 3, ... as the plain loop does and stops at the first whose verdict
    is not "go", but each run (`mes_engine.run_tracked`) starts at the first step that the run before
    does not prove alike (same choice, same payers: the same state, prices moved along their slopes),
    and a raise whose whole outcome (or early stop) that run proves alike is not run at all. Where that
    does not pay (CPU time over the last TRACK_TRIAL raises above TRACK_WORTH of a run from scratch per
    raise: outcomes that change early in the runs at most raises), it goes on with `_add1_covering`. The runs
    read are the plain loop's either way; only the time depends on the choice.
    """
    P = prep.problem
    supported = prep.supported()
    budget = prep.budget
    want = lambda k: float(endowment(prep, k + 2, increment))   # noqa: E731  (bounds worth lasting that far)
    t0 = time.process_time()
    plain, rec, _ = E.run_tracked(P, endowment(prep, 0, increment), want=want(0))
    t_plain = (time.process_time() - t0) / TRACK_COST   # what a run from scratch takes, about
    plain.rhos = E.rhos_at(P, rec, plain)
    runs = 1
    last, k = plain, 0
    if _verdict(prep, plain, exhaustive_stop, supported) != "go" and plain.total_cost <= budget:
        return last, k, plain, runs
    t0 = time.process_time()
    while True:
        if k % TRACK_TRIAL == 0 and k:
            if time.process_time() - t0 > TRACK_WORTH * TRACK_TRIAL * t_plain:
                if last.rhos is None:
                    last.rhos = E.rhos_at(P, rec, last)
                return _add1_covering(prep, increment, exhaustive_stop, (last, k, plain, runs))
            t0 = time.process_time()
        nxt, rec, computed = E.run_tracked(P, endowment(prep, k + 1, increment), budget=budget,
                                           exhaustive=exhaustive_stop, base=rec, want=want(k + 1))
        runs += computed
        # not computed: the same projects as the run before, so its verdict ("go")
        v = _verdict(prep, nxt, exhaustive_stop, supported) if computed else "go"
        if v == "over":
            return last, k, plain, runs
        last, k = nxt, k + 1
        if v == "stop":
            return last, k, plain, runs


TRACK_TRIAL = 8     # every this many raises add1 judges whether starting runs mid-way pays
TRACK_WORTH = 0.4   # ... it pays below this share of a run from scratch per raise (skipping raises gains ~2.5x)
TRACK_COST = 2.0    # a run_tracked run from the start costs about this many runs from scratch (measured)


def _add1_covering(prep: Prepared, increment: Fraction, exhaustive_stop: bool, start=None):
    """add1's loop, skipping raises that cannot change its answer. Returns (last, k, plain, runs).

    The plain loop reads the runs at raises 1, 2, 3, ... and stops at the first whose verdict is
    not "go". Here, after a "go" at raise k, the run at k + j (j = 2 at first, twice as far after
    two jumps in a row are covered) checks, against the run at k, that every raise in between funds the same projects in the
    same order (`mes_engine.run`'s `below`, a monotonicity argument): if so, their verdicts are
    its verdict ("go", since it is k's) and the loop moves to k + j at once; if not, it tries
    k + j/2, and so on down to k + 2, then goes on one raise, keeping the runs made for when it
    gets there. The same runs are read in the
    same order wherever the answer depends on them, so the answer is the plain loop's. Where the
    outcome changes at nearly every raise (checks keep failing), checks are tried less often
    (after 1, 2, 4, 8, 16 raises), since each costs a little. `start`: (last, k, plain, runs) where
    another loop left off, last a "go" with its `rhos`.
    """
    P = prep.problem
    supported = prep.supported()
    budget = prep.budget
    if start is not None:
        last, k, plain, runs = start
    else:
        plain = E.run(P, endowment(prep, 0, increment))
        runs = 1
        last, k = plain, 0
        if _verdict(prep, plain, exhaustive_stop, supported) != "go" and plain.total_cost <= budget:
            return last, k, plain, runs
    ahead: dict[int, E.Run] = {}   # runs made beyond the loop's position, with their raise
    jump, streak, misses, next_try = 2, 0, 0, 0
    while True:
        far = k + jump
        if k >= next_try:
            if far not in ahead:
                r = E.run(P, endowment(prep, far, increment), budget=budget, exhaustive=exhaustive_stop, below=last)
                runs += 1
                if r.covers and _verdict(prep, r, exhaustive_stop, supported) == "go":
                    for j in [j for j in ahead if j <= far]:
                        del ahead[j]
                    last, k, misses = r, far, 0
                    streak += 1
                    if streak == 2:   # twice in a row: try twice as far
                        jump, streak = jump * 2, 0
                    continue
                ahead[far] = r
            streak = 0
            if jump > 2:
                jump //= 2   # a shorter jump may still be covered
                continue
            misses += 1
            next_try = k + 2 ** min(misses - 1, 4)
        nxt = ahead.pop(k + 1, None)
        if nxt is None:
            nxt = E.run(P, endowment(prep, k + 1, increment), budget=budget, exhaustive=exhaustive_stop)
            runs += 1
        v = _verdict(prep, nxt, exhaustive_stop, supported)
        if v == "over":
            return last, k, plain, runs
        last, k = nxt, k + 1
        if v == "stop":
            return last, k, plain, runs


def add1_plain(prep: Prepared, increment: Fraction = Fraction(1), exhaustive_stop: bool = True) -> tuple[E.Run, int, E.Run]:
    """add1 as defined: one complete MES run per raise, on this core (the reference for tests)."""
    P = prep.problem
    supported = prep.supported()
    plain = E.run(P, endowment(prep, 0, increment))
    last = plain
    k = 0
    while True:
        if exhaustive_stop and is_exhaustive(prep, last.selected):
            break
        if supported <= set(last.selected):
            break
        nxt = E.run(P, endowment(prep, k + 1, increment))
        if nxt.total_cost > prep.budget:
            break
        last = nxt
        k += 1
    return last, k, plain


def greedy_fill(prep: Prepared, selected: list[int], tie_rank) -> tuple[list[int], dict[int, Fraction]]:
    """Fund the leftover by score (votes), skipping what does not fit; returns (added, money left when skipped)."""
    P = prep.problem
    chosen = set(selected)
    left = prep.budget - sum((P.costs[c] for c in chosen), Fraction(0))
    order = sorted((c for c in range(len(P.costs)) if c not in chosen and prep.supporters[c] > 0),
                   key=lambda c: (-prep.score[c], tie_rank[c]))
    added, skipped = [], {}
    for c in order:
        if P.costs[c] <= left:
            added.append(c)
            left -= P.costs[c]
        else:
            skipped[c] = left
    return added, skipped


# --------------------------------------------------------------------------- the rule


COMPLETIONS = ("add1", "add1-comparison", "greedy")
COMPARISONS = ("satisfaction", "exclusionRatio")   # mes_compare.py

MES = Rule(
    id="mes", name="Method of Equal Shares",
    description="Every voter gets an equal share of the budget to spend on the projects they support; "
                "a project is funded when its supporters can pay for it.",
    options=(
        SATISFACTION,
        Option("completion", "choice", "spend what plain MES leaves: add1 (raise each voter's share until the "
               "outcome is exhaustive), add1-comparison (Wieliczka 2023), greedy (fill by votes); none by default",
               choices=COMPLETIONS),
        Option("increment", "number", "add1: by how much each voter's share grows per run, in currency units",
               default=1, minimum=0, exclusive_minimum=True),
        Option("exhaustive_stop", "boolean", "add1: stop at the first exhaustive outcome (default true for add1, "
               "false for add1-comparison)"),
        Option("then_greedy", "boolean", "add1: fill what is still left greedily by votes", default=False),
        Option("comparison", "choice", "add1-comparison: how voters' preference between the MES and greedy "
               "outcomes is counted", default="satisfaction", choices=COMPARISONS),
        Option("workers", "integer", "add1: threads (compiled kernel, at most 2) or processes (exact engine alone) "
               "computing runs ahead (default: 2 when a core is idle); the outcome never depends on it",
               minimum=1, maximum=64),
    ),
    exhaustive=False,
    check=lambda values: _options_together(values),
)


def _options_together(values) -> list[tuple[str, str]]:
    completion = values.get("completion")
    found = []
    if values.get("then_greedy") and completion != "add1":
        found.append(("then_greedy", "then_greedy goes with completion='add1'"))
    if "comparison" in values and completion != "add1-comparison":
        found.append(("comparison", "comparison goes with completion='add1-comparison'"))
    return found


@register(MES)
def mes_rule(instance: Instance, profile: Profile, options: RuleOptions, tie: TieBreaking) -> Outcome:
    # allocate checked the options against MES above (each one, and _options_together)
    extra = dict(options.extra)
    workers = extra.get("workers")
    completion = options.completion
    then_greedy = bool(extra.get("then_greedy", False))
    increment = Fraction(extra.get("increment", 1))
    # add1-comparison reproduces the Wieliczka 2023 tool, whose add1 had no exhaustive early stop (mes_compare.py).
    exhaustive_stop = bool(extra.get("exhaustive_stop", completion != "add1-comparison"))

    prep = prepare(instance, profile, options.satisfaction, tie)
    P = prep.problem
    notes: list[str] = []
    plain_selected: set[int] | None = None
    completion_added: list[int] = []
    skipped: dict[int, Fraction] = {}
    replaced_by_greedy = None

    if len(profile.ballots) == 0:
        final = E.Run(Fraction(0), [], Fraction(0), [], {})
        notes.append("no ballots: nothing funded")
    elif completion in ("add1", "add1-comparison"):
        run, k, plain = add1(prep, increment, exhaustive_stop, workers, complete=False)
        final = E.run(P, run.endowment, trace=True)
        assert final.selected == run.selected or not run.complete
        plain_selected = set(plain.selected)
        notes.append(f"add1: budget per voter raised {k} time(s) by {_fmt(increment)}, "
                     f"from {_fmt(endowment(prep, 0, increment))} to {_fmt(final.endowment)}")
        if completion == "add1-comparison":
            from pb_engine.allocation.mes_compare import compare_with_greedy
            verdict = compare_with_greedy(prep, final.selected, P.rank, extra.get("comparison", "satisfaction"))
            notes.append(verdict.note)
            if verdict.greedy_wins:
                replaced_by_greedy = verdict
        if then_greedy:
            completion_added, skipped = greedy_fill(prep, final.selected, P.rank)
    else:
        final = E.run(P, endowment(prep), trace=True)
        if completion == "greedy":
            completion_added, skipped = greedy_fill(prep, final.selected, P.rank)

    if replaced_by_greedy is not None:
        return _greedy_outcome(prep, replaced_by_greedy, final, tuple(notes))
    return _outcome(prep, final, plain_selected, completion_added, skipped, tuple(notes))


# --------------------------------------------------------------------------- explanations


def _fmt(x: Fraction) -> str:
    x = Fraction(x)
    if x.denominator == 1:
        return str(x.numerator)
    return f"{float(x):.2f}"


def _outcome(prep: Prepared, final: E.Run, plain_selected, completion_added, skipped, notes) -> Outcome:
    P = prep.problem
    step_of = {s.project: (t, s) for t, s in enumerate(final.steps, 1)}
    added = {c: t for t, c in enumerate(completion_added, len(final.selected) + 1)}
    results = []
    for c, pid in enumerate(prep.ids):
        cost = P.costs[c]
        score = prep.score[c]
        n_sup = prep.supporters[c]
        if c in step_of:
            t, s = step_of[c]
            details: dict[str, Any] = {
                "endowment": final.endowment,
                "rho": s.rho,
                "price_per_unit": s.price_per_unit,
                "supporters": n_sup,
                "supporters_money_before": s.supporters_money,
                "full_payers": s.full_payers,
                "partial_payers": s.partial_payers,
                "paid_by_partial_payers": s.paid_by_partial,
            }
            if s.max_payment is not None:
                details["payment_per_full_payer"] = s.max_payment
            late = plain_selected is not None and c not in plain_selected
            if late:
                details["completion"] = "add1"
            pay = (f"{s.full_payers} supporter(s) paid {_fmt(s.max_payment)} each"
                   if s.max_payment is not None else
                   f"{s.full_payers} supporter(s) paid {_fmt(s.price_per_unit)} per point (or Borda point) they gave it")
            if s.partial_payers:
                pay += f", {s.partial_payers} paid all they had left ({_fmt(s.paid_by_partial)} in total)"
            msg = f"Funded at step {t}: its supporters could pay its cost of {_fmt(cost)}; {pay}."
            if late:
                msg += " Plain MES would not fund it; the add1 completion (more money per voter) did."
            results.append(ProjectResult(pid, True, FUNDED_IN_COMPLETION if late else FUNDED, msg, cost, score, t,
                                         s.rho, details))
        elif c in added:
            results.append(ProjectResult(
                pid, True, FUNDED_IN_COMPLETION,
                f"Funded in the greedy completion: it had {_fmt(score)} votes and its cost of {_fmt(cost)} "
                "fit in the budget MES left unspent.", cost, score, added[c], None,
                {"completion": "greedy", "money_left_by_mes": final.money_left.get(c)}))
        elif n_sup == 0:
            results.append(ProjectResult(pid, False, NO_SUPPORT, "Nobody voted for it.", cost, score, None, None, {}))
        else:
            money = final.money_left[c]
            details = {"endowment": final.endowment, "supporters": n_sup, "supporters_money": money,
                       "shortfall": cost - money}
            if c in skipped:
                details["money_left"] = skipped[c]
                msg = (f"Not funded: its supporters had {_fmt(money)} left for a cost of {_fmt(cost)}, and in the "
                       f"greedy completion it did not fit in the {_fmt(skipped[c])} left.")
                reason = DID_NOT_FIT
            else:
                msg = (f"Not funded: at the end its {n_sup} supporter(s) had {_fmt(money)} left, "
                       f"less than its cost of {_fmt(cost)}.")
                reason = SUPPORTERS_COULD_NOT_PAY
            results.append(ProjectResult(pid, False, reason, msg, cost, score, None, None, details))
    selected = [prep.ids[c] for c in final.selected] + [prep.ids[c] for c in completion_added]
    total = sum((P.costs[c] for c in list(final.selected) + list(completion_added)), Fraction(0))
    return Outcome("mes", {}, prep.budget, tuple(selected), total, tuple(results), {}, "", "", notes)


def _greedy_outcome(prep: Prepared, verdict, final: E.Run, notes) -> Outcome:
    P = prep.problem
    pos = {c: t for t, c in enumerate(verdict.greedy, 1)}
    results = []
    for c, pid in enumerate(prep.ids):
        cost, score = P.costs[c], prep.score[c]
        cmp = {"prefer_greedy": verdict.prefer_greedy, "prefer_mes": verdict.prefer_mes,
               "mes_selected": [prep.ids[x] for x in final.selected]}
        if c in pos:
            results.append(ProjectResult(
                pid, True, FUNDED, f"Funded: the greedy outcome (by votes) replaced MES because more voters "
                f"preferred it ({verdict.prefer_greedy} against {verdict.prefer_mes}); it came {pos[c]} by votes.",
                cost, score, pos[c], None, cmp))
        elif prep.supporters[c] == 0:
            results.append(ProjectResult(pid, False, NO_SUPPORT, "Nobody voted for it.", cost, score, None, None, {}))
        else:
            results.append(ProjectResult(
                pid, False, DID_NOT_FIT, "Not funded: the greedy outcome (by votes) replaced MES, and this project "
                "did not fit in what was left when its turn came.", cost, score, None, None, cmp))
    total = sum((P.costs[c] for c in verdict.greedy), Fraction(0))
    return Outcome("mes", {}, prep.budget, tuple(prep.ids[c] for c in verdict.greedy), total, tuple(results), {},
                   "", "", notes)
