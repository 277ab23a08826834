"""A city's audit log as its admins read it: newest first, filtered by round and action, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from math import ceil
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import Session, select

from pb_engine.store.tables import AuditEvent, City, Round


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str                 # "staff:<id>", "cli", "system"
    action: str
    round_slug: str | None     # None: the event concerns the city, not one of its rounds
    target: str
    before: Any                # the stored JSON state, as recorded
    after: Any


@dataclass(frozen=True)
class AuditPage:
    events: tuple[AuditEntry, ...]
    total: int                 # events matching the filters, on every page
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return ceil(self.total / self.per_page) if self.per_page else 0


def audit_page(session: Session, city: City, *, round_slug: str | None = None, action: str | None = None,
               page: int = 1, per_page: int = 50) -> AuditPage:
    """Events of `city`, newest first; `round_slug` names one of its rounds (an unknown slug matches
    nothing). Two queries: the count and the page, each event with its round's slug."""
    if page < 1 or per_page < 1:
        raise ValueError("page and per_page start at 1")
    # The join keeps only the city's own rounds, so an event never shows another city's round slug.
    joined = and_(Round.id == AuditEvent.round_id, Round.city_id == city.id)
    where = [AuditEvent.city_id == city.id]
    if round_slug:
        where.append(Round.slug == round_slug)
    if action:
        where.append(AuditEvent.action == action)
    matching = select(AuditEvent.id).outerjoin(Round, joined).where(*where)
    total = session.exec(select(func.count()).select_from(matching.subquery())).one()
    rows = session.exec(
        select(AuditEvent, Round.slug).outerjoin(Round, joined).where(*where)
        .order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    events = tuple(AuditEntry(e.id, e.at, e.actor, e.action, slug, e.target, e.before, e.after) for e, slug in rows)
    return AuditPage(events, total, page, per_page)


__all__ = ["AuditEntry", "AuditPage", "audit_page"]
