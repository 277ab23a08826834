"""Verification codes for resident accounts: issued by city staff like access codes, typed in by a resident.

A code verifies the account that types it (`Resident.verified`, and its district when the code names one),
as a desk verification does: a city posts one code to each household or hands them out at a desk, so a
round whose endorsements need verified residents counts people, not e-mail addresses. The same alphabet,
length and check character as access codes (pb_engine.access_codes); stored as an HMAC keyed with the
service's secret, never in clear; one use each. A wrong code is a failed sign-in for the rate limits.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlmodel import Session, select

from pb_engine import access_codes, audit
from pb_engine.errors import Conflict, Unauthorized, ValidationFailed
from pb_engine.store.tables import City, District, Resident, ResidentCode, Round

MAX_PER_BATCH = 10_000


def _hash(key: bytes, city_id: int, code: str) -> str:
    return hmac.new(key, f"resident-code:{city_id}:{code}".encode(), hashlib.sha256).hexdigest()


def issue(session: Session, city: City, *, count: int, district: str | None, staff_id: int, key: bytes,
          now: datetime) -> list[str]:
    """`count` new codes (printable, "K7QM-4TXR-9PWC"), shown once; audited without the codes."""
    if not isinstance(count, int) or not 1 <= count <= MAX_PER_BATCH:
        raise ValidationFailed.field("count", f"from 1 to {MAX_PER_BATCH}")
    if district and session.exec(select(District.id).join(Round, District.round_id == Round.id)
                                 .where(Round.city_id == city.id, District.slug == district)).first() is None:
        raise ValidationFailed.field("district", f"no district {district!r} in the rounds of {city.slug}")
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(access_codes.new_code())
    for code in codes:
        session.add(ResidentCode(city_id=city.id, district_slug=district or None, code_hash=_hash(key, city.id, code),
                                 issued_by=staff_id, issued_at=now))
    audit.record(session, actor=f"staff:{staff_id}", action="resident_codes.issue", city_id=city.id,
                 target=f"district:{district}" if district else "city", after={"count": count})
    return sorted(access_codes.pretty(c) for c in codes)


def redeem(session: Session, resident: Resident, text: str, *, key: bytes, now: datetime) -> Resident:
    """Verify `resident` with a code of its city: 422 for a mistyped code (its check character), 401 for one
    that opens nothing, 409 for one used already (by anyone)."""
    try:
        code = access_codes.normalise(text)
    except access_codes.BadCode as err:
        raise ValidationFailed.field("code", str(err).replace("an access code", "a verification code")
                                     .replace("this access code", "this verification code")) from None
    row = session.exec(select(ResidentCode).where(ResidentCode.city_id == resident.city_id,
                                                  ResidentCode.code_hash == _hash(key, resident.city_id, code))
                       ).first()
    if row is None:
        raise Unauthorized("unknown verification code")
    if row.used_by is not None or row.used_at is not None:
        raise Conflict("this verification code has been used", {"code": ["used already"]})
    before = {"verified": resident.verified, "district": resident.district_slug}
    row.used_by, row.used_at = resident.id, now
    resident.verified = True
    resident.verified_by = row.issued_by
    if row.district_slug:
        resident.district_slug = row.district_slug
    session.add(row)
    session.add(resident)
    audit.record(session, actor=f"resident:{resident.id}", action="resident.verify", city_id=resident.city_id,
                 target=f"resident:{resident.id}", before=before,
                 after={"verified": True, "district": resident.district_slug, "by": "code"})
    return resident
