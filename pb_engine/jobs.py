"""Long work as jobs: one API, two backends.

    job_id = enqueue(db, "outcome.run", {...}, city_id=..., round_id=...)
    info = status(session, job_id)      # JobInfo: state, done/total, message, result, error

- RQ on Redis when `PB_REDIS_URL` (or `REDIS_URL`) is set: the job goes to the `pb_engine` queue and
  any `pb-engine worker` on any host runs it (`execute`).
- Otherwise (the embedded default) a thread pool inside the process that enqueued it runs it, each
  job with its own Database (its own connections), so `./scripts/run` still does everything.

Either way the job's state and progress live in the `job` table, written by whoever runs it, so every
web worker answers `GET /api/v1/jobs/<id>` the same. Whoever holds a job (the pool that will run it, the
thread or worker running it) writes its `heartbeat_at` every HEARTBEAT_EVERY seconds; a queued or running
job without a heartbeat for STALE_AFTER seconds is reported `failed` ("no_heartbeat"), and anything that
escapes a pool thread is written as the job's failure, so no job waits for ever on a thread that is gone.
A kind is a function `fn(db, args, progress) -> dict` named in KINDS by import path, so an RQ worker
imports the same code the web process would run.

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
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import select, update
from sqlmodel import Session

from pb_engine.errors import NotFound
from pb_engine.store.tables import Job
from pb_engine.store.types import utcnow

QUEUE = "pb_engine"
KINDS: dict[str, str] = {
    "outcome.run": "pb_engine.outcomes:run_job",
    "rules.run": "pb_engine.queries.comparison:rules_job",   # the comparison's heavy rule runs, into the cache
}
STATES = ("queued", "running", "done", "failed")
PROGRESS_EVERY = 0.5  # seconds between progress writes: a bar, not a log
HEARTBEAT_EVERY = 5.0  # seconds between the heartbeats of a process for the jobs it holds
STALE_AFTER = 60.0  # a queued or running job whose holder has not beaten for this long has lost it


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
    args: dict | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    @property
    def percent(self) -> int | None:
        return int(100 * self.done / self.total) if self.total else None


def status(session: Session, job_id: str, now: datetime | None = None) -> JobInfo:
    """The job as its row says, except that a queued or running job whose holder has sent no heartbeat
    for STALE_AFTER seconds is reported `failed` (its process or thread is gone: nothing will run it)."""
    row = session.get(Job, job_id) if job_id and len(job_id) <= 32 else None
    if row is None:
        raise NotFound(f"no job {job_id!r}")
    state, error = row.state, row.error
    if state in ("queued", "running") and row.heartbeat_at is not None:
        beat = row.heartbeat_at if row.heartbeat_at.tzinfo else row.heartbeat_at.replace(tzinfo=timezone.utc)
        if ((now or utcnow()) - beat).total_seconds() > STALE_AFTER:
            state = "failed"
            error = (f"no_heartbeat: the process that {'ran' if row.state == 'running' else 'held'} this job "
                     f"stopped; its last sign of life was at {beat:%Y-%m-%d %H:%M:%S} UTC")
    return JobInfo(row.id, row.kind, state, row.done, row.total, row.message, row.result, error,
                   row.city_id, row.round_id, row.created_at, row.started_at, row.finished_at, dict(row.args or {}))


# --- enqueue ---------------------------------------------------------------------------------

def enqueue(db, kind: str, args: dict, *, city_id: int | None = None, round_id: int | None = None,
            created_by: int | None = None, backend: "Backend | None" = None, session: Session | None = None,
            unless: Callable[[Session], str | None] | None = None, claim: str | None = None) -> str:
    """Record the job (queued) and hand it to the backend; returns its id at once.

    With `session` (a request's unit of work, which on SQLite may hold the write lock already) the row
    joins that transaction and the job is handed over only once it commits: a worker never looks for a
    row it cannot see yet, and a request that fails queues nothing.

    With `unless` (only without `session`): one job per `claim` (a string naming the work). Inside the
    write transaction that would insert the row, and with every other enqueue of the same claim waiting
    for it (SQLite: the write lock; PostgreSQL: a transaction-level advisory lock on the claim), `unless`
    is asked for a job already doing the work; if it names one, that id is returned and nothing is
    queued. So two requests that both found no job a moment before start one between them."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}; one of {', '.join(KINDS)}")
    job_id = uuid.uuid4().hex
    chosen = backend or default_backend()
    # A backend that holds its jobs in this process beats for them from now on; an RQ job waits in Redis
    # for as long as it takes a worker to come, so it has no heartbeat until one claims it.
    row = Job(id=job_id, kind=kind, args=args, city_id=city_id, round_id=round_id, created_by=created_by,
              heartbeat_at=utcnow() if chosen.heartbeats else None)
    if session is None:
        with db.write_session() as s:
            if unless is not None:
                _serialise(s, claim or kind)
                existing = unless(s)
                if existing is not None:
                    return existing
            s.add(row)
        _hand_over(chosen, db.url, job_id)
        return job_id
    if unless is not None:
        raise ValueError("unless= needs a transaction of enqueue's own (no session=)")
    from sqlalchemy import event

    session.add(row)
    session.flush()
    event.listen(session, "after_commit", lambda _s: _hand_over(chosen, db.url, job_id), once=True)
    return job_id


