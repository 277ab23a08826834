"""Moving a round along its phases by hand: `advance` starts the next phase now.

The phase that is current (if any) ends now and the next one starts now; a
next phase whose end is already past keeps its length from now on, and later
phases are pushed back where they would overlap, keeping their lengths. Gaps
the city planned are kept. The old and new dates go to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from pb_engine import audit
from pb_engine.errors import Conflict
from pb_engine.phases import CLOSED, UPCOMING, PhaseWindow, current_phase, has_started, sort_phases, window
from pb_engine.store.tables import Phase, Round

def _dates(rows: list[Phase]) -> dict:
    return {p.name: {"starts_at": p.starts_at.isoformat(), "ends_at": p.ends_at.isoformat()} for p in rows}


def phase_rows(session: Session, rnd: Round) -> list[Phase]:
    rows = list(session.exec(select(Phase).where(Phase.round_id == rnd.id).with_for_update()))
    order = {p.name: i for i, p in enumerate(sort_phases(rows))}
    return sorted(rows, key=lambda p: order[p.name])


@dataclass(frozen=True)
class Freeze:
    """Why a round's frozen settings (pb_engine.config.FROZEN_KEYS) cannot change any more."""

    why: str                    # voting_started | has_ballots | has_outcome
    since: datetime | None      # voting_started: when voting started


def freeze(session: Session, rnd: Round, now: datetime) -> Freeze | None:
    """The round's freeze, or None while its ballot and rule may still change (as upsert_round decides)."""
    from pb_engine.config import frozen_since
    from pb_engine.store.lookup import phases_of

    phases = phases_of(session, rnd)
    since = frozen_since(session, rnd, now, phases=phases)
    if since is None:
        return None
    if has_started(phases, "voting", now):
        return Freeze("voting_started", window(phases, "voting").starts_at)
    return Freeze("has_ballots" if since == "has ballots" else "has_outcome", None)


@dataclass(frozen=True)
class AdvancePlan:
    """What `advance` would do now, for a confirmation page: nothing is written."""

    current: str                          # current_phase(): a phase, upcoming, after_<phase>
    next: str | None                      # None: cannot advance (see `refusal`)
    refusal: str | None                   # no_phases | closed | last_phase
    before: tuple[PhaseWindow, ...]
    after: tuple[PhaseWindow, ...]        # the dates after advancing (== before when refused)


def advance_plan(session: Session, rnd: Round, now: datetime) -> AdvancePlan:
    from pb_engine.store.lookup import phases_of

    windows = phases_of(session, rnd)
    current = current_phase(windows, now) if windows else UPCOMING
    rows = [Phase(name=w.name, starts_at=w.starts_at, ends_at=w.ends_at) for w in windows]  # detached copies
    try:
        _current, cur_row, nxt = next_phase(rows, now)
    except Conflict:
        refusal = "no_phases" if not rows else "closed" if current == CLOSED else "last_phase"
        return AdvancePlan(current, None, refusal, tuple(windows), tuple(windows))
    _move(rows, cur_row, nxt, now)
    return AdvancePlan(current, nxt.name, None, tuple(windows),
                       tuple(PhaseWindow(p.name, p.starts_at, p.ends_at) for p in rows))


def next_phase(rows: list[Phase], now: datetime) -> tuple[str, Phase | None, Phase]:
    """(current phase name, its row or None, the row of the phase to start)."""
    if not rows:
        raise Conflict("this round has no phases to advance through")
    current = current_phase([PhaseWindow(p.name, p.starts_at, p.ends_at) for p in rows], now)
    if current == CLOSED:
        raise Conflict("the round is closed: its last phase has ended")
    if current == UPCOMING:
        return current, None, rows[0]
    name = current[len("after_"):] if current.startswith("after_") else current
    idx = next(i for i, p in enumerate(rows) if p.name == name)
    if idx + 1 >= len(rows):
        raise Conflict(f"{name!r} is the round's last phase; there is no next phase")
    cur_row = rows[idx] if not current.startswith("after_") else None
    return current, cur_row, rows[idx + 1]


def advance(session: Session, rnd: Round, *, actor: str, now: datetime) -> str:
    """Start the next phase of `rnd` now; returns its name."""
    rows = phase_rows(session, rnd)
    before = _dates(rows)
    current, cur_row, nxt = next_phase(rows, now)
    _move(rows, cur_row, nxt, now)
    for p in rows:
        session.add(p)
    rnd.updated_at = now
    session.add(rnd)
    session.flush()
    audit.record(session, actor=actor, action="round.advance", city_id=rnd.city_id, round_id=rnd.id,
                 target=f"round:{rnd.slug}", before={"phase": current, "phases": before},
                 after={"phase": nxt.name, "phases": _dates(rows)})
    return nxt.name


def _move(rows: list[Phase], cur_row: Phase | None, nxt: Phase, now: datetime) -> None:
    """End the current phase now, start the next now, push later ones back where they would overlap."""
    if cur_row is not None:
        cur_row.ends_at = now
    length = nxt.ends_at - nxt.starts_at
    nxt.starts_at = now
    if nxt.ends_at <= now:
        nxt.ends_at = now + length
    prev_end = nxt.ends_at
    for p in rows[rows.index(nxt) + 1:]:
        if p.starts_at < prev_end:
            shift = prev_end - p.starts_at
            p.starts_at += shift
            p.ends_at += shift
        prev_end = p.ends_at

