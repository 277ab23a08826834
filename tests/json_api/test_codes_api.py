"""Access codes over JSON: usage, batches for a district or the whole round, the sheet's data and CSV
while sealed, marking a batch printed, revoking a code; roles and cities crossed."""

from __future__ import annotations

import csv
import io

import pytest

from apihelp import populated_round, voter_token_during_voting

pytestmark = pytest.mark.db

R = "/api/v1/cities/alpha/rounds/2026"


def _token(app, city: str, role: str) -> str:
    from pb_engine.staff import create_staff
    from pb_engine.store.lookup import city_by_slug

    with app.extensions["pb_db"].write_session() as s:
        _row, token = create_staff(s, city_by_slug(s, city), name=f"{city} {role} api", role=role, actor="test")
    return token


@pytest.fixture
def world(app, api, cities):
    state = populated_round(api, cities, voters=2, run_outcome=False)  # in tally: paper ballots are taken
    return {**state, "clerk": _token(app, "alpha", "clerk"), "viewer": _token(app, "alpha", "viewer")}


def _audit(api, cities, action):
    return api.get(f"/api/v1/cities/alpha/audit?action={action}&per_page=100",
                   token=cities["alpha_admin"]).get_json()["events"]


def test_whole_round_batch_is_sealed_printable_then_wiped(app, api, cities, world):
    clerk = world["clerk"]
    r = api.post(f"{R}/access-codes/batches", json={"count": 3}, token=clerk)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    batch = body["batch"]
    assert body["count"] == 6 and sorted(body["codes"]) == ["north", "south"]
    sheet = api.get(f"{R}/access-codes/batches/{batch}", token=clerk)
    assert sheet.status_code == 200, sheet.get_json()
    data = sheet.get_json()
    assert sorted(c["code"] for c in data["codes"]) == sorted(body["codes"]["north"] + body["codes"]["south"])
    assert data["url"].endswith("/alpha/2026/vote") and data["url"].startswith("http")
    again = api.get(f"{R}/access-codes/batches/{batch}/codes.csv", token=clerk)
    assert again.status_code == 200 and again.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(again.get_data(as_text=True))))
    assert rows[0] == ["district", "code", "url"] and len(rows) == 7
    assert {r[0] for r in rows[1:]} == {"north", "south"} and all(r[2] == data["url"] for r in rows[1:])
    downloads = _audit(api, cities, "access_codes.download")
    assert [(e["after"]["batch"], e["after"]["format"], e["after"]["count"]) for e in downloads] == \
        [(batch, "csv", 6), (batch, "json", 6)]
    assert not any(c in str(downloads) for c in body["codes"]["north"])  # no code in the log

    usage = api.get(f"{R}/access-codes", token=world["viewer"]).get_json()
    b = next(x for x in usage["batches"] if x["batch"] == batch)
    assert b["printable"] and b["counts"] == {"issued": 6, "used": 0, "revoked": 0, "sealed": 6, "unused": 6}
    assert b["districts"] == ["north", "south"]
    north = next(d for d in usage["districts"] if d["district"] == "north")["counts"]
    assert north["issued"] == 2 + 2 + 3 and north["used"] == 2  # populated_round: 4 codes, 2 voted

    p = api.post(f"{R}/access-codes/batches/{batch}/printed", token=clerk)
    assert p.status_code == 200 and p.get_json() == {"batch": batch, "wiped": 6}
    gone = api.get(f"{R}/access-codes/batches/{batch}", token=clerk)
    assert gone.status_code == 409 and "marked printed" in gone.get_json()["message"]
    assert api.get(f"{R}/access-codes/batches/{batch}/codes.csv", token=clerk).status_code == 409
    assert api.post(f"{R}/access-codes/batches/{batch}/printed", token=clerk).status_code == 409
    # the codes still vote (a session as during voting: in tally a code opens nothing): only their clear copy is gone
    assert voter_token_during_voting(app, body["codes"]["north"][0]).startswith("pbv_")
    assert api.get(f"{R}/access-codes/batches/nope", token=clerk).status_code == 404


def test_district_batch_and_the_old_route_are_sealed_too(app, api, world):
    clerk = world["clerk"]
    r = api.post(f"{R}/access-codes/batches", json={"district": "south", "count": 2}, token=clerk)
    assert r.status_code == 201 and list(r.get_json()["codes"]) == ["south"]
    old = api.post(f"{R}/access-codes", json={"district": "north", "count": 2, "batch": "desk-1"}, token=clerk)
    assert old.status_code == 201
    sheet = api.get(f"{R}/access-codes/batches/desk-1", token=clerk).get_json()
    assert sorted(c["code"] for c in sheet["codes"]) == sorted(old.get_json()["codes"])
    from sqlmodel import select

    from pb_engine.store.tables import AccessCode
    with app.extensions["pb_db"].session() as s:
        sealed = s.exec(select(AccessCode.sealed).where(AccessCode.batch == "desk-1")).all()
    assert len(sealed) == 2 and all(x and not any(c.replace("-", "") in x for c in old.get_json()["codes"]) for x in sealed)


