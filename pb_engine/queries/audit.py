"""A city's audit log as its admins read it: newest first, filtered by round, action, person, dates and
words, one page at a time (or every matching event, for a CSV export)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from math import ceil
from typing import Any

import json
from typing import Iterator

from sqlalchemy import String, and_, cast, func, or_
from sqlmodel import Session, select

from pb_engine.store.tables import AuditEvent, City, Round, StaffUser


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


@dataclass(frozen=True)
class AuditFilters:
    round_slug: str | None = None   # one of the city's rounds (an unknown slug matches nothing)
    action: str | None = None
    actor: str | None = None        # "staff:<id>", "cli", "system", as recorded
    since: datetime | None = None   # at or after (aware)
    until: datetime | None = None   # before (aware), e.g. the midnight after the last day wanted
    q: str | None = None            # words in the target, before or after (case-insensitive)


def _like(text: str) -> str:
    return "%" + text.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def _where(city: City, f: AuditFilters) -> list:
    where = [AuditEvent.city_id == city.id]
    if f.round_slug:
        where.append(Round.slug == f.round_slug)
    if f.action:
        where.append(AuditEvent.action == f.action)
    if f.actor:
        where.append(AuditEvent.actor == f.actor)
    if f.since is not None:
        where.append(AuditEvent.at >= f.since)
    if f.until is not None:
        where.append(AuditEvent.at < f.until)
    if f.q:
        # JSON columns as text; SQLite stores non-ASCII letters as \uXXXX escapes, so the escaped spelling
        # of the words is looked for too.
        spellings = {f.q, json.dumps(f.q)[1:-1]}
        cols = (AuditEvent.target, cast(AuditEvent.before, String), cast(AuditEvent.after, String))
        where.append(or_(*(col.ilike(_like(text), escape="!") for col in cols for text in spellings)))
    return where


def _joined(city: City):
    # The join keeps only the city's own rounds, so an event never shows another city's round slug.
    return and_(Round.id == AuditEvent.round_id, Round.city_id == city.id)


def audit_page(session: Session, city: City, *, round_slug: str | None = None, action: str | None = None,
               page: int = 1, per_page: int = 50, filters: AuditFilters | None = None) -> AuditPage:
    """Events of `city`, newest first, matching `filters` (or `round_slug` and `action`). Two queries: the
    count and the page, each event with its round's slug."""
    if page < 1 or per_page < 1:
        raise ValueError("page and per_page start at 1")
    f = filters or AuditFilters(round_slug=round_slug, action=action)
    where = _where(city, f)
    joined = _joined(city)
    matching = select(AuditEvent.id).outerjoin(Round, joined).where(*where)
    total = session.exec(select(func.count()).select_from(matching.subquery())).one()
    rows = session.exec(
        select(AuditEvent, Round.slug).outerjoin(Round, joined).where(*where)
        .order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    events = tuple(AuditEntry(e.id, e.at, e.actor, e.action, slug, e.target, e.before, e.after) for e, slug in rows)
    return AuditPage(events, total, page, per_page)


def audit_events(session: Session, city: City, filters: AuditFilters, *, batch: int = 500) -> Iterator[AuditEntry]:
    """Every matching event, newest first, read `batch` at a time (an export of a long log)."""
    where = _where(city, filters)
    joined = _joined(city)
    last_id = None
    while True:
        query = select(AuditEvent, Round.slug).outerjoin(Round, joined).where(*where)
        if last_id is not None:
            query = query.where(AuditEvent.id < last_id)
        rows = session.exec(query.order_by(AuditEvent.id.desc()).limit(batch)).all()
        for e, slug in rows:
            yield AuditEntry(e.id, e.at, e.actor, e.action, slug, e.target, e.before, e.after)
        if len(rows) < batch:
            return
        last_id = rows[-1][0].id


def audit_actions(session: Session, city: City) -> list[str]:
    """The actions the city's log holds, sorted: the choices of an action filter."""
    return list(session.exec(select(AuditEvent.action).where(AuditEvent.city_id == city.id).distinct()
                             .order_by(AuditEvent.action)))


def audit_actors(session: Session, city: City) -> list[str]:
    """The actors the city's log holds ("staff:<id>", "cli", "system", ...), sorted."""
    return list(session.exec(select(AuditEvent.actor).where(AuditEvent.city_id == city.id).distinct()
                             .order_by(AuditEvent.actor)))


def actor_names(session: Session, city: City) -> dict[str, str]:
    """{"staff:<id>": name} for every staff member the city has had (deactivated ones too)."""
    rows = session.exec(select(StaffUser.id, StaffUser.name).where(StaffUser.city_id == city.id))
    return {f"staff:{sid}": name for sid, name in rows}


__all__ = ["AuditEntry", "AuditFilters", "AuditPage", "actor_names", "audit_actions", "audit_actors", "audit_events",
           "audit_page"]
