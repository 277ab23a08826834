"""GET /api/v1/proposals, /proposals/by-city and a proposal's similar ones; borrowing an idea over JSON.

Figures are worked out by hand from tests/across_world.py (1 EUR = 4 PLN)."""

from __future__ import annotations

import csv
import io

import pytest

import across_world
from apihelp import advance_to, make_round, register
from jobhelp import HeldJobs

pytestmark = pytest.mark.db

P = "/api/v1/proposals"


def _get(client, query=""):
    r = client.get(f"{P}?{query}")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_rows_filters_sort_pages_by_city_csv_and_bad_input(app, client, tmp_path):
    ids = across_world.build(app, tmp_path)
    name = {v: k for k, v in ids.items()}
    every = _get(client, "per_page=50")
    assert every["total"] == 6 and every["currency"] == "EUR" and every["rates_date"] == "2025-01-31"
    w1 = next(r for r in every["proposals"] if r["id"] == ids["W1"])
    assert (w1["city"], w1["round"], w1["year"], w1["currency"], w1["cost"]) == ("warszawa", "2026", 2026, "PLN", 400000)
    assert w1["cost_converted"] == {"currency": "EUR", "amount": 100000.0}
    assert (w1["categories"], w1["stage"], w1["cost_band"], w1["imported"]) == (["sport"], "funded", "50k-200k", True)
    assert (w1["share_of_budget"], w1["votes"], w1["voters"], w1["voter_share"]) == (0.8, 3, 4, 0.75)
    assert w1["funded_official"] is True and w1["implementation"] is None
    # Greedy on the same ballots: W1 (3 votes), then W2 (2 votes, by id before W3) fills the budget.
    w3 = next(r for r in every["proposals"] if r["id"] == ids["W3"])
    assert w1["funded_by_rule"]["greedy"] is True and w3["funded_by_rule"]["greedy"] is False
    assert w3["funded_official"] is False and w3["categories"] == ["environment"]

    def names(query):
        return [name[r["id"]] for r in _get(client, query)["proposals"]]

    assert sorted(names("category=sport")) == ["T1", "T2", "W1", "W2"]
    assert sorted(names("city=toulouse")) == ["T1", "T2", "T3"]
    assert sorted(names("year=2022")) == ["T1", "T2", "T3"]
    assert sorted(names("status=funded")) == ["T1", "T3", "W1", "W2"]
    assert sorted(names("status=on_ballot")) == ["T1", "T2", "T3", "W1", "W2", "W3"]
    assert names("status=built") == []
    assert sorted(names("cost_band=10k-50k")) == ["T3", "W2", "W3"]   # 20 000, 25 000, 12 500 EUR
    assert sorted(names("q=plac")) == ["W1", "W2"]
    assert names("sort=-cost") == ["T2", "W1", "T1", "W2", "T3", "W3"]
    assert names("sort=votes") == ["T2", "T3", "W2", "W3", "T1", "W1"]  # ties by city, round, id
    page2 = _get(client, "sort=-cost&per_page=4&page=2")
    assert [name[r["id"]] for r in page2["proposals"]] == ["T3", "W3"]
    assert (page2["total"], page2["pages"], page2["page"]) == (6, 2, 2)
    t1 = next(r for r in _get(client, "currency=PLN&city=toulouse")["proposals"] if r["id"] == ids["T1"])
    assert t1["cost_converted"] == {"currency": "PLN", "amount": 320000.0} and t1["cost"] == 80000

    by_city = client.get(f"{P}/by-city?category=sport").get_json()
    assert by_city["cities"] == [
        {"city": "toulouse", "city_name": "Toulouse", "count": 2, "median_cost": 115000.0, "decided": 2, "funded": 1,
         "share_funded": 0.5, "votes_per_project": 2.0},
        {"city": "warszawa", "city_name": "Warszawa", "count": 2, "median_cost": 62500.0, "decided": 2, "funded": 2,
         "share_funded": 1.0, "votes_per_project": 2.5}]

    r = client.get(f"{P}?format=csv&category=sport&sort=-cost")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [row["title"] for row in table] == ["Terrain de sport", "Plac zabaw przy szkole", "Aire de jeux pour enfants",
                                               "Nowy plac zabaw w parku"]
    assert (table[1]["cost"], table[1]["cost_EUR"], table[1]["funded_official"], table[1]["funded_greedy"],
            table[1]["votes"], table[1]["voter_share"]) == ("400000", "100000.00", "yes", "yes", "3", "0.75")

    for query, field in (("category=playgrounds", "category"), ("cost_band=huge", "cost_band"),
                         ("currency=XYZ", "currency"), ("sort=price", "sort"), ("status=dreamt", "status"),
                         ("per_page=0", "per_page")):
        r = client.get(f"{P}?{query}")
        assert r.status_code == 422, (query, r.get_json())
        assert field in r.get_json()["errors"], (query, r.get_json())
    r = client.get(f"{P}/by-city")
    assert r.status_code == 422 and "category" in r.get_json()["errors"]
    (tmp_path / "rates.toml").write_text('base = "EUR"\n[rates]\nPLN = "4"\n', encoding="utf-8")  # no date
    r = client.get(P)
    assert r.status_code == 503 and "date" in r.get_json()["message"] and "rates.toml" in r.get_json()["message"]


