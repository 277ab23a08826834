"""Implementation of a round as the public and staff read it: the funded projects of the published
outcome with their progress updates (newest first), each one's latest status, and the round's totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from pb_engine.implementation import STATUSES, funded_ids
from pb_engine.store.lookup import districts_of
from pb_engine.store.tables import ImplementationUpdate, Proposal, Round


@dataclass(frozen=True)
class UpdateItem:
    id: int
    proposal_id: int
    status: str                  # planned | in_progress | done | delayed | cancelled
    percent_done: int
    spent: int | None            # minor units
    on_date: datetime            # the day the report speaks for (local midnight, stored in UTC)
    note: str
    photo_type: str | None       # set when the update has a photo (served by its own route)
    created_at: datetime

    @property
    def has_photo(self) -> bool:
        return self.photo_type is not None


@dataclass(frozen=True)
class FundedProject:
    id: int
    title: str
    district_slug: str
    district_name: str
    cost: int                    # minor units, as on the ballot
    latest: UpdateItem | None
    updates: int

    @property
    def status(self) -> str:
        return self.latest.status if self.latest else "planned"

    @property
    def percent_done(self) -> int:
        return self.latest.percent_done if self.latest else 0

    @property
    def spent(self) -> int | None:
        return self.latest.spent if self.latest else None


@dataclass(frozen=True)
class Overview:
    round_slug: str
    published: bool              # False: no published outcome yet, `projects` is empty
    projects: tuple[FundedProject, ...]

    @property
    def total_cost(self) -> int:
        return sum(p.cost for p in self.projects)

    @property
    def total_spent(self) -> int:
        return sum(p.spent or 0 for p in self.projects)

    @property
    def done(self) -> int:
        return sum(p.status == "done" for p in self.projects)

    def by_status(self) -> dict[str, int]:
        return {s: sum(p.status == s for p in self.projects) for s in STATUSES}


_COLUMNS = (ImplementationUpdate.id, ImplementationUpdate.proposal_id, ImplementationUpdate.status,
            ImplementationUpdate.percent_done, ImplementationUpdate.spent, ImplementationUpdate.on_date,
            ImplementationUpdate.note, ImplementationUpdate.photo_type, ImplementationUpdate.created_at)
_NEWEST = (ImplementationUpdate.on_date.desc(), ImplementationUpdate.id.desc())


def _item(row) -> UpdateItem:
    return UpdateItem(*row)


def updates_of(session: Session, proposal_id: int) -> tuple[UpdateItem, ...]:
    """A project's updates, newest first (by the date they speak for, then by entry); no photo bytes read."""
    rows = session.exec(select(*_COLUMNS).where(ImplementationUpdate.proposal_id == proposal_id)
                        .order_by(*_NEWEST)).all()
    return tuple(_item(r) for r in rows)


def overview(session: Session, rnd: Round) -> Overview:
    funded = funded_ids(session, rnd)
    if funded is None:
        return Overview(rnd.slug, False, ())
    names = {d.id: (d.slug, d.name) for d in districts_of(session, rnd)}
    order = {d_id: i for i, d_id in enumerate(names)}
    proposals = session.exec(select(Proposal).where(Proposal.round_id == rnd.id, Proposal.id.in_(funded or [0]))).all()
    ids = [p.id for p in proposals]
    latest: dict[int, UpdateItem] = {}
    counts: dict[int, int] = {}
    if ids:
        for row in session.exec(select(*_COLUMNS).where(ImplementationUpdate.proposal_id.in_(ids)).order_by(*_NEWEST)):
            latest.setdefault(row[1], _item(row))
        counts = dict(session.exec(select(ImplementationUpdate.proposal_id, func.count(ImplementationUpdate.id))
                                   .where(ImplementationUpdate.proposal_id.in_(ids))
                                   .group_by(ImplementationUpdate.proposal_id)).all())
    projects = []
    for p in sorted(proposals, key=lambda p: (order.get(p.district_id, 0), p.id)):
        slug, name = names.get(p.district_id, ("", ""))
        cost = p.reviewed_cost if p.reviewed_cost is not None else (p.estimated_cost or 0)
        projects.append(FundedProject(p.id, p.title, slug, name, cost, latest.get(p.id), int(counts.get(p.id, 0))))
    return Overview(rnd.slug, True, tuple(projects))


def photo(session: Session, rnd: Round, update_id: int) -> tuple[bytes, str] | None:
    """(bytes, content type) of an update's photo in this round, or None."""
    row = session.exec(select(ImplementationUpdate.photo, ImplementationUpdate.photo_type)
                       .join(Proposal, Proposal.id == ImplementationUpdate.proposal_id)
                       .where(ImplementationUpdate.id == update_id, Proposal.round_id == rnd.id)).first()
    if row is None or row[0] is None or not row[1]:
        return None
    return bytes(row[0]), row[1]


__all__ = ["FundedProject", "Overview", "UpdateItem", "overview", "photo", "updates_of"]
