"""Review: the queue of a round's proposals and one proposal's review page.

Reviewers and managers act (reviewed cost, feasibility, status with its public reason; public
responses; hiding and showing comments; merging a duplicate); clerks and viewers read. Every form
posts to its own URL and comes back to the proposal's page (303); a refusal shows the page again
with the message beside the field, having changed nothing.
"""

from __future__ import annotations

from flask import redirect, request, url_for

from api.auth import READ, REVIEW
from api.console import bp, round_nav
from api.console.helpers import city_and_staff, staff_view
from api.context import remember_scope, uow
from api.i18n import _
from api.pages.helpers import Form, form_values, now, render
from api.resources import _scope
from pb_engine import merging, proposals as svc
from pb_engine.errors import NotFound, PBError, ValidationFailed
from pb_engine.queries import review as queries
from pb_engine.queries.rounds import round_info
from pb_engine.store import lookup
from pb_engine.store.tables import Comment

round_nav(20, "console.review_queue", lambda: _("Review"), READ)

FLAGS = ("needs_review", "unanswered")
MAX_NOTE, MAX_RESPONSE = 1000, 10_000
FORMS = ("review", "respond", "merge", "hide")


def _round(c, slug: str):
    s = uow()
    if not _scope._slug_ok(slug):
        raise NotFound(f"no round {slug!r} in city {c.slug!r}")
    rnd = lookup.round_by_slug(s, c, slug)
    remember_scope(rnd=rnd)
    return rnd


def _int_arg(name: str, default: int) -> int:
    try:
        return min(10_000, max(1, int(request.args.get(name, default))))
    except ValueError:
        return default


def _filters(info) -> tuple[queries.QueueFilters, dict]:
    """The queue's GET form as filters; values that cannot apply (an unknown district) are dropped."""
    args = {k: (request.args.get(k) or "").strip()[:200]
            for k in ("district", "status", "category", "feasibility", "q", "sort")}
    if args["district"] and info.district(args["district"]) is None:
        args["district"] = ""
    if args["status"] not in svc.STATUSES:
        args["status"] = ""
    if args["category"] not in {x.slug for x in info.categories}:
        args["category"] = ""
    if args["feasibility"] not in queries.FEASIBILITY:
        args["feasibility"] = ""
    if args["sort"] not in queries.SORTS:
        args["sort"] = ""
    for flag in FLAGS:
        args[flag] = request.args.get(flag) == "1"
    return queries.QueueFilters(
        district=args["district"] or None, status=args["status"] or None, category=args["category"] or None,
        feasibility=args["feasibility"] or None, needs_review=args["needs_review"], unanswered=args["unanswered"],
        q=args["q"] or None, sort=args["sort"] or None, page=_int_arg("page", 1)), args


@bp.route("/<city>/rounds/<round>/review")
@staff_view(READ)
def review_queue(city: str, round: str):
    c, me = city_and_staff(city, READ)
    rnd = _round(c, round)
    info = round_info(uow(), c, rnd, now())
    filters, args = _filters(info)
    queue = queries.review_queue(uow(), rnd, filters)
    return render("console/review_queue.html", city=c, me=me, rnd=rnd, info=info, queue=queue, args=args,
                  statuses=svc.STATUSES, sorts=queries.SORTS, can_act=me.role in REVIEW)


def _page(c, me, rnd, p, status: int = 200, forms: dict | None = None, failed: str = "", comment_id: int = 0):
    info = round_info(uow(), c, rnd, now())
    d = queries.review_detail(uow(), rnd, p, now=now())
    all_forms = {name: Form.empty() for name in FORMS}
    all_forms["review"] = Form.empty(
        reviewed_cost="" if d.item.reviewed_cost is None else _scope.to_major(d.item.reviewed_cost, c.currency),
        feasible={None: "unknown", True: "yes", False: "no"}[d.item.feasible], status=d.item.status,
        status_note="")
    all_forms["respond"] = Form.empty(kind="answer", body="")
    all_forms.update(forms or {})
    staff_statuses = list(svc.STAFF_SETS) + ([d.item.status] if d.item.status not in svc.STAFF_SETS else [])
    return render("console/review_proposal.html", status, city=c, me=me, rnd=rnd, info=info, d=d, forms=all_forms,
                  failed=failed, failed_comment=comment_id, blank=Form.empty(), can_act=me.role in REVIEW, staff_statuses=staff_statuses,
                  done=request.args.get("done", ""))


@bp.route("/<city>/rounds/<round>/review/<int:proposal_id>")
@staff_view(READ)
def review_proposal(city: str, round: str, proposal_id: int):
    c, me = city_and_staff(city, READ)
    rnd = _round(c, round)
    p = _scope.proposal(uow(), rnd, proposal_id)
    return _page(c, me, rnd, p)


def _act(city: str, round: str, proposal_id: int):
    c, me = city_and_staff(city, REVIEW, write=True)  # authorisation before the form is read
    rnd = _round(c, round)
    return c, me, rnd, _scope.proposal(uow(), rnd, proposal_id)


def _refused(c, me, rnd, proposal_id: int, err: PBError, name: str, values: dict, comment_id: int = 0):
    s = uow()
    s.rollback()  # nothing of the refused change stays
    p = _scope.proposal(s, rnd, proposal_id)
    return _page(c, me, rnd, p, err.status, {name: Form.refused(err, values)}, failed=name, comment_id=comment_id)


def _done(city, round, proposal_id, what: str, anchor: str):
    return redirect(url_for("console.review_proposal", city=city, round=round, proposal_id=proposal_id, done=what)
                    + f"#{anchor}", 303)


