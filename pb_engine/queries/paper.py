"""Paper ballot entries still open (waiting for their second entry, or mismatched), without their
content: a clerk confirming an entry types it from the paper, not from the screen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from pb_engine.paper import OPEN
from pb_engine.store.lookup import districts_of
from pb_engine.store.tables import PaperEntry, Round, StaffUser


@dataclass(frozen=True)
class OpenEntry:
    id: int
    district: str          # slug
    district_name: str
    status: str            # pending | mismatch
    entered_by: str | None
    entered_at: datetime


def open_entries(session: Session, rnd: Round) -> tuple[OpenEntry, ...]:
    names = {d.id: (d.slug, d.name) for d in districts_of(session, rnd)}
    rows = session.exec(select(PaperEntry.id, PaperEntry.district_id, PaperEntry.status, PaperEntry.entered_at,
                               StaffUser.name)
                        .join(StaffUser, StaffUser.id == PaperEntry.entered_by, isouter=True)
                        .where(PaperEntry.round_id == rnd.id, PaperEntry.status.in_(OPEN))
                        .order_by(PaperEntry.entered_at, PaperEntry.id)).all()
    return tuple(OpenEntry(i, *names.get(did, ("?", "?")), status, who, at) for i, did, status, at, who in rows)