def _serialise(session: Session, claim: str) -> None:
    """Make enqueues of one claim take turns until the end of this write transaction. SQLite: a write
    transaction holds the database's write lock from its start (store.db), nothing to add. PostgreSQL:
    READ COMMITTED lets two transactions both find no job and both insert, so they take an advisory lock
    on the claim first (released at commit or rollback)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text

        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:claim))"), {"claim": claim})


def _hand_over(backend: "Backend", db_url: str, job_id: str) -> None:
    """Submit a committed job; if the backend refuses (Redis gone, a pool shut down), the job says so
    rather than waiting for ever. Never raises: it runs after the request's commit."""
    try:
        backend.submit(db_url, job_id)
    except Exception as e:  # noqa: BLE001 - the row is committed: record why nothing will run it
        traceback.print_exc()
        give_up(db_url, job_id, f"not_submitted: {type(e).__name__}: {e}")


class Backend:
    name = "?"
    heartbeats = False  # whether this process beats for the jobs it was given (see _Heartbeats)

    def submit(self, db_url: str, job_id: str) -> None:
        raise NotImplementedError


class InlineBackend(Backend):
    """Jobs in threads of this process (no Redis): a small pool, so long counts queue up rather than
    taking every core from the web requests.

    The pool belongs to the process that made it: a fork (gunicorn's workers, if the app were preloaded)
    copies the pool object but none of its threads, and its idle count says a thread is waiting, so a
    job submitted in the child would sit in the queue for ever. A child therefore makes its own pool."""
    name = "inline"
    heartbeats = True

    def __init__(self, workers: int = 2):
        self.workers = workers
        self._lock = threading.Lock()
        self._pid: int | None = None
        self.pool: ThreadPoolExecutor | None = None
        self._own_pool()

    def _own_pool(self) -> ThreadPoolExecutor:
        if self._pid != os.getpid() or self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="pb-job")
            self._pid = os.getpid()
        return self.pool

    def submit(self, db_url: str, job_id: str) -> None:
        with self._lock:
            pool = self._own_pool()
        heartbeats.hold(db_url, job_id)
        try:
            pool.submit(_run_in_thread, job_id, db_url)
        except BaseException:
            heartbeats.release(job_id)
            raise


def _run_in_thread(job_id: str, db_url: str) -> None:
    """A pool thread's whole life with one job: whatever escapes `execute` (a database error while
    claiming or recording it, a BaseException from the job) is written as the job's failure here, since
    nobody reads the pool's futures."""
    try:
        execute(job_id, db_url, False)
    except BaseException as e:  # noqa: BLE001 - the thread ends here either way
        traceback.print_exc()
        give_up(db_url, job_id, f"{type(e).__name__}: {e}")
    finally:
        heartbeats.release(job_id)


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


# --- heartbeats ------------------------------------------------------------------------------