def test_similar_proposals_and_borrowing_with_attribution(app, client, api, cities, tmp_path):
    ids = across_world.build(app, tmp_path)
    make_round(api, cities)
    advance_to(api, cities, "submission")
    resident = register(api)
    base = "/api/v1/cities/alpha/rounds/2026"
    r = api.post(f"{base}/proposals", json={"title": "Sadzenie drzew na osiedlu", "district": "north",
                                            "categories": ["parks"], "estimated_cost": 15000,
                                            "borrowed_from": ids["W3"]}, token=resident)
    assert r.status_code == 201, r.get_json()
    mine = r.get_json()
    origin = {"proposal_id": ids["W3"], "city": "warszawa", "city_name": "Warszawa", "round": "2026",
              "round_title": "Warszawa 2026", "title": "Sadzenie drzew"}
    assert mine["borrowed_from"] == origin
    assert api.get(f"{base}/proposals/{mine['id']}").get_json()["borrowed_from"] == origin

    found = api.get(f"{base}/proposals/{mine['id']}/similar").get_json()["similar"]
    # Only the same shared category (environment) of other rounds; the near-identical Polish title first.
    assert found and found[0]["id"] == ids["W3"] and found[0]["fate"] == "not_funded"
    assert {x["id"] for x in found} <= {ids["W3"], ids["T3"]}
    assert all(x["score"] >= 0.15 for x in found)
    back = api.get(f"/api/v1/cities/warszawa/rounds/2026/proposals/{ids['W3']}/similar").get_json()["similar"]
    assert back[0]["id"] == mine["id"] and back[0]["fate"] == "submitted" and back[0]["city"] == "alpha"
    # A new idea joins the fitted model (same vocabulary, no refit) and is found at once.
    from pb_engine.queries import similar_proposals

    engine = app.extensions["pb_db"].engine
    fitted = similar_proposals._models[engine].fitted_at
    r = api.post(f"{base}/proposals", json={"title": "Sadzenie drzew przy szkole", "district": "south",
                                            "categories": ["parks"]}, token=resident)
    again = api.get(f"/api/v1/cities/warszawa/rounds/2026/proposals/{ids['W3']}/similar").get_json()["similar"]
    assert r.get_json()["id"] in {x["id"] for x in again} and similar_proposals._models[engine].fitted_at == fitted

    for bad in (999_999, "x", True):
        r = api.post(f"{base}/proposals", json={"title": "T", "district": "north", "borrowed_from": bad}, token=resident)
        assert r.status_code == 422 and "borrowed_from" in r.get_json()["errors"], r.get_json()
    r = api.post(f"{base}/proposals", json={"title": "T", "district": "north", "borrowed_from": mine["id"]},
                 token=resident)
    assert r.status_code == 422 and "borrowed_from" in r.get_json()["errors"]  # not from its own round

    # A formula typed as a title stays text in the CSV; the live proposal is a row (submitted, no votes yet).
    r = api.post(f"{base}/proposals", json={"title": '=HYPERLINK("http://x","y")', "district": "south"}, token=resident)
    assert r.status_code == 201
    text = client.get(f"{P}?format=csv&city=alpha").get_data(as_text=True)
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    alpha = _get(client, "city=alpha")["proposals"]
    assert {x["stage"] for x in alpha} == {"submitted"} and all(x["votes"] is None for x in alpha)

    # The original goes (a changed file re-imported with replace): the attribution stays, without its link.
    from pb_engine import importer

    path = tmp_path / "Poland_Warszawa_2026.pb"
    path.write_text(across_world.WARSZAWA.replace("3;50000;Sadzenie", "3;60000;Sadzenie"), encoding="utf-8")
    importer.import_file(app.extensions["pb_db"], path, replace=True)
    assert api.get(f"{base}/proposals/{mine['id']}").get_json()["borrowed_from"] == {**origin, "proposal_id": None}


def test_heavy_rule_runs_are_pending_until_their_job_is_done(app, client, tmp_path, monkeypatch):
    """Rounds whose rule runs are heavy work (here every round: PB_JOB_THRESHOLD 1) are counted by the
    comparison's background job, through the same cache; their rows say "pending" until it is done."""
    from pb_engine import jobs
    from pb_engine.analysis import rule_runs

    ids = across_world.build(app, tmp_path)
    rule_runs._memo.clear()  # these ballots may have been counted by another test in this process
    held = HeldJobs()
    monkeypatch.setattr(jobs, "default_backend", lambda: held)
    app.config["PB_JOB_THRESHOLD"] = 1
    every = _get(client, "per_page=50")
    w1 = next(r for r in every["proposals"] if r["id"] == ids["W1"])
    assert "greedy" in w1["rules_pending"] and "mes" in w1["rules_pending"]
    assert w1["funded_by_rule"]["greedy"] is None and w1["funded_official"] is True  # the published outcome is there
    assert len(held.jobs) == 2  # one job per round (Warszawa, Toulouse), for all its rules
    table = list(csv.DictReader(io.StringIO(client.get(f"{P}?format=csv").get_data(as_text=True))))
    assert {row["funded_greedy"] for row in table} == {"pending"} and len(held.jobs) == 2  # joined, not started again
    page = client.get("/proposals?per_page=50")
    assert page.status_code == 200
    assert "rules pending: counted in the background" in page.get_data(as_text=True)

    db = app.extensions["pb_db"]
    for job_id in held.jobs:
        jobs.execute(job_id, db.url, False)  # the jobs run (inline here)
    every = _get(client, "per_page=50")
    w1 = next(r for r in every["proposals"] if r["id"] == ids["W1"])
    w3 = next(r for r in every["proposals"] if r["id"] == ids["W3"])
    assert w1["rules_pending"] == [] and w3["rules_pending"] == []
    assert w1["funded_by_rule"]["greedy"] is True and w3["funded_by_rule"]["greedy"] is False  # as worked out above
    assert w1["funded_by_rule"]["mes"] in (True, False)
    assert "rules pending" not in client.get("/proposals?per_page=50").get_data(as_text=True)
    assert len(held.jobs) == 2
