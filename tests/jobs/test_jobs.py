"""Long work (pb_engine.jobs, pb_engine.rule_cache): a long count answers 202 with a job whose status
route shows its progress and result; the cache serves the same ballots without counting them again;
another city's staff cannot see the job; the RQ backend runs the same job through `pb-engine worker`
against the Redis on 127.0.0.1:6379 (skipped, saying so, when it does not answer)."""

from __future__ import annotations

import uuid
from fractions import Fraction as F

import pytest
from sqlmodel import func, select

from apihelp import populated_round
from pb_engine import jobs, rule_cache
from pb_engine.allocation.instance import Instance, Project
from pb_engine.allocation.registry import allocate
from pb_engine.ballots.kinds import ApprovalBallot, Profile, VoteType
from pb_engine.store.tables import Job, OutcomeRecord, RuleResult

pytestmark = pytest.mark.db

REDIS = "redis://127.0.0.1:6379/0"


def _count(db, table):
    with db.session() as s:
        return s.exec(select(func.count()).select_from(table)).one()


def test_cache_returns_the_rules_outcome_exactly_and_keys_on_every_input(db):
    inst = Instance(F(100), [Project("a", F(60)), Project("b", F(30)), Project("c", F("33.5"))])
    prof = Profile(VoteType.APPROVAL, [ApprovalBallot(frozenset(s)) for s in ({"a"}, {"a", "b"}, {"c"}, {"b", "c"})])
    with db.session() as s:
        first, hit = rule_cache.allocate(s, inst, prof, "mes", completion="add1")
        assert not hit
    with db.session() as s:
        again, hit = rule_cache.allocate(s, inst, prof, "mes", completion="add1")
    assert hit and again == first == allocate(inst, prof, "mes", completion="add1")  # Fractions, reasons, all
    assert _count(db, RuleResult) == 1
    base = rule_cache.key(inst, prof, "mes", completion="add1")
    assert rule_cache.key(inst, prof, "mes", completion="add1") == base  # the same inputs, the same key
    other_ballots = Profile(VoteType.APPROVAL, list(prof.ballots[:-1]))
    assert len({base, rule_cache.key(inst, prof, "mes", completion="greedy"), rule_cache.key(inst, prof, "greedy"),
                rule_cache.key(inst, other_ballots, "mes", completion="add1")}) == 4
    import pb_engine.rule_cache as mod

    old, mod.__version__ = mod.__version__, "another"
    try:
        assert rule_cache.key(inst, prof, "mes", completion="add1") != base  # a new engine counts anew
    finally:
        mod.__version__ = old


def test_long_count_is_a_job_with_progress_and_the_cache_answers_the_next(app, api, cities):
    state = populated_round(api, cities, run_outcome=False)
    db = app.extensions["pb_db"]
    admin = cities["alpha_admin"]
    app.config["PB_JOB_THRESHOLD"] = 1  # every count is "long"
    r = api.post(f"{state['base']}/outcomes", json={"rule": {"id": "mes", "completion": "add1"}}, token=admin)
    assert r.status_code == 202, r.get_json()
    body = r.get_json()
    assert body["state"] in ("queued", "running", "done") and r.headers["Location"] == body["status_url"]
    info = jobs.wait(db, body["id"], timeout=60)
    assert info.state == "done", info.error
    got = api.get(body["status_url"], token=admin).get_json()
    assert "state" in got, got
    assert got["state"] == "done" and (got["done"], got["total"], got["percent"]) == (2, 2, 100)
    outcome = api.get(got["result_url"], token=admin).get_json()
    assert outcome["status"] == "draft" and outcome["rule"]["id"] == "mes"
    # the job's draft is the count the request would have made
    app.config["PB_JOB_THRESHOLD"] = 10**12
    cached = _count(db, RuleResult)
    r = api.post(f"{state['base']}/outcomes", json={"rule": {"id": "mes", "completion": "add1"}}, token=admin)
    assert r.status_code == 201
    assert [d["selected"] for d in r.get_json()["districts"]] == [d["selected"] for d in outcome["districts"]]
    assert cached == 2 and _count(db, RuleResult) == 2  # both districts came from the cache: nothing counted again
    # the job is the city's: another city's staff and the public get 404, bad ids too
    assert api.get(body["status_url"], token=cities["beta_admin"]).status_code == 404
    assert api.get(body["status_url"]).status_code == 404
    assert api.get("/api/v1/jobs/" + "0" * 32, token=admin).status_code == 404


