"""Long work as jobs: one API, two backends.

    job_id = enqueue(db, "outcome.run", {...}, city_id=..., round_id=...)
    info = status(session, job_id)      # JobInfo: state, done/total, message, result, error

- RQ on Redis when `PB_REDIS_URL` (or `REDIS_URL`) is set: the job goes to the `pb_engine` queue and
  any `pb-engine worker` on any host runs it (`execute`).
- Otherwise (the embedded default) a thread pool inside the process that enqueued it runs it, each
  job with its own Database (its own connections), so `./scripts/run` still does everything.

Either way the job's state and progress live in the `job` table, written by whoever runs it, so every
web worker answers `GET /api/v1/jobs/<id>` the same. A kind is a function `fn(db, args, progress) ->
dict` named in KINDS by import path, so an RQ worker imports the same code the web process would run.

`fan_out(function, items)` is the stateless sibling for batch work with no database (`pb-engine
analyse`): the same function over many items, on local processes, or on RQ workers when a Redis URL
is given; results come back as they finish.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator

from sqlmodel import Session

from pb_engine.errors import NotFound
from pb_engine.store.tables import Job
from pb_engine.store.types import utcnow

QUEUE = "pb_engine"
KINDS: dict[str, str] = {
    "outcome.run": "pb_engine.outcomes:run_job",
}
STATES = ("queued", "running", "done", "failed")
PROGRESS_EVERY = 0.5  # seconds between progress writes: a bar, not a log


def redis_url() -> str | None:
    return os.environ.get("PB_REDIS_URL") or os.environ.get("REDIS_URL") or None


def _function(path: str) -> Callable:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class JobInfo:
    id: str
    kind: str
    state: str
    done: int
    total: int
    message: str
    result: dict | None
    error: str
    city_id: int | None
    round_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    @property
    def percent(self) -> int | None:
        return int(100 * self.done / self.total) if self.total else None


def status(session: Session, job_id: str) -> JobInfo:
    row = session.get(Job, job_id) if job_id and len(job_id) <= 32 else None
    if row is None:
        raise NotFound(f"no job {job_id!r}")
    return JobInfo(row.id, row.kind, row.state, row.done, row.total, row.message, row.result, row.error,
                   row.city_id, row.round_id, row.created_at, row.started_at, row.finished_at)


# --- enqueue ---------------------------------------------------------------------------------

def enqueue(db, kind: str, args: dict, *, city_id: int | None = None, round_id: int | None = None,
            created_by: int | None = None, backend: "Backend | None" = None, session: Session | None = None) -> str:
    """Record the job (queued) and hand it to the backend; returns its id at once.

    With `session` (a request's unit of work, which on SQLite may hold the write lock already) the row
    joins that transaction and the job is handed over only once it commits: a worker never looks for a
    row it cannot see yet, and a request that fails queues nothing."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}; one of {', '.join(KINDS)}")
    job_id = uuid.uuid4().hex
    row = Job(id=job_id, kind=kind, args=args, city_id=city_id, round_id=round_id, created_by=created_by)
    chosen = backend or default_backend()
    if session is None:
        with db.session() as s:
            s.add(row)
        chosen.submit(db.url, job_id)
        return job_id
    from sqlalchemy import event

    session.add(row)
    session.flush()
    event.listen(session, "after_commit", lambda _s: chosen.submit(db.url, job_id), once=True)
    return job_id


class Backend:
    name = "?"

    def submit(self, db_url: str, job_id: str) -> None:
        raise NotImplementedError


class InlineBackend(Backend):
    """Jobs in threads of this process (no Redis): a small pool, so long counts queue up rather than
    taking every core from the web requests."""
    name = "inline"

    def __init__(self, workers: int = 2):
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pb-job")

    def submit(self, db_url: str, job_id: str) -> None:
        self.pool.submit(execute, job_id, db_url, False)


class RQBackend(Backend):
    name = "rq"

    def __init__(self, url: str, queue: str = QUEUE):
        from redis import Redis
        from rq import Queue

        self.queue = Queue(queue, connection=Redis.from_url(url))

    def submit(self, db_url: str, job_id: str) -> None:
        # The job id is ours, so RQ's own records and the job row name the same job.
        self.queue.enqueue("pb_engine.jobs.execute", job_id, db_url, job_id=job_id, job_timeout=3 * 3600,
                           result_ttl=24 * 3600, failure_ttl=7 * 24 * 3600)


_backend: Backend | None = None
_backend_lock = threading.Lock()


def default_backend() -> Backend:
    global _backend
    with _backend_lock:
        url = redis_url()
        want = "rq" if url else "inline"
        if _backend is None or _backend.name != want:
            _backend = RQBackend(url) if url else InlineBackend()
        return _backend


# --- run -------------------------------------------------------------------------------------

