"""A background job's progress in the console (a long count: api/long_work.py). Works without
JavaScript: while the job runs the page reloads itself every few seconds (a meta refresh, which the
Content-Security-Policy allows: it is no script) and offers a reload link; once done it links to
what the job made."""

from __future__ import annotations

from flask import url_for

from api.auth import READ
from api.console import bp
from api.console.helpers import city_and_staff, staff_view
from api.context import uow
from api.i18n import _
from api.pages.helpers import render
from pb_engine import jobs
from pb_engine.errors import NotFound
from pb_engine.store.tables import Round

REFRESH_SECONDS = 2


def kind_label(kind: str) -> str:
    return {"outcome.run": _("Counting the ballots")}.get(kind, kind)


def state_label(state: str) -> str:
    return {"queued": _("waiting for a worker"), "running": _("running"), "done": _("done"),
            "failed": _("failed")}.get(state, state)


def step_label(message: str) -> str:
    kind, _sep, value = message.partition(":")
    if kind == "district" and value:
        return _("district %(district)s", district=value)
    return message


@bp.route("/<city>/jobs/<job_id>")
@staff_view(READ)
def job(city: str, job_id: str):
    c, me = city_and_staff(city, READ)
    s = uow()
    info = jobs.status(s, job_id)
    if info.city_id != c.id:
        raise NotFound(f"no job {job_id!r}")  # another city's job is not there for this city's staff
    rnd = s.get(Round, info.round_id) if info.round_id else None
    result_url = None
    if info.state == "done" and info.kind == "outcome.run" and info.result and rnd is not None:
        result_url = url_for("console.outcomes", city=c.slug, round=rnd.slug, ran=info.result["outcome"],
                             compare=[info.result["outcome"]]) + "#comparison"
    return render("console/job.html", city=c, me=me, rnd=rnd, job=info, result_url=result_url,
                  refresh=None if info.finished else REFRESH_SECONDS, kind_label=kind_label,
                  state_label=state_label, step_label=step_label)
