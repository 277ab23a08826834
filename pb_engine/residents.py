"""Resident accounts: a simple username + password login per city.

Sign-up (`sign_up`) answers alike whether the username is free or taken, and costs the same: either way the
password is hashed once and one mail goes to the address given (what the mail says differs: a link that
finishes the sign-up, or a note that the name is taken). The account is pending, and cannot sign in, until
that link is opened (`confirm`), so trying a name tells nobody more than a mailbox they own does. Sign-in
(`authenticate`) hashes a wrong password, an unknown name and a pending account alike, and refuses them
with one message.

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
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

# werkzeug's own default (scrypt); a hash records its method, so a cheaper one set by tests still verifies.
PASSWORD_METHOD = "scrypt"

from pb_engine.errors import Conflict, Unauthorized, ValidationFailed
from pb_engine.store.tables import City, Resident

PREFIX = "pbr_"
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
TOKEN_MAX_AGE = 30 * 24 * 3600
CONFIRM_HOURS = 48      # the sign-up link; after it, a new sign-up may take the name
CONFIRMED, TAKEN = "confirm", "taken"
WRONG = "wrong username or password (a new account signs in once the link we e-mailed has been opened)"
_dummy: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash of PASSWORD_METHOD to check against where there is no account: the same cost as a real one."""
    if PASSWORD_METHOD not in _dummy:
        _dummy[PASSWORD_METHOD] = generate_password_hash("not a password of anyone", method=PASSWORD_METHOD)
    return _dummy[PASSWORD_METHOD]


def _hash_link(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignUp:
    """What a sign-up did, for the mail only (the answer to the person asking is the same for both kinds):
    CONFIRMED, with the link's token, or TAKEN."""

    kind: str
    username: str
    email: str
    token: str | None = None


def find_by_username(session: Session, city: City, username: str) -> Resident | None:
    """The city's resident with this username (unique per city), or None; see by_username for NotFound."""
    return session.exec(select(Resident).where(Resident.city_id == city.id, Resident.username == username)).first()


def register(session: Session, city: City, *, username: str, password: str, display_name: str | None = None,
             district: str | None = None) -> Resident:
    """An active account at once, without the e-mail step, and 409 for a taken name: for programs that own
    the accounts they make (tests, imports). People sign up through `sign_up`."""
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


def _checked(username: str, password: str, email: str) -> str:
    if not USERNAME.match(username or ""):
        raise ValidationFailed.field("username", "3 to 64 letters, digits, '_', '.' or '-'")
    if len(password or "") < 8:
        raise ValidationFailed.field("password", "at least 8 characters")
    email = (email or "").strip()
    if len(email) > 254 or not EMAIL.match(email):
        raise ValidationFailed.field("email", "an e-mail address such as name@example.org")
    return email


def sign_up(session: Session, city: City, *, username: str, password: str, email: str, now: datetime,
            display_name: str | None = None, district: str | None = None) -> SignUp:
    """Ask for an account. A free name gets a pending account and a link (valid CONFIRM_HOURS) to mail; a taken
    one (or one whose link is still valid) nothing but a note to mail. Both hash the password once."""
    email = _checked(username, password, email)
    password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
    found = find_by_username(session, city, username)
    if found is not None and found.pending and found.confirm_expires_at is not None and found.confirm_expires_at <= now:
        session.delete(found)  # a sign-up never finished does not hold the name for ever
        session.flush()
        found = None
    if found is not None:
        return SignUp(TAKEN, username, email)
    token = secrets.token_urlsafe(32)
    resident = Resident(city_id=city.id, username=username, display_name=(display_name or username).strip() or username,
                        password_hash=password_hash, district_slug=district or None, email=email, pending=True,
                        confirm_hash=_hash_link(token), confirm_expires_at=now + timedelta(hours=CONFIRM_HOURS))
    try:
        with session.begin_nested():
            session.add(resident)
    except IntegrityError:  # a concurrent sign-up took the name first
        return SignUp(TAKEN, username, email)
    return SignUp(CONFIRMED, username, email, token)


def confirm(session: Session, city: City, token: str, now: datetime) -> Resident:
    """Finish a sign-up from its e-mailed link: the account becomes active (the link is used up)."""
    from pb_engine.errors import NotFound

    resident = None
    if isinstance(token, str) and 20 <= len(token) <= 100:
        resident = session.exec(select(Resident).where(Resident.city_id == city.id,
                                                       Resident.confirm_hash == _hash_link(token))).first()
    if resident is None or not resident.pending or resident.confirm_expires_at is None \
            or resident.confirm_expires_at <= now:
        raise NotFound("this sign-up link is unknown, used or expired: sign up again")
    resident.pending = False
    resident.confirm_hash = None
    resident.confirm_expires_at = None
    session.add(resident)
    return resident


def authenticate(session: Session, city: City, username: str, password: str) -> Resident:
    resident = find_by_username(session, city, username)
    stored = resident.password_hash if resident is not None and resident.password_hash else None
    # Always one hash check: an unknown name costs what a wrong password costs.
    ok = check_password_hash(stored or _dummy_hash(), password or "") and stored is not None
    if not ok or resident.pending:
        raise Unauthorized(WRONG)
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
