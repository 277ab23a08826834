"""A city's dashboard as its staff read it: rounds with their phase and what comes next, the counts
and what needs attention."""

from __future__ import annotations

import pytest
from consolehelp import sign_in

from apihelp import advance_to, make_round, register

pytestmark = pytest.mark.db

BASE = "/api/v1/cities/alpha/rounds/2026"


def _figures(section) -> dict:
    return {" ".join(th.get_text(" ").split()): " ".join(td.get_text(" ").split())
            for th, td in ((tr.th, tr.td) for tr in section.select("table.figures tr"))}


def test_dashboard_counts_and_attention(site, api, cities, staff):
    admin = cities["alpha_admin"]
    make_round(api, cities, threshold=2)
    make_round(api, cities, slug="2027")  # upcoming, empty
    advance_to(api, cities, "submission")
    ada, bob, cy = register(api), register(api, username="bob"), register(api, username="cyd")
    ids = {}
    for title, district in [("Bike lane", "north"), ("Tree", "south"), ("Bench", "north"), ("Fountain", "south")]:
        r = api.post(f"{BASE}/proposals", json={"title": title, "district": district, "estimated_cost": 10_000},
                     token=ada)
        assert r.status_code == 201, r.get_json()
        ids[title] = r.get_json()["id"]
    for token in (bob, cy):  # two endorsements: the threshold sends Bike lane to review
        assert api.post(f"{BASE}/proposals/{ids['Bike lane']}/endorsements", token=token).status_code in (200, 201)
    assert api.post(f"{BASE}/proposals/{ids['Tree']}/endorsements", token=bob).status_code in (200, 201)
    r = api.post(f"{BASE}/proposals/{ids['Tree']}/responses", json={"kind": "answer", "body": "We look at it."},
                 token=cities["alpha_reviewer"])
    assert r.status_code == 201, r.get_json()
    assert api.patch(f"{BASE}/proposals/{ids['Fountain']}", json={"status": "withdrawn"}, token=admin).status_code == 200

    sign_in(site, "alpha", staff["alpha_viewer"][1])
    page = site.get("/console/alpha")
    assert page.status == 200
    assert page.texts("section.round h2") == ["Round 2027", "Round 2026"]  # newest first
    now = page.soup.select_one("#round-2026")
    assert now.select_one(".phase-now").get_text(" ", strip=True) == "Now: sending ideas"
    assert " ".join(now.select_one(".phase-next").get_text(" ").split()).startswith("Next: collecting support from ")
    assert _figures(now) == {
        "Proposals": "4", "Submitted": "2", "Under review": "1", "Withdrawn": "1", "Endorsements": "3",
        "Voters": "0", "Ballots online": "0", "Ballots on paper": "0", "Turnout": "0% of 3,000 residents"}
    assert [li.get_text(" ", strip=True) for li in now.select(".under-review li")] == ["Bike lane"]
    # Tree has an answer and Fountain was withdrawn: neither waits for one.
    assert [li.get_text(" ", strip=True) for li in now.select(".unanswered li")] == \
        ["Bike lane (under review)", "Bench (submitted)"]
    later = page.soup.select_one("#round-2027")
    assert later.select_one(".phase-now").get_text(" ", strip=True) == "Now: coming soon"
    assert _figures(later)["Proposals"] == "0" and later.select_one(".under-review-none").get_text() == "None."
    assert admin  # the round was made by the city's admin token


def test_dashboard_ballots_online_paper_and_turnout(site, api, cities, staff):
    admin, clerk = cities["alpha_admin"], staff["alpha_clerk"][2]
    make_round(api, cities)
    advance_to(api, cities, "submission")
    ada = register(api)
    pid = api.post(f"{BASE}/proposals", json={"title": "Bike lane", "district": "north", "estimated_cost": 10_000},
                   token=ada).get_json()["id"]
    advance_to(api, cities, "review")
    assert api.patch(f"{BASE}/proposals/{pid}", json={"reviewed_cost": 10_000, "feasible": True,
                                                      "status": "on_ballot"}, token=admin).status_code == 200
    advance_to(api, cities, "voting")
    codes = api.post(f"{BASE}/access-codes", json={"district": "north", "count": 4}, token=clerk)
    assert codes.status_code == 201, codes.get_json()  # a clerk makes access codes
    codes = codes.get_json()["codes"]
    for code in codes[:2]:
        tok = api.post(f"{BASE}/voter-sessions", json={"access_code": code}).get_json()["token"]
        assert api.put(f"{BASE}/districts/north/ballot", json={"projects": [pid]}, token=tok).status_code == 200
    for status in ("pending", "counted"):  # and enters paper ballots, twice each (double entry)
        r = api.post(f"{BASE}/paper-ballots", json={"district": "north", "access_code": codes[2], "projects": [pid]},
                     token=clerk)
        assert r.status_code == 201 and r.get_json()["status"] == status, r.get_json()
    sign_in(site, "alpha", staff["alpha_manager"][1])
    sec = site.get("/console/alpha").soup.select_one("#round-2026")
    figures = _figures(sec)
    assert (figures["Voters"], figures["Ballots online"], figures["Ballots on paper"]) == ("3", "2", "1")
    assert figures["Turnout"] == "0.1% of 3,000 residents"  # 3 voters of 1,000 + 2,000
    assert figures["On the ballot"] == "1"
    assert [li.get_text(" ", strip=True) for li in sec.select(".unanswered li")] == ["Bike lane (on the ballot)"]


def test_dashboard_in_traditional_chinese(app, api, cities, staff):
    from pagehelp import Site

    make_round(api, cities)
    site = Site(app.test_client(), lang="zh-TW")
    sign_in(site, "alpha", staff["alpha_viewer"][1])
    page = site.get("/console/alpha")
    assert page.status == 200 and page.soup.html["lang"] == "zh-TW"
