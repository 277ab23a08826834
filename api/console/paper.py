"""Paper ballots in the console, by double entry: choose the district, type the voter's access code,
fill in the ballot as it is on paper. The first entry waits; a second entry of the same paper (the
same clerk again or another; the form never shows the first entry) that matches makes it count, one
that differs sets both aside to be entered again. Open entries are listed (never their content)
and can be discarded. JSON: POST …/paper-ballots, GET …/paper-entries, POST …/paper-entries/<id>/discard."""

from __future__ import annotations

from flask import g, redirect, request, url_for

from api.auth import PAPER
from api.console import bp, round_nav
from api.console.helpers import city_and_staff, staff_view
from api.context import database, uow
from api.i18n import _
from api.pages.booth import _choices_from_form, _content_from_form, _per_project
from api.pages.helpers import Form, form_values, now, render
from api.resources import _scope
from pb_engine import paper as paper_svc, voting
from pb_engine.errors import PBError, ValidationFailed
from pb_engine.queries.booth import projects_on_ballot
from pb_engine.queries.paper import open_entries
from pb_engine.store.lookup import districts_of

round_nav(40, "console.paper", lambda: _("Paper ballots"), PAPER)

RESULTS = ("pending", "counted", "mismatch", "discarded")


def _round(city: str, round: str, write: bool):
    c, me = city_and_staff(city, PAPER, write=write)
    _c, rnd = _scope.round_(uow(), city, round)
    return c, me, rnd


def _start(c, me, rnd, status=200, form=None):
    s = uow()
    entered = request.args.get("entered")
    return render("console/paper.html", status, city=c, me=me, rnd=rnd, districts=districts_of(s, rnd),
                  entries=open_entries(s, rnd), form=form or Form.empty(),
                  entered=entered if entered in RESULTS else None)


def _ballot(c, me, rnd, district, code, status=200, chosen=None, beside=None, general=None):
    s = uow()
    projects = projects_on_ballot(s, rnd, district)
    g.pb_project_titles = {str(p.id): p.title for p in projects}  # refusals name projects by title
    return render("console/paper_ballot.html", status, city=c, me=me, rnd=rnd, district=district, code=code,
                  rules=voting.ballot_rules(rnd), projects=projects, chosen=chosen or {}, beside=beside or {},
                  general=general or [])


@bp.route("/<city>/rounds/<round>/paper", methods=["GET", "POST"])
@staff_view(PAPER)
def paper(city: str, round: str):
    """GET: choose the district and type the code. POST (changes nothing): check them, show the ballot form."""
    c, me, rnd = _round(city, round, request.method == "POST")  # naming a voter may make the round's secret
    if request.method == "GET":
        return _start(c, me, rnd)
    values = form_values()
    code = (values.get("access_code") or "").strip()
    try:
        if not code:
            raise ValidationFailed.field("access_code", _("Type the access code written on the paper ballot."))
        district = _scope.district(uow(), rnd, values.get("district") or "")
        paper_svc.check_voter(uow(), rnd, district.slug, code)
    except PBError as err:
        return _start(c, me, rnd, err.status, Form.refused(err, values))
    return _ballot(c, me, rnd, district, code)


@bp.route("/<city>/rounds/<round>/paper/entry", methods=["POST"])
@staff_view(PAPER)
def paper_entry(city: str, round: str):
    # A read unit of work: paper_svc.enter writes in its own transactions (on SQLite the request's
    # write lock would make it wait for itself).
    c, me, rnd = _round(city, round, False)
    values = form_values()
    code = (values.get("access_code") or "").strip()
    district = _scope.district(uow(), rnd, values.get("district") or "")
    kind = voting.ballot_rules(rnd).kind
    try:
        content = _content_from_form(kind, request.form)
        result = paper_svc.enter(database(), rnd.id, district.slug, content, staff=me.id, access_code=code, now=now())
    except PBError as err:
        if any(p.field in ("access_code", "channel", "district") for p in err.problems or []):
            return _start(c, me, rnd, err.status, Form.refused(err, {"access_code": code, "district": district.slug}))
        beside, general = _per_project(err, [p.id for p in projects_on_ballot(uow(), rnd, district)])
        return _ballot(c, me, rnd, district, code, err.status, chosen=_choices_from_form(kind, request.form),
                       beside=beside, general=general)
    return redirect(url_for("console.paper", city=c.slug, round=rnd.slug, entered=result.status), 303)


@bp.route("/<city>/rounds/<round>/paper/entries/<int:entry_id>/discard", methods=["POST"])
@staff_view(PAPER)
def paper_discard(city: str, round: str, entry_id: int):
    c, me, rnd = _round(city, round, True)
    paper_svc.discard(uow(), rnd, entry_id, me, now=now())
    return redirect(url_for("console.paper", city=c.slug, round=rnd.slug, entered="discarded"), 303)
