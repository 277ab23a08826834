"""Browser: a comparison whose rules are heavy work shows them pending with the background job's progress;
api/static/compare_jobs.js polls the job and reloads the page once it is done, and the rules' figures
appear without the visitor doing anything. No CSP refusal, no script error, no serious axe finding.
The live server runs in this process: the test holds the job (a backend that keeps it) and runs it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from page_checks import assert_no_serious_axe
from jobhelp import HeldJobs

ROUND = "kaohsiung/2026"  # a demo round whose voting has ended


@pytest.fixture
def heavy(server, monkeypatch):
    """Every rule run is heavy work on the live server; its jobs wait for the test; nothing counted before."""
    from sqlmodel import delete

    from pb_engine import jobs
    from pb_engine.analysis import rule_runs
    from pb_engine.queries import comparison
    from pb_engine.store.tables import RuleResult

    held = HeldJobs()
    monkeypatch.setattr(jobs, "default_backend", lambda: held)
    monkeypatch.setitem(server.app.config, "PB_JOB_THRESHOLD", 1)
    with server.db.session() as s:
        s.exec(delete(RuleResult))  # only a cache
    rule_runs._memo.clear()
    comparison._memo.clear()
    yield held
    rule_runs._memo.clear()
    comparison._memo.clear()


def test_pending_rules_fill_in_by_themselves(page, server, heavy):
    from pb_engine import jobs

    page.goto(f"/compare?rounds={ROUND}")
    notice = page.locator("#compare-pending")
    expect(notice).to_be_visible()
    expect(notice.locator("a")).to_have_attribute("href", f"/compare?rounds={ROUND}")
    pending = page.locator("table.compare-rules td.job-pending")
    expect(pending.first).to_contain_text("waiting for a worker")
    assert pending.count() >= 3 and len(heavy.jobs) == 1
    assert_no_serious_axe(page)

    jobs.execute(heavy.jobs[0], server.db.url, False)  # the job runs; the script sees it done and reloads
    expect(page.locator("#compare-pending")).to_have_count(0, timeout=15_000)
    expect(page.locator("table.compare-rules td.job-pending")).to_have_count(0)
    mes = page.locator("table.compare-rules tbody tr", has_text="method of equal shares")
    expect(mes.locator("td")).to_have_count(8)
    assert len(heavy.jobs) == 1
