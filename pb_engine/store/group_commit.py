"""Casts waiting for SQLite's writer turn in one process go through it together: one transaction, one commit.

SQLite takes one writer at a time (store.writer_turn queues them), so under load most of a ballot's
wait is for the turn, and each turn pays for itself: the pool's checkout, BEGIN IMMEDIATE, COMMIT
(the WAL's frames written, its index updated), the hand-over to the next writer. Measured in one
process (tests' app, SQLite), BEGIN and COMMIT with their SQLAlchemy wrapping were a fifth of a
ballot's CPU. Here the casts that queued in a process while its writer waited are run by that
writer in its turn, one after another in one transaction:

- each cast runs inside its own SAVEPOINT: a cast that is refused or fails (a refusal, an
  IntegrityError) is rolled back to it alone and gets its own exception; the others go on;
- the COMMIT is the batch's; a cast is acknowledged (its thread returns) only after it, so a
  crash loses only casts that no one was told were stored; a failed COMMIT fails every cast of the
  batch, each of which its caller may try again (voting._committed);
- the batch is first come, first served, at most MAX_BATCH casts; the thread that ran it returns
  its own result and hands the running of the next batch to the oldest waiting cast's thread, so no
  thread works for others longer than one batch;
- casts of one voter stay in the order they arrived (one transaction sees the earlier's writes).

Only SQLite: PostgreSQL runs writers of different voters side by side (row locks), and holding one
voter's lock while another's cast runs would only make them wait.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable

from pb_engine.store.prepared import Tx
from pb_engine.store.writer_turn import writer_turn

MAX_BATCH = 16


class OwnThreadNeeded(Exception):
    """Raised by a cast that can only go on in its own thread (it must read its request): it is rolled back,
    and its caller runs it again alone."""


class _Cast:
    __slots__ = ("job", "done", "result", "error", "lead")

    def __init__(self, job):
        self.job = job
        self.done = threading.Event()
        self.result = None
        self.error: BaseException | None = None
        self.lead = False   # set (with done) when this cast's thread is to run the next batch


class _Queue:
    def __init__(self):
        self.lock = threading.Lock()
        self.waiting: list[_Cast] = []
        self.running = False   # a thread is running a batch (or about to)
        self.batches = self.casts = 0   # batches run and the casts in them (tests, and the load script's note)

    def run(self, db, job: Callable[[Tx], Any]):
        cast = _Cast(job)
        with self.lock:
            self.waiting.append(cast)
            lead = not self.running
            self.running = True
        if not lead:
            cast.done.wait()
            if not cast.lead:
                return _outcome(cast)
            cast.done.clear()
        # This thread runs the next batch: its own cast is the oldest waiting, so the batch's first.
        self._run_batch(db)
        return _outcome(cast)

    def _take(self) -> list[_Cast]:
        """The oldest waiting casts, at most MAX_BATCH, out of the queue: the next batch."""
        with self.lock:
            batch = self.waiting[:MAX_BATCH]
            del self.waiting[:MAX_BATCH]
            self.batches += 1
            self.casts += len(batch)
        return batch

    def _run_batch(self, db) -> None:
        batch: list[_Cast] = []
        try:
            with Tx(db, turn=writer_turn(db), ping=False) as tx:
                batch = self._take()  # once the turn is ours: every cast that queued while this one waited for it
                if len(batch) == 1:
                    _run_alone(batch[0], tx)
                else:
                    for cast in batch:
                        _run_one(tx, cast)
                if all(cast.error is not None for cast in batch):
                    raise _NothingStored  # rolled back, as a refused cast alone always was
        except _NothingStored:
            pass
        except BaseException as exc:  # the BEGIN or the COMMIT failed: no cast of the batch was stored
            if not batch:  # failed before it was taken: the batch it would have been fails alike
                batch = self._take()
            for cast in batch:
                if cast.error is None:
                    cast.error = exc
        finally:
            with self.lock:
                nxt = self.waiting[0] if self.waiting else None
                if nxt is None:
                    self.running = False
            for cast in batch:
                cast.done.set()
            if nxt is not None:
                nxt.lead = True
                nxt.done.set()


class _NothingStored(Exception):
    pass


def _run_alone(cast: _Cast, tx: Tx) -> None:
    """The one cast of a batch: no savepoint, a failure rolls the whole transaction back."""
    try:
        cast.result = cast.job(tx)
    except Exception as exc:  # noqa: BLE001 - the cast's own outcome, raised again in its thread
        cast.error = exc


def _run_one(tx: Tx, cast: _Cast) -> None:
    """A cast of a batch of several, inside its own savepoint: its failure undoes its writes alone."""
    tx.control("SAVEPOINT pb_cast")
    try:
        cast.result = cast.job(tx)
    except Exception as exc:  # noqa: BLE001 - the cast's own outcome, raised again in its thread
        cast.error = exc
        tx.control("ROLLBACK TO pb_cast")
    tx.control("RELEASE pb_cast")


def _outcome(cast: _Cast):
    if cast.error is not None:
        raise cast.error
    return cast.result


_queues: "weakref.WeakKeyDictionary[Any, _Queue]" = weakref.WeakKeyDictionary()
_queues_lock = threading.Lock()


def _queue(db) -> _Queue:
    with _queues_lock:
        queue = _queues.get(db)
        if queue is None:
            queue = _queues[db] = _Queue()
    return queue


def run_batched(db, job: Callable[[Tx], Any]):
    """`job(tx)` in a write transaction shared with other casts of this process; its result once committed.

    `job` may run in another thread (the one whose turn it is), so it must not read its thread's context (a
    request): what it needs of it is read before, or it raises OwnThreadNeeded."""
    return _queue(db).run(db, job)


def counts(db) -> dict[str, int]:
    """This process's batches at `db` so far: how many, the casts in them, the casts waiting now."""
    queue = _queue(db)
    with queue.lock:
        return {"batches": queue.batches, "casts": queue.casts, "waiting": len(queue.waiting)}


def totals() -> dict[str, int]:
    """counts() summed over every database of this process (pb-engine serve reports it when a worker stops)."""
    with _queues_lock:
        queues = list(_queues.values())
    out = {"batches": 0, "casts": 0}
    for queue in queues:
        with queue.lock:
            out["batches"] += queue.batches
            out["casts"] += queue.casts
    return out