def test_a_refused_count_queues_nothing(app, api, cities):
    populated = populated_round(api, cities, run_outcome=False)
    app.config["PB_JOB_THRESHOLD"] = 1
    r = api.post(f"{populated['base']}/outcomes", json={"rule": {"id": "mes", "completion": "nonsense"}},
                 token=cities["alpha_admin"])
    assert r.status_code == 422 and "completion" in str(r.get_json()["errors"])
    assert _count(app.extensions["pb_db"], Job) == 0


def test_a_failing_job_is_recorded_failed(db, monkeypatch):
    monkeypatch.setitem(jobs.KINDS, "test.fail", "tests.jobs.test_jobs:_fails")
    job_id = jobs.enqueue(db, "test.fail", {})
    info = jobs.wait(db, job_id, timeout=30)
    assert info.state == "failed" and "ZeroDivisionError" in info.error


def _fails(db, args, progress):
    progress(1, 3, "step", force=True)
    return 1 // 0


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as e:
        pytest.skip(f"Redis at {REDIS} does not answer ({e}): RQ backend not tested")


def test_rq_backend_runs_the_job_in_pb_engine_worker(app, api, cities, monkeypatch):
    _redis_or_skip()
    from click.testing import CliRunner

    from pb_engine.cli import main

    state = populated_round(api, cities, run_outcome=False)
    db = app.extensions["pb_db"]
    queue = f"pb_engine_test_{uuid.uuid4().hex[:8]}"  # its own queue: parallel test runs never share one
    with db.session() as s:
        rnd_id = s.exec(select(OutcomeRecord.round_id)).first()
        from pb_engine.store.tables import Round

        rnd = s.exec(select(Round).where(Round.slug == "2026")).first()
        args = {"round_id": rnd.id, "rule": None, "staff_id": None, "now": "2100-01-01T00:00:00+00:00"}
        city_id = rnd.city_id
    del rnd_id
    job_id = jobs.enqueue(db, "outcome.run", args, city_id=city_id, round_id=args["round_id"],
                          backend=jobs.RQBackend(REDIS, queue=queue))
    with db.session() as s:
        assert jobs.status(s, job_id).state == "queued"  # nothing runs it until a worker does
    monkeypatch.setenv("PB_DATABASE_URL", db.url)  # the worker's own database, as on a worker host
    result = CliRunner().invoke(main, ["worker", "--redis", REDIS, "--queue", queue, "--burst", "--no-fork"])
    assert result.exit_code == 0, result.output
    info = jobs.wait(db, job_id, timeout=5)
    assert info.state == "done", info.error
    assert api.get(f"{state['base']}/outcomes/{info.result['outcome']}",
                   token=cities["alpha_admin"]).get_json()["status"] == "draft"


def test_worker_without_redis_says_so():
    from click.testing import CliRunner

    from pb_engine.cli import main

    result = CliRunner(env={"PB_REDIS_URL": "", "REDIS_URL": ""}).invoke(main, ["worker"])
    assert result.exit_code == 2 and "no Redis URL" in result.output


