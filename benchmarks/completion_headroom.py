"""How far can skipping raises take add1? Facts about the stepwise runs of one file (slow: every raise).

    .venv/bin/python benchmarks/completion_headroom.py France_Toulouse_2022.pb --satisfaction cost

For every raise k = 0 .. K of add1 (K: where add1 stops) it makes the complete MES run and prints:
- raises: K + 1 runs, what the stepwise loop makes;
- distinct: how many times the funded sequence differs from the previous raise's. Any exact
  scheme that skips raises must still make a run per distinct outcome (each needs computing),
  so K + 1 over this is the most that skipping can gain;
- shared prefix: the average number of first steps a run shares with the previous raise's
  (what reusing a common prefix could save, before the cost of rebuilding the state at the
  new endowment);
- same payers: the average number of first steps that also split payers alike (same numbers
  of full and partial payers): beyond them the money is no longer the same affine function of
  the endowment, so a run cannot be carried from one raise to the next by formula;
- skipping: the MES runs mes.add1 makes (runs at a raise b checked against a raise a cover the
  raises in between, mes_engine.run's `below`).

Measured (2 December 2026, cost satisfaction): Toulouse 2022, 1618 raises, 669 distinct outcomes
(at most 2.4x from skipping), 111.5 steps per run, shared prefix 92.0, same payers 71.4, mes.add1 1519
runs; Warszawa 2026, 185 raises, 66 distinct (2.8x), 44.6 steps, shared prefix 37.5, same payers 8.1,
184 runs. So skipping raises alone cannot bring Toulouse's add1 (~10 ms per MES run) under 0.5 s: that
needs runs that start from the shared prefix of the previous one instead of from scratch.

Runs that start mid-way (mes_engine.run_tracked, 3 December 2026) carry the state only as far as the
payers split alike, so "same payers" bounds what they save: over add1's first 40 raises (cost), Toulouse
computed 1254 steps and took 1271 from the run before; Warszawa 2026 computed 982 and took 249. With
their bookkeeping (a run from the start costs about two from scratch) that does not pay on either file,
and add1 hands over to the covering checks there; it pays where whole outcomes are proved alike for
many raises (Kraków 2021, Assen 2024, Warszawa 2017). Going further needs a run that follows a split
change instead of starting over at it (the money is then affine on a new piece).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "allocation"))


def _prefix(a, b) -> int:
    j = 0
    while j < min(len(a), len(b)) and a[j] == b[j]:
        j += 1
    return j


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="a name in tests/data/pabulib")
    ap.add_argument("--satisfaction", default="cost")
    ap.add_argument("--no-exhaustive-stop", action="store_true", help="add1 as in add1-comparison")
    args = ap.parse_args(argv)

    import oracle

    from pb_engine.allocation import mes_engine as E
    from pb_engine.allocation.mes import add1, endowment, prepare
    from pb_engine.allocation.tiebreak import by_id

    inst, prof = oracle.read(args.file)
    prep = prepare(inst, prof, args.satisfaction, by_id(p.id for p in inst.projects))
    stats = {}
    t = time.perf_counter()
    _, K, _ = add1(prep, exhaustive_stop=not args.no_exhaustive_stop, workers=1, stats=stats)
    t_add1 = time.perf_counter() - t
    seqs = []
    for k in range(K + 1):
        r = E.run(prep.problem, endowment(prep, k), trace=True)
        seqs.append([(s.project, s.full_payers, s.partial_payers) for s in r.steps])
    choices = [[p for p, _, _ in s] for s in seqs]
    pairs = range(K)
    distinct = 1 + sum(choices[i] != choices[i + 1] for i in pairs)
    n = max(1, K)
    shared = sum(_prefix(choices[i], choices[i + 1]) for i in pairs) / n
    alike = sum(_prefix(seqs[i], seqs[i + 1]) for i in pairs) / n
    steps = sum(map(len, choices)) / len(choices)
    print(f"{args.file} ({args.satisfaction}): raises {K + 1}, distinct outcomes {distinct} "
          f"(skipping gains at most {(K + 1) / distinct:.1f}x), steps per run {steps:.1f}, "
          f"shared prefix {shared:.1f}, same payers {alike:.1f}; "
          f"mes.add1 made {stats['runs']} runs in {t_add1:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
