"""Code sign-in (POST …/voter-sessions) checks the code in a read transaction and writes in a short one.

Before, the whole request ran in one write transaction: on SQLite the write lock was held while the
code was hashed and checked, and the other writers (ballots among them) waited on SQLite's busy
handler meanwhile. Now the write transaction holds one statement, the voter session's INSERT,
conditional on what the read transaction checked: a code revoked or claimed, or a voter who voted on
paper, in between gets no session from it (and the request's write path gives the refusal).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, update
from sqlmodel import select

from pb_engine import voting
from pb_engine.store.tables import AccessCode, Round, VoterChannel, VoterSession

from voting_world import NOW, build

pytestmark = pytest.mark.db
BASE = "/api/v1/cities/testville/rounds/2026"


def _codes(w, n: int) -> list[str]:
    with w.db.session() as s:
        return voting.generate_access_codes(s, s.get(Round, w.round_id), "north", n, w.staff_id, now=NOW)


@pytest.fixture
def signed(app, monkeypatch):
    import api.resources._scope as scope

    monkeypatch.setattr(scope, "now", lambda: NOW)
    db = app.extensions["pb_db"]
    w = build(db)
    seen: list[tuple[str, str]] = []   # (transaction kind, statement or event)

    def on_begin(conn):
        seen.append(("write" if conn.get_execution_options().get("pb_write_lock") else "read", "begin"))

    def on_commit(conn):
        seen.append(("", "commit"))

    def on_statement(conn, cursor, statement, params, context, executemany):
        seen.append(("", statement.strip().split("\n")[0]))

    for name, fn in (("begin", on_begin), ("commit", on_commit), ("before_cursor_execute", on_statement)):
        event.listen(db.engine, name, fn)
    yield w, app.test_client(), seen
    for name, fn in (("begin", on_begin), ("commit", on_commit), ("before_cursor_execute", on_statement)):
        event.remove(db.engine, name, fn)


def _write_transactions(seen) -> list[list[str]]:
    """The statements of each write transaction (SQLite's BEGIN IMMEDIATE; on PostgreSQL the one whose
    begin event came from the write engine)."""
    out, current = [], None
    for kind, what in seen:
        if what == "begin":
            current = [] if kind == "write" else None
        elif what == "commit":
            if current is not None:
                out.append(current)
            current = None
        elif current is not None and what.upper() not in ("BEGIN", "BEGIN IMMEDIATE"):
            current.append(what)
    return out


def test_the_write_transaction_of_a_code_sign_in_holds_one_insert(signed):
    w, client, seen = signed
    code = _codes(w, 2)
    client.post(f"{BASE}/voter-sessions", json={"access_code": code[0]})  # the round's secret exists from here on
    seen.clear()
    r = client.post(f"{BASE}/voter-sessions", json={"access_code": code[1]})
    assert r.status_code == 201 and r.get_json()["district"] == "north" and r.get_json()["method"] == "access_code"
    writes = _write_transactions(seen)
    assert len(writes) == 1 and len(writes[0]) == 1 and writes[0][0].startswith("INSERT INTO votersession"), seen
    put = client.put(f"{BASE}/districts/north/ballot", json={"projects": [w.north[0]]},
                     headers={"Authorization": f"Bearer {r.get_json()['token']}"})
    assert put.status_code == 200, put.get_json()


def test_a_code_revoked_after_the_checks_opens_no_session(signed):
    w, client, _ = signed
    code = _codes(w, 2)
    client.post(f"{BASE}/voter-sessions", json={"access_code": code[0]})
    with w.db.session() as s:
        rnd = s.get(Round, w.round_id)
        grant = voting.grant_voter_session(s, rnd, code[1], now=NOW)
    assert grant is not None
    with w.db.session() as s:
        s.exec(update(AccessCode).where(AccessCode.id == grant.code_id).values(revoked_at=NOW))
    assert voting.store_voter_session(w.db, grant) is None
    with w.db.session() as s:
        assert s.exec(select(VoterSession).where(VoterSession.voter_key == grant.voter_key)).all() == []
    r = client.post(f"{BASE}/voter-sessions", json={"access_code": code[1]})
    assert r.status_code == 403 and r.get_json()["errors"]["access_code"], r.get_json()


def test_a_voter_who_voted_on_paper_after_the_checks_opens_no_session(signed):
    w, client, _ = signed
    code = _codes(w, 2)
    client.post(f"{BASE}/voter-sessions", json={"access_code": code[0]})
    with w.db.session() as s:
        grant = voting.grant_voter_session(s, s.get(Round, w.round_id), code[1], now=NOW)
    with w.db.session() as s:
        s.add(VoterChannel(round_id=w.round_id, voter_key=grant.voter_key, channel="paper"))
    assert voting.store_voter_session(w.db, grant) is None
    r = client.post(f"{BASE}/voter-sessions", json={"access_code": code[1]})
    assert r.status_code == 409, r.get_json()


def test_a_granted_session_expires_like_one_opened_in_one_transaction(signed):
    w, client, _ = signed
    code = _codes(w, 2)
    client.post(f"{BASE}/voter-sessions", json={"access_code": code[0]})
    with w.db.session() as s:
        grant = voting.grant_voter_session(s, s.get(Round, w.round_id), code[1], now=NOW)
    token = voting.store_voter_session(w.db, grant)
    with w.db.session() as s:
        vs = s.exec(select(VoterSession).where(VoterSession.voter_key == grant.voter_key)).one()
        assert vs.created_at == NOW and vs.expires_at == NOW + voting.SESSION_TTL and vs.district_id == w.north_id
        rnd = s.get(Round, w.round_id)
        assert voting.session_for_token(s, rnd, token, NOW + timedelta(minutes=1)) is not None
        assert voting.session_for_token(s, rnd, token, NOW + voting.SESSION_TTL) is None
