#!/usr/bin/env python
"""Long work never blocks voting: ballot latency before and during a heavy count, on the real service.

    .venv/bin/python scripts/long_work_check.py                                   # fresh SQLite file
    .venv/bin/python scripts/long_work_check.py --db postgresql://postgres@127.0.0.1:5432/postgres
                                        # a fresh database pb_load_<hex> on that server, dropped afterwards

What it does, in one run (issue 13, "Long work never blocks voting"):
1. a fresh database (scripts/load_test.py's `fresh_database`); starts `pb-engine serve` on a free port of
   127.0.0.1 with the city configs and the demo data, which imports the real Pabulib round warszawa/2026
   (61,668 ballots, 83 projects; its voting ended in June 2025, so it can be counted) and keeps
   taipei/2026 open for voting;
2. a staff token of Warszawa (`pb-engine staff create --role manager`), --voters access codes of
   taipei/2026 (split over its three districts) and a voter session for each;
3. baseline: --threads client threads (one keep-alive connection each) cast and change ballots of their
   own voters for --baseline-seconds (one voter's casts in order, never two at once);
4. the count: POST /api/v1/cities/warszawa/rounds/2026/outcomes with a what-if --rule (default MES,
   cost satisfaction, add1 completion: the heaviest count this round has) answers 202 with a job,
   since ballots x projects (5.1 million) is above PB_JOB_THRESHOLD; the same threads keep casting
   until GET /api/v1/jobs/<id> says the job is finished (bounded by --max-seconds);
5. the comparison (issue 12): GET /api/v1/compare?rounds=warszawa/2026 runs every rule with its default
   options on the same ballots; that work is above the threshold too, so it answers 202 with the job
   `rules.run` (public), which the script polls while the threads keep casting; then the same GET must
   answer 200 with every rule's figures (from the rule-result cache), and once more, timed;
6. a short tail of ballots after that, then the server is stopped and the database checked
   against the client's record: every acknowledged voter's last receipt is the current ballot, its
   version the number of acknowledged casts, every earlier receipt in the history.

It prints the count's duration, its job state and outcome, and ballots/s, p50/p99/max latency and errors
before and during the count side by side, `uptime`, and one `summary |` line. The exit code is 0 only
when no ballot errored or timed out (--request-timeout), both jobs finished `done` within --max-seconds
each, the comparison then came back whole, and the check holds. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from load_test import HOST, Voter, fresh_database, free_port, stop_server, uptime  # noqa: E402

COUNT_CITY, COUNT_ROUND = "warszawa", "2026"   # the heavy count: a real round, voting ended
VOTE_CITY, VOTE_ROUND = "taipei", "2026"       # the round in voting while it runs
DEFAULT_RULE = '{"id": "mes", "satisfaction": "cost", "completion": "add1"}'


@dataclass
class Stats:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, took: float | None, error: str | None = None) -> None:
        with self.lock:
            if error is None:
                self.latencies.append(took)
            else:
                self.errors[error] += 1

    def pct(self, p: float) -> float:
        lat = sorted(self.latencies)
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    def line(self) -> str:
        n, errs = len(self.latencies), sum(self.errors.values())
        detail = f" {dict(self.errors)}" if errs else ""
        return (f"{self.name:<22} {n:>6} ok in {self.seconds:6.1f} s = {n / max(self.seconds, 1e-9):6.1f}/s   "
                f"p50 {self.pct(0.5):7.1f} ms   p99 {self.pct(0.99):7.1f} ms   max {self.pct(1.0):7.1f} ms   "
                f"errors {errs}{detail}")


class Client:
    """One keep-alive connection; a request that fails or times out reconnects for the next."""

    def __init__(self, port: int, timeout: float):
        self.port, self.timeout, self.conn = port, timeout, None

    def request(self, method: str, path: str, body=None, token: str | None = None) -> tuple[int, object]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            self.conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw[:200]


# --- setup -------------------------------------------------------------------------------------

def start_server(url: str, port: int, workers: int, threads: int | None, timeout: int | None,
                 log_path: Path) -> subprocess.Popen:
    cmd = [str(ROOT / ".venv" / "bin" / "pb-engine"), "serve", "--host", HOST, "--port", str(port),
           "--workers", str(workers), "--database-url", url]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    if timeout is not None:
        cmd += ["--timeout", str(timeout)]
    env = {**os.environ, "PB_SECRET_KEY": os.environ.get("PB_SECRET_KEY") or secrets.token_hex(32)}
    env.pop("PB_REDIS_URL", None)  # the embedded default: the count runs in a thread of a web worker
    env.pop("REDIS_URL", None)
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_ready(port: int, proc: subprocess.Popen, log_path: Path, seconds: float) -> None:
    import urllib.request

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"no answer on /healthz within {seconds:.0f} s:\n{log_path.read_text()[-3000:]}")


def staff_token(url: str) -> str:
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "pb-engine"), "staff", "create", "--city", COUNT_CITY,
                          "--role", "manager", "--name", "long_work_check", "--database", url],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"pb-engine staff create failed: {out.stderr[-2000:]}")
    return out.stdout.strip().splitlines()[-1]


def voting_round(url: str, voters: int) -> tuple[list[Voter], dict[str, list[int]], int, int]:
    """Access codes of the round in voting, split over its districts; its projects on the ballot; ballot bounds."""
    from sqlmodel import select

    from pb_engine.store.db import Database
    from pb_engine.store.lookup import city_by_slug, round_by_slug
    from pb_engine.store.tables import District, Proposal
    from pb_engine.store.types import utcnow
    from pb_engine.voting import MAX_CODES_PER_BATCH, generate_access_codes

    db = Database(url)
    out: list[Voter] = []
    try:
        with db.write_session() as s:
            rnd = round_by_slug(s, city_by_slug(s, VOTE_CITY), VOTE_ROUND)
            districts = s.exec(select(District).where(District.round_id == rnd.id).order_by(District.id)).all()
            projects = {d.slug: list(s.exec(select(Proposal.id).where(
                Proposal.district_id == d.id, Proposal.status == "on_ballot").order_by(Proposal.id)).all())
                for d in districts}
            ballot = rnd.ballot or {}
            for i, d in enumerate(districts):
                want = voters // len(districts) + (1 if i < voters % len(districts) else 0)
                got: list[str] = []
                while len(got) < want:
                    got += generate_access_codes(s, rnd, d.slug, min(MAX_CODES_PER_BATCH, want - len(got)),
                                                 batch="long-work-check", now=utcnow())
                out += [Voter(c, d.slug) for c in got]
    finally:
        db.dispose()
    return out, projects, int(ballot.get("min_projects") or 1), int(ballot.get("max_projects") or 1)


# --- the voting load ------------------------------------------------------------------------------

class Voting:
    """--threads threads, each casting ballots of its own voters in turn, into whichever Stats is current."""

    def __init__(self, port: int, voters: list[Voter], projects, lo: int, hi: int, threads: int, timeout: float,
                 seed: int):
        self.port, self.projects, self.lo, self.hi, self.timeout = port, projects, lo, hi, timeout
        self.shares = [voters[i::threads] for i in range(threads)]
        self.rng = random.Random(seed)
        self.stats: Stats | None = None
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(share, random.Random(seed + i)), daemon=True)
                        for i, share in enumerate(self.shares)]
        self.prefix = f"/api/v1/cities/{VOTE_CITY}/rounds/{VOTE_ROUND}"

    def sign_in(self, stats: Stats) -> None:
        client = Client(self.port, self.timeout)
        for share in self.shares:
            for v in share:
                t0 = time.perf_counter()
                try:
                    status, body = client.request("POST", f"{self.prefix}/voter-sessions", {"access_code": v.code})
                except Exception as exc:
                    stats.add(None, type(exc).__name__)
                    continue
                if status == 201:
                    v.token = body["token"]
                    stats.add(time.perf_counter() - t0)
                else:
                    stats.add(None, f"{status} {str(body)[:120]}")

    def _run(self, share: list[Voter], rng: random.Random) -> None:
        client = Client(self.port, self.timeout)
        i = 0
        while not self.stop.is_set():
            v = share[i % len(share)]
            i += 1
            if v.token is None:
                continue
            stats = self.stats
            pool = self.projects[v.district]
            chosen = sorted(rng.sample(pool, rng.randint(self.lo, min(self.hi, len(pool)))))
            t0 = time.perf_counter()
            try:
                status, body = client.request("PUT", f"{self.prefix}/districts/{v.district}/ballot",
                                              {"projects": chosen}, token=v.token)
            except Exception as exc:  # a timeout is an error: that is what the issue forbids
                v.failed += 1
                stats.add(None, type(exc).__name__)
                continue
            took = time.perf_counter() - t0
            if status == 200:
                v.acks.append(body)
                stats.add(took)
            else:
                v.failed += 1
                stats.add(None, f"{status} {str(body)[:120]}")

    def phase(self, stats: Stats) -> None:
        self.stats = stats

    def start(self, stats: Stats) -> None:
        self.stats = stats
        for t in self.threads:
            t.start()

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=self.timeout + 5)


# --- the check ----------------------------------------------------------------------------------

def check(url: str, voters: list[Voter]) -> tuple[bool, list[str]]:
    """Every acknowledged cast stored: the last receipt current with version = acknowledged casts, the rest in history."""
    from sqlmodel import select

    from pb_engine.store.db import Database
    from pb_engine.store.tables import Ballot, BallotHistory

    known = [a["receipt"] for v in voters for a in v.acks]
    db = Database(url)
    current: dict[str, int] = {}
    history: set[str] = set()
    try:
        with db.session() as s:
            for i in range(0, len(known), 500):  # IN lists of a bounded size
                chunk = known[i:i + 500]
                current.update(s.exec(select(Ballot.receipt, Ballot.version).where(Ballot.receipt.in_(chunk))).all())
                history.update(s.exec(select(BallotHistory.receipt).where(BallotHistory.receipt.in_(chunk))).all())
    finally:
        db.dispose()
    acked = [v for v in voters if v.acks]
    sure = [v for v in acked if not v.failed]  # a cast without an answer may or may not have been stored
    lost = [v for v in sure if v.acks[-1]["receipt"] not in current]
    wrong_version = [v for v in sure if current.get(v.acks[-1]["receipt"]) not in (None, len(v.acks))]
    earlier = [a["receipt"] for v in acked for a in v.acks[:-1]]
    missing = [r for r in earlier if r not in history and r not in current]
    doubled = [v for v in acked if sum(1 for a in v.acks if a["receipt"] in current) > 1]
    ok = not lost and not wrong_version and not missing and not doubled
    return ok, [f"acknowledged casts {len(known)} by {len(acked)} voters; current ballots among them {len(current)}, "
                f"earlier ones in history {len(earlier) - len(missing)} of {len(earlier)}",
                f"lost {len(lost)}, wrong version {len(wrong_version)}, earlier receipts missing {len(missing)}, "
                f"voters with two current ballots {len(doubled)}, voters with an unanswered cast "
                f"{sum(1 for v in voters if v.failed)}"]


def compare(client: Client, voting: Voting, stats: Stats, max_seconds: float) -> tuple[str, float, float, list[str]]:
    """The comparison of the counted round while the threads cast: (state, seconds to the whole figures,
    seconds of the same GET once more, the rules with figures)."""
    path = f"/api/v1/compare?rounds={COUNT_CITY}/{COUNT_ROUND}"
    start = time.monotonic()
    voting.phase(stats)
    state = "not started"
    try:
        status, body = client.request("GET", path)
        if status == 202 and isinstance(body, dict) and body.get("jobs"):
            job_id = body["jobs"][0]["id"]
            while time.monotonic() - start < max_seconds:
                time.sleep(0.5)
                st, job = client.request("GET", f"/api/v1/jobs/{job_id}")  # public: no token
                state = job.get("state", f"HTTP {st}") if isinstance(job, dict) else f"HTTP {st}"
                if state in ("done", "failed"):
                    if state == "failed":
                        state = f"failed ({str(job.get('error'))[:200]})"
                    break
            status, body = client.request("GET", path)
        elif status == 200:
            state = "done"  # counted before (the cache)
        else:
            return f"HTTP {status} (expected 202): {str(body)[:200]}", time.monotonic() - start, float("nan"), []
        seconds = stats.seconds = time.monotonic() - start
        rules = (body["rounds"][0]["figures"].get("rules") or {}) if status == 200 and isinstance(body, dict) else {}
        ran = [r for r, run in rules.items() if "skipped" not in run and r != "official"]
        pending = [r for r, run in rules.items() if run.get("skipped") == "pending"]
        if status != 200 or pending or not ran:
            state = f"{state}, then HTTP {status} with pending {pending}"
        t0 = time.perf_counter()
        client.request("GET", path)
        return state, seconds, time.perf_counter() - t0, ran
    except Exception as exc:  # noqa: BLE001 - reported, and the exit code says it
        return f"error {type(exc).__name__}: {exc}", time.monotonic() - start, float("nan"), []


# --- main ---------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite",
                        help="'sqlite' (a fresh file) or a PostgreSQL server URL on 127.0.0.1 "
                             "(a fresh database is created on it and dropped afterwards)")
    parser.add_argument("--rule", default=DEFAULT_RULE, help="the count's rule as JSON (a what-if rule)")
    parser.add_argument("--voters", type=int, default=300, help="access codes of taipei/2026")
    parser.add_argument("--threads", type=int, default=4, help="client threads casting ballots")
    parser.add_argument("--baseline-seconds", type=float, default=15)
    parser.add_argument("--tail-seconds", type=float, default=5, help="ballots after the count, for the record")
    parser.add_argument("--request-timeout", type=float, default=30, help="a ballot slower than this is an error")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--server-threads", type=int, default=None, help="threads per worker (serve's default)")
    parser.add_argument("--server-timeout", type=int, default=None, help="gunicorn timeout (serve's default, 60 s)")
    parser.add_argument("--max-seconds", type=float, default=900, help="the longest the count may take")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    if not (1 <= args.voters <= 20_000 and 1 <= args.threads <= 64 and 0 < args.baseline_seconds <= 600
            and 0 <= args.tail_seconds <= 600 and 1 <= args.max_seconds <= 3600 and 1 <= args.workers <= 16):
        parser.error("--voters 1..20000, --threads 1..64, --baseline-seconds 0..600, --max-seconds 1..3600, "
                     "--workers 1..16")
    try:
        rule = json.loads(args.rule)
    except ValueError as exc:
        parser.error(f"--rule must be JSON: {exc}")
    url, drop = fresh_database(args.db)
    try:
        return run(args, url, rule)
    finally:
        if args.keep_db:
            print(f"kept the database {url.split('@')[-1]}")
        else:
            drop()


def run(args, url: str, rule: dict) -> int:
    from sqlalchemy import make_url

    log_path = Path(tempfile.gettempdir()) / f"pb_long_work_server_{os.getpid()}.log"
    port = free_port()
    t0 = time.monotonic()
    proc = start_server(url, port, args.workers, args.server_threads, args.server_timeout, log_path)
    job_state, job, count_seconds = "not started", {}, float("nan")
    signin, before, during, after = Stats("sign-in"), Stats("ballots before count"), Stats("ballots during count"), \
        Stats("ballots after count")
    comparing = Stats("ballots during compare")
    compare_state, compare_seconds, compare_again, compare_rules = "not started", float("nan"), float("nan"), []
    try:
        wait_ready(port, proc, log_path, seconds=900)  # the demo imports 61,668 ballots first
        print(f"database {make_url(url).render_as_string(hide_password=True)}; server pb-engine serve on "
              f"{HOST}:{port}, {args.workers} workers, ready with the demo data in {time.monotonic() - t0:.1f} s "
              f"(log {log_path})")
        token = staff_token(url)
        voters, projects, lo, hi = voting_round(url, args.voters)
        voting = Voting(port, voters, projects, lo, hi, args.threads, args.request_timeout, args.seed)
        signin_start = time.monotonic()
        voting.sign_in(signin)
        signin.seconds = time.monotonic() - signin_start
        print(f"{len(voters)} voters of {VOTE_CITY}/{VOTE_ROUND} signed in; {args.threads} client threads; "
              f"count: {COUNT_CITY}/{COUNT_ROUND} with {json.dumps(rule)}")
        print(f"load before: {uptime()}")

        start = time.monotonic()
        voting.start(before)
        time.sleep(args.baseline_seconds)
        before.seconds = time.monotonic() - start

        staff = Client(port, args.request_timeout)
        start = time.monotonic()
        voting.phase(during)
        status, body = staff.request("POST", f"/api/v1/cities/{COUNT_CITY}/rounds/{COUNT_ROUND}/outcomes",
                                     {"rule": rule}, token=token)
        if status == 202:
            job_id = body["id"]
            job_state = body["state"]
            while time.monotonic() - start < args.max_seconds:
                time.sleep(0.5)
                st, job = staff.request("GET", f"/api/v1/jobs/{job_id}", token=token)
                job_state = job.get("state", f"HTTP {st}") if isinstance(job, dict) else f"HTTP {st}"
                if job_state in ("done", "failed"):
                    break
        else:
            job_state, job = f"HTTP {status} (expected 202, a job)", body if isinstance(body, dict) else {}
        count_seconds = during.seconds = time.monotonic() - start
        print(f"load during: {uptime()}")

        compare_state, compare_seconds, compare_again, compare_rules = compare(staff, voting, comparing,
                                                                               args.max_seconds)

        start = time.monotonic()
        voting.phase(after)
        time.sleep(args.tail_seconds)
        voting.finish()
        after.seconds = time.monotonic() - start
    finally:
        stop_server(proc)

    finished = job_state == "done" and compare_state == "done"
    print(f"count: job {job_state} in {count_seconds:.1f} s; outcome {(job.get('result') or {}).get('outcome')}"
          f"{'; error ' + str(job.get('error'))[:300] if job.get('error') else ''}")
    print(f"compare: {compare_state} in {compare_seconds:.1f} s (202 with the rules.run job, polled, then 200 with "
          f"{len(compare_rules)} rules: {', '.join(compare_rules)}); the same GET again {compare_again * 1000:.0f} ms")
    for st in (signin, before, during, comparing, after):
        print(st.line())
    ok, lines = check(url, voters)
    for line in lines:
        print(line)
    errors = sum(sum(st.errors.values()) for st in (signin, before, during, comparing, after))
    log = log_path.read_text()
    log_bad = "Traceback" in log or "WORKER TIMEOUT" in log
    print(f"check: {'holds' if ok else 'FAILED'}; ballot errors {errors}; job {job_state}; "
          f"server log {'has errors (tail below)' if log_bad else 'clean'}")
    where = "SQLite" if args.db == "sqlite" else args.db.split("@")[-1]
    print(f"summary | {where} | count {rule.get('id')} {COUNT_CITY}/{COUNT_ROUND} {job_state} in {count_seconds:.1f} s | "
          f"ballots during {len(during.latencies)} ({len(during.latencies) / max(during.seconds, 1e-9):.1f}/s), "
          f"p50 {during.pct(0.5):.0f} / p99 {during.pct(0.99):.0f} / max {during.pct(1.0):.0f} ms | "
          f"before {len(before.latencies) / max(before.seconds, 1e-9):.1f}/s, p50 {before.pct(0.5):.0f} / "
          f"p99 {before.pct(0.99):.0f} / max {before.pct(1.0):.0f} ms | compare {compare_state} in {compare_seconds:.1f} s, "
          f"again {compare_again * 1000:.0f} ms, during it p50 {comparing.pct(0.5):.0f} / p99 {comparing.pct(0.99):.0f} ms | "
          f"errors {errors} | check "
          f"{'holds' if ok else 'FAILED'}")
    if log_bad:
        print(log[-3000:])
    return 0 if ok and finished and not errors and not log_bad else 1


if __name__ == "__main__":
    sys.exit(main())
