"""GET /api/v1/compare: every figure of a published round checked against numbers worked out by hand,
the chosen currency from the analyst's rates file, the CSV, what stays hidden before voting ends, and
bad input naming its field.

The round (tests/apihelp.populated_round, greedy, published): North (budget 50 000) has p0 10 000,
p1 30 000, p2 25 000, each alone on 2 of its 6 ballots; South (50 000) has p3 20 000 and p4 45 000: ballots
{p3}, {p4}, {p3}, {p3, p4}, {p3}, {p4}. Greedy breaks North's ties by id: p0, p1 (p2 no longer fits); in
South p3 (4 votes), then p4 does not fit: 60 000 in all.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from apihelp import make_round, populated_round
from jobhelp import HeldJobs

RATES = 'base = "EUR"\ndate = 2025-01-31\nsource = "test rates"\n[rates]\nPLN = "4"\nTWD = "35"\n'


@pytest.fixture
def published(app, api, cities, tmp_path):
    path = tmp_path / "rates.toml"
    path.write_text(RATES)
    app.config["PB_CURRENCY_RATES"] = str(path)
    r = populated_round(api, cities)
    resp = api.post(f"{r['base']}/outcomes/{r['outcome']['id']}/publish", token=cities["alpha_admin"])
    assert resp.status_code == 200, resp.get_json()
    make_round(api, cities, city="beta")  # upcoming: nothing about ballots yet
    return r


def test_figures_of_a_published_round_by_hand(api, published):
    body = api.get("/api/v1/compare?rounds=alpha/2026,beta/2026&currency=PLN").get_json()
    assert body["currency"] == "PLN" and body["rates"]["date"] == "2025-01-31" and body["rates"]["source"] == "test rates"
    a, b = body["rounds"]
    f = a["figures"]
    ids = published["ids"]
    p0, p1, p2 = ids["north"]
    p3, p4 = ids["south"]
    assert (f["proposals_submitted"], f["proposals_reviewed"], f["proposals_on_ballot"]) == (5, 5, 5)
    assert f["in_currency"] == {"currency": "PLN", "rates_date": "2025-01-31", "budget": 400_000.0,
                                "budget_per_capita": 133.3333, "spend": 240_000.0}
    assert f["ballot_length"] == {"ballots": 12, "mean": 1.083333, "median": 1.0, "distribution": {"1": 11, "2": 1}}
    # shares of the district budget: North .2 .6 .5 twice, South .4 .9 .4 1.3 .4 .9: mean 6.9/12, median .5
    assert f["ballot_spend"] == {"ballots": 12, "mean_share": 0.575, "median_share": 0.5}
    assert f["cost_distribution"] == {"projects": 5, "min": 10_000, "q1": 20_000, "median": 25_000, "q3": 30_000,
                                      "max": 45_000, "total": 130_000, "largest_share": 0.9}
    # parks -> environment (p1, p3 funded: 50 000), streets -> transport (p0 funded: 10 000)
    assert f["category_shares"]["environment"] == {"projects": 2, "funded": 2, "funded_share": 0.666667,
                                                    "spend": 50_000, "spend_share": 0.5}
    assert f["by_taxonomy"]["transport"]["spend_share"] == 0.1 and f["by_taxonomy"]["transport"]["funded"] == 1
    official = f["rules"]["official"]
    assert official["selected"] == sorted(map(str, (p0, p1, p3)), key=int)
    assert (official["funded"], official["spend"], official["spend_share"]) == (3, 60_000, 0.6)
    # 4 of North's 6 voters and 4 of South's have a funded project; by cost: (.2+.6)*2 + .4*4 = 3.2 over 12
    # ballots; Gini by cost: 0 x4, .2 .2 .6 .6 .4 .4 .4 .4 differ by 35.2 over ordered pairs, / (2 x 12^2 x 3.2/12)
    # = 11/24; by count, 8 ballots at 1, 4 at 0: 2x4x8 / (2x12^2x8/12) = 1/3. Only p3 has more than half of
    # its district's voters (4 of 6), so p0 and p1 (40 000) went to projects without a majority.
    assert official["fairness"] == {"voters": 12, "with_funded": 8, "share_with_funded": 0.666667,
                                    "mean_satisfaction_cost": 0.266667, "mean_satisfaction_count": 0.666667,
                                    "gini_cost": 0.458333, "gini_count": 0.333333,
                                    "unapproved_spend": 40_000, "unapproved_spend_share": 0.4}
    rules = f["rules"]
    assert rules["greedy"]["selected"] == official["selected"]          # the round's own rule, re-run
    # max-welfare (satisfaction by cost): North {p0, p1} = 2 x 40 000 beats {p0, p2}; South p4 (3 x 45 000)
    # beats p3 (4 x 20 000)
    assert rules["max-welfare"]["selected"] == sorted(map(str, (p0, p1, p4)), key=int)
    assert rules["greedy-threshold"] == {"skipped": "needs_options", "message": rules["greedy-threshold"]["message"]}
    changes = {c["id"]: c for c in f["changes"]}
    assert changes[p4]["title"] == "Project 4" and changes[p4]["district"] == "south"
    assert "max-welfare" in changes[p4]["funded_by"] and "official" in changes[p4]["not_funded_by"]
    assert "official" in changes[p3]["funded_by"] and "max-welfare" in changes[p3]["not_funded_by"]
    assert p2 not in changes or all(r != "official" for r in changes[p2]["funded_by"])
    for c in f["changes"]:  # every change matches the rules' own selections
        for r in c["funded_by"]:
            assert str(c["id"]) in rules[r]["selected"]
        for r in c["not_funded_by"]:
            assert str(c["id"]) not in rules[r]["selected"]
    # an upcoming round: costs of nothing yet, and nothing about ballots or rules
    g = b["figures"]
    assert g["voters"] is None and g["ballot_length"] is None and g["rules"] is None and g["changes"] is None
    assert g["in_currency"]["budget"] == 400_000.0 and g["cost_distribution"]["projects"] == 0

    # the same as CSV: one row per round, every figure (one round made for both: rounds are costly)
    resp = api.get("/api/v1/compare?rounds=alpha/2026,beta/2026&currency=TWD&format=csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [r["city"] for r in rows] == ["alpha", "beta"]
    a = rows[0]
    assert (a["chosen_currency"], a["budget_in_currency"], a["rates_date"]) == ("TWD", "3500000.0", "2025-01-31")
    assert (a["ballot_length_mean"], a["project_cost_median"], a["largest_project_share"]) == ("1.083333", "25000", "0.9")
    assert (a["official:funded"], a["official:share_with_funded"], a["official:gini_count"]) == ("3", "0.666667", "0.333333")
    assert a["max-welfare:spend"] == "85000" and a["projects_changing"] != ""
    assert "greedy-threshold:funded" not in a  # skipped everywhere: no empty columns for it
    assert rows[1]["voters"] == "" and rows[1]["official:funded"] == ""


def test_bad_currency_and_a_broken_rates_file_are_named(api, cities, app, tmp_path):
    app.config["PB_CURRENCY_RATES"] = str(tmp_path / "r.toml")
    (tmp_path / "r.toml").write_text(RATES)
    make_round(api, cities)
    for query in ("rounds=alpha/2026&currency=JPY", "rounds=alpha/2026&currency=eur"):
        resp = api.get(f"/api/v1/compare?{query}")
        body = resp.get_json()
        assert resp.status_code == 422 and "currency" in body["errors"], (query, body)
    (tmp_path / "r.toml").write_text('base = "EUR"\ndate = 2025-01-31\n[rates]\nPLN = "four"\n')
    resp = api.get("/api/v1/compare?rounds=alpha/2026")
    body = resp.get_json()
    assert resp.status_code == 503 and body["code"] == "rates_file_broken" and "rates.PLN" in body["message"]


def test_an_imported_pabulib_round_against_pabutools(app, api):
    """A real round imported from Pabulib (its official `selected` outcome kept), compared over HTTP:
    the official outcome's figures equal those pabutools' analysis module computes on its own parse."""
    from fractions import Fraction as F
    from pathlib import Path

    from pabutools.analysis.profileproperties import avg_ballot_length
    from pabutools.analysis.votersatisfaction import (avg_satisfaction, gini_coefficient_of_satisfaction,
                                                      percent_non_empty_handed)
    from pabutools.election import Cardinality_Sat, Cost_Sat, parse_pabulib

    from pb_engine.importer import import_file

    path = Path(__file__).resolve().parents[1] / "data" / "pabulib" / "Poland_Warszawa_2018_rejon_6.pb"
    done = import_file(app.extensions["pb_db"], path)
    ref = f"{done.city}/{done.round}"
    body = api.get(f"/api/v1/compare?rounds={ref}&currency=PLN").get_json()
    f = body["rounds"][0]["figures"]

    instance, profile = parse_pabulib(str(path))
    funded = [p for p in instance if instance.project_meta[p].get("selected") == "1"]
    budget = F(str(instance.budget_limit))
    official = f["rules"]["official"]
    assert official["funded"] == len(funded) and F(str(official["spend"])) == sum(F(str(p.cost)) for p in funded)
    assert f["ballot_length"]["ballots"] == profile.num_ballots()
    assert f["ballot_length"]["mean"] == round(float(avg_ballot_length(instance, profile)), 6)
    fair = official["fairness"]
    assert fair["share_with_funded"] == round(float(percent_non_empty_handed(instance, profile, funded)), 6)
    assert fair["mean_satisfaction_cost"] == round(float(F(str(avg_satisfaction(instance, profile, funded, Cost_Sat)))
                                                         / budget), 6)
    assert fair["mean_satisfaction_count"] == round(float(avg_satisfaction(instance, profile, funded, Cardinality_Sat)), 6)
    assert fair["gini_cost"] == pytest.approx(float(gini_coefficient_of_satisfaction(instance, profile, funded, Cost_Sat)),
                                              abs=1e-6)
    assert f["cost_distribution"]["projects"] == len(instance)
    assert {"greedy", "mes", "phragmen"} <= {r for r, run in f["rules"].items() if "skipped" not in run}


# --- heavy rule runs: counted once by a background job, pending meanwhile -------------------------------


@pytest.fixture
def held(app, monkeypatch):
    """Every rule run is heavy work (PB_JOB_THRESHOLD 1); jobs wait until the test runs them; the process
    memos forget the ballots they may have counted in another test."""
    from pb_engine import jobs
    from pb_engine.analysis import rule_runs
    from pb_engine.queries import comparison

    rule_runs._memo.clear()
    comparison._memo.clear()
    backend = HeldJobs()
    monkeypatch.setattr(jobs, "default_backend", lambda: backend)
    app.config["PB_JOB_THRESHOLD"] = 1
    yield backend
    rule_runs._memo.clear()
    comparison._memo.clear()


def test_heavy_rules_answer_202_pending_with_their_job_then_the_figures(app, api, published, held):
    from pb_engine import jobs
    from pb_engine.store.tables import Job, RuleResult

    db = app.extensions["pb_db"]
    with db.session() as s:
        cached = len(s.exec(select(RuleResult)).all())
    r = api.get("/api/v1/compare?rounds=alpha/2026,beta/2026")
    assert r.status_code == 202, r.get_json()
    body = r.get_json()
    assert len(held.jobs) == 1 and [j["id"] for j in body["jobs"]] == held.jobs
    job = body["jobs"][0]
    assert r.headers["Location"] == job["status_url"] == f"/api/v1/jobs/{held.jobs[0]}"
    assert job["kind"] == "rules.run" and job["state"] == "queued"
    rules = body["rounds"][0]["figures"]["rules"]
    assert rules["official"]["funded"] == 3 and rules["official"]["spend"] == 60_000  # the published outcome is there
    assert rules["greedy-threshold"]["skipped"] == "needs_options"  # said at once, never queued
    waiting = {rid for rid, run in rules.items() if run.get("skipped") == "pending"}
    assert {"mes", "phragmen", "max-welfare"} <= waiting
    # greedy is the round's own rule: its count (populated_round's draft) is in the cache, so it is shown
    assert "skipped" not in rules["greedy"] and rules["greedy"]["selected"] == rules["official"]["selected"]
    assert all(rules[rid]["job"] == job["id"] and rules[rid]["status_url"] == job["status_url"]
               and rules[rid]["state"] == "queued" for rid in waiting)
    assert body["rounds"][0]["figures"]["ballot_length"]["ballots"] == 12  # the other figures are all there
    # the job is as public as the figures it fills; asking again joins it rather than starting another
    assert api.get(job["status_url"]).get_json()["state"] == "queued"
    again = api.get("/api/v1/compare?rounds=alpha/2026")
    assert again.status_code == 202 and again.get_json()["jobs"][0]["id"] == job["id"] and len(held.jobs) == 1
    with db.session() as s:
        assert len(s.exec(select(Job)).all()) == 1 and len(s.exec(select(RuleResult)).all()) == cached  # none counted
    csv_pending = api.get("/api/v1/compare?rounds=alpha/2026&format=csv")
    assert csv_pending.status_code == 202 and "mes:funded" not in csv_pending.get_data(as_text=True)

    jobs.execute(held.jobs[0], db.url, False)  # the job runs (inline here)
    status = api.get(job["status_url"]).get_json()
    assert status["state"] == "done" and status["percent"] == 100
    assert status["result_url"] == "/api/v1/compare?rounds=alpha/2026"
    done = api.get("/api/v1/compare?rounds=alpha/2026,beta/2026")
    assert done.status_code == 200 and "jobs" not in done.get_json() and "Location" not in done.headers
    ran = done.get_json()["rounds"][0]["figures"]["rules"]
    assert not any(run.get("skipped") == "pending" for run in ran.values())
    # the figures are the ones the request would have counted itself
    from pb_engine.analysis import rule_runs
    from pb_engine.queries import comparison

    rule_runs._memo.clear()
    comparison._memo.clear()
    app.config["PB_JOB_THRESHOLD"] = 10**12
    direct = api.get("/api/v1/compare?rounds=alpha/2026").get_json()["rounds"][0]["figures"]["rules"]
    assert direct == ran and ran["greedy"]["selected"] == ran["official"]["selected"]
    assert len(held.jobs) == 1


def test_a_failed_background_count_is_said_not_retried_at_once(app, api, published, held, monkeypatch):
    from pb_engine import jobs

    db = app.extensions["pb_db"]
    assert api.get("/api/v1/compare?rounds=alpha/2026").status_code == 202
    monkeypatch.setitem(jobs.KINDS, "rules.run", "tests.jobs.test_jobs:_dies")  # its thread dies
    from pb_engine.jobs import _run_in_thread

    _run_in_thread(held.jobs[0], db.url)
    r = api.get("/api/v1/compare?rounds=alpha/2026")
    assert r.status_code == 200, r.get_json()
    mes = r.get_json()["rounds"][0]["figures"]["rules"]["mes"]
    assert mes["skipped"] == "failed" and "SystemExit" in mes["message"] and mes["job"] == held.jobs[0]
    assert len(held.jobs) == 1


def test_a_background_count_whose_process_went_away_is_started_again(app, api, published, held, monkeypatch):
    from pb_engine import jobs

    assert api.get("/api/v1/compare?rounds=alpha/2026").status_code == 202 and len(held.jobs) == 1
    monkeypatch.setattr(jobs, "STALE_AFTER", 0.0)  # the held job's process "died": no heartbeat since
    r = api.get("/api/v1/compare?rounds=alpha/2026")
    assert r.status_code == 202 and len(held.jobs) == 2 and r.get_json()["jobs"][0]["id"] == held.jobs[1]


def test_two_requests_that_both_found_no_job_start_one_between_them(app, api, published, held, monkeypatch):
    # The interleaving of two requests at the same instant (two worker processes): each looked for a job for
    # these rules and inputs before either had queued one. The second must join the first's job.
    from pb_engine import jobs
    from pb_engine.analysis import rule_runs
    from pb_engine.queries import comparison
    from pb_engine.store.tables import Job

    real_look, real_enqueue = comparison._latest_job, jobs.enqueue
    inside = []

    def look(session, round_id, key):
        # a request's own look finds nothing, as if it came before the other's commit; a look made while
        # queueing (in the insert's own transaction) sees what is there
        return real_look(session, round_id, key) if inside else None

    def enqueue(*a, **kw):
        inside.append(True)
        try:
            return real_enqueue(*a, **kw)
        finally:
            inside.pop()

    monkeypatch.setattr(comparison, "_latest_job", look)
    monkeypatch.setattr(jobs, "enqueue", enqueue)
    first = api.get("/api/v1/compare?rounds=alpha/2026")
    rule_runs._memo.clear()  # the second request comes from another worker process: no memo of the first
    comparison._memo.clear()
    second = api.get("/api/v1/compare?rounds=alpha/2026")
    assert first.status_code == second.status_code == 202
    db = app.extensions["pb_db"]
    with db.session() as s:
        assert len(s.exec(select(Job)).all()) == 1
    assert len(held.jobs) == 1 and second.get_json()["jobs"][0]["id"] == first.get_json()["jobs"][0]["id"]
