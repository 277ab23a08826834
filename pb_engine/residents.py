"""Resident accounts: a simple username + password login per city.

Passwords are hashed with werkzeug.security. A resident may submit, endorse
and comment; voting as a resident needs staff to have verified the district
(see voting). Login tokens are signed, not stored: `pbr_<id>.<expiry>.<hmac>`,
keyed with the resident's password hash (and SECRET_KEY / PB_SECRET_KEY when
set), so any worker can check one and a new password revokes them all.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

# werkzeug's own default (scrypt); a hash records its method, so a cheaper one set by tests still verifies.
PASSWORD_METHOD = "scrypt"

from pb_engine.errors import Conflict, Unauthorized, ValidationFailed
from pb_engine.store.tables import City, Resident

PREFIX = "pbr_"
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
TOKEN_MAX_AGE = 30 * 24 * 3600


def find_by_username(session: Session, city: City, username: str) -> Resident | None:
    """The city's resident with this username (unique per city), or None; see by_username for NotFound."""
    return session.exec(select(Resident).where(Resident.city_id == city.id, Resident.username == username)).first()


def register(session: Session, city: City, *, username: str, password: str, display_name: str | None = None,
             district: str | None = None) -> Resident:
    if not USERNAME.match(username or ""):
        raise ValidationFailed.field("username", "3 to 64 letters, digits, '_', '.' or '-'")
    if len(password or "") < 8:
        raise ValidationFailed.field("password", "at least 8 characters")
    if find_by_username(session, city, username) is not None:
        raise Conflict(f"username {username!r} is taken", {"username": ["is taken"]})
    resident = Resident(city_id=city.id, username=username, display_name=(display_name or username).strip() or username,
                        password_hash=generate_password_hash(password, method=PASSWORD_METHOD), district_slug=district or None)
    session.add(resident)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent registration won the unique constraint
        raise Conflict(f"username {username!r} is taken", {"username": ["is taken"]}) from exc
    return resident


def authenticate(session: Session, city: City, username: str, password: str) -> Resident:
    resident = find_by_username(session, city, username)
    if resident is None or not resident.password_hash or not check_password_hash(resident.password_hash, password):
        raise Unauthorized("wrong username or password")
    return resident


def _key(resident: Resident, secret: str) -> bytes:
    # The password hash is known only to the server and changes with the password, so every worker can check
    # a token without shared state, and a new password revokes every old token; a configured secret adds to it.
    return (secret + "\x00" + resident.password_hash).encode()


def _sign(resident: Resident, expires: int, secret: str) -> str:
    message = f"{resident.id}.{resident.city_id}.{expires}".encode()
    return hmac.new(_key(resident, secret), message, hashlib.sha256).hexdigest()


def issue_token(resident: Resident, secret: str = "", now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + TOKEN_MAX_AGE)
    return f"{PREFIX}{resident.id}.{expires}.{_sign(resident, expires, secret)}"


def resident_by_token(session: Session, token: str, secret: str = "", now: float | None = None) -> Resident | None:
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    parts = token[len(PREFIX):].split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[0]) > 10 or len(parts[1]) > 12:
        return None
    rid, expires = int(parts[0]), int(parts[1])
    if not 0 < rid < 2**31 or expires < (now if now is not None else time.time()):
        return None
    resident = session.get(Resident, rid)
    if resident is None or not resident.password_hash:
        return None
    if not hmac.compare_digest(_sign(resident, expires, secret), parts[2]):
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
        resident = find_by_username(session, city, username)
    if resident is None:
        raise NotFound(f"no resident {username!r} in {city.slug}")
    return resident
