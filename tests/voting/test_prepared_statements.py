"""The cast's statements on the DBAPI cursor (pb_engine.store.prepared) store and read what the ORM does.

A ballot written through a Tx reads back through the ORM with the same values (aware UTC datetimes,
JSON content) and the reverse; a driver error is SQLAlchemy's own exception, and the transaction is
rolled back with everything the Tx's ORM session flushed into it; the engine's cursor listeners see
every statement.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, event, insert
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from pb_engine.store.prepared import Prepared, Tx
from pb_engine.store.tables import AuditEvent, Ballot

from voting_world import build

pytestmark = pytest.mark.db

_B = Ballot.__table__
KEYS = ("round_id", "district_id", "voter_key", "channel", "content", "receipt", "version", "cast_at")
NEW = Prepared(insert(_B), keys=KEYS)
MINE = Prepared(sa_select(_B.c.receipt, _B.c.content, _B.c.cast_at, _B.c.version)
                .where(_B.c.voter_key == bindparam("key")).order_by(_B.c.receipt))
AT = datetime(2026, 4, 15, 12, 30, 15, 123456, tzinfo=timezone.utc)


def _row(w, key: str, receipt: str, at=AT) -> dict:
    return {"round_id": w.round_id, "district_id": w.north_id, "voter_key": key, "channel": "online",
            "content": {"projects": ["7", "3"], "note": "zażółć"}, "receipt": receipt, "version": 1, "cast_at": at}


def test_what_a_tx_writes_the_orm_reads_and_the_reverse(db):
    w = build(db)
    warsaw = AT.astimezone(timezone(timedelta(hours=2)))  # an aware time in another zone is stored as UTC
    with Tx(db) as tx:
        assert tx.run(NEW, **_row(w, "k1", "AAAA-0001", at=warsaw)) == 1
    with db.session() as s:
        b = s.exec(select(Ballot).where(Ballot.voter_key == "k1")).one()
        assert b.cast_at == AT and b.cast_at.tzinfo is not None and b.content == {"projects": ["7", "3"], "note": "zażółć"}
        s.add(Ballot(round_id=w.round_id, district_id=w.south_id, voter_key="k1", channel="online",
                     content={"points": {"3": 2}}, receipt="AAAA-0002", version=4, cast_at=AT + timedelta(days=1)))
    with Tx(db, write=False) as tx:
        rows = tx.rows(MINE, key="k1")
        assert tx.first(MINE, key="nobody") is None
    assert rows == [("AAAA-0001", {"projects": ["7", "3"], "note": "zażółć"}, AT, 1),
                    ("AAAA-0002", {"points": {"3": 2}}, AT + timedelta(days=1), 4)]
    assert all(r[2].utcoffset() == timedelta(0) for r in rows)


def test_a_driver_error_is_sqlalchemys_and_undoes_the_whole_transaction(db):
    w = build(db)
    with Tx(db) as tx:
        tx.run(NEW, **_row(w, "k1", "AAAA-0001"))
    with pytest.raises(IntegrityError):
        with Tx(db) as tx:
            tx.session.add(AuditEvent(actor="test", action="test.before", target="x"))
            tx.run(NEW, **_row(w, "k2", "BBBB-0001"))          # flushed the audit event first, then stored
            tx.run(NEW, **_row(w, "k1", "CCCC-0001"))          # the same voter and district again: refused
    with db.session() as s:
        assert s.exec(select(Ballot.receipt)).all() == ["AAAA-0001"]
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "test.before")).all() == []


def test_the_orm_session_of_a_tx_commits_with_it(db):
    w = build(db)
    with Tx(db) as tx:
        tx.run(NEW, **_row(w, "k1", "AAAA-0001"))
        tx.session.add(AuditEvent(actor="test", action="test.with", target="x"))
    with db.session() as s:
        assert len(s.exec(select(AuditEvent).where(AuditEvent.action == "test.with")).all()) == 1
        assert s.exec(select(Ballot.receipt)).all() == ["AAAA-0001"]


def test_the_engine_listeners_see_each_statement_and_a_missing_value_is_named(db):
    w = build(db)
    seen = []

    def listen(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        with Tx(db) as tx:
            tx.run(NEW, **_row(w, "k1", "AAAA-0001"))
            tx.rows(MINE, key="k1")
            row = _row(w, "k2", "BBBB-0001")
            del row["receipt"]
            with pytest.raises(KeyError, match="receipt"):
                tx.run(NEW, **row)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert [s.split()[0] for s in seen if s.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE")] == ["INSERT", "SELECT"]


def test_a_round_and_its_phases_read_once_per_round_are_what_sqlalchemy_reads(db):
    """The round's statements read the round's own columns (JSON settings, dates) from the first row only
    (`varying`: the phase columns): every row is still the row SQLAlchemy's own execution gives."""
    from pb_engine import voting

    w = build(db)
    stmt = voting._ROUND_NOW._stmt
    with db.engine.connect() as conn:
        expected = sorted((tuple(r) for r in conn.execute(stmt, {"round_id": w.round_id})), key=lambda r: r[6])
    assert len(expected) > 1 and len({r[6] for r in expected}) == len(expected)  # several phases
    with Tx(db, write=False) as tx:
        by_phase = lambda rows: sorted(rows, key=lambda r: r[6])  # noqa: E731 (no ORDER BY in the statement)
        assert by_phase(tx.rows(voting._ROUND_NOW, round_id=w.round_id)) == expected
        assert by_phase(tx.rows(voting._ROUND_BY_SLUGS, city_slug="testville", round_slug="2026")) == expected
