"""Long counts as background jobs, for the JSON API and the console alike.

A count whose size (ballots x projects on the ballot, summed over districts: `outcomes.work_size`,
two SQL counts) reaches `PB_JOB_THRESHOLD` runs as the job `outcome.run` (pb_engine.jobs: RQ when a
Redis URL is set, a thread of this process otherwise); smaller ones run in the request as before.
Either way the rule-result cache answers for ballots counted before. The default threshold, 500 000
(e.g. 6 000 ballots x 83 projects), is where MES with add1 completion passes about a second here
(README, "Jobs").

The comparison of rounds and proposals across cities use the same threshold (`background()`): a rule
run on heavy work that the rule-result cache does not hold yet is counted by the job `rules.run`, which
is public like the figures it fills (no city: `GET /api/v1/jobs/<id>` answers anyone); `pending()`
gives the page and the API the live state of the jobs a result waits on.
"""

from __future__ import annotations

import os

from flask import current_app, url_for

from api.context import database
from pb_engine import jobs
from pb_engine import outcomes as svc

DEFAULT_THRESHOLD = 500_000


def threshold() -> int:
    value = current_app.config.get("PB_JOB_THRESHOLD", os.environ.get("PB_JOB_THRESHOLD"))
    return DEFAULT_THRESHOLD if value in (None, "") else int(value)


def start_outcome_run(session, city, rnd, staff, now, rule: dict | None) -> str | None:
    """The id of a queued job when the count is long, None when it should run in the request. Refuses
    (voting not ended, a rule that is not valid) before queueing, with the errors `run` gives."""
    svc.checked_rule(session, rnd, now, rule)
    if svc.work_size(session, rnd) < threshold():
        return None
    return jobs.enqueue(database(), "outcome.run",
                        {"round_id": rnd.id, "rule": rule, "staff_id": staff.id if staff else None,
                         "now": now.isoformat()},
                        city_id=city.id, round_id=rnd.id, created_by=staff.id if staff else None, session=session)


def background():
    """Where a page's heavy rule runs go (pb_engine.queries.comparison.Background): a job from the
    threshold on, recorded in this app's database."""
    from pb_engine.queries.comparison import Background

    return Background(database(), threshold())


def pending(result: dict) -> dict[str, jobs.JobInfo]:
    """{job id: its state now} for each job a comparison result waits on, read in a session of its own
    (a job started during this request is not in the request's SQLite snapshot)."""
    from pb_engine.errors import NotFound
    from pb_engine.queries.comparison import pending_jobs

    waiting = pending_jobs(result)
    out: dict[str, jobs.JobInfo] = {}
    if not waiting:
        return out
    with database().session() as s:
        for job_id in waiting:
            try:
                out[job_id] = jobs.status(s, job_id)
            except NotFound:
                continue
    return out


def job_json(info: jobs.JobInfo, city_slug: str | None) -> dict:
    result = info.result or {}
    result_url = None
    if info.state == "done" and info.kind == "outcome.run" and result.get("outcome"):
        result_url = url_for("outcomes.OutcomeView", city=result["city"], round=result["round"],
                             outcome_id=result["outcome"])
    elif info.state == "done" and info.kind == "rules.run" and result.get("city"):
        result_url = url_for("compare.Compare", rounds=f"{result['city']}/{result['round']}")
    return {"id": info.id, "kind": info.kind, "state": info.state, "done": info.done, "total": info.total,
            "percent": info.percent, "message": info.message, "result": info.result, "error": info.error,
            "created_at": info.created_at, "started_at": info.started_at, "finished_at": info.finished_at,
            "status_url": url_for("jobs.JobView", job_id=info.id),
            "page_url": url_for("console.job", city=city_slug, job_id=info.id) if city_slug else "",
            "result_url": result_url}
