"""Each resource refuses bad input with the one error format, naming the field, and changes nothing."""

from __future__ import annotations

import pytest

from apihelp import advance_to, make_round, populated_round, register, round_body, voter_token_during_voting

R = "/api/v1/cities/alpha/rounds/2026"


def error(resp, status, field=None):
    body = resp.get_json()
    assert resp.status_code == status, body
    assert set(body) == {"code", "status", "message", "errors"} and body["status"] == status
    if field is not None:
        assert field in body["errors"], body
    return body


# --- rounds -------------------------------------------------------------------

@pytest.mark.parametrize("change,field", [
    ({"budget": -5}, "budget"),
    ({"budget": "lots"}, "budget"),
    ({"budget": 10**40}, "budget"),
    ({"budget": "12.345"}, "budget"),
    ({"slug": "Bad Slug!"}, "slug"),
    ({"title": ""}, "title"),
    ({"title": "a\x00b"}, "title"),
    ({"ballot": {"kind": "plurality"}}, "ballot"),
    ({"rule": {"id": "dictator"}}, "rule.id"),
    ({"districts": []}, "districts"),
    ({"phases": [{"name": "voting", "starts_at": "2026-02-01", "ends_at": "2026-01-01"}]}, "phases.voting"),
    ({"tie_breaking": "coin"}, "tie_breaking"),
    ({"endorsement_threshold": 10**12}, "endorsement_threshold"),
])
def test_round_create_names_the_field(api, cities, change, field):
    body = {**round_body(), **change}
    resp = api.post("/api/v1/cities/alpha/rounds", json=body, token=cities["alpha_admin"])
    err = error(resp, 422)
    assert any(k == field or k.startswith(field) for k in err["errors"]), err
    assert api.get(f"{R}").status_code == 404


def test_round_create_needs_admin_and_json(api, cities):
    error(api.post("/api/v1/cities/alpha/rounds", json=round_body()), 401)
    error(api.post("/api/v1/cities/alpha/rounds", json=round_body(), token=cities["alpha_reviewer"]), 403)
    error(api.post("/api/v1/cities/alpha/rounds", json=round_body(), token=cities["beta_admin"]), 403)
    resp = api.client.post("/api/v1/cities/alpha/rounds", data="slug=2026", content_type="text/plain",
                           headers={"Authorization": f"Bearer {cities['alpha_admin']}"})
    assert resp.status_code in (415, 422) and "code" in resp.get_json()
    make_round(api, cities)
    error(api.post("/api/v1/cities/alpha/rounds", json=round_body(), token=cities["alpha_admin"]), 409, "slug")


def test_round_patch_frozen_after_voting_opens(api, cities):
    make_round(api, cities)
    admin = cities["alpha_admin"]
    r = api.patch(R, json={"title": "New title", "ballot": {"max_projects": 2}}, token=admin)
    assert r.status_code == 200 and r.get_json()["ballot"]["max_projects"] == 2
    advance_to(api, cities, "voting")
    err = error(api.patch(R, json={"rule": {"id": "mes"}}, token=admin), 409, "rule")
    assert "frozen" in err["message"]
    error(api.patch(R, json={"budget": 200_000}, token=admin), 409, "budget")
    assert api.patch(R, json={"title": "Still editable"}, token=admin).status_code == 200
    assert api.get(R).get_json()["rule"] == {"id": "greedy"}
    error(api.patch(R, json={"slug": "other"}, token=admin), 422, "slug")


def test_unknown_city_round_and_odd_path_values(api, cities):
    for path in ("/api/v1/cities/nowhere", "/api/v1/cities/nowhere/rounds", f"{R}", f"{R}/proposals/1",
                 f"{R}/proposals/99999999999999999999", "/api/v1/cities/%00/rounds", "/api/v1/cities/" + "x" * 500,
                 "/api/v1/cities/alpha/rounds/%E2%98%83"):
        error(api.get(path), 404)