def _cost(raw: str, currency: str):
    raw = (raw or "").strip().replace(",", "").replace(" ", "")
    if not raw:
        return None
    minor = _scope.to_minor("reviewed_cost", raw, currency)
    if minor <= 0:
        raise ValidationFailed.field("reviewed_cost", _("The reviewed cost must be more than zero."))
    return minor


def _review_changes(p, values: dict, currency: str) -> dict:
    """The review form's fields that differ from the proposal now (unchanged ones are not sent)."""
    changes = {}
    cost = _cost(values.get("reviewed_cost"), currency)
    if cost != p.reviewed_cost:
        changes["reviewed_cost"] = cost
    feasible = {"unknown": None, "yes": True, "no": False}.get(values.get("feasible") or "unknown", "bad")
    if feasible == "bad":
        raise ValidationFailed.field("feasible", _("Choose yes, no or not decided yet."))
    if feasible != p.feasible:
        changes["feasible"] = feasible
    status = values.get("status") or p.status
    note = (values.get("status_note") or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed.field("status_note", _("At most %(n)s characters.", n=MAX_NOTE))
    if status != p.status:
        if not note:
            raise ValidationFailed.field("status_note", _("Give the public reason for the new status."))
        changes["status"] = status
        changes["status_note"] = note
    return changes


@bp.route("/<city>/rounds/<round>/review/<int:proposal_id>/decision", methods=["POST"])
@staff_view(REVIEW)
def review_decide(city: str, round: str, proposal_id: int):
    c, me, rnd, p = _act(city, round, proposal_id)
    values = form_values()
    try:
        changes = _review_changes(p, values, c.currency)
        if not changes:
            raise ValidationFailed.field("status", _("Nothing changed: change the cost, the feasibility or the status."))
        svc.review(uow(), rnd, p, changes, staff=me, now=now())
        uow().flush()
    except PBError as err:
        return _refused(c, me, rnd, proposal_id, err, "review", values)
    return _done(city, round, p.id, "review", "review")


@bp.route("/<city>/rounds/<round>/review/<int:proposal_id>/responses", methods=["POST"])
@staff_view(REVIEW)
def review_respond(city: str, round: str, proposal_id: int):
    c, me, rnd, p = _act(city, round, proposal_id)
    values = form_values()
    body = (values.get("body") or "").strip()
    try:
        if not body:
            raise ValidationFailed.field("body", _("Write the response first."))
        if len(body) > MAX_RESPONSE:
            raise ValidationFailed.field("body", _("At most %(n)s characters.", n=MAX_RESPONSE))
        kind = values.get("kind") or "answer"
        if kind not in ("answer", "review"):
            raise ValidationFailed.field("kind", _("Choose an answer or a review note."))
        svc.respond(uow(), rnd, p, staff=me, kind=kind, body=body, now=now())
    except PBError as err:
        return _refused(c, me, rnd, proposal_id, err, "respond", values)
    return _done(city, round, p.id, "respond", "responses")


@bp.route("/<city>/rounds/<round>/review/<int:proposal_id>/merge", methods=["POST"])
@staff_view(REVIEW)
def review_merge(city: str, round: str, proposal_id: int):
    c, me, rnd, p = _act(city, round, proposal_id)
    values = form_values()
    s = uow()
    try:
        raw = (values.get("into") or "").strip()
        if not raw:
            raise ValidationFailed.field("into", _("Choose the proposal to merge this one into."))
        try:
            target_id = int(raw)
        except ValueError:
            raise ValidationFailed.field("into", _("Choose the proposal to merge this one into.")) from None
        from pb_engine.store.tables import Proposal

        target = s.get(Proposal, target_id) if 0 < target_id <= _scope.MAX_ID else None
        if target is None:
            raise ValidationFailed.field("into", _("There is no proposal number %(id)s.", id=target_id))
        target = merging.merge(s, rnd, p, target, staff=me, now=now(), note=values.get("note") or "")
        s.flush()
    except PBError as err:
        return _refused(c, me, rnd, proposal_id, err, "merge", values)
    return redirect(url_for("console.review_proposal", city=city, round=round, proposal_id=target.id,
                            done="merge", merged=p.id) + "#merge", 303)


def _comment(p, comment_id: int) -> Comment:
    c = uow().get(Comment, comment_id) if 0 < comment_id <= _scope.MAX_ID else None
    if c is None or c.proposal_id != p.id:
        raise NotFound(f"no comment {comment_id} on proposal {p.id}")
    return c


@bp.route("/<city>/rounds/<round>/review/<int:proposal_id>/comments/<int:comment_id>/hide", methods=["POST"])
@staff_view(REVIEW)
def review_hide_comment(city: str, round: str, proposal_id: int, comment_id: int):
    c, me, rnd, p = _act(city, round, proposal_id)
    cm = _comment(p, comment_id)
    values = form_values()
    try:
        svc.hide_comment(uow(), rnd, p, cm, staff=me, reason=values.get("reason") or "", now=now())
    except PBError as err:
        return _refused(c, me, rnd, proposal_id, err, "hide", values, comment_id)
    return _done(city, round, p.id, "hide", f"comment-{comment_id}")


@bp.route("/<city>/rounds/<round>/review/<int:proposal_id>/comments/<int:comment_id>/unhide", methods=["POST"])
@staff_view(REVIEW)
def review_unhide_comment(city: str, round: str, proposal_id: int, comment_id: int):
    c, me, rnd, p = _act(city, round, proposal_id)
    cm = _comment(p, comment_id)
    try:
        svc.unhide_comment(uow(), rnd, p, cm, staff=me, now=now())
    except PBError as err:
        return _refused(c, me, rnd, proposal_id, err, "hide", {}, comment_id)
    return _done(city, round, p.id, "unhide", f"comment-{comment_id}")
