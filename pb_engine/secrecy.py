"""When a voter's choices and a round's running counts may be shown (issue 13, voter secrecy).

    voting_closed(phases, now) -> bool
        the round's voting phase has ended: no session opens any more, no choice is shown again.
    choices_shown(phases, now) -> bool
        a voter session may show its own ballot's choices: only while voting has not closed.
    counts_public(rnd, phases, now) -> bool
        voters, turnout and ballot figures may be published: once voting has ended, or while it is
        open when the round says `live_turnout = true` (default false: running counts stay hidden,
        so a published trend cannot steer the last days of voting). Staff pages read counts directly.

Why the choices are withheld after voting: an access code (or a resident account) is a bearer key to
its ballot. During voting the voter needs it to check and change their ballot; after voting there is
nothing left to change, and a code that still showed the ballot would let whoever gets the slip later
(a coercer, a family member) see how its holder voted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from pb_engine.phases import PhaseWindow, has_started, window


def voting_closed(phases: Sequence[PhaseWindow], now: datetime) -> bool:
    w = window(phases, "voting")
    return w is not None and now >= w.ends_at


def choices_shown(phases: Sequence[PhaseWindow], now: datetime) -> bool:
    return not voting_closed(phases, now)


def live_turnout(rnd) -> bool:
    """The round's setting (Round.live_turnout); False for rounds stored before it existed."""
    return bool(getattr(rnd, "live_turnout", False))


def counts_public(rnd, phases: Sequence[PhaseWindow], now: datetime) -> bool:
    if not has_started(phases, "voting", now):
        return False
    return voting_closed(phases, now) or live_turnout(rnd)


__all__ = ["choices_shown", "counts_public", "live_turnout", "voting_closed"]
