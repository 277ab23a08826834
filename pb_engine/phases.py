"""A round's dated phases and which one is current.

Phases run in this order; a round may skip some. Dates are aware datetimes
(stored in UTC, shown in the city's time zone). Between two phases (a gap) no
phase is current; before the first the round is `upcoming`, after the last it
is `closed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

PHASES = ("submission", "endorsement", "review", "voting", "tally", "results", "implementation")
UPCOMING = "upcoming"
CLOSED = "closed"


@dataclass(frozen=True)
class PhaseWindow:
    name: str
    starts_at: datetime
    ends_at: datetime

    def contains(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


def check_phases(phases: Sequence[PhaseWindow]) -> list[tuple[str, str]]:
    """Problems as (key, message): unknown names, ends before start, out of order, overlaps."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for p in phases:
        key = f"phases.{p.name}"
        if p.name not in PHASES:
            problems.append((key, f"unknown phase {p.name!r}; phases are {', '.join(PHASES)}"))
            continue
        if p.name in seen:
            problems.append((key, "phase given twice"))
        seen.add(p.name)
        if p.starts_at.tzinfo is None or p.ends_at.tzinfo is None:
            problems.append((key, "dates need a time zone offset (or the city's time zone)"))
            continue
        if p.ends_at <= p.starts_at:
            problems.append((key, f"ends_at {p.ends_at.isoformat()} is not after starts_at {p.starts_at.isoformat()}"))
    known = [p for p in phases if p.name in PHASES and p.starts_at.tzinfo and p.ends_at.tzinfo]
    for a, b in zip(known, known[1:]):
        if PHASES.index(b.name) <= PHASES.index(a.name):
            problems.append((f"phases.{b.name}", f"phase {b.name!r} is listed after {a.name!r}; phases must follow the order {', '.join(PHASES)}"))
        elif b.starts_at < a.ends_at:
            problems.append((f"phases.{b.name}", f"phase {b.name!r} starts at {b.starts_at.isoformat()}, before {a.name!r} ends at {a.ends_at.isoformat()}: phases overlap"))
    return problems


def sort_phases(phases: Iterable[PhaseWindow]) -> list[PhaseWindow]:
    return sorted(phases, key=lambda p: PHASES.index(p.name) if p.name in PHASES else len(PHASES))


def current_phase(phases: Sequence[PhaseWindow], now: datetime) -> str:
    """The phase whose window holds `now`; `upcoming`, `closed`, or the last phase ended when in a gap."""
    ordered = sort_phases(phases)
    if not ordered or now < ordered[0].starts_at:
        return UPCOMING
    for p in ordered:
        if p.contains(now):
            return p.name
    if now >= ordered[-1].ends_at:
        return CLOSED
    # In a gap between two phases: say which one ended last, e.g. "after voting" is still not voting.
    last = [p for p in ordered if p.ends_at <= now][-1]
    return f"after_{last.name}"


def window(phases: Sequence[PhaseWindow], name: str) -> PhaseWindow | None:
    for p in phases:
        if p.name == name:
            return p
    return None


def has_started(phases: Sequence[PhaseWindow], name: str, now: datetime) -> bool:
    w = window(phases, name)
    return w is not None and now >= w.starts_at
