"""Who is calling: staff (bearer `pbs_…`), residents (`pbr_…`) or voters (voter session token).

Rules, in one place so that every resource applies them alike:
- no or unknown token where one is needed: 401;
- a staff token of another city: 404 for that city's private data (it must not
  learn that a draft exists), 403 for its actions;
- a staff token of this city without the role: 403.
Public data needs no token at all.

Roles (per city; pb_engine/staff.py): manager (alias: admin) may do everything; reviewer works on
proposals and staff responses; clerk makes access codes and enters paper ballots; viewer reads.
The tuples below are what each kind of route accepts. A staff session cookie of the console
(`staff_in_console`) names a staff member too, but only the console's pages read it: the JSON
API keeps asking for a bearer token.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from flask import current_app
from sqlmodel import Session

from api.context import bearer_token, participant_token, voter_token

from pb_engine import residents, staff as staff_mod, voting
from pb_engine.errors import Forbidden, NotFound, Unauthorized
from pb_engine.store.tables import City, Resident, Round, StaffUser

log = logging.getLogger(__name__)
MANAGER = ("manager", "admin")                    # rounds, staff, outcomes, the audit log
REVIEW = MANAGER + ("reviewer",)                  # proposals: review, status, staff responses
CODES = MANAGER + ("clerk",)                      # access codes
PAPER = MANAGER + ("reviewer", "clerk")           # paper ballots (reviewers entered them before clerks existed)
RESIDENT_DESK = MANAGER + ("reviewer", "clerk")   # verifying a resident's district
READ = MANAGER + ("reviewer", "clerk", "viewer")  # private reads
ADMIN = MANAGER        # older names, kept for callers that still use them
ANY_STAFF = REVIEW


def secret_key() -> str:
    """Extra key for resident tokens: SECRET_KEY or PB_SECRET_KEY when set (tokens work without it too)."""
    return current_app.config.get("SECRET_KEY") or os.environ.get("PB_SECRET_KEY") or ""


def require_staff(session: Session, city: City, roles=ANY_STAFF, *, private: bool = False) -> StaffUser:
    """The calling staff member of `city` with one of `roles`, or the right refusal."""
    token = bearer_token()
    if token is None:
        if private:
            # Private data of a city is not there for the public: same answer as for a foreign token.
            raise NotFound("not found (staff only)")
        raise Unauthorized("staff bearer token needed")
    staff = staff_mod.staff_by_token(session, token)
    if staff is None:
        if private:
            raise NotFound("not found (staff only)")
        if token.startswith((residents.PREFIX, voting.TOKEN_PREFIX)):
            raise Forbidden("city staff only")
        raise Unauthorized("unknown or revoked staff token")
    if staff.city_id != city.id:
        if private:
            raise NotFound("not found")
        raise Forbidden(f"staff of another city cannot act in {city.slug!r}")
    if staff.role not in roles:
        raise Forbidden(f"needs role {' or '.join(r for r in roles if r != 'admin')}; you are {staff_mod.role_name(staff.role)}")
    return staff


def staff_in_console(session: Session, city: City) -> StaffUser | None:
    """The staff member of `city` the console's session cookie names, or None."""
    from api.context import cookie_staff_id

    return staff_mod.staff_by_id(session, city, cookie_staff_id(city.id))


def actor(staff: StaffUser) -> str:
    return f"staff:{staff.id}"


@dataclass
class Participant:
    """A resident (logged in) or a voter (voter session) acting in a round."""

    key: str                       # one person, one endorsement: "resident:<id>" or the voter key
    resident: Resident | None = None
    voter_key: str | None = None
    display_name: str = "resident"


def participant(session: Session, city: City, rnd: Round | None = None, *, required: bool = True) -> Participant | None:
    """The resident or voter asking, by bearer token or by the browser's session cookie."""
    token = participant_token(city.id, rnd.id if rnd is not None else None)
    if token is None:
        if required:
            raise Unauthorized("log in as a resident or open a voter session first")
        return None
    if token.startswith(staff_mod.PREFIX):
        if required:
            raise Forbidden("staff tokens cannot act as a resident; enter proposals on behalf of residents instead")
        return None
    if token.startswith(residents.PREFIX):
        resident = residents.resident_by_token(session, token, secret_key())
        if resident is None:
            raise Unauthorized("unknown or expired resident token")
        if resident.city_id != city.id:
            raise Forbidden(f"this resident account belongs to another city, not {city.slug!r}")
        return Participant(key=f"resident:{resident.id}", resident=resident, display_name=resident.display_name)
    if rnd is not None:
        vs = voter_session(session, rnd, token)
        if vs is not None:
            return Participant(key=vs.voter_key, voter_key=vs.voter_key, display_name="voter")
    raise Unauthorized("unknown or expired token")


def voter_session(session: Session, rnd: Round, token: str | None = None):
    """The live voter session of `rnd` for the bearer token or the session cookie, or None."""
    token = token if token is not None else voter_token(rnd.id)
    if token is None:
        return None
    return voting.session_for_token(session, rnd, token)


ACCESS_LEVELS = ("public", "participant", "voter", "staff", "admin", "staff-private", "admin-private")


def access(blp, level: str):
    """Document who may call an operation: OpenAPI `security` plus `x-pb-access` (the isolation test reads it)."""
    if level not in ACCESS_LEVELS:
        raise ValueError(level)
    doc = {"x-pb-access": level}
    if level != "public":
        doc["security"] = [{"bearer": []}]
    return blp.doc(**doc)
