"""Voter secrecy end to end (issue 13), pages and JSON: the booth says who sees the choices and shows none
once voting has closed, when a code signs in to nothing; receipts answer alike; a code claimed by a
signed-in resident and the account hold one ballot; running counts hidden during voting unless allowed."""

import pytest

from apihelp import advance_to, register
from pagehelp import Site
from test_booth import BASE, sign_in_with_code, voting_round

pytestmark = pytest.mark.db


def test_choices_shown_only_while_voting_then_nothing_opens(app, api, cities, site):
    ids, codes = voting_round(api, cities, "approval")
    p0 = str(ids["Project 0"])
    booth = sign_in_with_code(site, codes[0])
    assert "only in the voter session that opened this ballot" in booth.text("#secrecy-note")
    zh = Site(app.test_client(), lang="zh-TW")
    sign_in_with_code(zh, codes[1])
    cast = site.submit(booth.resp.request.path, {"project": [p0]})
    assert cast.text("#receipt") and cast.text("#secrecy-note")
    token = api.post(f"{BASE}/voter-sessions", json={"access_code": codes[2]}).get_json()["token"]
    r = api.put(f"{BASE}/districts/north/ballot", json={"projects": [ids["Project 0"]]}, token=token)
    assert r.status_code == 200, r.get_json()
    first = r.get_json()["receipt"]
    second = api.put(f"{BASE}/districts/north/ballot", json={"projects": [ids["Project 1"]]},
                     token=token).get_json()["receipt"]
    mine = api.get(f"{BASE}/districts/north/ballot", token=token).get_json()
    assert mine["ballot"]["receipt"] == second and mine["ballot_hidden"] is False

    advance_to(api, cities, "tally")
    # A session opened during voting shows no choice any more, on the page and over JSON.
    page = site.get("/alpha/2026/vote/north")
    assert page.text("#choices-hidden").startswith("Voting has closed.")
    assert not page.soup.select('input[name="project"][checked]') and not page.soup.select("#secrecy-note")
    assert not page.soup.select("form#booth") and page.soup.select_one("#choices-hidden a[href$='/receipt']")
    assert "投票已經結束" in zh.get("/alpha/2026/vote/north").text("#choices-hidden")
    hidden = api.get(f"{BASE}/districts/north/ballot", token=token).get_json()
    assert hidden["ballot"] is None and hidden["ballot_hidden"] is True and hidden["projects"]
    # No code opens anything now: the page says why, the API answers 409 naming the phase.
    refused = Site(app.test_client()).submit("/alpha/2026/vote", {"access_code": codes[0]})
    assert refused.status == 409 and "no longer opens a ballot" in refused.text(".alert")
    r = api.post(f"{BASE}/voter-sessions", json={"access_code": codes[2]})
    assert r.status_code == 409 and r.get_json()["errors"] == {"phase": [r.get_json()["message"]]}
    # The replaced ballot's receipt answers exactly as the current one, and carries nothing else.
    answers = [api.get(f"{BASE}/receipts/{x}").get_json() for x in (first, second)]
    assert answers == [{"receipt": first, "status": "received"}, {"receipt": second, "status": "received"}]


def test_a_code_claimed_by_a_signed_in_resident_and_the_account_hold_one_ballot(app, api, cities):
    ids, codes = voting_round(api, cities, "approval")
    ada = api.post(f"{BASE.split('/rounds')[0]}/residents/login",
                   json={"username": "ada", "password": "correct horse"}).get_json()["token"]
    bob = register(api, username="bob")
    # Over JSON: the code sent with Ada's resident token is claimed by her account.
    vt = api.post(f"{BASE}/voter-sessions", json={"access_code": codes[0]}, token=ada).get_json()["token"]
    receipt = api.put(f"{BASE}/districts/north/ballot", json={"projects": [ids["Project 0"]]}, token=vt).get_json()
    r = api.post(f"{BASE}/voter-sessions", json={"access_code": codes[0]}, token=bob)
    assert r.status_code == 409 and "another resident account" in r.get_json()["message"]
    # Once verified, Ada's account opens the same ballot: a change replaces it, no second ballot.
    assert api.patch("/api/v1/cities/alpha/residents/ada", json={"verified": True, "district": "north"},
                     token=cities["alpha_reviewer"]).status_code == 200
    account = api.post(f"{BASE}/voter-sessions", json={}, token=ada).get_json()["token"]
    assert api.get(f"{BASE}/districts/north/ballot", token=account).get_json()["ballot"]["receipt"] == receipt["receipt"]
    again = api.put(f"{BASE}/districts/north/ballot", json={"projects": [ids["Project 1"]]}, token=account).get_json()
    assert again["version"] == 2 and again["replaced"]
    # On the page: signed in, the vote page says the code will be bound to the account.
    site = Site(app.test_client())
    site.submit("/alpha/signin", {"username": "bob", "password": "correct horse"})
    assert "bound to your account" in site.get("/alpha/2026/vote").text("#claim-note")
    page = sign_in_with_code(site, codes[1])
    assert page.status == 200 and page.text("h1") == "Your ballot: North"
    bob_account_refused = api.post(f"{BASE}/voter-sessions", json={"access_code": codes[1]}, token=ada)
    assert bob_account_refused.status_code == 409  # the page claimed codes[1] for Bob


def test_running_counts_hidden_in_the_comparison_unless_the_round_allows_them(api, cities):
    ids, codes = voting_round(api, cities, "approval")
    vt = api.post(f"{BASE}/voter-sessions", json={"access_code": codes[0]}).get_json()["token"]
    assert api.put(f"{BASE}/districts/north/ballot", json={"projects": [ids["Project 0"]]}, token=vt).status_code == 200

    def figures():
        return api.get("/api/v1/compare?rounds=alpha/2026").get_json()["rounds"][0]["figures"]

    assert (figures()["voters"], figures()["turnout"], figures()["ballot_length"]) == (None, None, None)
    assert "live_turnout" in api.get(BASE).get_json() and api.get(BASE).get_json()["live_turnout"] is False
    r = api.patch(BASE, json={"live_turnout": True}, token=cities["alpha_admin"])
    assert r.status_code == 200 and r.get_json()["live_turnout"] is True
    assert figures()["voters"] == 1
