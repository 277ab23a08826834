"""Time the equal-shares rules no other tool ships (EES with add-opt / add-opt-skip, BOS) on Pabulib files,
next to pb_engine's MES and MES + add1 in the same process.

On a shared machine the wall time grows with the load; the CPU time (this process) much less.

    .venv/bin/python benchmarks/bench_new_rules.py                       # every file of tests/data/pabulib
    .venv/bin/python benchmarks/bench_new_rules.py FILE.pb ... --repeat 3
    .venv/bin/python benchmarks/bench_new_rules.py --rules ees+add-opt-skip,mes+add1
    .venv/bin/python benchmarks/bench_new_rules.py --satisfaction cost,cardinality --rules ees,ees+add-opt-skip,bos \
        tests/data/pabulib/*.pb tests/data/pabulib_quirks/*.pb      # issue 14's EES target, both satisfactions

Every rule runs with the tie-breaking order of project ids and the `--satisfaction` given (cost by default;
several, comma-separated, give one row per file and satisfaction). Each cell is the best
wall / CPU time of `--repeat` runs of `allocate` (preparing the ballots and the explanations included),
then the share of the budget spent; a completion's cell also says how many EES runs (or add1 raises) it
took. A run longer than `--timeout` seconds (SIGALRM) is reported as such.
EES's completions need approval-style utilities: on files whose supporters give different points or Borda
scores the cell says "refused". Target: ees+add-opt-skip under 1 s on every file.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pb_engine import pabulib  # noqa: E402
from pb_engine.allocation import allocate  # noqa: E402
from pb_engine.allocation.tiebreak import by_id  # noqa: E402
from pb_engine.errors import ValidationFailed  # noqa: E402

RULES = {
    "mes": ("mes", {}),
    "mes+add1": ("mes", {"completion": "add1"}),
    "ees": ("ees", {}),
    "ees+add-opt-skip": ("ees", {"completion": "add-opt-skip"}),
    "ees+add-opt": ("ees", {"completion": "add-opt"}),
    "bos": ("bos", {}),
}
DEFAULT = "mes,mes+add1,ees,ees+add-opt-skip,ees+add-opt,bos"


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def cell(inst, prof, rule: str, options: dict, repeat: int, timeout: float, satisfaction: str = "cost") -> str:
    tie = by_id(p.id for p in inst.projects)
    best, out = None, None
    for _ in range(repeat):
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        t, cpu = time.perf_counter(), time.process_time()
        try:
            out = allocate(inst, prof, rule, tie_breaking=tie, satisfaction=satisfaction, **options)
        except Timeout:
            return f"> {timeout:g} s"
        except ValidationFailed:
            return "refused"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        dt = (time.perf_counter() - t, time.process_time() - cpu)
        best = dt if best is None else min(best, dt)
    spent = float(out.total_cost / inst.budget) if inst.budget else 0.0
    runs = ""
    for note in out.notes:
        m = re.search(r"(\d+) EES run|raised (\d+) time", note)
        if m:
            runs = f" {m.group(1) or m.group(2)}r"
    return f"{best[0]:.2f}/{best[1]:.2f}s {spent:4.0%}{runs}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--rules", default=DEFAULT, help=f"comma-separated, of: {', '.join(RULES)}")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--satisfaction", default="cost", help="cost, cardinality or both (comma-separated)")
    args = ap.parse_args(argv)
    files = args.files or sorted((ROOT / "tests" / "data" / "pabulib").glob("*.pb"))
    names = [r for r in args.rules.split(",") if r]
    sats = [s.strip() for s in args.satisfaction.split(",") if s.strip()]
    if not sats or any(s not in ("cost", "cardinality") for s in sats):
        ap.error("--satisfaction takes cost, cardinality or both")
    unknown = [r for r in names if r not in RULES]
    if unknown:
        ap.error(f"unknown rule(s) {', '.join(unknown)}")
    try:
        load = open("/proc/loadavg").read().split()[0]
        print(f"load average {load} on {os.cpu_count()} CPU(s); best of {args.repeat}; "
              "cell: wall/CPU time, budget spent, runs")
    except OSError:
        pass
    width = 22
    print(f"{'file':42}{'satisfaction':>13}" + "".join(f"{n:>{width}}" for n in names))
    for f in files:
        pb = pabulib.parse_path(f)
        inst, prof = pb.instance, pb.profile
        for sat in sats:
            row = [cell(inst, prof, *RULES[n], args.repeat, args.timeout, sat) for n in names]
            print(f"{f.stem[:41]:42}{sat:>13}" + "".join(f"{c:>{width}}" for c in row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
