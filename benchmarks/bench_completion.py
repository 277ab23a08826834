"""MES with the add1 completion: pabutools 1.2.3 against pb_engine, side by side in one process.

    .venv/bin/python benchmarks/bench_completion.py                         # the three largest files, cost
    .venv/bin/python benchmarks/bench_completion.py --satisfaction cost,cardinality --reference-timeout 120
    .venv/bin/python benchmarks/bench_completion.py --all --skip-reference  # every file of the repo's set
    .venv/bin/python benchmarks/bench_completion.py --files France_Toulouse_2022.pb --completion add1-comparison

Per file and satisfaction, four computations of the same outcome (same tie-breaking order:
project ids in natural order):
- pabutools: `method_of_equal_shares(..., voter_budget_increment=1)` on the objects built by the
  test oracle (tests/allocation/oracle.py), under `--reference-timeout` seconds (SIGALRM); it
  takes minutes on Warszawa 2026 (about 20 s per MES run there);
- exact: pb_engine's exact engine alone (PB_MES_KERNEL=0, as shipped before the compiled kernel:
  mes._add1_skipping, runs that start where the run at the raise before stood as far as that run
  proves alike, raises proven alike not run), on one core;
- kernel: `allocate(..., "mes", completion=..., workers=1)` as shipped: one compiled run per raise
  (mes_kernel.py; mes._add1_compiled), the exact engine only where the kernel's bounds cannot
  decide, and for the final traced run;
- 2 threads: the same with workers=2 (a second thread runs blocks of raises ahead; wall time).
"runs" counts the MES runs each made (mes_engine.run and run_tracked calls that ran, and kernel
runs; the traced final run included; a run started mid-way counts as one); pabutools makes one
per raise. "same" says whether all finished computations fund the same projects (pabutools:
without projects nobody voted for).
Each pb_engine figure is the best of `--repeat`; wall and CPU seconds (CPU: this process,
other jobs on the machine count less there; the speed-up, exact over kernel, is in CPU time).
The load average is printed before and after.

"x pabutools" is pabutools' wall time over pb_engine's (both measured in this run, one after the
other, so that the machine's load weighs on both alike).
Then, unless `--no-new-rules`, a second table times the rules no other tool ships on the same
files (benchmarks/bench_new_rules.py's cells: EES, EES + add-opt-skip, EES + add-opt, BOS), next to
plain MES and MES + add1 as a reference measured in the same run.

Targets (issue 14): every file under 1 s; Warszawa 2026 and Toulouse 2022 under 0.5 s;
EES + add-opt-skip under 1 s on every file.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "allocation"))   # oracle.py: pabutools' objects, as in the tests
sys.path.insert(0, str(ROOT / "benchmarks"))             # bench_new_rules.cell

DATA = ROOT / "tests" / "data" / "pabulib"
LARGEST = ("Poland_Warszawa_2026.pb", "France_Toulouse_2022.pb", "Poland_Wieliczka_2023_Green_Budget.pb")


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _load() -> str:
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


class Counting:
    """Counts mes_engine.run calls, run_tracked calls that ran and the compiled kernel's runs, while installed."""

    def __init__(self):
        from pb_engine.allocation import mes_engine as E
        from pb_engine.allocation import mes_kernel as K

        self.E, self.orig, self.orig_tracked, self.n = E, E.run, E.run_tracked, 0
        self.K, self.orig_kernel = K.Kernel, K.Kernel.run

    def __enter__(self):
        def counted(*a, **kw):
            self.n += 1
            return self.orig(*a, **kw)

        def counted_tracked(*a, **kw):
            out = self.orig_tracked(*a, **kw)
            self.n += out[2]
            return out

        orig_kernel = self.orig_kernel

        def counted_kernel(kern, *a, **kw):
            self.n += 1
            return orig_kernel(kern, *a, **kw)

        self.E.run = counted
        self.E.run_tracked = counted_tracked
        self.K.run = counted_kernel
        return self

    def __exit__(self, *exc):
        self.E.run = self.orig
        self.E.run_tracked = self.orig_tracked
        self.K.run = self.orig_kernel


def _warm_kernel() -> float:
    """Seconds numba takes to compile the kernel, or to load it from its cache, in this process."""
    from pb_engine.allocation.instance import Instance, Project
    from pb_engine.allocation.mes import add1, prepare
    from pb_engine.allocation.tiebreak import by_id
    from pb_engine.ballots.kinds import ApprovalBallot, Profile, VoteType

    t = time.perf_counter()
    inst = Instance(Fraction(10), (Project("1", Fraction(4)), Project("2", Fraction(7))))
    prof = Profile(VoteType.APPROVAL, (ApprovalBallot(frozenset({"1"})), ApprovalBallot(frozenset({"1", "2"}))))
    add1(prepare(inst, prof, "cost", by_id(["1", "2"])), workers=1)
    return time.perf_counter() - t


def ours(inst, prof, tie, satisfaction, completion, repeat, loop=None, kernel=True, workers=1):
    """(best wall s, best CPU s, runs, selected) of allocate with the given add1 loop (None: as shipped), with
    or without the compiled kernel (kernel=False: PB_MES_KERNEL=0, the exact engine alone), on `workers`."""
    from pb_engine.allocation import allocate, mes

    saved = mes._add1_skipping
    saved_env = os.environ.get("PB_MES_KERNEL")
    if loop is not None:
        mes._add1_skipping = loop
    if not kernel:
        os.environ["PB_MES_KERNEL"] = "0"
    try:
        best = best_cpu = float("inf")
        for _ in range(repeat):
            gc.collect()
            c, t = _cpu(), time.perf_counter()
            with Counting() as counter:
                out = allocate(inst, prof, "mes", satisfaction=satisfaction, completion=completion, tie_breaking=tie,
                               workers=workers)
            best, best_cpu = min(best, time.perf_counter() - t), min(best_cpu, _cpu() - c)
        return best, best_cpu, counter.n, frozenset(out.selected)
    finally:
        mes._add1_skipping = saved
        if saved_env is None:
            os.environ.pop("PB_MES_KERNEL", None)
        else:
            os.environ["PB_MES_KERNEL"] = saved_env


