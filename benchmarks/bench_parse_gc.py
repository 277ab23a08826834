"""Parsing a .pb file with the cyclic GC on (as library code now leaves it) and paused (as the CLI parses).

    .venv/bin/python benchmarks/bench_parse_gc.py                       # Poland_Warszawa_2026.pb
    .venv/bin/python benchmarks/bench_parse_gc.py FILE.pb --repeat 5

Both in this process, best of `--repeat`, CPU time. pabulib.parse_text no longer pauses the GC
itself: the GC is the whole process's (a server's threads, a notebook), so only the CLI pauses it,
around its own parsing (pb_engine.commands.paused_gc).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pb_engine import pabulib  # noqa: E402
from pb_engine.commands import paused_gc  # noqa: E402


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", default=str(ROOT / "tests/data/pabulib/Poland_Warszawa_2026.pb"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    text = Path(args.file).read_text(encoding="utf-8")

    def paused():
        with paused_gc():
            pabulib.parse_text(text)

    on = best(lambda: pabulib.parse_text(text), args.repeat)
    off = best(paused, args.repeat)
    print(f"{Path(args.file).name}: parse_text, GC on {on:.3f} s · GC paused (CLI) {off:.3f} s · ratio {on / off:.2f}")


if __name__ == "__main__":
    main()
