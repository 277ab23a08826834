"""A long count from the console (api/console/jobs.py): the run form answers with the job's progress page,
which reloads itself (no script) until the count is done and then links to the draft; words in zh-TW too;
another city's job is not found."""

from __future__ import annotations

import pytest
from consolehelp import sign_in
from pagehelp import Site

from apihelp import populated_round
from pb_engine import jobs

pytestmark = pytest.mark.db

PAGE = "/console/alpha/rounds/2026/outcomes"


def test_long_count_shows_progress_then_the_outcome(app, api, cities, staff, site):
    populated_round(api, cities, run_outcome=False)
    app.config["PB_JOB_THRESHOLD"] = 1
    sign_in(site, "alpha", staff["alpha_manager"][1])
    form = site.get(PAGE)
    resp = site.client.post(f"{PAGE}/run", data={"csrf_token": form.csrf(), "rule": "greedy"})
    assert resp.status_code == 303 and "/console/alpha/jobs/" in resp.headers["Location"]
    url = resp.headers["Location"]
    job_id = url.rstrip("/").rsplit("/", 1)[-1]
    info = jobs.wait(app.extensions["pb_db"], job_id, timeout=60)
    assert info.state == "done", info.error
    page = site.get(url)
    assert page.status == 200 and "done" in page.text("main")
    assert page.soup.select_one('meta[http-equiv="refresh"]') is None  # finished: no more reloading
    link = page.soup.find("a", string="See the outcome")
    assert link is not None and f"compare={info.result['outcome']}" in link["href"]
    assert f"Project" in site.get(link["href"]).text("main")


def test_running_job_page_reloads_itself_in_both_languages(app, api, cities, staff):
    populated_round(api, cities, run_outcome=False)
    from test_route_roles import _a_job

    job_id = _a_job(app)
    for lang, words in (("en", "running"), ("zh-TW", "執行中")):
        site = Site(app.test_client(), lang=lang)
        sign_in(site, "alpha", staff["alpha_viewer"][1])
        page = site.get(f"/console/alpha/jobs/{job_id}")
        assert page.status == 200 and words in page.text("main")
        assert page.soup.select_one('meta[http-equiv="refresh"]')["content"] == "2"
        assert page.soup.select_one("progress")["value"] == "1"
    beta = Site(app.test_client())
    sign_in(beta, "beta", staff["beta_manager"][1])
    assert beta.get(f"/console/beta/jobs/{job_id}").status == 404
