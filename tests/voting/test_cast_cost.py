"""What one ballot costs in SQL, pinned: a change that adds a query to the voting path fails here.

Counted with a `before_cursor_execute` listener on the app's engine (the cast's statements run on
the DBAPI cursor, pb_engine.store.prepared, which calls the engine's listeners for each), for the
JSON API's PUT …/districts/<d>/ballot, on SQLite and PostgreSQL alike (BEGIN is left out: SQLite's
is a statement of ours, PostgreSQL's is implicit in the driver). Before this was measured, a first
ballot cost 19 statements (four of them savepoints) and a change 14, then 8 in two sessions (the
request's read session for city, round and voter, and the cast's own), then 6 in one transaction
(on SQLite the read session left open beside the cast pinned the WAL, and every commit then
checkpointed and waited for the disk: 2–3 ms a ballot); now 5: the round and the voter session
its bearer token names are one statement. scripts/load_test.py measures what that means in
ballots per second.

The setup a cast is checked against (districts, the catalog of projects and costs) is read once
per round version and shared while voting is open; the phases are read by every cast in its own
transaction, so closing the voting takes effect at once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, update
from sqlmodel import select

from pb_engine import voting
from pb_engine.store.tables import Ballot, BallotHistory, District, Phase, Proposal, Round

from voting_world import NOW, build

# All in the cast's one write transaction (the request opens no session of its own): the round
# with its phases by the URL's slugs and the voter session by its token (one statement), the voter
# lock (upsert), the voter's ballots, then the insert and the access code spent (first ballot) or
# history + update (change): two statements on SQLite, one on PostgreSQL (a data-modifying WITH).
# On PostgreSQL the lock is in the first statement too (a data-modifying WITH): 3 statements.
COUNTS = {"sqlite": (5, 5), "postgresql": (3, 3)}  # (first ballot, change) by dialect
# A cold setup reads the city, the districts and the ballot's projects once.
SETUP = 3


@pytest.fixture
def api(app, monkeypatch):
    import api.resources._scope as scope

    monkeypatch.setattr(scope, "now", lambda: NOW)  # the world votes in April 2026
    db = app.extensions["pb_db"]
    w = build(db)
    statements: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _count(conn, cursor, statement, params, context, executemany):
        if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE"):
            statements.append(statement)

    client = app.test_client()
    base = "/api/v1/cities/testville/rounds/2026"

    def sign_in(code: str) -> str:
        r = client.post(f"{base}/voter-sessions", json={"access_code": code})
        assert r.status_code == 201, r.get_json()
        return r.get_json()["token"]

    def put(token: str, projects: list[int], district: str = "north"):
        statements.clear()
        r = client.put(f"{base}/districts/{district}/ballot", json={"projects": projects},
                       headers={"Authorization": f"Bearer {token}"})
        return r, list(statements)

    yield w, sign_in, put, statements
    event.remove(db.engine, "before_cursor_execute", _count)


def _codes(w, n: int) -> list[str]:
    with w.db.session() as s:
        return voting.generate_access_codes(s, s.get(Round, w.round_id), "north", n, w.staff_id, now=NOW)


def _show(statements: list[str]) -> str:
    return "\n".join(s.split("\n")[0][:120] for s in statements)


def test_statements_per_ballot_first_and_change(api, app):
    w, sign_in, put, _ = api
    FIRST, CHANGE = COUNTS[app.extensions["pb_db"].dialect]
    warm, token = (sign_in(c) for c in _codes(w, 2))
    r, cold = put(warm, [w.north[0]])
    assert r.status_code == 200, r.get_json()
    assert len(cold) == FIRST + SETUP, _show(cold)

    r, first = put(token, [w.north[0], w.north[1]])
    assert r.status_code == 200 and r.get_json()["version"] == 1
    assert len(first) == FIRST, _show(first)
    for i in range(3):
        r, change = put(token, [w.north[i + 1]])
        assert r.status_code == 200 and r.get_json()["version"] == i + 2
        assert len(change) == CHANGE, _show(change)


def test_the_setup_is_read_once_for_many_voters(api):
    w, sign_in, put, statements = api
    tokens = [sign_in(c) for c in _codes(w, 5)]
    catalog_reads = 0
    for t in tokens:
        r, seen = put(t, [w.north[2]])
        assert r.status_code == 200
        catalog_reads += sum(1 for s in seen if "FROM proposal" in s)
    assert catalog_reads == 1


def test_closing_the_voting_takes_effect_on_the_next_cast(api):
    """The setup is shared, the phases are not: a cast after voting ends is refused at once."""
    w, sign_in, put, _ = api
    token = sign_in(_codes(w, 1)[0])
    assert put(token, [w.north[0]])[0].status_code == 200
    with w.db.session() as s:
        s.exec(update(Phase).where(Phase.round_id == w.round_id, Phase.name == "voting")
               .values(ends_at=NOW - timedelta(minutes=1)))
    r, _ = put(token, [w.north[1]])
    assert r.status_code == 409 and r.get_json()["errors"]["phase"], r.get_json()
    with w.db.session() as s:
        assert s.exec(select(Ballot.version)).all() == [1]


def test_a_changed_round_is_read_again(api):
    """A new round version (the services bump updated_at) gets a new setup: here, the ballot rules."""
    w, sign_in, put, _ = api
    token = sign_in(_codes(w, 1)[0])
    assert put(token, w.north[:3])[0].status_code == 200
    with w.db.session() as s:
        rnd = s.get(Round, w.round_id)
        rnd.ballot = {"kind": "approval", "max_projects": 2}
        rnd.updated_at = NOW
        s.add(rnd)
    r, seen = put(token, w.north[:3])
    assert r.status_code == 422 and "projects" in r.get_json()["errors"], r.get_json()
    assert any("FROM proposal" in s for s in seen)


def test_a_district_added_since_is_found(api):
    w, sign_in, put, _ = api
    token = sign_in(_codes(w, 1)[0])
    assert put(token, [w.north[0]])[0].status_code == 200
    with w.db.session() as s:
        s.add(District(round_id=w.round_id, slug="east", name="East", budget=100_000_00, position=2))
    r, _ = put(token, [w.north[0]], district="east")
    # Found (not 404): the code is for north, so the answer is the district refusal.
    assert r.status_code == 403 and r.get_json()["errors"]["district"], r.get_json()


def test_a_lost_insert_race_is_retried_as_a_change(db, monkeypatch):
    """Should a ballot appear between the read and the insert, the unique constraint refuses the insert
    and the cast starts over: it then replaces that ballot, and nothing is doubled or lost."""
    if db.dialect == "sqlite":
        pytest.skip("SQLite's write transaction (BEGIN IMMEDIATE) leaves no room for another writer in between")
    w = build(db)
    with db.session() as s:
        rnd = s.get(Round, w.round_id)
        token = voting.open_voter_session(s, rnd, access_code=_codes(w, 1)[0], now=NOW)
    with db.session() as s:
        from pb_engine.store.tables import City

        voter = voting.voter_from_token(s, s.get(City, w.city_id), s.get(Round, w.round_id), token, NOW)
    real = voting._store
    sneaked = []

    def store(session, rnd, district, voter_, stored, channel, now, existing, *rest):
        if existing is None and not sneaked:
            # Another writer (one that skipped the voter lock) commits this voter's ballot first.
            with db.session() as other:
                other.add(Ballot(round_id=rnd.id, district_id=district.id, voter_key=voter_.key, channel=channel,
                                 content={"projects": [str(w.north[4])]}, receipt="SNEA-KEDI-NBAL-LOT1", version=1,
                                 cast_at=now))
            sneaked.append(1)
        return real(session, rnd, district, voter_, stored, channel, now, existing, *rest)

    monkeypatch.setattr(voting, "_store", store)
    receipt = voting.cast_ballot(db, w.round_id, "north", voter, {"projects": [w.north[0]]}, now=NOW)
    assert sneaked and receipt.replaced and receipt.version == 2
    with db.session() as s:
        assert s.exec(select(Ballot.receipt, Ballot.version)).all() == [(receipt.receipt, 2)]
        assert s.exec(select(BallotHistory.receipt)).all() == ["SNEA-KEDI-NBAL-LOT1"]


def test_projects_are_read_per_district_from_one_query(db):
    """ballot_catalog (public) and the shared setup agree: costs here, the others' districts elsewhere."""
    w = build(db)
    with db.session() as s:
        rnd = s.get(Round, w.round_id)
        north = s.get(District, w.north_id)
        cat = voting.ballot_catalog(s, rnd, north)
        on_ballot = s.exec(select(Proposal.id).where(Proposal.district_id == w.north_id,
                                                     Proposal.status == "on_ballot")).all()
    assert set(cat.costs) == {str(p) for p in on_ballot} == {str(p) for p in w.north}
    assert set(cat.elsewhere) == {str(p) for p in w.south} and set(cat.elsewhere.values()) == {"south"}
    assert str(w.withdrawn_id) not in cat.costs and str(w.withdrawn_id) not in cat.elsewhere