class _Heartbeats:
    """The jobs this process holds (queued in its pool, or running here), and one daemon thread that
    writes their `heartbeat_at` every HEARTBEAT_EVERY seconds. A holder that dies (a gunicorn worker
    killed, a thread gone) stops beating, and `status` reports its jobs failed after STALE_AFTER."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._held: dict[str, str] = {}       # job id -> database URL
        self._dbs: dict[str, Any] = {}

    def hold(self, db_url: str, job_id: str) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked child holds none of its parent's jobs, has no thread
                self._held, self._dbs, self._pid = {}, {}, os.getpid()
                threading.Thread(target=self._run, name="pb-job-heartbeat", daemon=True).start()
            self._held[job_id] = db_url

    def release(self, job_id: str) -> None:
        with self._lock:
            self._held.pop(job_id, None)

    def held(self) -> set[str]:
        with self._lock:
            return set(self._held) if self._pid == os.getpid() else set()

    def _run(self) -> None:
        me, last = os.getpid(), time.monotonic()
        while True:
            time.sleep(min(0.5, HEARTBEAT_EVERY))  # short naps: a changed HEARTBEAT_EVERY applies soon
            if os.getpid() != me:
                return
            if time.monotonic() - last < HEARTBEAT_EVERY:
                continue
            last = time.monotonic()
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - the next beat tries again; staleness takes a dozen misses
                traceback.print_exc()

    def beat(self) -> None:
        from pb_engine.store.db import Database

        with self._lock:
            by_url: dict[str, list[str]] = {}
            for job_id, url in self._held.items():
                by_url.setdefault(url, []).append(job_id)
            for url in [u for u in self._dbs if u not in by_url]:
                self._dbs.pop(url).dispose()
            dbs = {url: self._dbs.setdefault(url, self._dbs.get(url) or Database(url)) for url in by_url}
        for url, ids in by_url.items():
            with dbs[url].write_session() as s:
                s.execute(update(Job).where(Job.id.in_(ids), Job.state.in_(("queued", "running")))
                          .values(heartbeat_at=utcnow()))


heartbeats = _Heartbeats()


def _after_fork_in_child() -> None:
    # A lock another thread held at the fork stays held in the child for ever: start the child afresh.
    global _backend_lock
    heartbeats._lock = threading.Lock()
    _backend_lock = threading.Lock()
    if isinstance(_backend, InlineBackend):
        _backend._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# --- run -------------------------------------------------------------------------------------

class Progress:
    """The job's `progress(done, total, message)`: written to its row at most every PROGRESS_EVERY
    seconds, in a short write transaction of its own (never the job's). A progress write that fails is
    skipped: the bar lags, the job goes on."""

    def __init__(self, db, job_id: str):
        self.db, self.job_id, self._last = db, job_id, 0.0

    def __call__(self, done: int, total: int, message: str = "", force: bool = False) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        now = time.monotonic()
        if not force and now - self._last < PROGRESS_EVERY:
            return
        self._last = now
        try:
            with self.db.write_session() as s:
                s.execute(update(Job).where(Job.id == self.job_id)
                          .values(done=int(done), total=int(total), message=message[:200], heartbeat_at=utcnow()))
        except SQLAlchemyError:
            traceback.print_exc()


def _claim(db, job_id: str) -> tuple[str, dict] | None:
    """Mark the job running if it is still queued; (kind, args), or None when someone else has it.

    One conditional UPDATE in a write transaction (BEGIN IMMEDIATE on SQLite): a read-then-write
    transaction on SQLite is refused at once ("database is locked", no busy wait) when any other
    connection committed since it read, which under voting load is nearly always; that refusal, raised
    in a pool thread nobody watched, is what left jobs `queued` for ever."""
    with db.write_session() as s:
        now = utcnow()
        claimed = s.execute(update(Job).where(Job.id == job_id, Job.state == "queued")
                            .values(state="running", started_at=now, heartbeat_at=now)).rowcount
        if claimed != 1:
            return None  # already run (a retried delivery), taken by another worker, or unknown
        kind, args = s.execute(select(Job.kind, Job.args).where(Job.id == job_id)).one()
        return kind, dict(args or {})


def _finish(db, job_id: str, attempts: int = 3, **values) -> bool:
    """Write the job's end (done or failed) if it is not finished yet; retried a few times, since an
    end that is never written leaves the job to its heartbeat's staleness."""
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(attempts):
        try:
            with db.write_session() as s:
                s.execute(update(Job).where(Job.id == job_id, Job.state.in_(("queued", "running")))
                          .values(finished_at=utcnow(), **values))
            return True
        except SQLAlchemyError:
            if attempt == attempts - 1:
                traceback.print_exc()
                return False
            time.sleep(0.5 * (attempt + 1))
    return False


def give_up(db_url: str, job_id: str, reason: str) -> bool:
    """Record a job as failed with `reason` (its thread died, it could not be submitted)."""
    from pb_engine.store.db import Database

    try:
        db = Database(db_url)
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        return False
    try:
        return _finish(db, job_id, state="failed", error=reason[:2000])
    finally:
        db.dispose()


def execute(job_id: str, db_url: str | None = None, from_queue: bool = True) -> dict | None:
    """Run one recorded job to its end (what a worker or a pool thread calls). On a queue worker, its own
    PB_DATABASE_URL wins over the URL carried by the job, so hosts may reach the database by their own
    address; a pool thread uses its process's database, the one the job names."""
    from pb_engine.store.db import Database

    db = Database((os.environ.get("PB_DATABASE_URL") if from_queue else None) or db_url)
    try:
        claimed = _claim(db, job_id)
        if claimed is None:
            return None
        kind, args = claimed
        heartbeats.hold(db.url, job_id)  # a queue worker beats while it runs the job
        progress = Progress(db, job_id)
        try:
            result = _function(KINDS[kind])(db, args, progress)
        except Exception as e:  # the job failed: recorded for whoever polls, not lost in a thread
            from pb_engine.errors import PBError

            error = e.message if isinstance(e, PBError) else f"{type(e).__name__}: {e}"
            if not isinstance(e, PBError):
                traceback.print_exc()
            if not _finish(db, job_id, state="failed", error=error[:2000]):
                raise
            return None
        from sqlalchemy import case

        if not _finish(db, job_id, state="done", result=result, done=case((Job.total > 0, Job.total), else_=Job.done)):
            raise RuntimeError(f"job {job_id}: its result could not be recorded")
        return result
    finally:
        heartbeats.release(job_id)
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