def test_advance_past_the_end_is_a_conflict(api, cities):
    make_round(api, cities)
    advance_to(api, cities, "results")
    error(api.post(f"{R}/advance", token=cities["alpha_admin"]), 409)


# --- proposals ------------------------------------------------------------------

@pytest.mark.parametrize("body,field", [
    ({"district": "north"}, "title"),
    ({"title": "x"}, "district"),
    ({"title": "", "district": "north"}, "title"),
    ({"title": "x" * 201, "district": "north"}, "title"),
    ({"title": "x", "district": "north", "estimated_cost": -1}, "estimated_cost"),
    ({"title": "x", "district": "north", "estimated_cost": 1e30}, "estimated_cost"),
    ({"title": "x", "district": "north", "estimated_cost": True}, "estimated_cost"),
    ({"title": "x", "district": "north", "estimated_cost": 60_000}, "estimated_cost"),
    ({"title": "x", "district": "north", "categories": ["nope"]}, "categories"),
    ({"title": "x", "district": "north", "categories": "parks"}, "categories"),
    ({"title": "x\x00", "district": "north"}, "title"),
    ({"title": "x", "district": "north", "extra": 1}, "extra"),
])
def test_proposal_create_names_the_field(api, cities, body, field):
    make_round(api, cities)
    advance_to(api, cities, "submission")
    tok = register(api)
    error(api.post(f"{R}/proposals", json=body, token=tok), 422, field)
    assert api.get(f"{R}/proposals").get_json()["total"] == 0


def test_proposal_list_names_each_author(api, cities):
    make_round(api, cities)
    advance_to(api, cities, "submission")
    for username in ("ada", "eve"):
        tok = register(api, username=username)
        for n in range(2):
            body = {"title": f"{username} {n}", "district": "north"}
            assert api.post(f"{R}/proposals", json=body, token=tok).status_code == 201
    staff = {"title": "from the town hall", "district": "south"}
    assert api.post(f"{R}/proposals", json=staff, token=cities["alpha_admin"]).status_code == 201
    listed = api.get(f"{R}/proposals").get_json()["proposals"]
    assert {p["title"]: p["author"] for p in listed} == {
        "ada 0": "ada", "ada 1": "ada", "eve 0": "eve", "eve 1": "eve",
        "from the town hall": "entered by staff on behalf of residents"}
    one = api.get(f"{R}/proposals/{listed[2]['id']}").get_json()
    assert (one["title"], one["author"]) == ("eve 0", "eve")


def test_proposal_rules(api, cities):
    make_round(api, cities, threshold=2)
    tok = register(api)
    body = {"title": "Bench", "district": "north", "estimated_cost": 100}
    error(api.post(f"{R}/proposals", json=body, token=tok), 409)  # upcoming: submission not open
    advance_to(api, cities, "submission")
    error(api.post(f"{R}/proposals", json=body), 401)
    error(api.post(f"{R}/proposals", json={**body, "district": "west"}, token=tok), 404)
    pid = api.post(f"{R}/proposals", json=body, token=tok).get_json()["id"]
    other = register(api, username="eve")
    error(api.patch(f"{R}/proposals/{pid}", json={"title": "Mine now"}, token=other), 403)
    error(api.patch(f"{R}/proposals/{pid}", json={"status": "on_ballot"}, token=tok), 403, "status")
    assert api.patch(f"{R}/proposals/{pid}", json={"title": "Bench by the river"}, token=tok).status_code == 200
    assert api.post(f"{R}/proposals/{pid}/endorsements", token=other).status_code == 201
    error(api.post(f"{R}/proposals/{pid}/endorsements", token=other), 409)
    error(api.post(f"{R}/proposals/{pid}/comments", json={"body": ""}, token=other), 422, "body")
    error(api.post(f"{R}/proposals/{pid}/comments", json={"body": "hi"}), 401)
    assert api.post(f"{R}/proposals/{pid}/comments", json={"body": "Good idea"}, token=other).status_code == 201
    assert api.get(f"{R}/proposals/{pid}/comments").get_json()[0]["author"] == "eve"
    advance_to(api, cities, "review")
    rev = cities["alpha_reviewer"]
    err = error(api.patch(f"{R}/proposals/{pid}", json={"status": "on_ballot"}, token=rev), 409)
    assert {"reviewed_cost", "feasible", "status"} <= set(err["errors"])  # and 1 of 2 endorsements
    error(api.patch(f"{R}/proposals/{pid}", json={"reviewed_cost": 0}, token=rev), 422, "reviewed_cost")
    error(api.patch(f"{R}/proposals/{pid}", json={"status": "funded"}, token=rev), 422, "status")
    error(api.patch(f"{R}/proposals/{pid}", json={"status": "maybe"}, token=rev), 422, "status")
    error(api.post(f"{R}/proposals/{pid}/responses", json={"body": "ok", "kind": "rant"}, token=rev), 422, "kind")
    error(api.post(f"{R}/proposals/{pid}/responses", json={"body": "ok"}, token=tok), 403)
    events = api.get("/api/v1/cities/alpha/audit?action=proposal.review", token=cities["alpha_admin"]).get_json()
    assert events["total"] == 0  # refused changes are not logged: nothing changed


