"""What every page view needs: the round it is about, who is signed in, rendering with a form kept."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import render_template, request, url_for

from api import messages
from api.auth import participant
from api.context import cookie_resident_token, cookie_voter_token, uow
from api.resources import _scope
from pb_engine import residents
from pb_engine.errors import PBError
from pb_engine.queries import rounds as round_queries


def now():
    return _scope.now()


def load_round(city: str, round: str, *, write: bool = False):
    """(City row, Round row, RoundInfo) of the URL; NotFound becomes the 404 page.

    `write=True` for a view that writes in the request's unit of work: on SQLite it takes the write
    lock first, so that a read transaction never has to upgrade (which fails at once under a
    concurrent writer). Views that call a service with its own transaction (casting) keep it False."""
    s = uow(write=write)
    c, rnd = _scope.round_(s, city, round)
    return c, rnd, round_queries.round_info(s, c, rnd, now())


def signed_in_resident(city_row):
    """The resident this browser is signed in as in this city, or None (an expired token counts as none)."""
    token = cookie_resident_token(city_row.id)
    if token is None:
        return None
    from api.auth import secret_key

    r = residents.resident_by_token(uow(), token, secret_key())
    return r if r is not None and r.city_id == city_row.id else None


def asker(city_row, rnd_row):
    """The participant behind this browser (resident or voter), or None."""
    return asker_in(uow(), city_row, rnd_row)


def asker_in(session, city_row, rnd_row):
    """`asker` in a given session (api.pages._who_asks has a short one of its own)."""
    try:
        return participant(session, city_row, rnd_row, required=False)
    except PBError:
        return None


def has_voter_session(rnd_row) -> bool:
    from api.auth import voter_session

    return cookie_voter_token(rnd_row.id) is not None and voter_session(uow(), rnd_row) is not None


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site (no scheme, no host, no '//' trick) may be a redirect target."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@dataclass
class Form:
    """What a form page shows: the values typed, the refusal and its messages per field."""

    values: dict
    errors: dict
    message: str = ""

    @classmethod
    def empty(cls, **values) -> "Form":
        return cls(dict(values), {}, "")

    @classmethod
    def refused(cls, err: PBError, values) -> "Form":
        return cls(dict(values), messages.field_errors(err), messages.describe(err))

    def value(self, name: str, default=""):
        v = self.values.get(name, default)
        return "" if v is None else v

    def error(self, name: str) -> list[str]:
        return self.errors.get(name, [])


def form_values():
    """The posted form as {name: value or list of values}, CSRF token left out."""
    out = {}
    for key in request.form:
        if key == "csrf_token":
            continue
        values = request.form.getlist(key)
        out[key] = values if len(values) > 1 else values[0]
    return out


def render(template: str, status: int = 200, **context):
    return render_template(template, **context), status


def signed_in(_info=None):
    """Who this browser is in the page's city and round: {resident, voter} (for the header)."""
    from types import SimpleNamespace

    from flask import g

    from api.context import scope_city, scope_round

    if "pb_signed_in" not in g:
        c, r = scope_city(), scope_round()
        g.pb_signed_in = SimpleNamespace(resident=signed_in_resident(c) if c is not None else None,
                                         voter=has_voter_session(r) if r is not None else False)
    return g.pb_signed_in


def template_globals() -> dict:
    return {
        "signed_in": signed_in,
        "phase_name": messages.phase_name, "phase_title": messages.phase_title,
        "status_name": messages.status_name, "status_reason": messages.status_reason,
        "response_kind": messages.response_kind, "author_name": messages.author_name,
        "ballot_kind_name": messages.ballot_kind_name, "rule_name": messages.rule_name,
        "rule_plain": messages.rule_plain, "ballot_plain": messages.ballot_plain, "explain": messages.explain,
        "lang_url": lambda tag: url_for("pages.set_language", tag=tag, next=request.full_path.rstrip("?")),
    }
