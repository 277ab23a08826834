"""Staff review over JSON: the queue with its filters, merging a duplicate, hiding and showing comments;
no token 401, another city's staff 403 (saying why), a role without the right 403, refusals change nothing."""

from __future__ import annotations

import pytest

from apihelp import advance_to, make_round, register

pytestmark = pytest.mark.db

BASE = "/api/v1/cities/alpha/rounds/2026"


@pytest.fixture
def staff(app, cities):
    """A viewer and a clerk of alpha: {"alpha_viewer": (None, name, token)}."""
    from pb_engine.staff import create_staff
    from pb_engine.store.lookup import city_by_slug

    out = {}
    with app.extensions["pb_db"].session() as s:
        for role in ("viewer", "clerk"):
            out[f"alpha_{role}"] = (None, role, create_staff(s, city_by_slug(s, "alpha"), name=f"alpha {role}",
                                                             role=role, actor="test")[1])
    return out


@pytest.fixture
def ideas(api, cities):
    make_round(api, cities)
    advance_to(api, cities, "submission")
    ada, bob, cyd = register(api), register(api, username="bob"), register(api, username="cyd")
    ids = {}
    for title, token, district, cost in (("Bike lane", ada, "north", 30_000), ("Bike lanes again", bob, "north", 20_000),
                                         ("Tree", ada, "south", 5_000)):
        r = api.post(f"{BASE}/proposals", json={"title": title, "district": district, "estimated_cost": cost},
                     token=token)
        assert r.status_code == 201, r.get_json()
        ids[title] = r.get_json()["id"]
    for token in (bob, cyd):
        assert api.post(f"{BASE}/proposals/{ids['Bike lane']}/endorsements", token=token).status_code == 201
    for token in (ada, cyd):
        assert api.post(f"{BASE}/proposals/{ids['Bike lanes again']}/endorsements", token=token).status_code == 201
    r = api.post(f"{BASE}/proposals/{ids['Bike lanes again']}/comments", json={"body": "Spam spam"}, token=cyd)
    ids["comment"] = r.get_json()["id"]
    return ids


def test_queue_filters_and_access(api, cities, ideas):
    rev = cities["alpha_reviewer"]
    body = api.get(f"{BASE}/review", token=rev).get_json()
    assert [p["title"] for p in body["proposals"]] == ["Bike lane", "Bike lanes again", "Tree"]
    assert body["total"] == 3 and body["status_counts"] == {"submitted": 3}
    assert body["proposals"][0]["needs_review"] is True and body["proposals"][1]["comment_count"] == 1
    got = lambda q: [p["title"] for p in api.get(f"{BASE}/review?{q}", token=rev).get_json()["proposals"]]  # noqa: E731
    assert got("district=south") == ["Tree"]
    assert got("sort=cost") == ["Bike lane", "Bike lanes again", "Tree"]
    assert got("sort=title&per_page=1&page=2") == ["Bike lanes again"]
    assert got("q=again") == ["Bike lanes again"]
    assert got("feasibility=yes") == [] and len(got("needs_review=true&unanswered=true")) == 3
    assert api.get(f"{BASE}/review?sort=random", token=rev).status_code == 422
    no_token = api.get(f"{BASE}/review")
    assert no_token.status_code == 401
    foreign = api.get(f"{BASE}/review", token=cities["beta_reviewer"])
    assert foreign.status_code == 403 and "staff of another city" in foreign.get_json()["message"]
    assert api.get("/api/v1/cities/alpha/rounds/nope/review", token=cities["beta_admin"]).status_code == 403


def test_merge_over_json(api, cities, ideas):
    dup, target = ideas["Bike lanes again"], ideas["Bike lane"]
    url = f"{BASE}/proposals/{dup}/merge"
    assert api.post(url, json={"into": target}).status_code == 401
    r = api.post(url, json={"into": target}, token=cities["beta_reviewer"])
    assert r.status_code == 403 and "another city" in r.get_json()["message"]
    assert api.post(f"{BASE}/proposals/{dup}/merge", json={"into": dup},
                    token=cities["alpha_reviewer"]).get_json()["errors"] == {
        "into": ["a proposal cannot be merged into itself"]}
    assert api.post(url, json={"into": 999999}, token=cities["alpha_reviewer"]).status_code == 404
    assert api.get(f"{BASE}/proposals/{dup}").get_json()["status"] == "submitted"
    r = api.post(url, json={"into": target, "note": "same"}, token=cities["alpha_reviewer"])
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["duplicate"]["status"] == "merged" and body["target"]["endorsements"] == 3
    assert body["authors"] == ["ada", "bob"]
    again = api.post(url, json={"into": target}, token=cities["alpha_reviewer"])
    assert again.status_code == 409 and "proposal" in again.get_json()["errors"]
    assert dup not in [p["id"] for p in api.get(f"{BASE}/proposals").get_json()["proposals"]]
    comments = api.get(f"{BASE}/proposals/{target}/comments").get_json()
    assert [c["body"] for c in comments] == ["Spam spam"]
    advance_to(api, cities, "voting")
    late = api.post(f"{BASE}/proposals/{ideas['Tree']}/merge", json={"into": target}, token=cities["alpha_admin"])
    assert late.status_code == 409 and late.get_json()["code"] == "phase_closed"