@pytest.mark.parametrize("query,field", [
    ("page=0", "page"), ("per_page=1000", "per_page"), ("status=maybe", "status"), ("district=%00", "district"),
    ("q=" + "x" * 300, "q"), ("page=abc", "page"),
])
def test_proposal_list_query(api, cities, query, field):
    make_round(api, cities)
    error(api.get(f"{R}/proposals?{query}"), 422, field)


def test_proposal_search_and_filters(api, cities):
    make_round(api, cities)
    advance_to(api, cities, "submission")
    tok = register(api)
    for title, district, cat in (("Green roof", "north", "parks"), ("Bus shelter", "south", "streets"),
                                 ("100% green_park", "south", "parks")):
        api.post(f"{R}/proposals", json={"title": title, "district": district, "categories": [cat]}, token=tok)
    get = lambda q: [p["title"] for p in api.get(f"{R}/proposals?{q}").get_json()["proposals"]]  # noqa: E731
    assert get("q=GREEN") == ["Green roof", "100% green_park"]
    assert get("q=%25") == ["100% green_park"]  # % is searched for, not a wildcard
    assert get("district=south&category=parks") == ["100% green_park"]
    page = api.get(f"{R}/proposals?per_page=2&page=2").get_json()
    assert page["total"] == 3 and page["pages"] == 2 and len(page["proposals"]) == 1


# --- residents and staff --------------------------------------------------------

@pytest.mark.parametrize("body,field", [
    ({"username": "ab", "password": "long enough", "email": "ab@example.org"}, "username"),
    ({"username": "good_name", "password": "short", "email": "g@example.org"}, "password"),
    ({"username": "bad name", "password": "long enough", "email": "b@example.org"}, "username"),
    ({"password": "long enough", "email": "n@example.org"}, "username"),
    ({"username": "good_name", "password": "long enough"}, "email"),
    ({"username": "good_name", "password": "long enough", "email": "not an address"}, "email"),
])
def test_resident_register_names_the_field(api, cities, body, field):
    error(api.post("/api/v1/cities/alpha/residents", json=body), 422, field)


def test_resident_login(api, cities):
    register(api)
    # a taken name answers as a free one would (the mail to the address given says it is taken)
    taken = api.post("/api/v1/cities/alpha/residents", json={"username": "ada", "password": "another one",
                                                             "email": "eve@example.org"})
    assert taken.status_code == 202 and taken.get_json()["status"] == "check_email"
    error(api.post("/api/v1/cities/alpha/residents/login", json={"username": "ada", "password": "wrong pass"}), 401)
    error(api.post("/api/v1/cities/beta/residents/login", json={"username": "ada", "password": "correct horse"}), 401)
    for bad in ("Bearer pbr_forged.token", "Bearer", "Basic abc", "Bearer " + "x" * 1000):
        resp = api.client.post(f"/api/v1/cities/alpha/rounds/none/proposals", json={"title": "x", "district": "n"},
                               headers={"Authorization": bad})
        assert resp.status_code in (401, 404)


