"""Roles per city over the JSON API: what manager (and its alias admin), reviewer, clerk and viewer
may do; a viewer changes nothing; `pb-engine staff create` takes every role."""

from __future__ import annotations

import pytest

from apihelp import advance_to, make_round, register, round_body

pytestmark = pytest.mark.db

BASE = "/api/v1/cities/alpha/rounds/2026"


def _round_with_proposal(api, cities):
    make_round(api, cities)
    advance_to(api, cities, "submission")
    ada = register(api)
    pid = api.post(f"{BASE}/proposals", json={"title": "Bike lane", "district": "north", "estimated_cost": 10_000},
                   token=ada).get_json()["id"]
    return pid


def _attempts(api, pid, token):
    """Each kind of change a staff member might try, with the status it got."""
    return {
        "round": api.post("/api/v1/cities/alpha/rounds", json=round_body("2028"), token=token).status_code,
        "staff": api.post("/api/v1/cities/alpha/staff", json={"name": "Eve", "role": "viewer"}, token=token).status_code,
        "review": api.patch(f"{BASE}/proposals/{pid}", json={"status": "under_review"}, token=token).status_code,
        "respond": api.post(f"{BASE}/proposals/{pid}/responses", json={"kind": "answer", "body": "Seen."},
                            token=token).status_code,
        "codes": api.post(f"{BASE}/access-codes", json={"district": "north", "count": 1}, token=token).status_code,
        "audit": api.get("/api/v1/cities/alpha/audit", token=token).status_code,
    }


def test_each_role_may_do_its_part_only(api, cities, staff):
    pid = _round_with_proposal(api, cities)
    got = {role: _attempts(api, pid, staff[f"alpha_{role}"][2]) for role in ("viewer", "clerk", "reviewer")}
    assert got["viewer"] == {"round": 403, "staff": 403, "review": 403, "respond": 403, "codes": 403, "audit": 403}
    assert got["clerk"] == {"round": 403, "staff": 403, "review": 403, "respond": 403, "codes": 201, "audit": 403}
    assert got["reviewer"] == {"round": 403, "staff": 403, "review": 200, "respond": 201, "codes": 403, "audit": 403}
    manager = _attempts(api, pid, staff["alpha_manager"][2])
    assert manager == {"round": 201, "staff": 201, "review": 200, "respond": 201, "codes": 201, "audit": 200}


def test_admin_stays_a_manager_and_reviewer_tokens_keep_their_rights(api, cities):
    pid = _round_with_proposal(api, cities)
    assert _attempts(api, pid, cities["alpha_admin"]) == {"round": 201, "staff": 201, "review": 200, "respond": 201,
                                                          "codes": 201, "audit": 200}
    assert _attempts(api, pid, cities["alpha_reviewer"]) == {"round": 403, "staff": 403, "review": 200,
                                                             "respond": 201, "codes": 403, "audit": 403}


def test_viewer_reads_private_data(api, cities, staff):
    _round_with_proposal(api, cities)
    viewer = staff["alpha_viewer"][2]
    assert api.get(f"{BASE}/outcomes", token=viewer).status_code == 200
    assert api.get("/api/v1/cities/alpha/residents/ada", token=viewer).status_code == 200
    assert api.patch("/api/v1/cities/alpha/residents/ada", json={"verified": True}, token=viewer).status_code == 403


def test_staff_create_cli_takes_every_role(app, cities):
    from click.testing import CliRunner

    from pb_engine.cli import main
    from pb_engine.staff import staff_by_token

    for role in ("manager", "reviewer", "clerk", "viewer", "admin"):
        out = CliRunner().invoke(main, ["staff", "create", "--city", "alpha", "--role", role, "--name", f"N {role}",
                                        "--database", app.config["DATABASE_URL"]])
        assert out.exit_code == 0, out.output
        with app.extensions["pb_db"].session() as s:
            assert staff_by_token(s, out.stdout.strip().splitlines()[-1]).role == role
    bad = CliRunner().invoke(main, ["staff", "create", "--city", "alpha", "--role", "boss", "--name", "X",
                                    "--database", app.config["DATABASE_URL"]])
    assert bad.exit_code != 0
