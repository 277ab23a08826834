"""Record pabutools' answers that take too long to compute in every test run.

    .venv/bin/python tests/allocation/record_pabutools.py     # rewrites pabutools_answers.json

pabutools' sequential Phragmén needs minutes on Poland_Warszawa_2026.pb (61 668
ballots) and, unlike greedy and max-welfare, cannot be fed a compressed profile.
Its answers are stored with the tie-breaking order used (our default, ids as
numbers); `test_phragmen.py` compares with them, and recomputes them live when
PB_LIVE_ORACLE=1 is set.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import oracle  # noqa: E402

from pb_engine.allocation.tiebreak import by_id  # noqa: E402

ANSWERS = Path(__file__).resolve().parent / "pabutools_answers.json"
RECORDED = {"Poland_Warszawa_2026.pb": ("phragmen/stop", "phragmen/skip")}


def compute(file: str, what: str) -> list[str]:
    instance, profile = oracle.read(file)
    order = by_id(p.id for p in instance.projects).order
    rule, overflow = what.split("/")
    assert rule == "phragmen"
    return sorted(oracle.phragmen(instance, profile, order, overflow), key=order.index)


def main() -> None:
    answers: dict = {"pabutools": "1.2.3", "tie_breaking": "by_id (numeric ids as numbers)", "answers": {}}
    for file, whats in RECORDED.items():
        for what in whats:
            t = time.time()
            answers["answers"].setdefault(file, {})[what] = compute(file, what)
            print(f"{file} {what}: {time.time() - t:.0f} s", flush=True)
    ANSWERS.write_text(json.dumps(answers, indent=1) + "\n")


if __name__ == "__main__":
    main()