def test_staff_create(api, cities):
    admin = cities["alpha_admin"]
    error(api.post("/api/v1/cities/alpha/staff", json={"name": "Zed", "role": "mayor"}, token=admin), 422, "role")
    error(api.post("/api/v1/cities/alpha/staff", json={"role": "admin"}, token=admin), 422, "name")
    r = api.post("/api/v1/cities/alpha/staff", json={"name": "Zed", "role": "reviewer"}, token=admin)
    assert r.status_code == 201 and r.get_json()["token"].startswith("pbs_")
    listed = api.get("/api/v1/cities/alpha/staff", token=admin).get_json()
    assert "Zed" in [s["name"] for s in listed] and all("token" not in s for s in listed)
    assert api.get("/api/v1/cities/alpha/staff", token=r.get_json()["token"]).status_code == 403


# --- voting -----------------------------------------------------------------------

def test_ballots_and_codes(app, api, cities):
    state = populated_round(api, cities, run_outcome=False)  # now in tally
    admin = cities["alpha_admin"]
    error(api.post(f"{R}/access-codes", json={"district": "north", "count": 0}, token=admin), 422, "count")
    error(api.post(f"{R}/access-codes", json={"district": "north", "count": 10**9}, token=admin), 422, "count")
    error(api.post(f"{R}/access-codes", json={"district": "west", "count": 1}, token=admin), 404)
    error(api.post(f"{R}/voter-sessions", json={"access_code": "NOPE-NOPE-NOPE"}), 422)
    error(api.post(f"{R}/voter-sessions", json={}), 422, "access_code")
    code = state["codes_left"]["north"][0]
    error(api.post(f"{R}/voter-sessions", json={"access_code": code}), 409, "phase")  # voting closed: no session
    tok = voter_token_during_voting(app, code)  # one opened before the close
    north = state["ids"]["north"]
    error(api.put(f"{R}/districts/north/ballot", json={"projects": [north[0]]}, token=tok), 409)  # voting closed
    error(api.put(f"{R}/districts/north/ballot", json={"projects": ["x"]}, token=tok), 422, "projects")
    error(api.put(f"{R}/districts/north/ballot", json={"projects": [north[0]]}), 401)
    error(api.put(f"{R}/districts/north/ballot", json={"projects": [north[0]]}, token=admin), 403)
    error(api.post(f"{R}/paper-ballots", json={"district": "north", "projects": [north[0]]},
                   token=cities["alpha_reviewer"]), 422)


def test_ballot_checked_against_the_rules(api, cities):
    make_round(api, cities)
    advance_to(api, cities, "submission")
    tok = register(api)
    pid = api.post(f"{R}/proposals", json={"title": "A", "district": "north", "estimated_cost": 10}, token=tok).get_json()["id"]
    spid = api.post(f"{R}/proposals", json={"title": "B", "district": "south", "estimated_cost": 10}, token=tok).get_json()["id"]
    advance_to(api, cities, "review")
    for p in (pid, spid):
        api.patch(f"{R}/proposals/{p}", json={"reviewed_cost": 10, "feasible": True, "status": "on_ballot"},
                  token=cities["alpha_admin"])
    advance_to(api, cities, "voting")
    code = api.post(f"{R}/access-codes", json={"district": "north", "count": 1}, token=cities["alpha_admin"]).get_json()["codes"][0]
    vt = api.post(f"{R}/voter-sessions", json={"access_code": code}).get_json()["token"]
    error(api.put(f"{R}/districts/north/ballot", json={"projects": [spid]}, token=vt), 422, "projects")
    error(api.put(f"{R}/districts/north/ballot", json={"points": {str(pid): 3}}, token=vt), 422)
    error(api.put(f"{R}/districts/north/ballot", json={}, token=vt), 422)
    first = api.put(f"{R}/districts/north/ballot", json={"projects": [pid]}, token=vt).get_json()
    again = api.put(f"{R}/districts/north/ballot", json={"projects": [pid]}, token=vt).get_json()
    assert again["version"] == 2 and again["replaced"] and again["receipt"] != first["receipt"]
    # A replaced ballot's receipt answers like the current one: an old receipt must not reveal a change of vote.
    assert api.get(f"{R}/receipts/{first['receipt']}").get_json()["status"] == "received"
    assert api.get(f"{R}/receipts/{again['receipt']}").get_json()["status"] == "received"


