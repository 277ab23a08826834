"""Resident accounts: a simple username + password login per city.

Passwords are hashed with werkzeug.security. A resident may submit, endorse
and comment; voting as a resident needs staff to have verified the district
(see voting). Login tokens are signed (not stored): `pbr_` + an
itsdangerous token carrying the resident id and a fingerprint of the password
hash, so changing the password revokes every token.
"""

from __future__ import annotations

import hashlib
import re

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from pb_engine.errors import Conflict, Unauthorized, ValidationFailed
from pb_engine.store.tables import City, Resident

PREFIX = "pbr_"
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
TOKEN_MAX_AGE = 30 * 24 * 3600


def register(session: Session, city: City, *, username: str, password: str, display_name: str | None = None,
             district: str | None = None) -> Resident:
    if not USERNAME.match(username or ""):
        raise ValidationFailed.field("username", "3 to 64 letters, digits, '_', '.' or '-'")
    if len(password or "") < 8:
        raise ValidationFailed.field("password", "at least 8 characters")
    exists = session.exec(select(Resident).where(Resident.city_id == city.id, Resident.username == username)).first()
    if exists is not None:
        raise Conflict(f"username {username!r} is taken", {"username": ["is taken"]})
    resident = Resident(city_id=city.id, username=username, display_name=(display_name or username).strip() or username,
                        password_hash=generate_password_hash(password), district_slug=district or None)
    session.add(resident)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent registration won the unique constraint
        raise Conflict(f"username {username!r} is taken", {"username": ["is taken"]}) from exc
    return resident


def authenticate(session: Session, city: City, username: str, password: str) -> Resident:
    resident = session.exec(select(Resident).where(Resident.city_id == city.id, Resident.username == username)).first()
    if resident is None or not resident.password_hash or not check_password_hash(resident.password_hash, password):
        raise Unauthorized("wrong username or password")
    return resident


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="pb-engine-resident")


def _fingerprint(resident: Resident) -> str:
    return hashlib.sha256(resident.password_hash.encode()).hexdigest()[:16]


def issue_token(resident: Resident, secret: str) -> str:
    return PREFIX + _serializer(secret).dumps({"r": resident.id, "c": resident.city_id, "f": _fingerprint(resident)})


def resident_by_token(session: Session, token: str, secret: str) -> Resident | None:
    if not token.startswith(PREFIX) or len(token) > 500:
        return None
    try:
        data = _serializer(secret).loads(token[len(PREFIX):], max_age=TOKEN_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("r"), int) or not (0 < data["r"] < 2**31):
        return None
    resident = session.get(Resident, data["r"])
    if resident is None or resident.city_id != data.get("c") or _fingerprint(resident) != data.get("f"):
        return None
    return resident


def verify(session: Session, resident: Resident, *, staff, district: str | None, verified: bool) -> Resident:
    """Staff confirm (or withdraw) where a resident lives; a verified resident may vote there. Audited."""
    from pb_engine import audit

    before = {"verified": resident.verified, "district": resident.district_slug}
    if district is not None:
        resident.district_slug = district
    resident.verified = verified
    resident.verified_by = staff.id if verified else None
    session.add(resident)
    after = {"verified": resident.verified, "district": resident.district_slug}
    if after != before:
        audit.record(session, actor=f"staff:{staff.id}", action="resident.verify", city_id=resident.city_id,
                     target=f"resident:{resident.id}", before=before, after=after)
    return resident


def by_username(session: Session, city: City, username: str) -> Resident:
    from pb_engine.errors import NotFound

    resident = None
    if USERNAME.match(username or ""):
        resident = session.exec(select(Resident).where(Resident.city_id == city.id, Resident.username == username)).first()
    if resident is None:
        raise NotFound(f"no resident {username!r} in {city.slug}")
    return resident
