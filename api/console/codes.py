"""Access codes in the console: issue a batch (a district or the whole round), print its sheet of
cut-out slips and download its CSV while it is sealed, mark it printed, see how many codes are
used, revoke one typed from its slip. The JSON twins are in api/resources/codes.py."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import force_locale

from api.auth import CODES, READ
from api.console import bp, round_nav
from api.console.helpers import city_and_staff, staff_view
from api.context import uow
from api.i18n import _, _from_tag, datetime_text
from api.pages.helpers import Form, form_values, now, render
from api.resources import _scope
from api.resources.codes import csv_response, vote_url
from api.security import code_seal_key
from pb_engine import codes as code_svc
from pb_engine.errors import PBError, ValidationFailed
from pb_engine.phases import window
from pb_engine.queries.codes import code_usage
from pb_engine.store.lookup import districts_of, phases_of

round_nav(30, "console.codes", lambda: _("Access codes"), READ)

ALL = "*"  # the district choice "every district of the round"


def _round(city: str, round: str, roles, write: bool):
    c, me = city_and_staff(city, roles, write=write)
    _c, rnd = _scope.round_(uow(), city, round)
    return c, me, rnd


def _page(c, me, rnd, status=200, issue=None, revoke=None):
    s = uow()
    return render("console/codes.html", status, city=c, me=me, rnd=rnd, usage=code_usage(s, rnd),
                  districts=districts_of(s, rnd), all_districts=ALL, can_act=me.role in CODES,
                  issue=issue or Form.empty(count="100"), revoke=revoke or Form.empty(),
                  issued=request.args.get("issued"), revoked=request.args.get("revoked"),
                  printed=request.args.get("printed"))


@bp.route("/<city>/rounds/<round>/codes")
@staff_view(READ)
def codes(city: str, round: str):
    c, me, rnd = _round(city, round, READ, False)
    return _page(c, me, rnd)


def _count(raw) -> int:
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 6:
        raise ValidationFailed.field("count", _("Enter a whole number of codes, from 1 to %(max)s.", max=1000))
    n = int(text)
    if not 1 <= n <= 1000:
        raise ValidationFailed.field("count", _("Enter a whole number of codes, from 1 to %(max)s.", max=1000))
    return n


@bp.route("/<city>/rounds/<round>/codes/issue", methods=["POST"])
@staff_view(CODES)
def codes_issue(city: str, round: str):
    c, me, rnd = _round(city, round, CODES, True)
    values = form_values()
    try:
        n = _count(values.get("count"))
        choice = values.get("district") or ""
        d = None if choice == ALL else _scope.district(uow(), rnd, choice)
        out = code_svc.issue_batch(uow(), rnd, d, n, me, code_seal_key(), now=now())
    except PBError as err:
        return _page(c, me, rnd, err.status, issue=Form.refused(err, values))
    return redirect(url_for("console.codes", city=c.slug, round=rnd.slug, issued=out.batch), 303)


@bp.route("/<city>/rounds/<round>/codes/revoke", methods=["POST"])
@staff_view(CODES)
def codes_revoke(city: str, round: str):
    c, me, rnd = _round(city, round, CODES, True)
    values = form_values()
    try:
        code = (values.get("access_code") or "").strip()
        if not code:
            raise ValidationFailed.field("access_code", _("Type the code printed on the slip."))
        code_svc.revoke_code(uow(), rnd, code, me, now=now())
    except PBError as err:
        return _page(c, me, rnd, err.status, revoke=Form.refused(err, values))
    return redirect(url_for("console.codes", city=c.slug, round=rnd.slug, revoked=1), 303)


@bp.route("/<city>/rounds/<round>/codes/batches/<batch>/printed", methods=["POST"])
@staff_view(CODES)
def codes_printed(city: str, round: str, batch: str):
    c, me, rnd = _round(city, round, CODES, True)
    code_svc.mark_printed(uow(), rnd, batch, me, now=now())
    return redirect(url_for("console.codes", city=c.slug, round=rnd.slug, printed=batch), 303)


def _slip_words(c, rnd, url: str) -> list[dict]:
    """What each slip says, once per language of the city (Taipei: zh-TW and en, both on the slip)."""
    voting = window(phases_of(uow(), rnd), "voting")
    langs = [lang for lang in dict.fromkeys(_from_tag(t) for t in (c.locales or ["en"])) if lang] or ["en"]
    out = []
    for lang in langs:
        with force_locale(lang):
            out.append({
                "lang": lang.replace("_", "-"),
                "heading": _("How to vote"),
                "district": _("District"),
                "code": _("Your access code"),
                "when": (_("Voting runs from %(start)s to %(end)s.",
                           start=datetime_text(voting.starts_at, c.timezone, "short"),
                           end=datetime_text(voting.ends_at, c.timezone, "short")) if voting else ""),
                "steps": [_("Go to %(url)s on a phone or computer.", url=url),
                          _("Type the access code above and choose the projects you support."),
                          _("Cast your ballot; you can change it until voting closes."),
                          _("Or bring this slip to a voting station and vote on paper."),
                          _("The code votes once, in this district only. Keep it to yourself.")],
            })
    return out


@bp.route("/<city>/rounds/<round>/codes/batches/<batch>/sheet")
@staff_view(CODES)
def code_sheet(city: str, round: str, batch: str):
    c, me, rnd = _round(city, round, CODES, True)
    rows = code_svc.batch_codes(uow(), rnd, batch, code_seal_key())
    code_svc.record_download(uow(), rnd, batch, me, "sheet", len(rows))
    url = vote_url(c, rnd)
    return render("console/code_sheet.html", city=c, me=me, rnd=rnd, batch=batch, rows=rows, url=url,
                  words=_slip_words(c, rnd, url))


@bp.route("/<city>/rounds/<round>/codes/batches/<batch>/codes.csv")
@staff_view(CODES)
def code_csv(city: str, round: str, batch: str):
    c, me, rnd = _round(city, round, CODES, True)
    rows = code_svc.batch_codes(uow(), rnd, batch, code_seal_key())
    code_svc.record_download(uow(), rnd, batch, me, "csv", len(rows))
    return csv_response(c, rnd, batch, rows)
