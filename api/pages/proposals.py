"""Proposals: the list (filters, full-text search, pages), one proposal, submit, edit, endorse, comment."""

from __future__ import annotations

from flask import abort, redirect, request, url_for

from api.context import uow
from api.pages import bp, needs
from api.pages.helpers import Form, asker, form_values, load_round, now, render
from api.resources import _scope
from pb_engine import proposals as svc
from pb_engine.errors import PBError, Unauthorized, ValidationFailed
from pb_engine.queries import proposals as queries
from pb_engine.queries import implementation as impl_queries

PER_PAGE = 10
MAX_TITLE, MAX_SUMMARY, MAX_TEXT = 200, 500, 10_000


def _int_arg(name: str, default: int, lo: int = 1, hi: int = 10_000) -> int:
    try:
        return min(hi, max(lo, int(request.args.get(name, default))))
    except ValueError:
        return default


@bp.route("/<city>/<round>/proposals")
def proposal_list(city: str, round: str):
    c, rnd, info = load_round(city, round)
    args = {k: (request.args.get(k) or "").strip()[:200] for k in ("district", "category", "status", "q")}
    if args["district"] and info.district(args["district"]) is None:
        args["district"] = ""
    if args["status"] not in svc.STATUSES:
        args["status"] = ""
    if args["category"] not in {x.slug for x in info.categories}:
        args["category"] = ""
    found = queries.proposal_list(uow(), rnd, district=args["district"] or None, category=args["category"] or None,
                                  status=args["status"] or None, q=args["q"] or None,
                                  page=_int_arg("page", 1), per_page=PER_PAGE)
    return render("proposals.html", info=info, found=found, args=args, statuses=svc.STATUSES)


@bp.route("/<city>/<round>/proposals/<int:proposal_id>")
def proposal_page(city: str, round: str, proposal_id: int):
    c, rnd, info = load_round(city, round)
    p = _scope.proposal(uow(), rnd, proposal_id)
    who = asker(c, rnd)
    detail = queries.detail(uow(), rnd, p, now=now(), participant_key=who.key if who else None)
    return render("proposal.html", info=info, d=detail, who=who, form=Form.empty(),
                  updates=impl_queries.updates_of(uow(), p.id), similar=_similar(p))


def _similar(p):
    """Similar proposals of other rounds (pb_engine.queries.similar_proposals), for the page's own section."""
    from api.resources.proposals_across import rates
    from pb_engine.queries.similar_proposals import similar

    return similar(uow(), p.id, rates(), now=now())


def _money_field(values: dict, currency: str) -> dict:
    raw = (values.get("estimated_cost") or "").strip().replace(",", "").replace(" ", "")
    if not raw:
        return {}
    minor = _scope.to_minor("estimated_cost", raw, currency)
    if minor < 0:
        from api.i18n import _

        raise ValidationFailed.field("estimated_cost", _("The cost cannot be negative."))
    return {"estimated_cost": minor}


def _proposal_data(values: dict, currency: str) -> dict:
    from api.i18n import _

    problems = {}
    title = (values.get("title") or "").strip()
    if not title:
        problems["title"] = [_("Give your idea a title.")]
    elif len(title) > MAX_TITLE:
        problems["title"] = [_("At most %(n)s characters.", n=MAX_TITLE)]
    summary = (values.get("summary") or "").strip()
    if len(summary) > MAX_SUMMARY:
        problems["summary"] = [_("At most %(n)s characters.", n=MAX_SUMMARY)]
    description = (values.get("description") or "").strip()
    if len(description) > MAX_TEXT:
        problems["description"] = [_("At most %(n)s characters.", n=MAX_TEXT)]
    if not values.get("district"):
        problems["district"] = [_("Choose the district your idea is for.")]
    if problems:
        raise ValidationFailed(_("Please check the fields marked below."), problems)
    cats = values.get("categories") or []
    data = {"title": title, "summary": summary, "description": description, "district": values["district"],
            "categories": [cats] if isinstance(cats, str) else list(cats)}
    data.update(_money_field(values, currency))
    origin = str(values.get("borrowed_from") or "").strip()
    if origin:  # started from another round's proposal (the form's hidden field); checked by the service
        data["borrowed_from"] = int(origin) if origin.isdigit() and len(origin) < 11 else origin
    return data


def sign_in_first() -> Unauthorized:
    from api.i18n import _

    return Unauthorized(_("Sign in first: create a resident account or sign in with your access code."))


def _need_participant(c, rnd):
    who = asker(c, rnd)
    if who is None:
        raise sign_in_first()
    return who