def test_the_request_opens_one_transaction(api):
    """No read session beside the cast: one BEGIN and one COMMIT per ballot (SQLite: BEGIN IMMEDIATE)."""
    w, sign_in, put, _ = api
    db = w.db
    seen: list[str] = []

    @event.listens_for(db.engine, "begin")
    def _begin(conn):
        seen.append("begin")

    @event.listens_for(db.engine, "commit")
    def _commit(conn):
        seen.append("commit")

    try:
        token = sign_in(_codes(w, 1)[0])
        seen.clear()
        r, _ = put(token, [w.north[0]])
        assert r.status_code == 200 and seen == ["begin", "commit"], seen
        # A refusal reads the city for its wording, after the cast's transaction is over.
        seen.clear()
        r, _ = put(token, [w.north[0], w.south[0]])
        assert r.status_code == 422 and "commit" not in seen[:1], seen
    finally:
        event.remove(db.engine, "begin", _begin)
        event.remove(db.engine, "commit", _commit)


def test_a_token_known_by_round_id_is_looked_up_with_the_round(db):
    """A browser's cookie names its voter token per round id: once the round's id has been seen in this process,
    token_for(that id) is asked before the cast's first statement, which then reads the voter too. A stale id
    (the round made anew under the same slugs) costs the voter's own statement, never a wrong voter."""
    from pb_engine.store import lookup
    from pb_engine.store.tables import City

    FIRST, CHANGE = COUNTS[db.dialect]
    w = build(db)
    code = _codes(w, 1)[0]
    with db.session() as s:
        tokens = {w.round_id: voting.open_voter_session(s, s.get(Round, w.round_id), access_code=code, now=NOW)}
    asked: list[int] = []
    seen: list[str] = []

    def token_for(round_id: int) -> str:
        asked.append(round_id)
        return tokens.get(round_id, "pbv_unknown")

    @event.listens_for(db.engine, "before_cursor_execute")
    def _count(conn, cursor, statement, params, context, executemany):
        if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE"):
            seen.append(statement)

    try:
        lookup._ROUND_IDS.clear()
        with db.session() as s:  # a page's lookup of the round by its slugs
            lookup.round_by_slug(s, s.get(City, w.city_id), "2026")
        seen.clear()
        voting.cast_online(db, "testville", "2026", "north", token_for, {"projects": [w.north[0]]}, now=NOW)
        assert asked == [w.round_id] and len(seen) == FIRST + SETUP, _show(seen)

        lookup.remember_round_id(db.engine.url, "testville", "2026", w.round_id + 100)  # stale
        asked.clear()
        seen.clear()
        receipt = voting.cast_online(db, "testville", "2026", "north", token_for, {"projects": [w.north[1]]}, now=NOW)
        assert receipt.version == 2 and asked == [w.round_id + 100, w.round_id]
        # the voter's own statement, and on PostgreSQL the lock that the round's statement took for nobody
        assert len(seen) == CHANGE + (2 if db.dialect == "postgresql" else 1), _show(seen)
        assert lookup.round_id_hint(db.engine.url, "testville", "2026") == w.round_id  # put right
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)


