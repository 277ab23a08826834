"""The comparison page (/compare): the picker (city, year, words), the side-by-side table, each rule's
figures, the charts (server-drawn SVG with a CSP of their own) each with its numbers and CSV; zh-TW
without a catalogue miss; bad values named beside their field, never an error page."""

from __future__ import annotations

import csv
import io

import pytest

from apihelp import make_round, populated_round
from jobhelp import HeldJobs

RATES = 'base = "EUR"\ndate = 2025-01-31\nsource = "test rates"\n[rates]\nPLN = "4"\n'


@pytest.fixture
def rounds(app, api, cities, tmp_path):
    (tmp_path / "rates.toml").write_text(RATES)
    app.config["PB_CURRENCY_RATES"] = str(tmp_path / "rates.toml")
    r = populated_round(api, cities)
    assert api.post(f"{r['base']}/outcomes/{r['outcome']['id']}/publish", token=cities["alpha_admin"]).status_code == 200
    make_round(api, cities, city="beta", slug="2025")
    return r


def test_pick_compare_in_two_languages_and_bad_values(app, site, site_zh, rounds):
    picker = site.get("/compare?q=beta")
    assert picker.status == 200
    assert [i["value"] for i in picker.soup.select('input[name="rounds"]')] == ["beta/2025"]
    assert [o["value"] for o in picker.soup.select("#f-year option")] == ["", "2026", "2025"]
    assert [i["value"] for i in site.get("/compare?year=2026").soup.select('input[name="rounds"]')] == ["alpha/2026"]

    page = site.get("/compare?rounds=alpha/2026&rounds=beta/2025&currency=PLN")
    assert page.status == 200
    checked = [i["value"] for i in page.soup.select('input[name="rounds"][checked]')]
    assert sorted(checked) == ["alpha/2026", "beta/2025"]
    rows = {tr.select_one("th").get_text(" ", strip=True): [td.get_text(" ", strip=True) for td in tr.select("td")]
            for tr in page.soup.select("table.compare-rounds tbody tr")}
    assert rows["Budget"] == ["€100,000", "€100,000"]
    assert rows["Budget in PLN"] == ["PLN400,000", "PLN400,000"]  # Babel, en: the code before the figure
    assert rows["Voters"] == ["12", "not public yet"]
    assert rows["Project cost: median"][0] == "€25,000" and rows["Largest project as share of its budget"][0] == "90%"
    assert rows["Funded projects (published outcome)"] == ["3", "not published yet"]
    rules = page.soup.select("table.compare-rules")
    official = {tr.select_one("th").get_text(strip=True): [td.get_text(" ", strip=True) for td in tr.select("td")]
                for tr in rules[0].select("tbody tr")}
    assert official["published outcome"][:3] == ["3", "€60,000 (60%)", "66.7%"]
    assert "needs options" in official["most votes first, with a minimum of votes"][0]
    assert "Not counted yet" in rules[1].get_text()
    assert "funded under some rules and not others" in page.text("details.compare-changes summary")

    charts = page.soup.select("figure.compare-chart")
    assert len(charts) == 7
    for fig in charts:
        img = fig.select_one("img")
        assert img["alt"].startswith("Chart: ") and img["src"].startswith("/compare/charts/")
        assert fig.select_one("table.data tbody tr") is not None and fig.select_one("a[download]") is not None
    svg = site.client.get(charts[0].select_one("img")["src"])
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert svg.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    fair = next(f for f in charts if f["id"] == "chart-share_with_funded")
    got = site.client.get(fair.select_one("a[download]")["href"])
    table = list(csv.reader(io.StringIO(got.get_data(as_text=True))))
    assert got.mimetype == "text/csv" and table[0][:2] == ["Round", "published outcome"]
    assert table[1][:2] == ["Alpha 2026", "0.666667"] and table[2][1] == ""
    assert site.client.get("/compare/charts/nothing.svg?rounds=alpha/2026").status_code == 404

    # the same round in zh-TW (one round made for every check: rounds are costly to make)
    app.config["PB_I18N_STRICT"] = True
    page = site_zh.get("/compare?rounds=alpha/2026,beta/2025")
    assert page.status == 200 and "比較各期" in page.text("h1")
    assert sorted(app.extensions.get("pb_i18n_misses", set())) == []
    svg = site_zh.client.get("/compare/charts/turnout.svg?rounds=alpha/2026", headers={"Accept-Language": "zh-TW"})
    assert svg.status_code == 200

    bad = site.get("/compare?rounds=alpha&year=20x6&currency=JPY")
    assert bad.status == 200
    assert "city/round" in bad.text("fieldset .field-error") and "four digits" in bad.field_error("year")
    missing = site.get("/compare?rounds=alpha/2026,nowhere/2026&currency=JPY")
    assert "nowhere/2026" in missing.text("fieldset .field-error") and "no exchange rate" in missing.field_error("currency")


