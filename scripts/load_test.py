#!/usr/bin/env python
"""Load test of the voting path against the real service under gunicorn, with the framework's ceiling beside it.

    .venv/bin/python scripts/load_test.py                                   # fresh SQLite file
    .venv/bin/python scripts/load_test.py --db postgresql://postgres@127.0.0.1:5432/postgres
                                        # a fresh database pb_load_<hex> on that server, dropped afterwards

What it does, in one run:
1. a fresh database: schema, one city (`loadtown`) with a round open for voting now (two districts,
   eight projects each on the ballot, approval of up to three) and --voters access codes;
2. starts `pb-engine serve --no-demo --configs '' --host 127.0.0.1 --port P --workers W` on it and
   waits for GET /healthz;
3. with --concurrency client connections (asyncio + aiohttp, keep-alive):
   - 200 GET /healthz to warm up (not counted);
   - every voter signs in with their access code (POST …/voter-sessions);
   - then --slices times in turn: a share of the --healthz GET /healthz requests (the trivial endpoint
     of the same app: the framework's own ceiling), and a share of the voters, each casting a ballot
     and changing it --changes times (PUT …/districts/<d>/ballot), one voter's casts in order,
     different voters at once. Alternating, ballots and /healthz meet the same machine (other work
     on it comes and goes); the ratio of each slice is printed beside the whole run's;
4. stops the server and checks the database against what the client recorded: exactly one current
   ballot per acknowledged voter, carrying the last receipt the voter got, its version equal to the
   number of acknowledged casts, every earlier acknowledged ballot in the history; none doubled,
   none lost, nothing that was not acknowledged.

It prints requests/s, p50/p99 latency and errors per kind, the ratio ballots/s ÷ healthz req/s, how
the client's connections sit on the server's processes (e.g. 4+4), on SQLite how many casts shared a
write transaction (each worker reports it as it stops), the machine load (`uptime`) before and after, the check, and one `summary |` line of all of it; the exit code is 0 only when there were no
errors and the check holds. Traffic goes to 127.0.0.1 only; every loop is bounded in count and the
whole run by --max-seconds (the server is stopped then, whatever happened).

With --cpu it also prints, per kind of request, the CPU time one request cost this client, the server's
processes and every postgres process on the machine, and the machine's idle time (read from /proc
around each batch): on a saturated machine the ratio is about the CPU of a /healthz over that of a
ballot, so this shows where a ballot's extra goes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the only address this script sends traffic to
CITY, ROUND = "loadtown", "load"
DISTRICTS = ("north", "south")
PROJECTS_PER_DISTRICT = 8
MAX_PROJECTS = 3


# --- the database: fresh, seeded --------------------------------------------------

def fresh_database(db: str) -> tuple[str, callable]:
    """(url, drop): a new SQLite file in a temporary folder, or a new database on the PostgreSQL server `db`."""
    if db == "sqlite":
        folder = tempfile.mkdtemp(prefix="pb_load_")
        path = Path(folder) / "pb.db"

        def drop():
            for p in Path(folder).glob("pb.db*"):
                p.unlink()
            os.rmdir(folder)

        return f"sqlite:///{path}", drop
    from sqlalchemy import create_engine, make_url, text

    from pb_engine.store.db import normalise_url

    admin_url = make_url(normalise_url(db))
    if admin_url.host not in ("127.0.0.1", "localhost", None):
        raise SystemExit(f"--db must be a PostgreSQL server on 127.0.0.1, got {admin_url.host}")
    name = f"pb_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def seed(url: str, voters: int) -> dict[str, list[str]]:
    """Schema, the load city and its round (voting open now), projects on the ballot, access codes per district."""
    from pb_engine.config import apply_city, parse_city_config, parse_round, upsert_round
    from pb_engine.store.db import Database
    from pb_engine.store.lookup import city_by_slug, round_by_slug
    from pb_engine.store.tables import District, Proposal
    from pb_engine.store.types import utcnow
    from pb_engine.voting import MAX_CODES_PER_BATCH, generate_access_codes
    from sqlmodel import select

    db = Database(url)
    db.upgrade()
    now = utcnow()
    city_cfg = parse_city_config({"city": {"name": "Loadtown", "slug": CITY, "country": "Testland",
                                           "population": 100_000, "currency": "EUR", "locales": ["en"],
                                           "timezone": "Europe/Warsaw"}}, file="load_test")
    phases = [("submission", -30, -20), ("review", -20, -1), ("voting", -1, 10), ("results", 20, 60)]
    round_data = {
        "slug": ROUND, "title": "Load test round", "budget": 200_000,
        "districts": [{"slug": d, "name": d.title(), "budget": 100_000} for d in DISTRICTS],
        "phases": [{"name": n, "starts_at": (now + timedelta(days=a)).isoformat(),
                    "ends_at": (now + timedelta(days=b)).isoformat()} for n, a, b in phases],
        "ballot": {"kind": "approval", "max_projects": MAX_PROJECTS},
        "rule": {"id": "greedy"},
        "eligibility": {"methods": ["access_code"], "multi_district": False},
    }
    codes: dict[str, list[str]] = {}
    try:
        with db.write_session() as s:
            apply_city(s, city_cfg, actor="load_test", now=now)
            city = city_by_slug(s, CITY)
            cfg = parse_round(round_data, timezone=city.timezone, currency=city.currency, file="load_test")
            rnd = upsert_round(s, city, cfg, "load_test", now)
            # Projects straight onto the ballot: the proposal and review path is not what is measured here.
            for d in s.exec(select(District).where(District.round_id == rnd.id)).all():
                for i in range(PROJECTS_PER_DISTRICT):
                    cost = 10_000_00 + 2_500_00 * i
                    s.add(Proposal(round_id=rnd.id, district_id=d.id, title=f"{d.name} project {i + 1}",
                                   estimated_cost=cost, reviewed_cost=cost, feasible=True, status="on_ballot",
                                   created_at=now, updated_at=now))
        with db.write_session() as s:
            rnd = round_by_slug(s, city_by_slug(s, CITY), ROUND)
            for i, d in enumerate(DISTRICTS):
                want = voters // len(DISTRICTS) + (1 if i < voters % len(DISTRICTS) else 0)
                got: list[str] = []
                while len(got) < want:
                    got += generate_access_codes(s, rnd, d, min(MAX_CODES_PER_BATCH, want - len(got)), now=now)
                codes[d] = got
    finally:
        db.dispose()
    return codes


def project_ids(url: str) -> dict[str, list[int]]:
    from sqlmodel import select

    from pb_engine.store.db import Database
    from pb_engine.store.tables import District, Proposal

    db = Database(url)
    try:
        with db.session() as s:
            rows = s.exec(select(District.slug, Proposal.id).join(Proposal, Proposal.district_id == District.id)
                          .order_by(Proposal.id)).all()
    finally:
        db.dispose()
    out: dict[str, list[int]] = {d: [] for d in DISTRICTS}
    for slug, pid in rows:
        out[slug].append(pid)
    return out


# --- the server ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(url: str, port: int, workers: int, threads: int | None, log_path: Path) -> subprocess.Popen:
    cmd = [str(ROOT / ".venv" / "bin" / "pb-engine"), "serve", "--no-demo", "--configs", "", "--host", HOST,
           "--port", str(port), "--workers", str(workers), "--database-url", url]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    log = open(log_path, "w")
    # On PostgreSQL the service refuses to start without a secret key: one for this run only.
    env = {**os.environ, "PB_SECRET_KEY": os.environ.get("PB_SECRET_KEY") or secrets.token_hex(32)}
    # Its own process group, so that stopping it stops its gunicorn workers and nothing else.
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def spread(port: int, session_id: int) -> str:
    """How the client's connections are spread over the server's processes, e.g. "4+4" (Linux /proc).

    Each keep-alive connection stays with the gunicorn worker that accepted it, and a worker's Python
    runs on one core at a time: with every connection on one worker of two, /healthz (all Python) falls
    to about half while ballots (which also wait for the database) fall less, so the ratio of a run
    depends on this spread (pb_engine/serve_worker.py spreads them); it is printed beside it."""
    from pb_engine.serve_worker import connection_spread

    counts = connection_spread(port, session_id)
    return "?" if counts is None else "+".join(map(str, counts)) or "0"


def cpu_reading(session_id: int) -> dict[str, float] | None:
    """CPU seconds so far (user + system, Linux /proc) of: this client, the server's processes (its
    session), every postgres process on the machine, and the machine's idle time; None without /proc.
    Read around each batch with --cpu, so that a ballot's CPU can be told apart by process."""
    proc = Path("/proc")
    if not (proc / "stat").exists():
        return None
    from pb_engine.serve_worker import session_pids

    tick = os.sysconf("SC_CLK_TCK")
    server = set(session_pids(session_id))
    out = {"client": 0.0, "server": 0.0, "postgres": 0.0}
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            stat = (pid_dir / "stat").read_text()
        except OSError:
            continue
        pid, comm = int(pid_dir.name), stat[stat.index("(") + 1:stat.rindex(")")]
        kind = "client" if pid == os.getpid() else "server" if pid in server else \
            "postgres" if comm == "postgres" else None
        if kind is not None:
            fields = stat[stat.rindex(")") + 2:].split()
            out[kind] += (int(fields[11]) + int(fields[12])) / tick
    cpu = (proc / "stat").read_text().split("\n", 1)[0].split()
    out["idle"] = (int(cpu[4]) + int(cpu[5])) / tick
    return out


