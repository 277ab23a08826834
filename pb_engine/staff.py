"""City staff: their roles, bearer tokens and console passwords.

Roles are per city: manager (everything; `admin` is the older name and stays accepted),
reviewer (proposals and staff responses), clerk (access codes and paper ballots), viewer
(reads only). The JSON API and the console check them through api/auth.py.

Console passwords are argon2 hashes (argon2-cffi, its default parameters); a staff member sets
theirs through a one-time link whose token, like the bearer token, is kept as a sha256 only and
expires after SETUP_DAYS. A password is never stored, logged or audited in clear.

A token is shown once, when it is made; only its sha256 is stored, so a
leaked database does not leak tokens. Tokens carry a `pbs_` prefix so that
the API can tell a staff token from a resident or voter token without a
database round trip for each kind.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sqlmodel import Session, select

from pb_engine import audit
from pb_engine.errors import Unauthorized, ValidationFailed
from pb_engine.store.tables import City, StaffUser

ROLES = ("manager", "reviewer", "clerk", "viewer", "admin")  # admin: the older name of manager
MANAGERS = ("manager", "admin")
PREFIX = "pbs_"
SETUP_PREFIX = "pbp_"
SETUP_DAYS = 7
MIN_PASSWORD = 10
_hasher = PasswordHasher()
# A hash to verify against when the name is unknown, so that a wrong name costs as long as a wrong password:
# made by the hasher in use (its parameters are the cost), once per hasher.
_dummy: dict[int, str] = {}


def _dummy_hash() -> str:
    key = id(_hasher)
    if key not in _dummy:
        _dummy[key] = _hasher.hash("not a password of anyone")
    return _dummy[key]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_staff(session: Session, city: City, *, name: str, role: str, actor: str = "cli") -> tuple[StaffUser, str]:
    """Make a staff member of `city`; returns the row and the token (shown once)."""
    if role not in ROLES:
        raise ValidationFailed.field("role", f"must be one of {', '.join(ROLES)}, got {role!r}")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.field("name", "a staff member needs a name")
    token = PREFIX + secrets.token_urlsafe(32)
    staff = StaffUser(city_id=city.id, name=name, role=role, token_hash=hash_token(token))
    session.add(staff)
    session.flush()
    audit.record(session, actor=actor, action="staff.create", city_id=city.id, target=f"staff:{staff.id}",
                 after={"name": name, "role": role})
    return staff, token


def staff_by_token(session: Session, token: str) -> StaffUser | None:
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    staff = session.exec(select(StaffUser).where(StaffUser.token_hash == hash_token(token))).first()
    if staff is None or not staff.active:
        return None
    return staff


def list_staff(session: Session, city: City) -> list[StaffUser]:
    return list(session.exec(select(StaffUser).where(StaffUser.city_id == city.id).order_by(StaffUser.id)))


def deactivate(session: Session, staff: StaffUser, *, actor: str) -> StaffUser:
    before = {"active": staff.active}
    staff.active = False
    session.add(staff)
    audit.record(session, actor=actor, action="staff.deactivate", city_id=staff.city_id, target=f"staff:{staff.id}",
                 before=before, after={"active": False})
    return staff


def role_name(role: str) -> str:
    """The role a stored value means: `admin` is a manager."""
    return "manager" if role in MANAGERS else role


# --- console passwords ------------------------------------------------------------

def issue_setup_link(session: Session, staff: StaffUser, *, now: datetime, actor: str) -> str:
    """A new one-time set-password token (valid SETUP_DAYS); any earlier link stops working."""
    token = SETUP_PREFIX + secrets.token_urlsafe(32)
    staff.setup_token_hash = hash_token(token)
    staff.setup_expires_at = now + timedelta(days=SETUP_DAYS)
    session.add(staff)
    audit.record(session, actor=actor, action="staff.setup_link", city_id=staff.city_id, target=f"staff:{staff.id}",
                 after={"expires_at": staff.setup_expires_at.isoformat()})
    return token


def staff_by_setup_token(session: Session, token: str, now: datetime) -> StaffUser | None:
    """The active staff member whose unexpired, unused set-password link this is, or None."""
    if not token or not token.startswith(SETUP_PREFIX) or len(token) > 200:
        return None
    staff = session.exec(select(StaffUser).where(StaffUser.setup_token_hash == hash_token(token))).first()
    if staff is None or not staff.active or staff.setup_expires_at is None or staff.setup_expires_at <= now:
        return None
    return staff


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationFailed.field("password", f"at least {MIN_PASSWORD} characters")
    if len(password) > 1000:
        raise ValidationFailed.field("password", "at most 1000 characters")


def set_password(session: Session, staff: StaffUser, password: str, *, actor: str) -> StaffUser:
    """Store the argon2 hash of a new password; the set-password link, if any, is used up."""
    _check_password(password)
    staff.password_hash = _hasher.hash(password)
    staff.setup_token_hash = None
    staff.setup_expires_at = None
    session.add(staff)
    audit.record(session, actor=actor, action="staff.password_set", city_id=staff.city_id, target=f"staff:{staff.id}")
    return staff


def _verify(hash_: str | None, password: str) -> bool:
    try:
        return _hasher.verify(hash_ or _dummy_hash(), password or "") and hash_ is not None
    except (VerificationError, InvalidHashError):
        return False


def change_password(session: Session, staff: StaffUser, current: str, new: str) -> StaffUser:
    if not _verify(staff.password_hash, current):
        raise ValidationFailed.field("current", "this is not your current password")
    return set_password(session, staff, new, actor=f"staff:{staff.id}")


def authenticate(session: Session, city: City, staff_id_or_name: str, password: str) -> StaffUser:
    """The active staff member of `city` with this name and password; a failure is audited (never the password)."""
    name = (staff_id_or_name or "").strip()
    candidates = list(session.exec(select(StaffUser).where(StaffUser.city_id == city.id, StaffUser.name == name,
                                                            StaffUser.active == True)))  # noqa: E712
    staff = candidates[0] if len(candidates) == 1 else None  # two staff of one name: neither signs in by name
    if staff is not None and _verify(staff.password_hash, password):
        if _hasher.check_needs_rehash(staff.password_hash):
            staff.password_hash = _hasher.hash(password)
            session.add(staff)
        return staff
    if staff is None:
        _verify(None, password)  # same cost as a wrong password
    audit.record(session, actor="anonymous", action="staff.signin_failed", city_id=city.id,
                 target=f"staff:{staff.id}" if staff is not None else "", after={"name": name[:200]})
    raise Unauthorized("wrong name or password")


def staff_by_id(session: Session, city: City, staff_id) -> StaffUser | None:
    """The active staff member of `city` a console session names, or None."""
    if not isinstance(staff_id, int):
        return None
    staff = session.get(StaffUser, staff_id)
    if staff is None or not staff.active or staff.city_id != city.id:
        return None
    return staff


def city_of(session: Session, staff: StaffUser) -> City:
    return session.get(City, staff.city_id)