def reference(inst, prof, order, satisfaction, completion, timeout):
    """(seconds, funded ids) of pabutools' MES with voter_budget_increment=1, or (None, None) on timeout."""
    import oracle
    from pabutools.rules import method_of_equal_shares

    if completion != "add1":
        return None, None   # pabutools has no add1 without its exhaustive stop, nor the comparison step
    sat = oracle.sat_class(prof.vote_type, satisfaction)
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    t = time.perf_counter()
    try:
        got = oracle.run(method_of_equal_shares, inst, prof, order=order, sat=sat, voter_budget_increment=1)
        return time.perf_counter() - t, got
    except Timeout:
        return None, None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def new_rules_table(names, repeat) -> None:
    """The new rules on the same files, cost satisfaction (bench_new_rules.cell: wall/CPU s, budget spent, runs)."""
    import oracle
    from bench_new_rules import RULES, cell

    cols = ["mes", "mes+add1", "ees", "ees+add-opt-skip", "ees+add-opt", "bos"]
    print(f"\nnew rules, cost satisfaction (cell: wall/CPU s, budget spent, EES runs or add1 raises); "
          f"load average {_load()}")
    width = 25
    print(f"{'file':<44}" + "".join(f"{c:>{width}}" for c in cols))
    for name in names:
        inst, prof = oracle.read(name)
        row = [cell(inst, prof, *RULES[c], repeat, 120.0) for c in cols]
        print(f"{name[:43]:<44}" + "".join(f"{c:>{width}}" for c in row), flush=True)
    print(f"load average {_load()} at the end")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", default=",".join(LARGEST), help="comma-separated names in tests/data/pabulib")
    ap.add_argument("--all", action="store_true", help="every file of tests/data/pabulib")
    ap.add_argument("--satisfaction", default="cost", help="cost, cardinality or both (comma-separated)")
    ap.add_argument("--completion", default="add1", choices=("add1", "add1-comparison"))
    ap.add_argument("--repeat", type=int, default=1, help="pb_engine runs per figure (best kept)")
    ap.add_argument("--reference-timeout", type=float, default=60.0, help="seconds per pabutools computation")
    ap.add_argument("--skip-reference", action="store_true", help="no pabutools")
    ap.add_argument("--skip-exact", action="store_true", help="no run of the exact engine alone (PB_MES_KERNEL=0)")
    ap.add_argument("--no-new-rules", action="store_true", help="no table of the new rules (ees, bos)")
    args = ap.parse_args(argv)

    import oracle

    from pb_engine.allocation.tiebreak import by_id

    names = sorted(p.name for p in DATA.glob("*.pb")) if args.all else [n.strip() for n in args.files.split(",")]
    sats = [s.strip() for s in args.satisfaction.split(",") if s.strip()]
    print(f"MES + {args.completion}; load average {_load()} on {os.cpu_count()} CPU(s) at start; "
          f"pb_engine best of {args.repeat}, pabutools timeout {args.reference_timeout:g} s")
    print(f"numba: the kernel compiled or loaded from its cache in {_warm_kernel():.2f} s (once per process, "
          "not in the figures below)")
    print(f"{'file':<44} {'sat':<5} {'pabutools':>10} {'exact':>8} {'(CPU)':>7} {'runs':>5} "
          f"{'kernel':>7} {'(CPU)':>7} {'runs':>5} {'2 threads':>9} {'speed-up':>8} {'x pabutools':>11}  same")
    ok = True
    for name in names:
        inst, prof = oracle.read(name)
        tie = by_id(p.id for p in inst.projects)
        for sat in sats:
            new_t, new_cpu, new_runs, new_sel = ours(inst, prof, tie, sat, args.completion, args.repeat)
            two_t, _, _, two_sel = ours(inst, prof, tie, sat, args.completion, args.repeat, workers=2)
            old = None if args.skip_exact else ours(inst, prof, tie, sat, args.completion, args.repeat, kernel=False)
            ref_t, ref_sel = (None, None) if args.skip_reference else \
                reference(inst, prof, tie.order, sat, args.completion, args.reference_timeout)
            sels = [new_sel, two_sel] + ([old[3]] if old else []) + ([ref_sel] if ref_sel is not None else [])
            same = "yes" if all(s == new_sel for s in sels) else "NO"
            ok &= same == "yes"
            ref = f"{ref_t:.2f}s" if ref_t is not None else ("-" if args.skip_reference or args.completion != "add1"
                                                            else f">{args.reference_timeout:g}s")
            o = f"{old[0]:7.3f}s {old[1]:6.3f}s {old[2]:5d}" if old else f"{'-':>8} {'-':>7} {'-':>5}"
            up = f"{old[1] / new_cpu:7.1f}x" if old else f"{'-':>8}"   # CPU: the wall time follows the load
            vs = f"{ref_t / new_t:10.1f}x" if ref_t is not None else \
                f"{'>' + format(args.reference_timeout / new_t, '.1f') + 'x':>11}" if ref != "-" else f"{'-':>11}"
            print(f"{name[:44]:<44} {sat[:5]:<5} {ref:>10} {o} {new_t:6.3f}s {new_cpu:6.3f}s {new_runs:5d} "
                  f"{two_t:8.3f}s {up} {vs}  {same}", flush=True)
    print(f"load average {_load()} at the end")
    if not args.no_new_rules:
        new_rules_table(names, args.repeat)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