class Progress:
    """The job's `progress(done, total, message)`: written to its row at most every PROGRESS_EVERY
    seconds, in a short transaction of its own (never the job's)."""

    def __init__(self, db, job_id: str):
        self.db, self.job_id, self._last = db, job_id, 0.0

    def __call__(self, done: int, total: int, message: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < PROGRESS_EVERY:
            return
        self._last = now
        with self.db.session() as s:
            row = s.get(Job, self.job_id)
            row.done, row.total, row.message = int(done), int(total), message[:200]
            s.add(row)


def execute(job_id: str, db_url: str | None = None, from_queue: bool = True) -> dict | None:
    """Run one recorded job to its end (what a worker or a pool thread calls). On a queue worker, its own
    PB_DATABASE_URL wins over the URL carried by the job, so hosts may reach the database by their own
    address; a pool thread uses its process's database, the one the job names."""
    from pb_engine.store.db import Database

    db = Database((os.environ.get("PB_DATABASE_URL") if from_queue else None) or db_url)
    try:
        with db.session() as s:
            row = s.get(Job, job_id)
            if row is None or row.state != "queued":
                return None  # already run (a retried delivery) or unknown
            row.state, row.started_at = "running", utcnow()
            s.add(row)
            kind, args = row.kind, dict(row.args)
        progress = Progress(db, job_id)
        try:
            result = _function(KINDS[kind])(db, args, progress)
        except Exception as e:  # the job failed: recorded for whoever polls, not lost in a thread
            from pb_engine.errors import PBError

            error = e.message if isinstance(e, PBError) else f"{type(e).__name__}: {e}"
            with db.session() as s:
                row = s.get(Job, job_id)
                row.state, row.error, row.finished_at = "failed", error[:2000], utcnow()
                s.add(row)
            if not isinstance(e, PBError):
                traceback.print_exc()
            return None
        with db.session() as s:
            row = s.get(Job, job_id)
            row.state, row.result, row.finished_at = "done", result, utcnow()
            if row.total:
                row.done = row.total
            s.add(row)
        return result
    finally:
        db.dispose()


def wait(db, job_id: str, timeout: float = 30.0, every: float = 0.05) -> JobInfo:
    """Poll until the job has finished (tests and scripts); the last state when the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        with db.session() as s:
            info = status(s, job_id)
        if info.finished or time.monotonic() > deadline:
            return info
        time.sleep(every)


# --- fan out: the same function over many items ----------------------------------------------

def fan_out(function: str, items: Iterable[tuple], *, processes: int | None = None,
            redis: str | None = None, queue: str = QUEUE, timeout: int = 3600) -> Iterator[tuple[int, Any, str]]:
    """Call `function` ("module:name") on each item's arguments; yield (index, result, error) as each
    finishes (error "" on success). Local processes by default; RQ workers on any host when `redis`
    is a Redis URL (the function must be importable there, its arguments and result picklable)."""
    items = list(items)
    if redis:
        yield from _fan_out_rq(function, items, redis, queue, timeout)
        return
    fn = _function(function)
    if (processes or 0) == 1 or len(items) <= 1:
        for i, args in enumerate(items):
            try:
                yield i, fn(*args), ""
            except Exception as e:  # one bad item never stops the batch
                yield i, None, f"{type(e).__name__}: {e}"
        return
    with ProcessPoolExecutor(max_workers=processes or os.cpu_count() or 1) as pool:
        futures = {pool.submit(fn, *args): i for i, args in enumerate(items)}
        try:
            for f in as_completed(futures):
                try:
                    yield futures[f], f.result(), ""
                except Exception as e:
                    yield futures[f], None, f"{type(e).__name__}: {e}"
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _fan_out_rq(function, items, url, queue, timeout):
    from redis import Redis
    from rq import Queue

    q = Queue(queue, connection=Redis.from_url(url))
    module, _, name = function.partition(":")
    pending = {q.enqueue(f"{module}.{name}", *args, job_timeout=timeout, result_ttl=3600).id: i
               for i, args in enumerate(items)}
    from rq.job import Job as RQJob

    try:
        while pending:
            for job_id in list(pending):
                job = RQJob.fetch(job_id, connection=q.connection)
                state = job.get_status(refresh=False)
                if state == "finished":
                    yield pending.pop(job_id), job.return_value(), ""
                elif state in ("failed", "stopped", "canceled"):
                    info = (job.latest_result().exc_string or state) if job.latest_result() else state
                    yield pending.pop(job_id), None, info.strip().splitlines()[-1]
            if pending:
                time.sleep(0.2)
    except BaseException:  # interrupted: take back what no worker started
        for job_id in pending:
            try:
                RQJob.fetch(job_id, connection=q.connection).cancel()
            except Exception:
                pass
        raise