# --- outcomes ---------------------------------------------------------------------

def test_outcomes_publish_supersede_and_what_if(api, cities):
    admin = cities["alpha_admin"]
    make_round(api, cities)
    error(api.post(f"{R}/outcomes", json={}, token=admin), 409)  # voting has not ended
    state_round = "/api/v1/cities/alpha/rounds/2025"
    populated_round(api, cities, round="2025")
    error(api.post(f"{state_round}/outcomes", json={"rule": {"id": "dictator"}}, token=admin), 422, "rule.id")
    error(api.post(f"{state_round}/outcomes", json={"rule": {"id": "mes", "completion": "bogus"}}, token=admin), 422)
    error(api.post(f"{state_round}/outcomes", json={"rule": "greedy"}, token=admin), 422, "rule")
    what_if = api.post(f"{state_round}/outcomes", json={"rule": {"id": "phragmen"}}, token=admin).get_json()
    assert what_if["what_if"] is True
    error(api.post(f"{state_round}/outcomes/{what_if['id']}/publish", token=admin), 409, "rule")
    first = api.get(f"{state_round}/outcomes?status=draft", token=admin).get_json()[0]
    assert api.post(f"{state_round}/outcomes/{first['id']}/publish", token=admin).status_code == 200
    second = api.post(f"{state_round}/outcomes", json={}, token=admin).get_json()
    published = api.post(f"{state_round}/outcomes/{second['id']}/publish", token=admin).get_json()
    assert published["supersedes"] == first["id"]
    assert api.get(f"{state_round}/outcomes/{first['id']}").get_json()["status"] == "superseded"
    error(api.post(f"{state_round}/outcomes/{first['id']}/publish", token=admin), 409)
    error(api.get(f"{state_round}/outcomes/2147483648", token=admin), 404)
    results = api.get(f"{state_round}/results").get_json()
    assert results["outcome"] == second["id"]
    assert results["turnout"]["voters"] == 12 and results["turnout"]["districts"][0]["turnout"] == 0.006
    for d in results["districts"]:
        for p in d["projects"]:
            assert p["reason"] and p["message"] and p["title"]


# --- compare, audit, exports ----------------------------------------------------------

@pytest.mark.parametrize("query,status,field", [
    ("", 422, "rounds"), ("rounds=", 422, "rounds"), ("rounds=alpha", 422, "rounds"),
    ("rounds=alpha/2026&format=xml", 422, "format"), ("rounds=nowhere/2026", 404, "rounds"),
    ("rounds=" + ",".join(["alpha/2026"] * 51), 422, "rounds"),
])
def test_compare_bad_queries(api, cities, query, status, field):
    make_round(api, cities)
    error(api.get(f"/api/v1/compare?{query}"), status, field)


