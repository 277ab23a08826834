"""Implementation in the console: the funded projects of the published outcome with their latest report, and a
form per project to post a progress update (reviewers and managers), photo included (multipart)."""

from __future__ import annotations

from datetime import date

from flask import redirect, request, url_for

from api import messages
from api.auth import READ, REVIEW
from api.console import bp, round_nav
from api.console.helpers import city_and_staff, staff_view
from api.context import uow
from api.i18n import _, current
from api.pages.helpers import Form, now, render
from api.resources import _scope
from pb_engine import implementation as svc
from pb_engine.errors import PBError, ValidationFailed
from pb_engine.queries import implementation as queries

round_nav(70, "console.implementation", lambda: _("Implementation"), READ)


def status_words() -> dict[str, str]:
    return {"planned": _("planned"), "in_progress": _("in progress"), "done": _("done"), "delayed": _("delayed"),
            "cancelled": _("cancelled")}


WORDS = {
    "impl_status": lambda p: _("Choose a status."),
    "impl_percent": lambda p: _("Enter a whole number from 0 to 100."),
    "impl_spent": lambda p: _("Enter an amount of zero or more."),
    "impl_date": lambda p: _("Enter a date, e.g. 2026-12-02."),
    "impl_note": lambda p: _("At most %(n)s characters.", n=svc.MAX_NOTE),
    "impl_photo_type": lambda p: _("The photo must be a JPEG, PNG or WebP image."),
    "impl_photo_size": lambda p: _("The photo is too large: at most 1.5 MiB."),
    "impl_no_outcome": lambda p: _("Nothing is published yet: only projects funded by the published outcome take "
                                   "progress updates."),
    "impl_not_funded": lambda p: _("This project was not funded by the published outcome: it takes no progress "
                                   "updates."),
}


def _refused(err: PBError, values: dict) -> Form:
    if err.problems:
        errors: dict[str, list[str]] = {}
        for p in err.problems:
            errors.setdefault(p.field, []).append(WORDS[p.code](p.params) if p.code in WORDS else messages.problem_text(p))
        return Form(values, errors, _("Please check the fields marked below."))
    if err.reason in WORDS:
        return Form(values, {}, WORDS[err.reason](err.params))
    return Form.refused(err, values)


def _parse(values: dict, files, currency: str, timezone: str) -> dict:
    """The form as the domain takes it; the fields the page itself cannot read are refused here, by name."""
    errors: dict[str, list[str]] = {}
    raw_pct = (values.get("percent_done") or "").strip()
    percent = int(raw_pct) if raw_pct.isdigit() and len(raw_pct) <= 3 else None
    if percent is None:
        errors["percent_done"] = [WORDS["impl_percent"]({})]
    spent = None
    raw_spent = (values.get("spent") or "").strip().replace(",", "").replace(" ", "")
    if raw_spent:
        try:
            spent = _scope.to_minor("spent", raw_spent, currency)
        except ValidationFailed:
            errors["spent"] = [_("Enter an amount in figures, e.g. 1500.")]
    try:
        day = date.fromisoformat((values.get("on_date") or "").strip())
        on_date = svc.local_day(day, timezone)
    except ValueError:
        on_date = None
        errors["on_date"] = [WORDS["impl_date"]({})]
    photo = None
    upload = files.get("photo")
    if upload is not None and upload.filename:
        photo = upload.read(svc.MAX_PHOTO + 1)
        if not photo:
            errors["photo"] = [WORDS["impl_photo_type"]({})]
    if errors:
        raise ValidationFailed(_("Please check the fields marked below."), errors)
    return {"status": values.get("status"), "percent_done": percent, "spent": spent, "on_date": on_date,
            "note": values.get("note") or "", "photo": photo}


def _page(c, me, rnd, *, form: Form | None = None, form_for: int | None = None, status: int = 200):
    s = uow()
    ov = queries.overview(s, rnd)
    history = {p.id: queries.updates_of(s, p.id) for p in ov.projects}
    return render("console/implementation.html", status, city=c, me=me, rnd=rnd, ov=ov, history=history,
                  can_post=me.role in REVIEW, form=form or Form.empty(), form_for=form_for,
                  statuses=svc.STATUSES, status_words=status_words(), today=now().date().isoformat(),
                  lang=current())


@bp.route("/<city>/rounds/<round>/implementation")
@staff_view(READ)
def implementation(city: str, round: str):
    c, me = city_and_staff(city, READ)
    _c, rnd = _scope.round_(uow(), city, round)
    return _page(c, me, rnd)


@bp.route("/<city>/rounds/<round>/implementation/<int:proposal_id>", methods=["POST"])
@staff_view(REVIEW)
def implementation_post(city: str, round: str, proposal_id: int):
    c, me = city_and_staff(city, REVIEW, write=True)
    s = uow()
    _c, rnd = _scope.round_(s, city, round)
    p = _scope.proposal(s, rnd, proposal_id)
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        data = _parse(values, request.files, c.currency, c.timezone)
        row = svc.post_update(s, c, rnd, p, data, staff=me, now=now())
    except PBError as err:
        # a refusal of the project itself (not funded) is shown at the top: its form may not be on the page
        return _page(c, me, rnd, form=_refused(err, values), form_for=p.id if err.errors and not err.reason else None,
                     status=err.status)
    return redirect(url_for("console.implementation", city=c.slug, round=rnd.slug, posted=row.id) + f"#p-{p.id}", 303)
