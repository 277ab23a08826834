"""Roles before the body (issue 13): a staff member of the city without the role an operation declares
(api.auth.access(blp, level, roles)) is refused with 403 before the body is read, so that a bad body
tells it nothing of the schema; with the role, the same bad body gets the schema's 422, naming the field.
The walk over every route is tests/console/test_route_table.py; these are the cases by name."""

from __future__ import annotations

import pytest

from apihelp import make_round
from pb_engine.staff import create_staff
from pb_engine.store.lookup import city_by_slug

pytestmark = pytest.mark.db

BASE = "/api/v1/cities/alpha/rounds/2026"


@pytest.fixture
def roles(app, api, cities):
    """A token per role of alpha (manager, reviewer, clerk, viewer), and alpha/2026 in its draft."""
    make_round(api, cities)
    out = {}
    with app.extensions["pb_db"].session() as s:
        c = city_by_slug(s, "alpha")
        for role in ("manager", "reviewer", "clerk", "viewer"):
            out[role] = create_staff(s, c, name=f"{role} of alpha", role=role, actor="test")[1]
    return out


def test_a_role_without_the_right_gets_403_for_a_bad_body_and_the_right_role_the_schema(api, roles):
    bad = {"title": 12, "no_such_field": True}
    for role in ("reviewer", "clerk", "viewer"):
        resp = api.patch(BASE, json=bad, token=roles[role])  # editing a round: managers only
        assert resp.status_code == 403, (role, resp.get_json())
        assert "needs role manager" in resp.get_json()["message"] and "title" not in resp.get_json()["errors"]
    resp = api.patch(BASE, json=bad, token=roles["manager"])
    assert resp.status_code == 422 and "title" in resp.get_json()["errors"], resp.get_json()
    # access codes: managers and clerks
    for role, want in (("reviewer", 403), ("viewer", 403), ("clerk", 422), ("manager", 422)):
        resp = api.post(f"{BASE}/access-codes", json={"count": "many"}, token=roles[role])
        assert resp.status_code == want, (role, resp.get_json())


def test_staff_act_for_residents_only_in_the_roles_that_may(api, roles):
    """A proposal entered for residents takes a reviewer or manager; a comment or endorsement takes no staff."""
    for role, want in (("viewer", 403), ("clerk", 403), ("reviewer", 422), ("manager", 422)):
        resp = api.post(f"{BASE}/proposals", json={"title": ""}, token=roles[role])
        assert resp.status_code == want, (role, resp.get_json())
    resp = api.post(f"{BASE}/proposals/1/comments", json={"body": 5}, token=roles["manager"])
    assert resp.status_code == 403 and "staff tokens cannot act as a resident" in resp.get_json()["message"]


def test_the_roles_are_documented(client):
    spec = client.get("/api/openapi.json").get_json()
    op = spec["paths"]["/api/v1/cities/{city}/rounds/{round}/access-codes"]["post"]
    assert op["x-pb-access"] == "admin" and op["x-pb-roles"] == ["manager", "clerk"]
    assert spec["paths"]["/api/v1/cities/{city}/staff"]["post"]["x-pb-roles"] == ["manager"]
    assert "x-pb-roles" not in spec["paths"]["/api/v1/cities/{city}/rounds/{round}/districts/{district}/ballot"]["put"]
