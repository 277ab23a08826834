"""Who is calling: staff (bearer `pbs_…`), residents (`pbr_…`) or voters (voter session token).

Rules, in one place so that every resource applies them alike:
- no or unknown token where one is needed: 401;
- a staff token of another city: 404 for that city's private data (it must not
  learn that a draft exists), 403 for its actions;
- a staff token of this city without the role: 403.
Public data needs no token at all. Each JSON operation declares its level and the staff roles it admits
with `access(blp, level, roles)`; `init_app` checks both before the body is read (see `access`).

Roles (per city; pb_engine/staff.py): manager (alias: admin) may do everything; reviewer works on
proposals and staff responses; clerk makes access codes and enters paper ballots; viewer reads.
The tuples below are what each kind of route accepts. A staff session cookie of the console
(`staff_in_console`) names a staff member too, but only the console's pages read it: the JSON
API keeps asking for a bearer token.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass

from flask import current_app, request, session as cookie
from sqlmodel import Session
from werkzeug.exceptions import HTTPException

from api.context import RESIDENT_KEY, VOTERS_KEY, bearer_token, participant_token, voter_token

from pb_engine import residents, staff as staff_mod, voting
from pb_engine.errors import Forbidden, NotFound, Unauthorized
from pb_engine.store import lookup
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
STAFF_LEVELS = ("staff", "admin", "staff-private", "admin-private")
ROLE_NAMES = frozenset(READ)


def access(blp, level: str, roles: tuple[str, ...] | None = None):
    """Declare who may call an operation: its level and, for staff, the roles it admits (one of the tuples
    above, the same the view passes to require_staff).

    - staff levels ("staff", "admin", "staff-private", "admin-private") must name their roles;
    - "participant" (residents and voters) may name the staff roles that act on behalf of residents
      (entering a proposal: REVIEW); without them a staff token is refused;
    - "public" and "voter" take no roles (staff tokens cannot vote).

    The declaration is documented (OpenAPI `security`, `x-pb-access` and `x-pb-roles`, which the isolation
    tests read) and enforced before the body is read: `init_app`'s guard runs before any argument parsing
    (webargs) and before the JSON limits, so a stranger, or a staff member of the city without the role,
    gets 401/403/404, never a 422 that would tell the schema. The view still makes its own, finer check
    (the author, the object's state) with the objects it needs."""
    if level not in ACCESS_LEVELS:
        raise ValueError(level)
    if level in STAFF_LEVELS and not roles:
        raise ValueError(f"access(blp, {level!r}, roles): a staff operation names the roles it admits")
    if level in ("public", "voter") and roles:
        raise ValueError(f"access(blp, {level!r}) admits no staff roles")
    roles = tuple(roles or ())
    unknown = set(roles) - ROLE_NAMES
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    doc = {"x-pb-access": level}
    if level != "public":
        doc["security"] = [{"bearer": []}]
    if roles:
        doc["x-pb-roles"] = [r for r in roles if r != "admin"]
    documented = blp.doc(**doc)

    def decorate(func):
        func = documented(func)
        if level != "public":
            func = _checked_on_refusal(func, level, roles)
        func.pb_access = level
        func.pb_roles = roles
        return func

    return decorate


# --- the guard: who asks is checked before the body is read --------------------------------------


def declared(view, method: str) -> tuple[str | None, tuple[str, ...]]:
    """(level, roles) that `view` (an app.view_functions entry) declared for `method` with `access(...)`;
    (None, ()) for what declares nothing (pages, console, health)."""
    cls = getattr(view, "view_class", None)
    func = view if cls is None else getattr(cls, "get" if method == "HEAD" else method.lower(), None)
    return getattr(func, "pb_access", None), getattr(func, "pb_roles", ())


def _declared_access() -> tuple[str | None, tuple[str, ...]]:
    """The level and roles the matched view declared."""
    return declared(current_app.view_functions.get(request.endpoint or ""), request.method)


def _no_credentials(level: str):
    """The refusal a request with no credential of the kind `level` needs gets, without a database look-up."""
    token = bearer_token()
    if level in STAFF_LEVELS:
        if token is None:
            return NotFound("not found (staff only)") if level.endswith("-private") else \
                Unauthorized("staff bearer token needed")
        return None
    if level == "voter":
        if token is not None and token.startswith(staff_mod.PREFIX):
            return Forbidden("staff tokens cannot vote; enter paper ballots instead")
        if token is None and not cookie.get(VOTERS_KEY):
            return Unauthorized("a voter session token is needed (POST …/voter-sessions)")
        return None
    if token is None and not (cookie.get(RESIDENT_KEY) or cookie.get(VOTERS_KEY)):  # participant
        return Unauthorized("log in as a resident or open a voter session first")
    return None


def _check_caller(session: Session, level: str, roles: tuple[str, ...], args: dict) -> None:
    """Raise the refusal for the caller of a `level` route of this city (and round) admitting staff `roles`,
    as the view would."""
    from api.resources import _scope

    c = lookup.city_by_slug(session, args["city"]) if _scope._slug_ok(args.get("city", "")) else None
    if c is None:
        raise NotFound(f"no city {args.get('city')!r}")
    if level in STAFF_LEVELS:
        require_staff(session, c, roles, private=level.endswith("-private"))
        return
    rnd = None
    if "round" in args:
        if not _scope._slug_ok(args["round"]):
            raise NotFound(f"no round {args['round']!r} in city {c.slug!r}")
        rnd = lookup.round_by_slug(session, c, args["round"])
    if level == "voter":
        if rnd is None or voter_session(session, rnd) is None:
            raise Unauthorized("unknown or expired voter session")
        return
    token = bearer_token()
    if roles and token is not None and token.startswith(staff_mod.PREFIX):
        require_staff(session, c, roles)  # staff enter proposals on behalf of residents
        return
    participant(session, c, rnd)  # without roles a staff token is refused here


def _in_own_session(level: str, roles: tuple[str, ...], args: dict) -> None:
    # Its own short read session: the view opens the request's unit of work as it needs it (on SQLite a
    # write view must take the write lock first, and the ballot's cast runs in a transaction of its own).
    from api.context import database

    s = database().session_object()
    try:
        _check_caller(s, level, roles, args)
    finally:
        s.close()


def _guard():
    """Before a request that sends a body (POST, PUT, PATCH, DELETE) to a declared route: who asks."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None  # reads: see _checked_on_refusal
    level, roles = _declared_access()
    if level in (None, "public"):
        return None
    refused = _no_credentials(level)
    if refused is not None:
        raise refused
    if level != "voter":
        _in_own_session(level, roles, request.view_args or {})
    return None


def _checked_on_refusal(view, level: str, roles: tuple[str, ...]):
    """Where the guard does not look up who asks beforehand, a refused argument is answered only after it.

    - Reads (GET) send no body, and some answer the public too (a published outcome under a staff-private
      route): the view checks who asks, and query arguments the schema refuses get their 422 only once
      the caller passes the level's check, otherwise that check's 401/403/404.
    - Voter routes (the ballot) are the hot path: the cast checks the token in its own transaction, and a
      look-up before it would cost every ballot three statements (tests/voting/test_cast_cost.py). The
      guard checks that a voter credential is there; a refused body is answered as a read's is."""
    @functools.wraps(view)
    def checked(*a, **kw):
        try:
            return view(*a, **kw)
        except HTTPException as err:
            if err.code == 422 and (level == "voter" or request.method in ("GET", "HEAD")):
                if request.method in ("GET", "HEAD"):
                    refused = _no_credentials(level)
                    if refused is not None:
                        raise refused from None
                _in_own_session(level, roles, request.view_args or {})
            raise

    return checked


def init_app(app) -> None:
    """Register the guard; before the JSON limits' body check (api/limits.py), which reads the body."""
    app.before_request(_guard)
