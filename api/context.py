"""One request context for the JSON API and the pages: the unit of work, who asks, which city and round.

- Unit of work: `uow()` is the request's one database session, opened on first use and committed
  by `finish()` once the view has answered without error (rolled back otherwise). A view that
  writes asks `uow(write=True)` before anything else, which on SQLite takes the write lock up front
  (BEGIN IMMEDIATE). Service calls that run their own transaction with retries (casting a ballot)
  take the Database itself (`database()`) instead.
- Who asks: a bearer token (programs: staff `pbs_…`, residents `pbr_…`, voters `pbv_…`) or the
  browser's session cookie (signed by Flask, HttpOnly, SameSite=Lax), which holds a resident token
  and, per round, a voter token. The bearer header wins when both are there.
- Scope: `_scope.round_()` and friends remember the city and round a URL named, so that the
  language choice and the templates know them without another query.
"""

from __future__ import annotations

from flask import current_app, g, request, session as cookie

from pb_engine.store.db import Database

RESIDENT_KEY = "residents"  # cookie key: {city id: resident token (pbr_…)}; accounts are per city
VOTERS_KEY = "voters"       # cookie key: {round id: voter token (pbv_…)}
STAFF_KEY = "staff"         # cookie key: {city id: staff id} of the console (signed cookie; per city)


def database() -> Database:
    return current_app.extensions["pb_db"]


def uow(write: bool = False):
    """The request's session; `write=True` on SQLite must come first (the write lock cannot be taken later)."""
    s = g.get("pb_session")
    if s is not None:
        if write and not g.pb_session_write and database().dialect == "sqlite":
            raise RuntimeError("uow(write=True) after a read session was opened in this request")
        return s
    db = database()
    s = db.write_session_object() if write else db.session_object()
    g.pb_session = s
    g.pb_session_write = write
    return s


def finish(response=None, error: BaseException | None = None):
    """Commit the request's unit of work when the view answered below 400, else roll it back."""
    s = g.pop("pb_session", None)
    if s is None:
        return response
    try:
        failed = error is not None or (response is not None and response.status_code >= 400)
        if failed:
            s.rollback()
        else:
            s.commit()
    finally:
        s.close()
    return response


def end_read() -> None:
    """Close the request's read session now (its reads are done): a write that follows (its own short
    transaction, or `uow(write=True)`) then has no open read transaction beside it, which on SQLite would
    pin the WAL, and what the session loaded stays readable (expire_on_commit is off)."""
    s = g.get("pb_session")
    if s is not None and g.get("pb_session_write"):
        raise RuntimeError("end_read() on the request's write session: it is committed by finish()")
    finish()


def init_app(app) -> None:
    @app.after_request
    def _commit(response):
        return finish(response)

    @app.teardown_request
    def _close(error):
        finish(None, error or RuntimeError("request ended without a response"))


# --- who asks -------------------------------------------------------------------

_BEARER = "pb.bearer_token"  # the request's parsed bearer token, kept in its WSGI environ


def bearer_token() -> str | None:
    """The request's bearer token, or None (no header, another scheme, or not a plausible token).

    Read once per request: CSRF, the access check, the voter's token and the view all ask (a ballot
    asked four times)."""
    environ = request.environ
    if _BEARER in environ:
        return environ[_BEARER]
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 500 or not token.isascii() or not token.isprintable():
        token = None
    environ[_BEARER] = token
    return token


def _clean(token) -> str | None:
    if not isinstance(token, str) or not token or len(token) > 500 or not token.isascii():
        return None
    return token


def cookie_resident_token(city_id: int | None) -> str | None:
    if city_id is None:
        return None
    residents = cookie.get(RESIDENT_KEY) or {}
    return _clean(residents.get(str(city_id))) if isinstance(residents, dict) else None


def cookie_voter_token(round_id: int | None) -> str | None:
    if round_id is None:
        return None
    voters = cookie.get(VOTERS_KEY) or {}
    return _clean(voters.get(str(round_id))) if isinstance(voters, dict) else None


def participant_token(city_id: int | None, round_id: int | None = None) -> str | None:
    """The token that names a resident or voter: bearer first, then the cookie's resident, then its voter."""
    return bearer_token() or cookie_resident_token(city_id) or cookie_voter_token(round_id)


def voter_token(round_id: int | None) -> str | None:
    """The token that names a voter of this round: bearer first, then the cookie's voter token."""
    return bearer_token() or cookie_voter_token(round_id)


def cookie_staff_id(city_id: int | None) -> int | None:
    """The staff id the console session holds for this city (the cookie is signed, so it cannot be forged)."""
    if city_id is None:
        return None
    staff = cookie.get(STAFF_KEY) or {}
    value = staff.get(str(city_id)) if isinstance(staff, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def cookie_has_credentials() -> bool:
    return bool(cookie.get(RESIDENT_KEY) or cookie.get(VOTERS_KEY) or cookie.get(STAFF_KEY))


def sign_in_staff(city_id: int, staff_id: int) -> None:
    staff = dict(cookie.get(STAFF_KEY) or {})
    staff[str(city_id)] = staff_id
    cookie[STAFF_KEY] = staff
    cookie.permanent = True


def sign_out_staff(city_id: int) -> None:
    staff = dict(cookie.get(STAFF_KEY) or {})
    staff.pop(str(city_id), None)
    cookie[STAFF_KEY] = staff


def sign_in_resident(city_id: int, token: str) -> None:
    residents = dict(cookie.get(RESIDENT_KEY) or {})
    residents[str(city_id)] = token
    cookie[RESIDENT_KEY] = residents
    cookie.permanent = True


def sign_in_voter(round_id: int, token: str) -> None:
    voters = dict(cookie.get(VOTERS_KEY) or {})
    voters[str(round_id)] = token
    cookie[VOTERS_KEY] = voters
    cookie.permanent = True


def sign_out() -> None:
    """Forget every account and voter session this browser holds."""
    for key in (RESIDENT_KEY, VOTERS_KEY, STAFF_KEY):
        cookie.pop(key, None)


def sign_out_voter(round_id: int) -> None:
    voters = dict(cookie.get(VOTERS_KEY) or {})
    voters.pop(str(round_id), None)
    cookie[VOTERS_KEY] = voters


# --- scope ------------------------------------------------------------------------

def remember_scope(city=None, rnd=None) -> None:
    if city is not None:
        g.pb_city = city
    if rnd is not None:
        g.pb_round = rnd


def scope_city():
    return g.get("pb_city")


def scope_round():
    return g.get("pb_round")
