"""The service under real gunicorn (`pb-engine serve`, gthread workers) on SQLite and on PostgreSQL:

- slow clients that hold their request bodies back do not stop ballots from going through;
- SIGKILL of a worker mid-load, then of the whole server, then a restart: every acknowledged ballot is
  stored, nothing half-written (one current ballot per voter, its version = the casts its history holds).

One server per database for the module (plus the restart); the round is made over the test client first.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from apihelp import Api, advance_to, city_config, make_round, register
from pb_engine.config import apply_city, parse_city_config
from pb_engine.staff import create_staff
from pb_engine.store.db import Database, normalise_url, upgrade
from pb_engine.store.lookup import city_by_slug
from pb_engine.store.tables import Ballot, BallotHistory

BASE = "/api/v1/cities/alpha/rounds/2026"
VOTERS = 24


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, cwd: Path):
        self.url, self.cwd, self.proc, self.port = url, cwd, None, None

    def start(self) -> None:
        self.port = _free_port()
        exe = Path(sys.executable).with_name("pb-engine")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pb_engine.cli"]
        env = {**os.environ, "PB_DATABASE_URL": self.url, "PB_SECRET_KEY": "serve-faults-test-" + "k" * 40,
               "PB_READ_TIMEOUT": "2", "PB_BODY_TIMEOUT": "4"}
        self.proc = subprocess.Popen([*cmd, "serve", "--no-demo", "--configs", "", "--port", str(self.port),
                                      "--workers", "2", "--threads", "4"], cwd=self.cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        out, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                pytest.fail("serve exited early:\n" + "".join(out))
            out.append(line)
            if "pb_engine serving on" in line:
                break
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()  # keep the pipe drained
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the workers boot after the master says it is ready
            try:
                status, body = self.request("GET", "/healthz", timeout=5)
                if status == 200:
                    return
            except OSError as exc:
                body = exc
            time.sleep(0.1)
        pytest.fail(f"workers did not answer: {body}")

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return [int(p) for p in children]

    def kill_all(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill_all()  # a graceful stop waits for keep-alive connections: seconds a test need not spend

    def request(self, method, path, body=None, token=None, timeout=10):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request, tmp_path_factory):
    """A round open for voting with VOTERS signed-in voters, and the service serving it."""
    tmp = tmp_path_factory.mktemp("serve-faults")
    admin_engine = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'pb.db'}"
    else:
        admin = os.environ.get("PB_TEST_POSTGRES_URL")
        if not admin:
            pytest.skip("PB_TEST_POSTGRES_URL is not set")
        admin = normalise_url(admin)
        name = f"pb_faults_{uuid.uuid4().hex[:10]}"
        admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.rsplit("/", 1)[0] + "/" + name
    server = Server(url, tmp)
    try:
        voters, pids = _prepare(url)
        server.start()
        yield {"server": server, "url": url, "voters": voters, "pids": pids}
    finally:  # also when preparing or starting failed: no database is left behind on the shared server
        server.stop()
        if admin_engine is not None:
            with admin_engine.connect() as conn:
                conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin_engine.dispose()


def _prepare(url: str) -> tuple[list[str], list[int]]:
    """Schema, city alpha, a round open for voting with three projects and VOTERS signed-in voters."""
    from api import create_app

    upgrade(url)
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    db: Database = app.extensions["pb_db"]
    with db.session() as s:
        apply_city(s, parse_city_config(city_config("alpha"), file="alpha.toml"), actor="test")
        s.flush()
        tokens = {"alpha_admin": create_staff(s, city_by_slug(s, "alpha"), name="admin", role="admin", actor="test")[1]}
    api = Api(app.test_client())
    make_round(api, tokens)
    advance_to(api, tokens, "submission")
    resident = register(api, username="resi")
    pids = [api.post(f"{BASE}/proposals", json={"title": f"P{i}", "district": "north", "estimated_cost": 1000 + i},
                     token=resident).get_json()["id"] for i in range(3)]
    advance_to(api, tokens, "review")
    for pid in pids:
        api.patch(f"{BASE}/proposals/{pid}", json={"reviewed_cost": 1000, "feasible": True, "status": "on_ballot"},
                  token=tokens["alpha_admin"])
    advance_to(api, tokens, "voting")
    codes = api.post(f"{BASE}/access-codes", json={"district": "north", "count": VOTERS},
                     token=tokens["alpha_admin"]).get_json()["codes"]
    voters = [api.post(f"{BASE}/voter-sessions", json={"access_code": c}).get_json()["token"] for c in codes]
    db.dispose()
    return voters, pids


def _slow_body(port: int, token: str) -> socket.socket:
    """A voter's client that sends its headers and the first byte of a 1 000-byte body, then nothing more
    (signed in, so that the service reads the body: a stranger is refused before it)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"PUT {BASE}/districts/north/ballot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              f"Authorization: Bearer {token}\r\nContent-Length: 1000\r\n\r\n{{".encode())
    return s


def test_slow_clients_do_not_stop_ballots(served):
    server, voters, pids = served["server"], served["voters"], served["pids"]
    # two workers x four threads; three clients stall their bodies (at worst all in one worker). Today's
    # default is 2 x 8; more stalled clients than that are the reverse proxy's to hold (README: Scaling out).
    slow = [_slow_body(server.port, token) for token in voters[-3:]]
    try:
        time.sleep(0.3)  # they are being read now
        started = time.monotonic()
        for i, token in enumerate(voters[:6]):
            status, body = server.request("PUT", f"{BASE}/districts/north/ballot", {"projects": [pids[i % 3]]},
                                          token=token, timeout=5)
            assert status == 200, body
        took = time.monotonic() - started
        print(f"6 ballots beside 3 stalled bodies: {took * 1000:.0f} ms")
        assert took < 5
        # a stalled body frees its thread after the read timeout (PB_READ_TIMEOUT, 2 s here): answered and closed
        slow[0].settimeout(5)
        answer = slow[0].recv(4096).decode("latin-1")
        assert answer.startswith("HTTP/1.1 4"), answer[:200]
    finally:
        for s in slow:
            s.close()


def test_a_trickled_body_is_answered_408_and_closed_while_ballots_go_through(served):
    """A client that sends its body one byte every half second never waits PB_READ_TIMEOUT (2 s here) for a
    byte, yet holds a thread for as long as its Content-Length lasts (1000 bytes: over 8 minutes), or for
    ever with a chunked body, unless the whole body has a deadline: PB_BODY_TIMEOUT (4 s here) answers it
    408 and closes the connection, while other voters' ballots go through."""
    server, voters, pids = served["server"], served["voters"], served["pids"]
    stop = threading.Event()
    slow = [_slow_body(server.port, token) for token in voters[-3:]]
    chunked = socket.create_connection(("127.0.0.1", server.port))   # no Content-Length: chunks until it ends
    chunked.sendall(f"PUT {BASE}/districts/north/ballot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Authorization: Bearer {voters[-4]}\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
    slow.append(chunked)

    def trickle(sock):
        piece = b"1\r\n \r\n" if sock is chunked else b" "
        while not stop.is_set():
            try:
                sock.sendall(piece)
            except OSError:
                return   # closed by the server
            stop.wait(0.5)

    threads = [threading.Thread(target=trickle, args=(s,), daemon=True) for s in slow]
    started = time.monotonic()
    for t in threads:
        t.start()
    try:
        for i, token in enumerate(voters[:6]):
            status, body = server.request("PUT", f"{BASE}/districts/north/ballot", {"projects": [pids[i % 3]]},
                                          token=token, timeout=5)
            assert status == 200, body
        # a chunked ballot that arrives whole is cast as any other (its end tells the deadline it is in)
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as whole:
            payload = json.dumps({"projects": [pids[0]]}).encode()
            whole.sendall(f"PUT {BASE}/districts/north/ballot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          f"Authorization: Bearer {voters[6]}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                          .encode() + f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n")
            reply = b""
            while chunk := whole.recv(4096):
                reply += chunk
            assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
        for sock in slow:
            sock.settimeout(10)
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(4096)
                assert chunk, f"closed without an answer after {time.monotonic() - started:.1f} s"
                answer += chunk
            took = time.monotonic() - started
            assert answer.startswith(b"HTTP/1.1 408"), (slow.index(sock), took, answer[-300:])
            assert 3.5 < took < 9, took
            rest = b""
            while True:   # the answer's body, then the server closes the connection
                chunk = sock.recv(4096)
                if not chunk:
                    break
                rest += chunk
            assert b"did not arrive in time" in answer + rest
        print(f"4 trickled bodies (one chunked) answered 408 and closed after {time.monotonic() - started:.1f} s")
    finally:
        stop.set()
        for s in slow:
            s.close()


def _cast_loop(server, token, pids, acknowledged, stop):
    n = 0
    while not stop.is_set():
        n += 1
        try:
            status, body = server.request("PUT", f"{BASE}/districts/north/ballot", {"projects": [pids[n % 3]]},
                                          token=token, timeout=5)
        except (OSError, http.client.HTTPException, ValueError):
            time.sleep(0.02)  # the worker died under us (reset, cut-off answer): not acknowledged, try again
            continue
        if status == 200:
            acknowledged.append(body["receipt"])


def test_sigkill_of_a_worker_then_of_the_server_loses_no_acknowledged_ballot(served):
    server, voters, pids = served["server"], served["voters"], served["pids"]
    acknowledged: list[str] = []
    stop = threading.Event()
    threads = [threading.Thread(target=_cast_loop, args=(server, t, pids, acknowledged, stop)) for t in voters[:8]]
    for t in threads:
        t.start()
    try:
        time.sleep(0.6)
        os.kill(server.workers()[0], signal.SIGKILL)  # one worker mid-load; the master starts another
        time.sleep(0.8)
        before = len(acknowledged)
        time.sleep(0.5)
        assert len(acknowledged) > before  # still voting after the worker died
        server.kill_all()  # now the whole server, master and workers, mid-load
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
    assert len(acknowledged) > 20

    server.start()  # restart on the same database
    engine = create_engine(normalise_url(served["url"]))
    try:
        with engine.connect() as conn:
            current = conn.execute(select(Ballot.receipt, Ballot.voter_key, Ballot.version)).all()
            history = conn.execute(select(BallotHistory.receipt, BallotHistory.voter_key)).all()
            stored = {r for r, *_ in current} | {r for r, _ in history}
            assert set(acknowledged) <= stored, set(acknowledged) - stored
            # nothing half-written: each voter's current ballot counts every earlier cast in its history
            kept = {}
            for _r, key in history:
                kept[key] = kept.get(key, 0) + 1
            assert all(version == kept.get(key, 0) + 1 for _r, key, version in current)
            assert len({key for _r, key, _v in current}) == len(current)
            assert conn.execute(select(func.count()).select_from(Ballot)).scalar() == len(current)
    finally:
        engine.dispose()
    status, body = server.request("PUT", f"{BASE}/districts/north/ballot", {"projects": [pids[0]]}, token=voters[0])
    assert status == 200, body  # and the restarted service takes ballots
