"""Voting on pages: sign in with an access code, vote in a knapsack round without exceeding the
budget, change the ballot, check the receipt; ranking and points ballots; refusals beside the choice."""

import pytest

from apihelp import advance_to, make_round, register
from pagehelp import Site

pytestmark = pytest.mark.db

BASE = "/api/v1/cities/alpha/rounds/2026"


def voting_round(api, cities, kind, costs=(("north", 20_000), ("north", 30_000), ("north", 25_000), ("south", 10_000)),
                 **kw):
    """A round of `kind` in voting with proposals on the ballot; returns ({title: id}, access codes for north)."""
    make_round(api, cities, kind=kind, **kw)
    advance_to(api, cities, "submission")
    resident = register(api)
    ids = {}
    for i, (district, cost) in enumerate(costs):
        r = api.post(f"{BASE}/proposals", json={"title": f"Project {i}", "district": district,
                                                "estimated_cost": cost}, token=resident)
        ids[f"Project {i}"] = r.get_json()["id"]
    advance_to(api, cities, "review")
    for pid in ids.values():
        p = api.get(f"{BASE}/proposals/{pid}").get_json()
        assert api.patch(f"{BASE}/proposals/{pid}", json={"reviewed_cost": p["estimated_cost"], "feasible": True,
                                                          "status": "on_ballot"},
                         token=cities["alpha_admin"]).status_code == 200
    advance_to(api, cities, "voting")
    codes = api.post(f"{BASE}/access-codes", json={"district": "north", "count": 3},
                     token=cities["alpha_admin"]).get_json()["codes"]
    return ids, codes


def sign_in_with_code(site: Site, code: str):
    return site.submit("/alpha/2026/vote", {"access_code": code})


def checked(page) -> set[str]:
    return {" ".join(box.find_next("label").get_text(" ").split()).split(" €")[0]
            for box in page.soup.select('input[name="project"][checked]')}


def test_knapsack_cannot_exceed_budget_and_ballot_can_change(api, cities, site):
    ids, codes = voting_round(api, cities, "knapsack")
    page = sign_in_with_code(site, "NOPE-NOPE-NOPE")
    assert page.status in (401, 422) and page.field_error("access_code")
    page = sign_in_with_code(site, codes[0])
    assert page.status == 200 and page.text("h1") == "Your ballot: North"
    assert page.texts(".choice .cost") == ["€20,000", "€30,000", "€25,000"]
    assert page.text("#budget-text") == "€0 of €50,000 chosen; €50,000 left."
    booth = page.resp.request.path

    # 20 000 + 30 000 + 25 000 > 50 000: refused, the reason shown, the choices kept.
    page = site.submit(booth, {"project": [str(ids["Project 0"]), str(ids["Project 1"]), str(ids["Project 2"])]})
    assert page.status == 422
    assert page.text(".alert") == ("Your choice costs €75,000, more than the budget of €50,000 by €25,000. "
                                   "Leave out a project.")
    assert checked(page) == {"Project 0", "Project 1", "Project 2"}
    assert site.get("/alpha/2026/receipt?receipt=x").status == 200

    page = site.submit(booth, {"project": [str(ids["Project 0"]), str(ids["Project 1"])]})
    assert page.status == 200 and page.text("h1") == "Your ballot is counted"
    first = page.text("#receipt")
    assert page.texts(".ballot-summary li") == ["Project 0 · €20,000", "Project 1 · €30,000"]

    page = site.get(booth)
    assert f"receipt {first}" in page.text(".notice") and checked(page) == {"Project 0", "Project 1"}
    assert page.text("#budget-text") == "€50,000 of €50,000 chosen; €0 left."
    page = site.submit(booth, {"project": [str(ids["Project 2"])]})
    second = page.text("#receipt")
    assert second != first and page.texts(".ballot-summary li") == ["Project 2 · €25,000"]
    assert "version 2" in page.text("main")

    # The old receipt reads exactly as the new one: shown to a coercer, it must not reveal the change.
    assert "your ballot was received" in site.get(f"/alpha/2026/receipt?receipt={second}").text("#receipt-status")
    assert (site.get(f"/alpha/2026/receipt?receipt={first}").text("#receipt-status").replace(first, "")
            == site.get(f"/alpha/2026/receipt?receipt={second}").text("#receipt-status").replace(second, ""))
    assert "not known" in site.get("/alpha/2026/receipt?receipt=ZZZZ-ZZZZ").text("#receipt-status")
    # The API sees the same one ballot.
    votes = api.get(f"{BASE}/receipts/{second}").get_json()
    assert votes["status"] == "received"


def test_ranking_refusal_beside_the_project_and_order_kept(api, cities, site):
    ids, codes = voting_round(api, cities, "ranked")
    page = sign_in_with_code(site, codes[0])
    booth = page.resp.request.path
    assert len(page.soup.select("select.rank")) == 3
    p0, p1, p2 = (str(ids[f"Project {i}"]) for i in range(3))
    page = site.submit(booth, {f"rank-{p0}": "1", f"rank-{p1}": "1"})
    assert page.status == 422
    assert "Rank 1 is given to two projects" in page.field_error(f"rank-{p1}")
    assert page.value(f"rank-{p0}") == "1" and page.value(f"rank-{p1}") == "1"
    page = site.submit(booth, {f"rank-{p2}": "1", f"rank-{p0}": "2"})
    assert page.texts(".ballot-summary li") == ["Project 0 · €20,000 · rank 2", "Project 2 · €25,000 · rank 1"]
    page = site.get(booth)
    assert page.value(f"rank-{p2}") == "1" and page.value(f"rank-{p0}") == "2" and page.value(f"rank-{p1}") == ""


def test_points_over_the_limit_are_refused(api, cities, site):
    ids, codes = voting_round(api, cities, "cumulative")
    page = sign_in_with_code(site, codes[0])
    booth = page.resp.request.path
    p0, p1 = str(ids["Project 0"]), str(ids["Project 1"])
    page = site.submit(booth, {f"points-{p0}": "5", f"points-{p1}": "6"})
    assert page.status == 422 and "6" in page.text(".ballot") + page.text(".alert")
    assert page.value(f"points-{p1}") == "6"
    page = site.submit(booth, {f"points-{p0}": "5", f"points-{p1}": "4"})
    assert page.texts(".ballot-summary li") == ["Project 0 · €20,000 · 5 points", "Project 1 · €30,000 · 4 points"]


def test_an_access_code_votes_only_in_its_district(api, cities, site):
    ids, codes = voting_round(api, cities, "approval")
    sign_in_with_code(site, codes[0])
    assert site.get("/alpha/2026/vote/south").status == 403
    assert site.get("/alpha/2026/vote").resp.request.path == "/alpha/2026/vote/north"


def test_no_booth_without_a_voter_session(api, cities, site):
    voting_round(api, cities, "approval")
    page = site.get("/alpha/2026/vote/north")
    assert page.resp.request.path == "/alpha/2026/vote" and page.soup.select('input[name="access_code"]')