def test_csv_cells_are_neutralised():
    from types import SimpleNamespace

    from flask import Flask

    from api.resources.codes import codes_csv
    app = Flask(__name__)
    app.add_url_rule("/<city>/<round>/vote", "pages.vote_start", lambda city, round: "")
    with app.test_request_context("/"):
        text = codes_csv(SimpleNamespace(slug="alpha"), SimpleNamespace(slug="2026"),
                         [SimpleNamespace(district="=cmd|' /C calc'!A0", code="ABCD-EFGH-JKMN")])
    assert text.splitlines()[1].startswith("\"'=cmd") or text.splitlines()[1].startswith("'=cmd")


def test_revoke_a_code(app, api, cities, world):
    clerk = world["clerk"]
    code = world["codes_left"]["north"][0]
    tok = voter_token_during_voting(app, code)  # opened (during voting), not voted
    r = api.post(f"{R}/access-codes/revoke", json={"access_code": code.lower().replace("-", " ")}, token=clerk)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["district"] == "north"
    # no new session; the live one ended; no paper ballot either
    again = api.post(f"{R}/voter-sessions", json={"access_code": code})
    assert again.status_code == 403 and "revoked" in again.get_json()["message"]
    assert api.get(f"{R}/districts/north/ballot", token=tok).status_code == 401
    paper = api.post(f"{R}/paper-ballots", json={"district": "north", "access_code": code,
                                                  "projects": [world["ids"]["north"][0]]}, token=clerk)
    assert paper.status_code == 403
    twice = api.post(f"{R}/access-codes/revoke", json={"access_code": code}, token=clerk)
    assert twice.status_code == 409
    usage = api.get(f"{R}/access-codes", token=clerk).get_json()
    assert next(d for d in usage["districts"] if d["district"] == "north")["counts"]["revoked"] == 1
    events = _audit(api, cities, "access_code.revoke")
    assert len(events) == 1 and events[0]["after"]["district"] == "north" and code not in str(events)


def _codes_and_audit(app):
    from sqlalchemy import select as sa_select

    from pb_engine.store.tables import AccessCode, AuditEvent, VoterSession
    with app.extensions["pb_db"].engine.connect() as conn:
        return [sorted(repr(tuple(r)) for r in conn.execute(sa_select(t.__table__)).all())
                for t in (AccessCode, AuditEvent, VoterSession)]


def test_a_used_code_cannot_be_revoked_and_nothing_changes(app, api, cities, world):
    code = api.post(f"{R}/access-codes", json={"district": "north", "count": 1}, token=world["clerk"]).get_json()["codes"][0]
    tok = voter_token_during_voting(app, code)
    before = _codes_and_audit(app)
    r = api.post(f"{R}/access-codes/revoke", json={"access_code": "K7QM-4TXR-9PWX"}, token=world["clerk"])
    assert r.status_code in (401, 422)  # unknown or a typo: refused
    assert _codes_and_audit(app) == before
    assert tok


def test_roles_and_cities(api, cities, world):
    batch = api.post(f"{R}/access-codes/batches", json={"count": 1}, token=world["clerk"]).get_json()["batch"]
    code = world["codes_left"]["south"][0]
    for who, expect in ((cities["alpha_reviewer"], 403), (world["viewer"], 403), (cities["beta_admin"], 403)):
        assert api.post(f"{R}/access-codes/batches", json={"count": 1}, token=who).status_code == expect
        assert api.post(f"{R}/access-codes/batches/{batch}/printed", token=who).status_code == expect
        assert api.post(f"{R}/access-codes/revoke", json={"access_code": code}, token=who).status_code == expect
    # the sheet is for codes staff only; another city learns nothing (404)
    assert api.get(f"{R}/access-codes/batches/{batch}", token=world["viewer"]).status_code == 403
    assert api.get(f"{R}/access-codes/batches/{batch}", token=cities["beta_admin"]).status_code == 404
    assert api.get(f"{R}/access-codes/batches/{batch}/codes.csv", token=cities["beta_admin"]).status_code == 404
    assert api.get(f"{R}/access-codes", token=cities["beta_admin"]).status_code == 404
    assert api.get(f"{R}/access-codes").status_code == 404
    assert api.get(f"{R}/access-codes", token=world["viewer"]).status_code == 200
    assert api.post(f"{R}/access-codes/batches", json={"count": 1}, token=cities["alpha_admin"]).status_code == 201
