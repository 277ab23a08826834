"""Every staff route, walked with another city's staff token: 404 for private reads, 403 for actions,
and nothing in the database changes. Routes are enumerated from the app (url_map) and the OpenAPI
document, so a new route cannot escape: it must declare its access level and, if it writes, have a
sample body here."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel

import pb_engine.store.tables  # noqa: F401
from apihelp import populated_round, round_body

PREFIX = "/api/v1/cities/{city}"
PRIVATE = ("staff-private", "admin-private")
ACTIONS = ("staff", "admin", "participant", "voter")

# A body that would succeed for the right caller: a refusal then proves the token, not the input, was refused.
SAMPLES = {
    "POST /api/v1/cities/{city}/rounds": lambda ctx: round_body("2027"),
    "PATCH /api/v1/cities/{city}/rounds/{round}": lambda ctx: {"title": "Renamed"},
    "POST /api/v1/cities/{city}/rounds/{round}/advance": lambda ctx: None,
    "POST /api/v1/cities/{city}/staff": lambda ctx: {"name": "Mallory", "role": "admin"},
    "POST /api/v1/cities/{city}/rounds/{round}/proposals": lambda ctx: {"title": "Sneaky", "district": "north",
                                                                        "estimated_cost": 100},
    "PATCH /api/v1/cities/{city}/rounds/{round}/proposals/{proposal_id}": lambda ctx: {"title": "Hijacked"},
    "POST /api/v1/cities/{city}/rounds/{round}/proposals/{proposal_id}/endorsements": lambda ctx: None,
    "POST /api/v1/cities/{city}/rounds/{round}/proposals/{proposal_id}/comments": lambda ctx: {"body": "hi"},
    "POST /api/v1/cities/{city}/rounds/{round}/proposals/{proposal_id}/responses": lambda ctx: {"body": "answer"},
    "PUT /api/v1/cities/{city}/rounds/{round}/districts/{district}/ballot": lambda ctx: {"projects": [ctx["pid"]]},
    "POST /api/v1/cities/{city}/rounds/{round}/access-codes": lambda ctx: {"district": "north", "count": 3},
    "POST /api/v1/cities/{city}/rounds/{round}/paper-ballots": lambda ctx: {
        "district": "north", "access_code": ctx["code"], "projects": [ctx["pid"]]},
    "POST /api/v1/cities/{city}/rounds/{round}/access-codes/batches": lambda ctx: {"count": 2},
    "POST /api/v1/cities/{city}/rounds/{round}/access-codes/batches/{batch}/printed": lambda ctx: None,
    "POST /api/v1/cities/{city}/rounds/{round}/access-codes/revoke": lambda ctx: {"access_code": ctx["code"]},
    "POST /api/v1/cities/{city}/rounds/{round}/paper-entries/{entry_id}/discard": lambda ctx: None,
    "POST /api/v1/cities/{city}/rounds/{round}/outcomes": lambda ctx: {},
    "POST /api/v1/cities/{city}/rounds/{round}/outcomes/{outcome_id}/publish": lambda ctx: None,
    "PATCH /api/v1/cities/{city}/residents/{username}": lambda ctx: {"verified": True, "district": "north"},
    "POST /api/v1/cities/{city}/resident-codes": lambda ctx: {"count": 2, "district": "north"},
    "POST /api/v1/cities/{city}/residents/verify": lambda ctx: {"code": "K7QM-4TXR-9PWC"},
    "POST /api/v1/cities/{city}/rounds/{round}/proposals/{proposal_id}/merge": lambda ctx: {"into": ctx["pid"] + 1},
    "POST /api/v1/cities/{city}/rounds/{round}/proposals/{proposal_id}/comments/{comment_id}/hide": lambda ctx: {
        "reason": "advertising"},
    "POST /api/v1/cities/{city}/rounds/{round}/proposals/{proposal_id}/comments/{comment_id}/unhide": lambda ctx: None,
    "POST /api/v1/cities/{city}/rounds/{round}/proposals/{proposal_id}/updates": lambda ctx: {
        "status": "in_progress", "percent_done": 10, "on_date": "2026-12-01"},
}


def snapshot(app) -> dict:
    db = app.extensions["pb_db"]
    out = {}
    with db.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows = conn.execute(sa_select(table)).all()
            out[table.name] = sorted(repr(tuple(r)) for r in rows)
    return out


def operations(app, client):
    spec = client.get("/api/openapi.json").get_json()
    ops = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                ops.append((method.upper(), path, op))
    documented = {(m, p) for m, p, _ in ops}
    # every route the app serves under /api/v1 is in the document (so none escapes this test)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in documented, f"{method} {path} is served but not in the OpenAPI document"
    for method, path, op in ops:
        if path.startswith("/api/v1"):
            assert "x-pb-access" in op, f"{method} {path} does not declare its access level (api.auth.access)"
    return [(m, p, op["x-pb-access"]) for m, p, op in ops if p.startswith(PREFIX)]


@pytest.fixture
def world(app, api, cities):
    state = populated_round(api, cities)
    return {"pid": state["ids"]["north"][0], "outcome_id": state["outcome"]["id"],
            "code": state["codes_left"]["north"][0], "receipt": state["receipts"][0]}


def _url(path, ctx):
    return (path.replace("{city}", "alpha").replace("{round}", "2026").replace("{proposal_id}", str(ctx["pid"]))
            .replace("{outcome_id}", str(ctx["outcome_id"])).replace("{district}", "north")
            .replace("{receipt}", ctx["receipt"]).replace("{username}", "resi")
            .replace("{batch}", ctx.get("batch", "no-batch")).replace("{entry_id}", str(ctx.get("entry_id", 1)))
            .replace("{comment_id}", str(ctx.get("comment_id", 1))))


@pytest.mark.parametrize("intruder", ["beta_admin", "beta_reviewer"])
def test_foreign_staff_token_reads_nothing_private_and_changes_nothing(app, client, api, cities, world, intruder):
    ops = operations(app, client)
    writes = [(m, p) for m, p, level in ops if m != "GET" and level != "public"]
    missing = [f"{m} {p}" for m, p in writes if f"{m} {p}" not in SAMPLES]
    assert not missing, f"add a sample body to SAMPLES for: {missing}"
    token = cities[intruder]
    before = snapshot(app)
    checked = 0
    for method, path, level in ops:
        if level == "public" and method != "GET":
            continue  # registering or opening a voter session needs no staff token and is no staff route
        url = _url(path, world)
        body = SAMPLES[f"{method} {path}"](world) if method != "GET" else None
        resp = client.open(url, method=method, json=body, headers={"Authorization": f"Bearer {token}"})
        got = resp.status_code
        if level in PRIVATE:
            assert got == 404, f"{method} {path}: private read answered {got}"
        elif level in ACTIONS:
            assert got in (403, 404), f"{method} {path}: foreign action answered {got}: {resp.get_json()}"
        else:
            assert got < 500, f"{method} {path}: {got}"
        assert set(resp.get_json() or {}) >= {"code", "status", "message", "errors"} if got >= 400 else True
        checked += 1
    assert checked >= 20
    assert snapshot(app) == before, "a foreign staff token changed something"


def test_reviewer_cannot_do_admin_actions(app, client, api, cities, world):
    ops = operations(app, client)
    before = snapshot(app)
    for method, path, level in ops:
        if level not in ("admin", "admin-private"):
            continue
        body = SAMPLES[f"{method} {path}"](world) if method != "GET" else None
        resp = client.open(_url(path, world), method=method, json=body,
                           headers={"Authorization": f"Bearer {cities['alpha_reviewer']}"})
        assert resp.status_code == 403, f"{method} {path}: reviewer got {resp.status_code}"
    assert snapshot(app) == before


def test_public_reads_are_public(api, cities, world):
    base = "/api/v1/cities/alpha/rounds/2026"
    for path in ("/api/v1/cities", "/api/v1/cities/alpha", f"{base}", f"{base}/proposals",
                 f"{base}/proposals/{world['pid']}", f"{base}/proposals/{world['pid']}/comments", f"{base}/export.csv"):
        assert api.get(path).status_code == 200, path
        assert api.get(path, token=cities["beta_admin"]).status_code == 200, path
    # a draft outcome is private; once published it is public, for everyone
    url = f"{base}/outcomes/{world['outcome_id']}"
    assert api.get(url).status_code == 404
    assert api.get(url, token=cities["alpha_reviewer"]).status_code == 200
    assert api.post(f"{url}/publish", token=cities["alpha_admin"]).status_code == 200
    assert api.get(url).status_code == 200
    assert api.get(url, token=cities["beta_admin"]).status_code == 200
    assert api.get(f"{base}/results").status_code == 200


def test_foreign_resident_and_voter_tokens_change_nothing(app, client, api, cities, world):
    """A resident of beta, and a voter session of another round, act in nothing of alpha/2026."""
    from apihelp import register

    beta_resident = register(api, city="beta", username="bert")
    ops = operations(app, client)
    before = snapshot(app)
    for method, path, level in ops:
        if level not in ("participant", "voter", "staff", "admin"):
            continue
        body = SAMPLES[f"{method} {path}"](world) if method != "GET" else None
        resp = client.open(_url(path, world), method=method, json=body,
                           headers={"Authorization": f"Bearer {beta_resident}"})
        assert resp.status_code in (401, 403, 404), f"{method} {path}: {resp.status_code}"
    assert snapshot(app) == before