# --- the client ---------------------------------------------------------------

@dataclass
class Stats:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    busy: float = 0.0   # seconds spent on this kind of request (the sum of its batches)
    cpu: Counter = field(default_factory=Counter)   # with --cpu: CPU seconds by process kind, over its batches

    def cpu_line(self) -> str:
        n = max(len(self.latencies), 1)
        parts = "  ".join(f"{k} {self.cpu[k] / n * 1000:5.2f}" for k in ("client", "server", "postgres", "idle"))
        return f"cpu {self.name:<13} ms a request: {parts}  (all but idle: {sum(v for k, v in self.cpu.items() if k != 'idle') / n * 1000:5.2f})"

    def line(self) -> str:
        n, took = len(self.latencies), max(self.busy, 1e-9)
        lat = sorted(self.latencies)

        def pct(p):
            return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

        errs = sum(self.errors.values())
        detail = f" {dict(self.errors)}" if errs else ""
        return (f"{self.name:<13} {n:>6} ok in {took:6.2f} s = {n / took:7.1f}/s   p50 {pct(0.50):6.1f} ms   "
                f"p99 {pct(0.99):6.1f} ms   max {pct(1.0):6.1f} ms   errors {errs}{detail}")

    @property
    def rate(self) -> float:
        return len(self.latencies) / max(self.busy, 1e-9)

    def pct(self, p: float) -> float:
        lat = sorted(self.latencies)
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")


