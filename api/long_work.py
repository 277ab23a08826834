"""Long counts as background jobs, for the JSON API and the console alike.

A count whose size (ballots x projects on the ballot, summed over districts: `outcomes.work_size`,
two SQL counts) reaches `PB_JOB_THRESHOLD` runs as the job `outcome.run` (pb_engine.jobs: RQ when a
Redis URL is set, a thread of this process otherwise); smaller ones run in the request as before.
Either way the rule-result cache answers for ballots counted before. The default threshold, 500 000
(e.g. 6 000 ballots x 83 projects), is where MES with add1 completion passes about a second here
(README, "Jobs").
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


def job_json(info: jobs.JobInfo, city_slug: str | None) -> dict:
    result = info.result or {}
    result_url = None
    if info.state == "done" and info.kind == "outcome.run" and result.get("outcome"):
        result_url = url_for("outcomes.OutcomeView", city=result["city"], round=result["round"],
                             outcome_id=result["outcome"])
    return {"id": info.id, "kind": info.kind, "state": info.state, "done": info.done, "total": info.total,
            "percent": info.percent, "message": info.message, "result": info.result, "error": info.error,
            "created_at": info.created_at, "started_at": info.started_at, "finished_at": info.finished_at,
            "status_url": url_for("jobs.JobView", job_id=info.id),
            "page_url": url_for("console.job", city=city_slug, job_id=info.id) if city_slug else "",
            "result_url": result_url}
