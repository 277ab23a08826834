"""Access codes of a round as the office counts them: per district and per batch, how many were
issued, used (voted), revoked, and are still sealed (printable again until marked printed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import Session, select

from pb_engine.store.lookup import districts_of
from pb_engine.store.tables import AccessCode, Round, StaffUser


@dataclass(frozen=True)
class Counts:
    issued: int
    used: int
    revoked: int
    sealed: int

    @property
    def unused(self) -> int:
        return self.issued - self.used - self.revoked


@dataclass(frozen=True)
class DistrictCodes:
    slug: str
    name: str
    counts: Counts


@dataclass(frozen=True)
class BatchCodes:
    batch: str
    districts: tuple[str, ...]    # slugs
    created_at: datetime
    created_by: str | None        # the staff member's name
    counts: Counts

    @property
    def printable(self) -> bool:
        return self.counts.sealed > 0


@dataclass(frozen=True)
class CodeUsage:
    districts: tuple[DistrictCodes, ...]
    batches: tuple[BatchCodes, ...]   # newest first
    total: Counts


def _sums():
    return (func.count(AccessCode.id),
            func.sum(case((AccessCode.spent_at.is_not(None), 1), else_=0)),
            func.sum(case((AccessCode.revoked_at.is_not(None), 1), else_=0)),
            func.sum(case((AccessCode.sealed.is_not(None), 1), else_=0)))


def _counts(row) -> Counts:
    return Counts(*(int(x or 0) for x in row))


def code_usage(session: Session, rnd: Round) -> CodeUsage:
    districts = districts_of(session, rnd)
    slugs = {d.id: d.slug for d in districts}
    by_district = {did: _counts(rest) for did, *rest in session.exec(
        select(AccessCode.district_id, *_sums()).where(AccessCode.round_id == rnd.id).group_by(AccessCode.district_id))}
    zero = Counts(0, 0, 0, 0)
    rows = session.exec(select(AccessCode.batch, AccessCode.district_id, func.min(AccessCode.created_at),
                               func.min(AccessCode.created_by), *_sums())
                        .where(AccessCode.round_id == rnd.id).group_by(AccessCode.batch, AccessCode.district_id)).all()
    staff_ids = {r[3] for r in rows if r[3] is not None}
    names = dict(session.exec(select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(staff_ids))).all()) \
        if staff_ids else {}
    grouped: dict[str, dict] = {}
    for batch, did, created_at, created_by, *sums in rows:
        g = grouped.setdefault(batch, {"districts": [], "created_at": created_at, "created_by": created_by,
                                       "sums": [0, 0, 0, 0]})
        g["districts"].append(slugs.get(did, "?"))
        g["created_at"] = min(g["created_at"], created_at)
        g["sums"] = [a + int(b or 0) for a, b in zip(g["sums"], sums)]
    batches = sorted((BatchCodes(b, tuple(sorted(g["districts"])), g["created_at"], names.get(g["created_by"]),
                                 Counts(*g["sums"])) for b, g in grouped.items()),
                     key=lambda x: (x.created_at, x.batch), reverse=True)
    per = tuple(DistrictCodes(d.slug, d.name, by_district.get(d.id, zero)) for d in districts)
    total = Counts(*(sum(getattr(p.counts, f) for p in per) for f in ("issued", "used", "revoked", "sealed")))
    return CodeUsage(per, tuple(batches), total)