@bp.route("/<city>/<round>/proposals/new", methods=["GET", "POST"])
@needs("participant")
def proposal_new(city: str, round: str):
    c, rnd, info = load_round(city, round, write=request.method == "POST")
    who = asker(c, rnd)
    if request.method == "GET":
        return render("proposal_form.html", info=info, who=who, form=_borrowed_form(request.args.get("from")),
                      editing=None)
    values = form_values()
    try:
        s = uow()
        who = _need_participant(c, rnd)
        p = svc.submit(s, rnd, _proposal_data(values, c.currency), now=now(),
                       resident_id=who.resident.id if who.resident else None, voter_key=who.voter_key)
        s.flush()
    except PBError as err:
        return render("proposal_form.html", err.status, info=info, who=who, form=Form.refused(err, values),
                      editing=None)
    return redirect(url_for("pages.proposal_page", city=city, round=round, proposal_id=p.id, sent=1), 303)


def _borrowed_form(source_id) -> Form:
    """The new-idea form prefilled from another round's proposal (`?from=<id>`), the origin in a hidden field."""
    from pb_engine import borrowing

    if not source_id or not str(source_id).isdigit() or len(str(source_id)) > 10:
        return Form.empty()
    try:
        p, _rnd, _city = borrowing.source(uow(), int(source_id))
    except PBError:
        return Form.empty()
    return Form.empty(title=p.title, summary=p.summary, description=p.description, borrowed_from=str(p.id))


@bp.route("/<city>/<round>/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@needs("author")
def proposal_edit(city: str, round: str, proposal_id: int):
    c, rnd, info = load_round(city, round, write=request.method == "POST")
    s = uow()
    p = _scope.proposal(s, rnd, proposal_id)
    who = asker(c, rnd)
    if who is None or not svc.is_author(p, who.key):
        abort(403)
    item = queries.item(s, rnd, p)
    if request.method == "GET":
        from api.i18n import money

        cost = "" if item.estimated_cost is None else _scope.to_major(item.estimated_cost, c.currency)
        return render("proposal_form.html", info=info, who=who, editing=item, form=Form.empty(
            title=item.title, summary=item.summary, description=item.description, district=item.district_slug,
            categories=list(item.categories), estimated_cost=cost))
    values = form_values()
    try:
        data = _proposal_data(values, c.currency)
        if "estimated_cost" not in data:
            data["estimated_cost"] = None
        svc.edit_by_author(s, rnd, p, data, participant_key=who.key, now=now())
        s.flush()
    except PBError as err:
        s.rollback()
        return render("proposal_form.html", err.status, info=info, who=who, editing=item,
                      form=Form.refused(err, values))
    return redirect(url_for("pages.proposal_page", city=city, round=round, proposal_id=p.id, saved=1), 303)


def _detail_with(c, rnd, info, p, err: PBError, values=None):
    s = uow()
    s.rollback()
    who = asker(c, rnd)
    detail = queries.detail(s, rnd, p, now=now(), participant_key=who.key if who else None)
    return render("proposal.html", err.status, info=info, d=detail, who=who, form=Form.refused(err, values or {}),
                  updates=impl_queries.updates_of(s, p.id))


@bp.route("/<city>/<round>/proposals/<int:proposal_id>/endorse", methods=["POST"])
@needs("participant")
def proposal_endorse(city: str, round: str, proposal_id: int):
    c, rnd, info = load_round(city, round, write=True)
    s = uow()
    p = _scope.proposal(s, rnd, proposal_id)
    try:
        who = _need_participant(c, rnd)
        svc.endorse(s, rnd, p, participant_key=who.key, now=now())
    except PBError as err:
        return _detail_with(c, rnd, info, p, err)
    return redirect(url_for("pages.proposal_page", city=city, round=round, proposal_id=p.id, endorsed=1)
                    + "#endorsements", 303)


@bp.route("/<city>/<round>/proposals/<int:proposal_id>/comments", methods=["POST"])
@needs("participant")
def proposal_comment(city: str, round: str, proposal_id: int):
    from api.i18n import _

    c, rnd, info = load_round(city, round, write=True)
    s = uow()
    p = _scope.proposal(s, rnd, proposal_id)
    values = form_values()
    body = (values.get("body") or "").strip()
    try:
        who = _need_participant(c, rnd)
        if not body:
            raise ValidationFailed.field("body", _("Write a comment first."))
        if len(body) > 5000:
            raise ValidationFailed.field("body", _("At most %(n)s characters.", n=5000))
        svc.comment(s, rnd, p, body=body, resident_id=who.resident.id if who.resident else None,
                    author_name=who.display_name, now=now())
    except PBError as err:
        return _detail_with(c, rnd, info, p, err, values)
    return redirect(url_for("pages.proposal_page", city=city, round=round, proposal_id=p.id) + "#comments", 303)