def test_the_comparison_counts_through_the_cache(app, api, cities, monkeypatch):
    """GET /api/v1/compare runs every rule through outcomes_for with the database's cache: a second
    comparison (in a fresh process memo) counts nothing again."""
    from pb_engine.analysis import rule_runs

    populated_round(api, cities, run_outcome=False)
    db = app.extensions["pb_db"]
    from pb_engine.queries import comparison

    def forget():  # the process memos may hold these very ballots (or this round id) from another test
        rule_runs._memo.clear()
        comparison._memo.clear()

    forget()
    r = api.get("/api/v1/compare?rounds=alpha/2026")
    assert r.status_code == 200, r.get_json()
    first = r.get_json()["rounds"][0]["figures"]
    stored = _count(db, RuleResult)
    assert stored >= 2  # each (rule, district) counted once
    forget()

    def no_recount(*a, **k):
        raise AssertionError("counted again")

    monkeypatch.setattr(rule_cache, "run_rule", no_recount)
    again = api.get("/api/v1/compare?rounds=alpha/2026").get_json()["rounds"][0]["figures"]
    assert again == first and _count(db, RuleResult) == stored


# --- the hand-off: a job is claimed, run and ended whatever the database and the process do ----------------

def _ok(db, args, progress):
    return {"ok": True}


def _slow(db, args, progress):
    import time

    time.sleep(args.get("seconds", 2.5))  # no progress calls: only the heartbeat says it is alive
    return {"slept": True}


def _dies(db, args, progress):
    raise SystemExit("the thread is told to stop")  # a BaseException: not the job's ordinary failure


def test_a_commit_by_another_connection_while_claiming_does_not_strand_the_job(db, monkeypatch):
    """Under voting load some other connection commits between any two statements of the job thread. On
    SQLite a transaction that read the job row and then writes it is refused at once when that happens
    (SQLITE_BUSY_SNAPSHOT, no busy wait): the claim raised in the pool thread, nobody read the future, and
    the job stayed `queued` for ever (scripts/long_work_check.py's first run). Here that commit is made to
    happen right before the job thread's first write to the job table."""
    import sqlite3
    import threading

    from sqlalchemy import event
    from sqlalchemy.engine import Engine, make_url

    from pb_engine.store.db import Database

    monkeypatch.setitem(jobs.KINDS, "test.ok", "tests.jobs.test_jobs:_ok")
    other_id = uuid.uuid4().hex
    with db.session() as s:
        s.add(Job(id=other_id, kind="test.ok", args={}, state="done"))
    other = None if db.dialect == "sqlite" else Database(db.url)
    fired = []

    def _commit_elsewhere():
        if db.dialect == "sqlite":
            conn = sqlite3.connect(make_url(db.url).database, timeout=0.2, isolation_level=None)
            try:
                conn.execute("UPDATE job SET message = ? WHERE id = ?", (uuid.uuid4().hex, other_id))
            except sqlite3.OperationalError:
                pass  # the job thread holds the write lock already: nothing can come between
            finally:
                conn.close()
        else:
            with other.session() as s:
                s.get(Job, other_id).message = uuid.uuid4().hex

    def before(conn, cursor, statement, parameters, context, executemany):
        if not fired and threading.current_thread().name.startswith("pb-job_") \
                and statement.lstrip().upper().startswith("UPDATE JOB"):
            fired.append(statement)
            _commit_elsewhere()

    event.listen(Engine, "before_cursor_execute", before)
    try:
        job_id = jobs.enqueue(db, "test.ok", {}, backend=jobs.InlineBackend())
        info = jobs.wait(db, job_id, timeout=15)
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        if other is not None:
            other.dispose()
    assert fired, "the job thread never wrote its row"
    assert info.state == "done" and info.result == {"ok": True}, (info.state, info.error)


def test_a_pool_made_before_a_fork_runs_the_childs_jobs(db, monkeypatch):
    """gunicorn forks its workers: a thread pool made before the fork is copied without its threads (and
    with an idle count saying one is waiting), so a job the child submitted was never run."""
    import os
    import signal
    import traceback

    from pb_engine.store.db import Database

    monkeypatch.setitem(jobs.KINDS, "test.ok", "tests.jobs.test_jobs:_ok")
    backend = jobs.InlineBackend()
    first = jobs.enqueue(db, "test.ok", {}, backend=backend)
    assert jobs.wait(db, first, timeout=30).state == "done"  # the pool has a thread now, idle
    pid = os.fork()
    if pid == 0:  # the child: report by exit code only, never return into pytest
        code = 3
        try:
            signal.alarm(60)
            child_db = Database(db.url)
            job_id = jobs.enqueue(child_db, "test.ok", {}, backend=backend)
            code = 0 if jobs.wait(child_db, job_id, timeout=20).state == "done" else 1
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
            code = 2
        os._exit(code)
    _, wait_status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(wait_status) == 0, "the child's job did not run (1: still waiting)"