def test_compare_rounds_side_by_side(api, cities):
    populated_round(api, cities)
    make_round(api, cities, city="beta")
    body = api.get("/api/v1/compare?rounds=alpha/2026,beta/2026").get_json()
    a, b = body["rounds"]
    assert (a["ref"], b["ref"]) == ("alpha/2026", "beta/2026")
    assert a["figures"]["proposals_submitted"] == 5 and a["figures"]["proposals_on_ballot"] == 5
    assert a["figures"]["voters"] == 12 and a["figures"]["turnout"] == 0.004
    assert a["figures"]["funded_projects"] is None  # nothing published yet: nothing private leaks
    assert b["figures"]["voters"] is None and b["figures"]["budget"] == 100_000
    csv = api.get("/api/v1/compare?rounds=alpha/2026,beta/2026&format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0].startswith("city,round,") and lines[1].startswith("alpha,2026,") and len(lines) == 3


def test_audit_filters_and_privacy(api, cities):
    make_round(api, cities)
    api.post(f"{R}/advance", token=cities["alpha_admin"])
    error(api.get("/api/v1/cities/alpha/audit"), 404)
    error(api.get("/api/v1/cities/alpha/audit", token=cities["beta_admin"]), 404)
    error(api.get("/api/v1/cities/alpha/audit", token=cities["alpha_reviewer"]), 403)
    error(api.get("/api/v1/cities/alpha/audit?per_page=0", token=cities["alpha_admin"]), 422, "per_page")
    events = api.get("/api/v1/cities/alpha/audit?round=2026", token=cities["alpha_admin"]).get_json()["events"]
    assert [e["action"] for e in events] == ["round.advance", "round.create"]
    adv = events[0]
    assert adv["actor"].startswith("staff:") and adv["before"]["phase"] == "upcoming" and adv["after"]["phase"] == "submission"


def test_exports_before_and_after_voting(api, cities):
    make_round(api, cities)
    error(api.get(f"{R}/export.pb"), 409)
    error(api.get(f"{R}/export.pb?district=%00"), 422, "district")
    csv = api.get(f"{R}/export.csv")
    assert csv.status_code == 200 and csv.get_data(as_text=True).startswith("district,id,title")


def test_resident_votes_once_verified(api, cities):
    make_round(api, cities)
    advance_to(api, cities, "submission")
    tok = register(api)
    pid = api.post(f"{R}/proposals", json={"title": "A", "district": "north", "estimated_cost": 10}, token=tok).get_json()["id"]
    advance_to(api, cities, "review")
    api.patch(f"{R}/proposals/{pid}", json={"reviewed_cost": 10, "feasible": True, "status": "on_ballot"},
              token=cities["alpha_admin"])
    advance_to(api, cities, "voting")
    error(api.post(f"{R}/voter-sessions", json={}, token=tok), 403)  # not verified yet
    rev = cities["alpha_reviewer"]
    error(api.patch("/api/v1/cities/alpha/residents/ada", json={"district": "north"}, token=rev), 422, "verified")
    error(api.patch("/api/v1/cities/alpha/residents/nobody", json={"verified": True}, token=rev), 404)
    r = api.patch("/api/v1/cities/alpha/residents/ada", json={"verified": True, "district": "north"}, token=rev)
    assert r.status_code == 200 and r.get_json()["verified"] is True
    vt = api.post(f"{R}/voter-sessions", json={}, token=tok).get_json()["token"]
    receipt = api.put(f"{R}/districts/north/ballot", json={"projects": [pid]}, token=vt).get_json()["receipt"]
    assert receipt
    error(api.put(f"{R}/districts/south/ballot", json={"projects": [pid]}, token=vt), 403)
    events = api.get("/api/v1/cities/alpha/audit?action=resident.verify", token=cities["alpha_admin"]).get_json()
    assert events["total"] == 1 and events["events"][0]["after"] == {"verified": True, "district": "north"}


def test_malformed_json_says_so(api, cities):
    resp = api.client.post("/api/v1/cities/alpha/residents", data="{not json", content_type="application/json")
    body = error(resp, 400, "json")
    assert "not valid json" in body["message"].lower() or "invalid json" in body["message"].lower()