def test_one_term_name_for_both_analyst_pages():
    """Shared categories are worded in one place (api/messages.py), not once per page."""
    import api.messages
    import api.pages.compare
    import api.pages.proposals_across

    assert api.pages.compare.term_name is api.messages.term_name is api.pages.proposals_across.term_name


def test_heavy_rules_show_their_background_job_then_their_figures(app, site, site_zh, rounds, monkeypatch):
    from pb_engine import jobs
    from pb_engine.analysis import rule_runs
    from pb_engine.queries import comparison

    rule_runs._memo.clear()  # these very ballots may have been counted by another test in this process
    comparison._memo.clear()
    held = HeldJobs()
    monkeypatch.setattr(jobs, "default_backend", lambda: held)
    app.config["PB_JOB_THRESHOLD"] = 1  # every rule run is heavy work

    page = site.get("/compare?rounds=alpha/2026")
    assert page.status == 200 and len(held.jobs) == 1
    notice = page.soup.select_one("#compare-pending")
    assert notice is not None and notice["role"] == "status"
    assert "counted in the background" in notice.get_text(" ", strip=True)
    assert notice.select_one("a")["href"] == "/compare?rounds=alpha/2026"  # no script needed: a plain reload link
    cells = page.soup.select("table.compare-rules td.job-pending")
    assert cells and all(td["data-job"] == f"/api/v1/jobs/{held.jobs[0]}" for td in cells)
    rows = {tr.select_one("th").get_text(strip=True): tr.get_text(" ", strip=True)
            for tr in page.soup.select("table.compare-rules tbody tr")}
    assert "pending" in rows["method of equal shares"] and "waiting for a worker" in rows["method of equal shares"]
    assert "pending" not in rows["published outcome"] and "needs options" in rows["most votes first, with a minimum of votes"]
    assert [s["src"] for s in page.soup.select("script[src]") if "compare_jobs" in s["src"]] == ["/static/compare_jobs.js"]
    assert site.client.get("/static/compare_jobs.js").status_code == 200
    # the job's progress, as the script polls it (public: the figures it fills are)
    status = site.client.get(cells[0]["data-job"])
    assert status.status_code == 200 and status.get_json()["state"] == "queued"

    app.config["PB_I18N_STRICT"] = True
    zh = site_zh.get("/compare?rounds=alpha/2026")
    assert zh.status == 200 and zh.soup.select_one("#compare-pending") is not None
    assert sorted(app.extensions.get("pb_i18n_misses", set())) == []
    assert len(held.jobs) == 1  # the second look joined the job

    db = app.extensions["pb_db"]
    jobs.execute(held.jobs[0], db.url, False)  # the job runs (inline here)
    page = site.get("/compare?rounds=alpha/2026")
    assert page.soup.select_one("#compare-pending") is None and not page.soup.select("td.job-pending")
    assert not [s for s in page.soup.select("script[src]") if "compare_jobs" in s["src"]]
    rows = {tr.select_one("th").get_text(strip=True): [td.get_text(" ", strip=True) for td in tr.select("td")]
            for tr in page.soup.select("table.compare-rules tbody tr")}
    assert len(rows["method of equal shares"]) == 8 and rows["method of equal shares"][0].isdigit()
    assert len(held.jobs) == 1
