"""SQLite writers take turns: threads on a lock, processes on an flock of `<file>-writer` (store.writer_turn)."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest

from pb_engine.store.writer_turn import writer_turn


def test_a_turn_excludes_other_processes_and_threads(db):
    if db.dialect != "sqlite":
        with writer_turn(db):  # PostgreSQL locks rows: nothing to wait for
            return
    path = os.path.abspath(db.engine.url.database) + "-writer"
    with writer_turn(db):
        assert os.path.exists(path)
        other = os.open(path, os.O_RDWR)  # another open file: as another process holds it
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        entered = threading.Event()

        def second():
            with writer_turn(db):
                entered.set()

        t = threading.Thread(target=second)
        t.start()
        assert not entered.wait(0.2)  # a thread of this process waits for the turn too
    t.join(5)
    assert entered.is_set()
    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released once the turn ends
    os.close(other)