def test_hide_and_unhide_over_json(api, cities, staff, ideas):
    pid, cid = ideas["Bike lanes again"], ideas["comment"]
    hide, unhide = f"{BASE}/proposals/{pid}/comments/{cid}/hide", f"{BASE}/proposals/{pid}/comments/{cid}/unhide"
    assert api.post(hide, json={"reason": "ad"}).status_code == 401
    assert api.post(hide, json={"reason": "ad"}, token=cities["beta_admin"]).status_code == 403
    assert api.post(hide, json={"reason": "ad"}, token=staff["alpha_viewer"][2]).status_code == 403
    assert api.post(hide, json={"reason": "ad"}, token=staff["alpha_clerk"][2]).status_code == 403
    blank = api.post(hide, json={"reason": "   "}, token=cities["alpha_reviewer"])
    assert blank.status_code == 422 and "reason" in blank.get_json()["errors"]
    assert api.post(hide, json={}, token=cities["alpha_reviewer"]).status_code == 422
    assert len(api.get(f"{BASE}/proposals/{pid}/comments").get_json()) == 1
    r = api.post(hide, json={"reason": "Advertising"}, token=cities["alpha_reviewer"])
    assert r.status_code == 200 and r.get_json()["hidden"] is True
    assert api.get(f"{BASE}/proposals/{pid}/comments").get_json() == []
    staff_view = api.get(f"{BASE}/proposals/{pid}/staff-comments", token=staff["alpha_viewer"][2]).get_json()
    assert [(c["body"], c["hidden"], c["hidden_reason"]) for c in staff_view] == [("Spam spam", True, "Advertising")]
    assert api.get(f"{BASE}/proposals/{pid}/staff-comments").status_code == 401
    assert api.get(f"{BASE}/proposals/{pid}/staff-comments", token=cities["beta_admin"]).status_code == 403
    assert api.post(hide, json={"reason": "x"}, token=cities["alpha_reviewer"]).status_code == 409
    audit = api.get("/api/v1/cities/alpha/audit?action=comment.hide", token=cities["alpha_admin"]).get_json()
    assert "Advertising" in str(audit)
    assert api.post(unhide, token=cities["alpha_reviewer"]).status_code == 200
    assert api.post(unhide, token=cities["alpha_reviewer"]).status_code == 409
    assert len(api.get(f"{BASE}/proposals/{pid}/comments").get_json()) == 1
    wrong = f"{BASE}/proposals/{ideas['Tree']}/comments/{cid}/hide"
    assert api.post(wrong, json={"reason": "x"}, token=cities["alpha_reviewer"]).status_code == 404


def test_patch_review_and_responses_still_work(api, cities, ideas):
    pid = ideas["Tree"]
    r = api.patch(f"{BASE}/proposals/{pid}", json={"reviewed_cost": 5000, "feasible": True, "status": "on_ballot"},
                  token=cities["alpha_reviewer"])
    assert r.status_code == 200 and r.get_json()["status"] == "on_ballot"
    assert api.patch(f"{BASE}/proposals/{pid}", json={"status": "merged"},
                     token=cities["alpha_reviewer"]).status_code == 422  # merged comes from a merge only
    r = api.post(f"{BASE}/proposals/{pid}/responses", json={"kind": "answer", "body": "Thanks"},
                 token=cities["alpha_reviewer"])
    assert r.status_code == 201


def test_a_status_change_over_json_carries_its_public_reason(api, cities, ideas):
    pid = ideas["Tree"]
    r = api.patch(f"{BASE}/proposals/{pid}", json={"status": "rejected", "status_note": "The site belongs to the port authority."},
                  token=cities["alpha_reviewer"])
    assert r.status_code == 200, r.get_json()
    page = api.client.get(f"/alpha/2026/proposals/{pid}").get_data(as_text=True)
    assert "The site belongs to the port authority." in page
    r = api.patch(f"{BASE}/proposals/{pid}", json={"status_note": "x" * 2001}, token=cities["alpha_reviewer"])
    assert r.status_code == 422 and "status_note" in str(r.get_json())
