"""JSON: progress updates of funded projects (post and read), the round's implementation overview, and the
comparison of outcomes (drafts included, staff of the city only). SQLite and PostgreSQL."""

from __future__ import annotations

import base64

import pytest

from apihelp import populated_round

pytestmark = pytest.mark.db

API = "/api/v1/cities/alpha/rounds/2026"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def world(api, cities):
    state = populated_round(api, cities)
    first = state["outcome"]["id"]
    what_if = api.post(f"{API}/outcomes", json={"rule": {"id": "mes", "completion": "greedy"}},
                       token=cities["alpha_admin"])
    assert what_if.status_code == 201, what_if.get_json()
    return state, first, what_if.get_json()["id"]


def test_compare_outcomes(api, cities, world):
    _state, first, second = world
    r = api.get(f"{API}/outcomes/compare?ids={first},{second}", token=cities["alpha_reviewer"])
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert [o["id"] for o in body["outcomes"]] == [first, second] and body["same_ballots"] is True
    assert {d["district"] for d in body["districts"]} == {"north", "south"}
    for d in body["districts"]:
        for p in d["projects"]:
            assert len(p["funded"]) == 2 and p["changes"] == (len(set(p["funded"])) > 1)
        f = d["per_outcome"][0]["fairness"]
        assert 0 <= f["share_with_funded"] <= 1 and f["voters"] == d["ballots"]
    assert len(body["totals"]) == 2
    bad = api.get(f"{API}/outcomes/compare?ids=1,x", token=cities["alpha_reviewer"])
    assert bad.status_code == 422 and "ids" in bad.get_json()["errors"]
    missing = api.get(f"{API}/outcomes/compare?ids=999", token=cities["alpha_reviewer"])
    assert missing.status_code == 404
    none = api.get(f"{API}/outcomes/compare", token=cities["alpha_reviewer"])
    assert none.status_code == 422 and "ids" in none.get_json()["errors"]
    assert api.get(f"{API}/outcomes/compare", token=cities["beta_admin"]).status_code == 404  # who asks comes first
    assert api.get(f"{API}/outcomes/compare?ids={first}").status_code == 404  # drafts are private
    assert api.get(f"{API}/outcomes/compare?ids={first}", token=cities["beta_admin"]).status_code == 404


def test_updates_and_overview(api, cities, world):
    state, first, _second = world
    admin, reviewer = cities["alpha_admin"], cities["alpha_reviewer"]
    pid = state["ids"]["north"][0]
    early = api.post(f"{API}/proposals/{pid}/updates", json={"status": "planned", "percent_done": 0,
                                                              "on_date": "2026-12-01"}, token=reviewer)
    assert early.status_code == 409  # nothing published yet
    assert api.get(f"{API}/implementation").get_json()["published"] is False
    pub = api.post(f"{API}/outcomes/{first}/publish", token=admin).get_json()
    funded = sorted(p for d in pub["districts"] for p in d["selected"])
    unfunded = [p for ids in state["ids"].values() for p in ids if p not in funded]
    pid = funded[0]
    body = {"status": "in_progress", "percent_done": 30, "spent": 1500.5, "on_date": "2026-11-30",
            "note": "Started", "photo": base64.b64encode(PNG).decode()}
    r = api.post(f"{API}/proposals/{pid}/updates", json=body, token=reviewer)
    assert r.status_code == 201, r.get_json()
    got = r.get_json()
    assert (got["status"], got["percent_done"], got["spent"], got["on_date"], got["photo_type"]) == \
        ("in_progress", 30, 1500.5, "2026-11-30", "image/png")
    photo = api.get(got["photo_url"])
    assert photo.status_code == 200 and photo.data == PNG
    r = api.post(f"{API}/proposals/{pid}/updates", json={**body, "photo": None, "status": "done",
                                                         "percent_done": 100, "on_date": "2026-12-02"}, token=admin)
    assert r.status_code == 201
    listed = api.get(f"{API}/proposals/{pid}/updates").get_json()
    assert [u["status"] for u in listed] == ["done", "in_progress"]  # newest first, public
    ov = api.get(f"{API}/implementation").get_json()
    assert ov["published"] is True and {p["id"] for p in ov["projects"]} == set(funded)
    mine = next(p for p in ov["projects"] if p["id"] == pid)
    assert (mine["status"], mine["percent_done"], mine["updates"]) == ("done", 100, 2)
    assert ov["done"] == 1 and ov["total_spent"] == 1500.5

    # refusals name the field and change nothing
    for bad, field in [({**body, "percent_done": 101}, "percent_done"), ({**body, "status": "x"}, "status"),
                       ({**body, "photo": base64.b64encode(b"GIF89a....").decode()}, "photo"),
                       ({**body, "photo": "not base64!"}, "photo"), ({**body, "spent": -1}, "spent"),
                       ({**body, "on_date": "yesterday"}, "on_date")]:
        r = api.post(f"{API}/proposals/{pid}/updates", json=bad, token=reviewer)
        assert r.status_code == 422 and field in str(r.get_json()["errors"]), (field, r.get_json())
    r = api.post(f"{API}/proposals/{unfunded[0]}/updates", json=body, token=reviewer)
    assert r.status_code == 409 and "not funded" in r.get_json()["message"]
    for token, want in [(cities["alpha_admin"], 201), (cities["beta_admin"], 403), (cities["beta_reviewer"], 403),
                        (None, 401)]:
        r = api.post(f"{API}/proposals/{pid}/updates", json={**body, "photo": None}, token=token)
        assert r.status_code == want, (token, r.get_json())
    assert len(api.get(f"{API}/proposals/{pid}/updates").get_json()) == 3