def test_a_receipt_is_one_draw_of_the_systems_randomness(monkeypatch):
    """16 symbols of the code alphabet in groups of four, from one uniform draw (about 1.7 reads of
    os.urandom on average with rejection) instead of one read per symbol: on SQLite each read let go of the
    GIL inside the writers' turn."""
    import os
    import re

    from pb_engine import access_codes

    real, reads = os.urandom, []

    def urandom(n):
        reads.append(n)
        return real(n)

    monkeypatch.setattr(os, "urandom", urandom)
    receipts = [voting.new_receipt() for _ in range(300)]
    assert len(reads) < 3 * len(receipts)
    shape = re.compile(rf"^[{access_codes.ALPHABET}]{{4}}(-[{access_codes.ALPHABET}]{{4}}){{3}}$")
    assert all(shape.match(r) for r in receipts) and len(set(receipts)) == len(receipts)


def _validations(monkeypatch) -> list[bool]:
    """Each check of a ballot's content, True when it ran inside the cast's transaction (under _checked)."""
    import inspect

    seen: list[bool] = []
    real = voting.validate

    def validate(rules, content, catalog):
        seen.append(any(f.function == "_checked" for f in inspect.stack()))
        return real(rules, content, catalog)

    monkeypatch.setattr(voting, "validate", validate)
    return seen


