"""What a ballot cast on the booth page costs in SQL: the same as the JSON PUT, measured beside it in the same
world (tests/voting/test_cast_cost.py pins the PUT's statements and its one transaction).

The page's POST …/vote/<district> opens no read session of its own: the cast (voting.cast_online) finds the
round, the voter session (the browser's cookie) and the district in its one write transaction; on SQLite a
read session left open beside it pinned the WAL (README, "Load test of the voting path"). Only a refused
ballot reads the booth again, to show it with the reason, after the cast's transaction is over.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event
from sqlmodel import select

from pb_engine import voting
from pb_engine.store.tables import Ballot, Round

from voting_world import NOW, build

pytestmark = pytest.mark.db

BOOTH = "/testville/2026/vote/north"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def booth(app, monkeypatch):
    import api.resources._scope as scope

    monkeypatch.setattr(scope, "now", lambda: NOW)  # the world votes in April 2026
    monkeypatch.setattr(voting, "utcnow", lambda: NOW)  # and its voter sessions are checked then
    db = app.extensions["pb_db"]
    w = build(db)
    seen: list[str] = []

    def listen(name):
        def record(conn, *a):
            if name != "before_cursor_execute":
                seen.append(name)
            elif not _is_begin(a[1]):  # (cursor, statement, …); SQLite's BEGIN is a statement of ours
                seen.append(a[1])
        event.listen(db.engine, name, record)
        return name, record

    listeners = [listen(n) for n in ("begin", "commit", "rollback", "before_cursor_execute")]

    def voter_browser():
        with db.session() as s:
            code = voting.generate_access_codes(s, s.get(Round, w.round_id), "north", 1, w.staff_id, now=NOW)[0]
        client = app.test_client()
        page = client.get("/testville/2026/vote").get_data(as_text=True)
        resp = client.post("/testville/2026/vote", data={"csrf_token": CSRF.search(page).group(1),
                                                         "access_code": code})
        assert resp.status_code == 303 and resp.headers["Location"].endswith(BOOTH), resp.get_data(as_text=True)
        return client, CSRF.search(client.get(BOOTH).get_data(as_text=True)).group(1)

    def cast(browser, projects: list[int]):
        client, csrf = browser
        seen.clear()
        resp = client.post(BOOTH, data={"csrf_token": csrf, "project": [str(p) for p in projects]})
        return resp, list(seen)

    def put(projects: list[int], token: str | None = None):
        """The JSON PUT of the same ballot (a new voter when no token): (token, statements, transactions)."""
        client = app.test_client()
        if token is None:
            with db.session() as s:
                code = voting.generate_access_codes(s, s.get(Round, w.round_id), "north", 1, w.staff_id, now=NOW)[0]
            token = client.post("/api/v1/cities/testville/rounds/2026/voter-sessions",
                                json={"access_code": code}).get_json()["token"]
        seen.clear()
        resp = client.put("/api/v1/cities/testville/rounds/2026/districts/north/ballot", json={"projects": projects},
                          headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200, resp.get_json()
        return token, _statements(seen), _transactions(seen)

    yield w, voter_browser, cast, put
    for name, record in listeners:
        event.remove(db.engine, name, record)


def _is_begin(statement: str) -> bool:
    return statement.strip().upper() in ("BEGIN", "BEGIN IMMEDIATE")


def _statements(seen: list[str]) -> list[str]:
    return [s for s in seen if s not in ("begin", "commit", "rollback")]


def _transactions(seen: list[str]) -> list[str]:
    return [s for s in seen if s in ("begin", "commit", "rollback")]


def test_the_page_casts_in_one_transaction_with_the_statements_of_the_json_put(booth):
    w, voter_browser, cast, put = booth
    warm = voter_browser()
    resp, _cold = cast(warm, [w.north[0]])  # the round's shared setup is read once, by the first cast
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"{BOOTH}/cast")

    token, json_first, json_tx = put([w.north[0], w.north[1]])
    assert json_tx == ["begin", "commit"], json_tx
    _t, json_change, _tx = put([w.north[2]], token)
    browser = voter_browser()
    resp, first = cast(browser, [w.north[0], w.north[1]])
    assert resp.status_code == 303, resp.get_data(as_text=True)
    assert _transactions(first) == ["begin", "commit"], first
    assert _same_work(_statements(first), json_first), "\n".join(_statements(first))
    resp, change = cast(browser, [w.north[2]])
    assert resp.status_code == 303 and _transactions(change) == ["begin", "commit"], change
    assert _same_work(_statements(change), json_change), "\n".join(_statements(change))
    with w.db.session() as s:
        assert sorted(s.exec(select(Ballot.version)).all()) == [1, 2, 2]  # the warm voter, the PUT, the page


def _shapes(statements: list[str]) -> list[str]:
    """Each statement's beginning (what it is), in order."""
    return [s.strip().split("\n")[0][:60] for s in statements]


def _same_work(page: list[str], put: list[str]) -> bool:
    """The page's statements are the PUT's, but for where the voter session is looked up: in the round's
    statement or in one of its own (the cookie names the token per round), so at most one more."""
    def alone(s):
        return s.lstrip().startswith("SELECT votersession")

    return (_shapes([s for s in page if not alone(s)]) == _shapes([s for s in put if not alone(s)])
            and len(page) <= len(put) + 1)


def test_a_refused_ballot_is_shown_again_after_the_cast_is_over(booth):
    """Over the budget: the cast's transaction is rolled back before the booth is read to show the reason."""
    w, voter_browser, cast, _put = booth
    browser = voter_browser()
    resp, seen = cast(browser, [w.north[0], w.north[1], w.north[3]])  # 950 000 zł of 1 000 000 is fine ...
    assert resp.status_code == 303
    resp, seen = cast(browser, [w.north[0], w.north[1], w.north[2], w.north[3]])  # ... 1 150 000 zł is not
    assert resp.status_code == 422 and 'class="alert' in resp.get_data(as_text=True)
    tx = _transactions(seen)
    assert tx[:2] == ["begin", "rollback"] and "commit" not in tx, tx  # nothing open beside the cast
    with w.db.session() as s:
        assert s.exec(select(Ballot.version)).all() == [1]


def test_no_voter_session_is_sent_to_sign_in_without_a_read(app, booth):
    _w, _voter_browser, cast, _put = booth
    client = app.test_client()
    csrf = CSRF.search(client.get("/testville/2026/vote").get_data(as_text=True)).group(1)
    resp, seen = cast((client, csrf), [1])
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/testville/2026/vote")
    # no read session; the cast's own transaction rolled back, or not begun (no token to look up)
    assert _transactions(seen) in ([], ["begin", "rollback"]), seen


def test_a_form_of_another_kind_than_the_rounds_is_refused(booth):
    """The page reads the ballot's kind from the form's fields, not from the round; a form of another kind
    (points for an approval ballot) is the domain's refusal, shown in the booth, and nothing is stored."""
    w, voter_browser, _cast, _put = booth
    client, csrf = voter_browser()
    resp = client.post(BOOTH, data={"csrf_token": csrf, f"points-{w.north[0]}": "3"})
    assert resp.status_code == 422 and 'class="alert' in resp.get_data(as_text=True)
    resp = client.post(BOOTH, data={"csrf_token": csrf, f"rank-{w.north[0]}": "1"})
    assert resp.status_code == 422
    with w.db.session() as s:
        assert s.exec(select(Ballot.version)).all() == []
