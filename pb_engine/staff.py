"""City staff and their bearer tokens.

A token is shown once, when it is made; only its sha256 is stored, so a
leaked database does not leak tokens. Tokens carry a `pbs_` prefix so that
the API can tell a staff token from a resident or voter token without a
database round trip for each kind.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, select

from pb_engine import audit
from pb_engine.errors import ValidationFailed
from pb_engine.store.tables import City, StaffUser

ROLES = ("admin", "reviewer")
PREFIX = "pbs_"


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
