"""Finding the city, round, district and proposal a URL names (no blueprint here).

Path values are checked before they reach SQL: a slug that cannot exist or an
id beyond 32 bits is simply not found (404), never a database error.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session

from api.context import remember_scope

from pb_engine import money
from pb_engine.errors import NotFound, ValidationFailed
from pb_engine.store import lookup
from pb_engine.store.tables import City, District, OutcomeRecord, Proposal, Round
from pb_engine.store.types import utcnow

_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_ID = 2**31 - 1


def now() -> datetime:
    return utcnow()


def _slug_ok(value: str) -> bool:
    return bool(_SLUG.match(value or ""))


def city(session: Session, slug: str) -> City:
    if not _slug_ok(slug):
        raise NotFound(f"no city {slug!r}")
    c = lookup.city_by_slug(session, slug)
    remember_scope(city=c)
    return c


def round_(session: Session, city_slug: str, round_slug: str, *, for_update: bool = False) -> tuple[City, Round]:
    c = city(session, city_slug)
    if not _slug_ok(round_slug):
        raise NotFound(f"no round {round_slug!r} in city {c.slug!r}")
    rnd = lookup.round_by_slug(session, c, round_slug, for_update=for_update)
    remember_scope(rnd=rnd)
    return c, rnd


def check_slugs(city_slug: str, round_slug: str) -> None:
    """The checks of city() and round_() without their lookups, for a view whose service looks them up."""
    if not _slug_ok(city_slug):
        raise NotFound(f"no city {city_slug!r}")
    if not _slug_ok(round_slug):
        raise NotFound(f"no round {round_slug!r} in city {city_slug!r}")


def district(session: Session, rnd: Round, slug: str) -> District:
    if not _slug_ok(slug):
        raise NotFound(f"no district {slug!r} in round {rnd.slug!r}")
    return lookup.district_by_slug(session, rnd, slug)


def proposal(session: Session, rnd: Round, proposal_id: int) -> Proposal:
    p = session.get(Proposal, proposal_id) if 0 < proposal_id <= MAX_ID else None
    if p is None or p.round_id != rnd.id:
        raise NotFound(f"no proposal {proposal_id} in round {rnd.slug!r}")
    return p


def outcome(session: Session, rnd: Round, outcome_id: int) -> OutcomeRecord:
    o = session.get(OutcomeRecord, outcome_id) if 0 < outcome_id <= MAX_ID else None
    if o is None or o.round_id != rnd.id:
        raise NotFound(f"no outcome {outcome_id} in round {rnd.slug!r}")
    return o


def to_minor(field: str, amount, currency: str) -> int | None:
    if amount is None:
        return None
    try:
        return money.to_minor(amount, currency)
    except money.MoneyError as exc:
        raise ValidationFailed.field(field, str(exc)) from None


def to_major(minor: int | None, currency: str):
    return None if minor is None else money.major_json(minor, currency)
