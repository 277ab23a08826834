"""Casts that wait for SQLite's writer turn in one process run in one transaction (store.group_commit).

Made deterministic by holding the turn in the test while the casts queue: they then meet in one batch.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from pb_engine.store import group_commit
from pb_engine.store.db import Database
from pb_engine.store.prepared import Tx
from pb_engine.store.writer_turn import writer_turn


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'batch.db'}")
    with database.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("CREATE TABLE item (id INTEGER PRIMARY KEY, who TEXT NOT NULL,"
                             " parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")
        conn.exec_driver_sql("INSERT INTO parent (id) VALUES (1)")
    yield database
    database.dispose()


def insert(item_id: int, who: str, parent: int = 1):
    def job(tx: Tx):
        tx.cursor.execute("INSERT INTO item (id, who, parent_id) VALUES (?, ?, ?)", (item_id, who, parent))
        return who
    return job


def stored(db) -> dict[int, str]:
    with db.engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT id, who FROM item").all())


def in_one_batch(db, jobs) -> list:
    """Each job in a thread of its own while the test holds the turn, so that all of them queue; then the turn
    is let go. The outcome of each: its result, or the exception its thread got."""
    outcomes: list = [None] * len(jobs)

    def run(i):
        try:
            outcomes[i] = group_commit.run_batched(db, jobs[i])
        except Exception as exc:  # noqa: BLE001 - compared by the test
            outcomes[i] = exc

    before = group_commit.counts(db)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    with writer_turn(db):
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        # The first to come waits for the turn inside its batch; the others wait in the queue.
        while group_commit.counts(db)["waiting"] < len(jobs) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert group_commit.counts(db)["waiting"] == len(jobs)
    for t in threads:
        t.join(10)
        assert not t.is_alive()
    after = group_commit.counts(db)
    assert after["batches"] - before["batches"] == 1 and after["casts"] - before["casts"] == len(jobs)
    return outcomes


def test_casts_waiting_for_the_turn_run_in_one_transaction_each_getting_its_own_result(db):
    outcomes = in_one_batch(db, [insert(i, f"voter {i}") for i in range(6)])
    assert outcomes == [f"voter {i}" for i in range(6)]
    assert stored(db) == {i: f"voter {i}" for i in range(6)}
    assert group_commit.counts(db)["waiting"] == 0


def test_a_cast_that_fails_is_undone_alone_and_gets_its_own_exception(db):
    def half_then_duplicate(tx: Tx):
        tx.cursor.execute("INSERT INTO item (id, who) VALUES (50, 'half')")  # undone with the cast
        tx.cursor.execute("INSERT INTO item (id, who) VALUES (1, 'again')")  # 1 is taken: IntegrityError
        return "never"

    def refused(tx: Tx):
        tx.cursor.execute("INSERT INTO item (id, who) VALUES (60, 'refused')")
        raise ValueError("refused after a write")

    outcomes = in_one_batch(db, [insert(1, "first"), half_then_duplicate, refused, insert(2, "second")])
    assert outcomes[0] == "first" and outcomes[3] == "second"
    assert "UNIQUE constraint failed" in str(outcomes[1])
    assert isinstance(outcomes[2], ValueError)
    assert stored(db) == {1: "first", 2: "second"}


def test_a_commit_that_fails_fails_every_cast_of_its_batch_and_stores_none(db):
    # A deferred foreign key is checked at COMMIT: one cast's orphan fails the batch's one commit.
    outcomes = in_one_batch(db, [insert(1, "a"), insert(2, "orphan", parent=99), insert(3, "c")])
    assert all(isinstance(o, IntegrityError) for o in outcomes), outcomes
    assert stored(db) == {}
    assert group_commit.run_batched(db, insert(4, "after")) == "after"  # the queue goes on
    assert stored(db) == {4: "after"}


def test_a_batch_whose_every_cast_failed_is_rolled_back_not_committed(db, monkeypatch):
    seen = []
    monkeypatch.setattr(Tx, "__exit__", lambda self, *exc, _orig=Tx.__exit__: (seen.append(exc[0]), _orig(self, *exc))[1])

    def refused(tx: Tx):
        raise ValueError("no")

    with pytest.raises(ValueError):
        group_commit.run_batched(db, refused)
    assert seen and seen[-1] is group_commit._NothingStored  # left with an error: rolled back


def test_a_begin_that_fails_reaches_every_waiting_cast_and_leaves_no_one_waiting(db, monkeypatch):
    real = Tx.__enter__
    calls = []

    def failing_enter(self):
        calls.append(1)
        if len(calls) == 1:
            with writer_turn(db):  # waits for the turn, as the BEGIN does, while the others queue
                pass
            raise OperationalError("BEGIN IMMEDIATE", (), Exception("database is locked"))
        return real(self)

    monkeypatch.setattr(Tx, "__enter__", failing_enter)
    outcomes: list = []
    lock = threading.Lock()

    def run(i):
        try:
            r = group_commit.run_batched(db, insert(i, f"v{i}"))
        except Exception as exc:  # noqa: BLE001
            r = exc
        with lock:
            outcomes.append(r)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(5)]
    with writer_turn(db):  # all five queue before the first BEGIN is tried
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while group_commit.counts(db)["waiting"] < 5 and time.monotonic() < deadline:
            time.sleep(0.005)
    for t in threads:
        t.join(10)
        assert not t.is_alive()  # nobody is left waiting for a batch that never ran
    # The batch that could not begin is every cast that waited for it: each is told, none was stored.
    assert len(outcomes) == 5 and all(isinstance(o, OperationalError) for o in outcomes), outcomes
    assert stored(db) == {} and group_commit.counts(db)["waiting"] == 0
    assert group_commit.run_batched(db, insert(9, "after")) == "after"


def test_many_threads_casting_at_once_each_get_their_own_result_and_all_are_stored(db):
    results: dict[tuple[int, int], str] = {}
    lock = threading.Lock()

    def run(t: int):
        for k in range(40):
            who = f"{t}/{k}"
            r = group_commit.run_batched(db, insert(t * 1000 + k, who))
            with lock:
                results[(t, k)] = r

    threads = [threading.Thread(target=run, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    assert results == {(t, k): f"{t}/{k}" for t in range(8) for k in range(40)}
    assert stored(db) == {t * 1000 + k: f"{t}/{k}" for t in range(8) for k in range(40)}


def test_casts_of_one_voter_in_one_batch_run_in_the_order_they_came(db):
    def bump(tag):
        def job(tx: Tx):
            tx.cursor.execute("INSERT INTO item (id, who) VALUES (7, ?) ON CONFLICT (id) DO UPDATE"
                              " SET who = who || excluded.who", (tag,))
            return tag
        return job

    # Threads queue in the order they start, the test waits for each before starting the next.
    outcomes: list = []
    threads = []
    with writer_turn(db):
        for i, tag in enumerate("abcd"):
            t = threading.Thread(target=lambda tag=tag: outcomes.append(group_commit.run_batched(db, bump(tag))))
            t.start()
            threads.append(t)
            deadline = time.monotonic() + 10
            while group_commit.counts(db)["waiting"] < i + 1 and time.monotonic() < deadline:
                time.sleep(0.002)
    for t in threads:
        t.join(10)
    assert stored(db) == {7: "abcd"}