@dataclass
class Voter:
    code: str
    district: str
    token: str | None = None
    acks: list[dict] = field(default_factory=list)   # the answers to acknowledged casts, in order
    failed: int = 0                                   # casts that got no acknowledgement


async def _request(session, stats: Stats, method: str, path: str, *, json=None, token=None, ok=(200,)):
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"} if token else None
    t0 = time.perf_counter()
    try:
        async with session.request(method, path, json=json, headers=headers) as resp:
            body = await resp.json(content_type=None) if resp.status in ok else await resp.read()
            status = resp.status
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        stats.errors[type(exc).__name__] += 1
        return None
    if status not in ok:
        stats.errors[status] += 1
        return None
    stats.latencies.append(time.perf_counter() - t0)
    return body


async def _pool(concurrency: int, jobs, run, deadline: float) -> None:
    """Run `run(job)` for every job with `concurrency` workers; stop taking jobs at `deadline`."""
    queue: asyncio.Queue = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async def worker():
        while time.monotonic() < deadline:
            try:
                job = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await run(job)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def drive(base: str, voters: list[Voter], projects: dict[str, list[int]], args, deadline: float) -> dict:
    import aiohttp

    prefix = f"/api/v1/cities/{CITY}/rounds/{ROUND}"
    rng = random.Random(args.seed)
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=args.concurrency, force_close=False)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as session:
        async def timed(st: Stats, jobs, run) -> tuple[int, float]:
            """Run one batch into `st`; (answers, seconds) of this batch, so that slices can be compared."""
            n0, t0 = len(st.latencies), time.perf_counter()
            c0 = cpu_reading(args.server_pid) if args.cpu else None
            await _pool(args.concurrency, jobs, run, deadline)
            took = time.perf_counter() - t0
            c1 = cpu_reading(args.server_pid) if c0 is not None else None
            if c1 is not None:
                st.cpu.update({k: c1[k] - c0[k] for k in c1})
            st.busy += took
            return len(st.latencies) - n0, took

        healthz = Stats("healthz")

        def ping(_i):
            return _request(session, healthz, "GET", "/healthz")

        # Warm-up, not counted: connections opened, every worker thread and the app's caches touched.
        await _pool(args.concurrency, range(min(200, args.healthz)), ping, deadline)
        spreads = [spread(args.port, args.server_pid)]
        healthz.latencies.clear()
        healthz.errors.clear()

        signin = Stats("sign-in")

        async def sign_in(v: Voter):
            body = await _request(session, signin, "POST", f"{prefix}/voter-sessions",
                                  json={"access_code": v.code}, ok=(201,))
            if body:
                v.token = body["token"]

        await timed(signin, voters, sign_in)

        ballots = Stats("ballot PUT")
        plans = {id(v): [sorted(rng.sample(projects[v.district], rng.randint(1, MAX_PROJECTS)))
                         for _ in range(1 + args.changes)] for v in voters}

        async def cast(v: Voter):
            if v.token is None:
                return
            for chosen in plans[id(v)]:  # one voter's casts in order: "the last acknowledged" is well defined
                body = await _request(session, ballots, "PUT", f"{prefix}/districts/{v.district}/ballot",
                                      json={"projects": chosen}, token=v.token)
                if body is None:
                    v.failed += 1
                else:
                    v.acks.append(body)

        # Ballots and /healthz in alternating slices: both meet the same machine (others' work comes and goes).
        slices = []
        for i in range(args.slices):
            h = await timed(healthz, range(args.healthz // args.slices + (i < args.healthz % args.slices)), ping)
            b = await timed(ballots, voters[i::args.slices], cast)
            slices.append((h, b))
            spreads.append(spread(args.port, args.server_pid))
    return {"healthz": healthz, "signin": signin, "ballots": ballots, "slices": slices, "spreads": spreads}


# --- the check ----------------------------------------------------------------

def check(url: str, voters: list[Voter]) -> tuple[bool, list[str], int]:
    """The database against the client's record: one current ballot per acknowledged voter, none doubled or lost."""
    from sqlmodel import func, select

    from pb_engine.store.db import Database
    from pb_engine.store.tables import Ballot, BallotHistory

    db = Database(url)
    try:
        with db.session() as s:
            current = s.exec(select(Ballot.receipt, Ballot.version, Ballot.voter_key, Ballot.district_id)).all()
            history = set(s.exec(select(BallotHistory.receipt)).all())
            doubled = s.exec(select(func.count()).select_from(
                select(Ballot.voter_key, Ballot.district_id).group_by(Ballot.voter_key, Ballot.district_id)
                .having(func.count() > 1).subquery())).one()
    finally:
        db.dispose()
    by_receipt = {r: v for r, v, _k, _d in current}
    acked = [v for v in voters if v.acks]
    unsure = [v for v in voters if v.failed]  # a cast without an answer may or may not have been stored
    lost = [v for v in acked if not v.failed and v.acks[-1]["receipt"] not in by_receipt]
    wrong_version = [v for v in acked if not v.failed and by_receipt.get(v.acks[-1]["receipt"]) != len(v.acks)]
    earlier = [a["receipt"] for v in acked for a in v.acks[:-1]]
    missing_history = [r for r in earlier if r not in history]
    known = {a["receipt"] for v in voters for a in v.acks}
    extra = [r for r in by_receipt if r not in known] if not unsure else []
    ok = (len(current) == len(acked) or unsure) and not lost and not wrong_version and not missing_history \
        and not extra and not doubled
    lines = [
        f"acknowledged voters {len(acked)}, current ballots stored {len(current)}, "
        f"acknowledged casts {sum(len(v.acks) for v in voters)}, in history {len(history)}",
        f"lost {len(lost)}, wrong version {len(wrong_version)}, earlier receipts missing from history "
        f"{len(missing_history)}, stored but never acknowledged {len(extra)}, voters with two current ballots "
        f"{doubled}, voters with an unanswered cast {len(unsure)}",
    ]
    return bool(ok), lines, len(current)


# --- main ---------------------------------------------------------------------

def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "uptime unavailable"


def wait_ready(base_port: int, proc: subprocess.Popen, log_path: Path, seconds: float = 90) -> None:
    import urllib.request

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{base_port}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the server did not answer /healthz within {seconds:.0f} s:\n{log_path.read_text()[-3000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite",
                        help="'sqlite' (a fresh file) or a PostgreSQL server URL on 127.0.0.1 "
                             "(a fresh database is created on it and dropped afterwards)")
    parser.add_argument("--voters", type=int, default=3000)
    parser.add_argument("--changes", type=int, default=1, help="changes per voter after the first ballot")
    parser.add_argument("--concurrency", type=int, default=8, help="client connections at once")
    parser.add_argument("--healthz", type=int, default=4000, help="GET /healthz requests in all (split over the slices)")
    parser.add_argument("--slices", type=int, default=4,
                        help="ballots and /healthz alternate in this many slices (a voter's casts stay in one)")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: the serve default)")
    parser.add_argument("--threads", type=int, default=None, help="threads per worker (default: the serve default)")
    parser.add_argument("--max-seconds", type=float, default=300, help="stop taking new work after this long")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database afterwards")
    parser.add_argument("--cpu", action="store_true",
                        help="also print the CPU a request costs by process: this client, the server, every "
                             "postgres process on the machine, and the machine's idle time (Linux /proc)")
    args = parser.parse_args()
    if not (1 <= args.voters <= 100_000 and 0 <= args.changes <= 10 and 1 <= args.concurrency <= 256
            and 1 <= args.healthz <= 1_000_000 and 1 <= args.max_seconds <= 3600 and 1 <= args.slices <= 100):
        parser.error("--voters 1..100000, --changes 0..10, --concurrency 1..256, --max-seconds 1..3600, --slices 1..100")
    try:  # before anything is seeded or started: the client is an extra, not a dependency of the service
        import aiohttp  # noqa: F401
    except ImportError:
        parser.error("the load client needs aiohttp: .venv/bin/pip install -e '.[load]'")
    sys.path.insert(0, str(ROOT))

    url, drop = fresh_database(args.db)
    try:
        return run(args, url)
    finally:
        if args.keep_db:
            print(f"kept the database {url.split('@')[-1]}")
        else:
            drop()


def run(args, url: str) -> int:
    proc = None
    log_path = Path(tempfile.gettempdir()) / f"pb_load_server_{os.getpid()}.log"
    try:
        from sqlalchemy import make_url

        shown = make_url(url).render_as_string(hide_password=True)
        t0 = time.monotonic()
        codes = seed(url, args.voters)
        projects = project_ids(url)
        voters = [Voter(c, d) for d in DISTRICTS for c in codes[d]]
        random.Random(args.seed).shuffle(voters)
        print(f"database {shown}: {len(voters)} access codes, seeded in {time.monotonic() - t0:.1f} s")
        port = free_port()
        workers = args.workers or int(os.environ.get("PB_WORKERS", 0)) or None
        proc = start_server(url, port, workers or 2, args.threads, log_path)
        wait_ready(port, proc, log_path)
        print(f"server: pb-engine serve on {HOST}:{port}, workers {workers or 2}"
              f", threads {args.threads or 'as serve chooses'} (log {log_path})")
        print(f"client: {args.concurrency} connections, {args.changes} change(s) per voter")
        print(f"load before: {uptime()}")
        deadline = time.monotonic() + args.max_seconds
        args.port, args.server_pid = port, proc.pid
        stats = asyncio.run(drive(f"http://{HOST}:{port}", voters, projects, args, deadline))
        print(f"load after:  {uptime()}")
    finally:
        if proc is not None:
            stop_server(proc)
    healthz, signin, ballots = stats["healthz"], stats["signin"], stats["ballots"]
    for st in (signin, healthz, ballots):
        print(st.line())
    if args.cpu:
        for st in (signin, healthz, ballots):
            print(st.cpu_line())
    ratios = [(b[0] / b[1]) / (h[0] / h[1]) for h, b in stats["slices"] if h[0] and b[0] and h[1] and b[1]]
    ratio = ballots.rate / max(healthz.rate, 1e-9)
    print(f"ratio ballots/s / healthz req/s = {ballots.rate:.1f} / {healthz.rate:.1f} = {ratio:.2f}"
          f" (slices {', '.join(f'{r:.2f}' for r in ratios)})")
    spreads = stats["spreads"]
    print(f"connections per server process: {spreads[0]} after the warm-up, then after each slice "
          f"{', '.join(spreads[1:])}")
    log = log_path.read_text()
    batched = [tuple(map(int, m)) for m in re.findall(r"worker \d+: (\d+) casts in (\d+) SQLite write transactions", log)]
    if batched:
        casts, transactions = map(sum, zip(*batched))
        print(f"SQLite write transactions (store.group_commit): {casts} casts in {transactions}, "
              f"{casts / max(transactions, 1):.2f} a transaction")
    ok, lines, stored = check(url, voters)
    for line in lines:
        print(line)
    errors = sum(sum(st.errors.values()) for st in (healthz, signin, ballots))
    print(f"check: {'holds' if ok else 'FAILED'}; errors {errors}")
    acked = sum(1 for v in voters if v.acks)
    print(f"summary | {args.db.split('@')[-1] if args.db != 'sqlite' else 'SQLite'} | {ballots.rate:.1f} ballots/s | "
          f"p50 {ballots.pct(0.5):.0f} / p99 {ballots.pct(0.99):.0f} ms | healthz {healthz.rate:.0f}/s "
          f"(p99 {healthz.pct(0.99):.0f} ms) | ratio {ratio:.2f} | connections {spreads[-1]} | errors {errors} | acknowledged {acked} = "
          f"stored {stored} | check {'holds' if ok else 'FAILED'}")
    if "Traceback" in log or "ERROR" in log:
        print(f"server log has errors (tail):\n{log[-2000:]}")
        ok = False
    return 0 if ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