def test_a_job_whose_thread_dies_is_failed_with_the_reason(db, monkeypatch):
    monkeypatch.setitem(jobs.KINDS, "test.dies", "tests.jobs.test_jobs:_dies")
    job_id = jobs.enqueue(db, "test.dies", {}, backend=jobs.InlineBackend())
    info = jobs.wait(db, job_id, timeout=15)
    assert info.state == "failed" and "SystemExit" in info.error and "told to stop" in info.error


class _Gone(jobs.Backend):
    """A holder that beats for its jobs and dies before running this one (a worker killed after the commit)."""
    name, heartbeats = "gone", True

    def submit(self, db_url, job_id):
        pass


def test_a_job_whose_holder_is_gone_is_reported_failed_not_queued_for_ever(db, monkeypatch):
    import time

    monkeypatch.setitem(jobs.KINDS, "test.ok", "tests.jobs.test_jobs:_ok")
    monkeypatch.setattr(jobs, "STALE_AFTER", 0.5)
    job_id = jobs.enqueue(db, "test.ok", {}, backend=_Gone())
    with db.session() as s:
        assert jobs.status(s, job_id).state == "queued"
    time.sleep(0.8)
    with db.session() as s:
        info = jobs.status(s, job_id)
        row = s.get(Job, job_id)
    assert info.state == "failed" and info.error.startswith("no_heartbeat") and info.finished
    assert row.state == "queued"  # reported, not rewritten by a reader


def test_a_held_job_stays_alive_past_stale_after_while_it_runs(db, monkeypatch):
    import time

    monkeypatch.setitem(jobs.KINDS, "test.slow", "tests.jobs.test_jobs:_slow")
    monkeypatch.setattr(jobs, "STALE_AFTER", 1.0)
    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", 0.1)
    job_id = jobs.enqueue(db, "test.slow", {"seconds": 2.5}, backend=jobs.InlineBackend())
    seen = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with db.session() as s:
            info = jobs.status(s, job_id)
        seen.append(info.state)
        if info.finished:
            break
        time.sleep(0.1)
    assert "failed" not in seen and seen[-1] == "done" and "running" in seen, seen


def test_enqueues_of_one_claim_take_turns_so_that_one_job_is_queued(db):
    # Two threads want the same work at the same moment; each asks "is a job already doing it?" inside the
    # transaction that would insert its job, and dawdles there. SQLite's write lock, and on PostgreSQL the
    # advisory lock on the claim, make the second ask only once the first has committed: it joins that job.
    import threading
    import time

    from jobhelp import HeldJobs

    backend = HeldJobs()
    claim = f"test:{uuid.uuid4().hex}"
    both = threading.Barrier(2)

    def running(session):
        row = session.exec(select(Job).where(Job.kind == "outcome.run")).all()
        found = next((j.id for j in row if (j.args or {}).get("claim") == claim), None)
        time.sleep(0.3)  # without turns, the other thread looks now too and finds nothing either
        return found

    got = []

    def want():
        both.wait()
        got.append(jobs.enqueue(db, "outcome.run", {"claim": claim}, backend=backend, unless=running, claim=claim))

    threads = [threading.Thread(target=want) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(got) == 2 and got[0] == got[1]
    assert backend.jobs == [got[0]] and _count(db, Job) == 1


def test_unless_needs_a_transaction_of_its_own(db):
    from jobhelp import HeldJobs

    with db.session() as s, pytest.raises(ValueError, match="unless= needs a transaction"):
        jobs.enqueue(db, "outcome.run", {}, backend=HeldJobs(), session=s, unless=lambda _s: None)
