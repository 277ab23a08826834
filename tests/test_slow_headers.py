"""Slow request headers (slowloris) under real gunicorn (`pb-engine serve`, one worker of two threads, and
of one thread: `--threads 1` runs the same worker, not gunicorn's sync worker, which reads headers with
no deadline at all).

More connections than the worker has threads each send a request line and then one header byte a
second, never finishing their headers. While they do, /healthz answers at once on new connections and
on a kept-alive one: the header block is read in the worker's event loop, not by a thread
(pb_engine/serve_worker.py). Each slow connection, a fresh one or a kept-alive one that has
started its next request, is answered 408 and closed once PB_HEADER_TIMEOUT (3 s here) has passed.
Under gunicorn's own gthread worker the threads would read those headers, and /healthz would wait.
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

HEADER_TIMEOUT = 3.0
SLOW = 5  # connections that trickle their headers: more than the worker has threads


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=[2, 1], ids=["2-threads", "1-thread"])
def server(tmp_path, request):
    threads = request.param
    port = _free_port()
    exe = Path(sys.executable).with_name("pb-engine")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pb_engine.cli"]
    env = {**os.environ, "PB_DATABASE_URL": f"sqlite:///{tmp_path / 'pb.db'}",
           "PB_SECRET_KEY": "slow-headers-test-" + "k" * 40, "PB_HEADER_TIMEOUT": str(HEADER_TIMEOUT)}
    proc = subprocess.Popen([*cmd, "serve", "--no-demo", "--configs", "", "--port", str(port), "--workers", "1",
                             "--threads", str(threads)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    log: list[str] = []
    threading.Thread(target=lambda: log.extend(proc.stdout), daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _healthz(port)[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the service did not come up:\n" + "".join(log))
            time.sleep(0.2)
        yield port, log, threads
    finally:
        os.killpg(proc.pid, 9)
        proc.wait(timeout=10)


def _healthz(port: int, conn: http.client.HTTPConnection | None = None) -> tuple[int, float]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    started = time.monotonic()
    try:
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.monotonic() - started
    finally:
        if own:
            conn.close()


class Slowloris:
    """Connections that send a request line and then one header byte a second; records when each closes
    and what it was answered."""

    def __init__(self, port: int, n: int, kept_alive: http.client.HTTPConnection | None = None):
        self.socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
        if kept_alive is not None:  # a connection that has had its answer and now starts a request slowly
            self.socks.append(kept_alive.sock)
        self.started = time.monotonic()
        self.closed: dict[int, float] = {}
        self.answers: dict[int, bytes] = {}
        for s in self.socks:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        next_byte = time.monotonic() + 1
        while len(self.closed) < len(self.socks) and time.monotonic() < self.started + 4 * HEADER_TIMEOUT:
            open_ = [s for i, s in enumerate(self.socks) if i not in self.closed]
            readable, _, _ = select.select(open_, [], [], max(0.0, next_byte - time.monotonic()))
            for s in readable:
                self._read(s)
            if time.monotonic() >= next_byte:
                next_byte += 1
                for i, s in enumerate(self.socks):
                    if i not in self.closed:
                        try:
                            s.send(b"a")
                        except OSError:
                            self.closed[i] = time.monotonic() - self.started

    def _read(self, s) -> None:
        i = self.socks.index(s)
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if data:
            self.answers[i] = self.answers.get(i, b"") + data
        else:
            self.closed[i] = time.monotonic() - self.started

    def finish(self) -> None:
        self.thread.join(timeout=5 * HEADER_TIMEOUT)
        for s in self.socks:
            s.close()


@pytest.mark.slow
def test_slow_headers_hold_no_thread_and_are_cut_off(server):
    port, _log, threads = server
    # Headers that come in pieces, the blank line split across two of them, are a request like any other
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        for piece in (b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n", b"Connection: close\r\n\r", b"\n"):
            s.sendall(piece)
            time.sleep(0.2)
        answer = b"".join(iter(lambda: s.recv(4096), b""))
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    kept_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    assert _healthz(port, kept_alive)[0] == 200  # answered with keep-alive: the connection stays open
    slow = Slowloris(port, SLOW, kept_alive=kept_alive)
    try:
        time.sleep(1.5)  # every slow connection has sent its request line and a header byte or two
        assert not slow.closed, f"closed before the deadline: {slow.closed}"
        fast = [_healthz(port) for _ in range(5)]
        reused = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        fast += [_healthz(port, reused) for _ in range(3)]  # a kept-alive connection serves request after request
        reused.close()
        during = time.monotonic() - slow.started
    finally:
        slow.finish()
    print(f"\n{SLOW + 1} slow connections, {threads} thread(s): /healthz {[round(t * 1000) for _, t in fast]} ms "
          f"at {during:.1f} s; slow ones closed after {sorted(round(t, 1) for t in slow.closed.values())} s")
    assert [status for status, _ in fast] == [200] * len(fast)
    assert max(t for _, t in fast) < 1.0, fast
    assert during < HEADER_TIMEOUT, "the fast requests were served only after the slow connections were cut off"
    assert len(slow.closed) == len(slow.socks), f"still open after {4 * HEADER_TIMEOUT} s: {slow.closed}"
    assert all(HEADER_TIMEOUT - 0.5 <= t <= HEADER_TIMEOUT + 2.5 for t in slow.closed.values()), slow.closed
    for i in range(len(slow.socks)):
        assert slow.answers.get(i, b"").startswith(b"HTTP/1.1 408 "), (i, slow.answers.get(i))