def test_the_content_is_checked_before_the_transaction_against_the_setup_it_finds(api, monkeypatch):
    """Once a round's setup is known in the process, a ballot's content is checked before the cast's transaction
    (on SQLite: outside the writers' turn that every ballot waits for), and the transaction uses that check only
    if it finds the very same setup; otherwise, and for content the early check refuses, it checks as before."""
    w, sign_in, put, _ = api
    a, b, c = (sign_in(code) for code in _codes(w, 3))
    assert put(a, [w.north[0]])[0].status_code == 200  # the setup is built and shared from here on
    seen = _validations(monkeypatch)
    r, _ = put(b, [w.north[1]])
    assert r.status_code == 200 and seen == [False]  # once, before the transaction

    seen.clear()  # a setup built anew meanwhile (another object): the transaction checks again
    real_pre = voting._prevalidated

    def then_forgotten(*args):
        out = real_pre(*args)
        voting._setups.clear()
        return out

    monkeypatch.setattr(voting, "_prevalidated", then_forgotten)
    r, _ = put(c, [w.north[2]])
    assert r.status_code == 200 and seen == [False, True]
    monkeypatch.setattr(voting, "_prevalidated", real_pre)

    seen.clear()  # refused early: checked again in the transaction, which refuses it with its message
    r, _ = put(c, [w.north[0], 999_999])
    assert r.status_code == 422 and seen == [False, True], r.get_json()
    with w.db.session() as s:
        assert sorted(s.exec(select(Ballot.version)).all()) == [1, 1, 1]


def test_an_early_checked_ballot_still_meets_the_phase_first(api):
    """A valid ballot checked early is still refused when voting has closed since (the phases are read in the
    transaction, before the early check is used); an invalid one too, with the phase's refusal, not the content's."""
    w, sign_in, put, _ = api
    a, b = (sign_in(code) for code in _codes(w, 2))
    assert put(a, [w.north[0]])[0].status_code == 200
    with w.db.session() as s:
        s.exec(update(Phase).where(Phase.round_id == w.round_id, Phase.name == "voting")
               .values(ends_at=NOW - timedelta(minutes=1)))
    for content in ([w.north[1]], [w.north[1], 999_999]):
        r, _ = put(b, content)
        assert r.status_code == 409 and r.get_json()["errors"]["phase"], r.get_json()
    with w.db.session() as s:
        assert s.exec(select(Ballot.version)).all() == [1]
