"""What ran of the two optional halves of the suite (PostgreSQL, the browser), for the last lines of a run.

The conftests record into PG and BROWSER; the root conftest prints them. Under pytest-xdist the tests run
in worker processes, so each worker sends its figures to the controller at the end of its session
(workeroutput) and the controller adds them up before it writes the summary.
"""

from __future__ import annotations

PG = {"ran": 0, "skipped_reason": None}
BROWSER = {"ran": 0, "skipped_reason": None, "version": None}
_PARTS = {"pg": PG, "browser": BROWSER}


def export() -> dict:
    return {name: dict(part) for name, part in _PARTS.items()}


def merge(received: dict) -> None:
    """Add a worker's figures: counts add up, the first reason or version seen is kept."""
    for name, figures in (received or {}).items():
        part = _PARTS[name]
        for key, value in figures.items():
            if key == "ran":
                part["ran"] += value
            elif part.get(key) is None:
                part[key] = value
