"""Connections are spread over gunicorn's workers (pb_engine/serve_worker.py: the board, deferred accept,
shedding), under real gunicorn (`pb-engine serve`).

A kept-alive connection stays with the worker that accepted it, and one worker's Python runs on one core:
with gunicorn's own accept, 8 connections opened at once, or opened before a second worker was up, often
all stayed on one worker of two (/healthz at half its rate). Here: 8 connections opened at once end up
4+4 (a worker that holds more leaves the new one to its sibling); and 8 connections all held by the only
worker spread out once a second worker starts (SIGTTIN to the master): the busier one closes one
kept-alive connection at a time after its answer, and the client's next connection goes to the other.
Without the board both stay 8+0 (the first usually, the second always).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pb_engine import serve_worker

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="counts connections in Linux /proc")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(workers: int):
        port = _free_port()
        exe = Path(sys.executable).with_name("pb-engine")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pb_engine.cli"]
        env = {**os.environ, "PB_DATABASE_URL": f"sqlite:///{tmp_path / 'pb.db'}",
               "PB_SECRET_KEY": "spread-test-" + "k" * 40}
        proc = subprocess.Popen([*cmd, "serve", "--no-demo", "--configs", "", "--port", str(port),
                                 "--workers", str(workers), "--threads", "4"], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        log: list[str] = []
        threading.Thread(target=lambda: log.extend(proc.stdout), daemon=True).start()
        started.append(proc)
        _wait_for_workers(proc, port, workers, log)
        return proc, port, log

    yield start
    for proc in started:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _wait_for_workers(proc, port: int, workers: int, log: list[str], seconds: float = 60) -> None:
    """Until `workers` workers run and each has answered (a worker still loading the app is not on the board)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("the service stopped:\n" + "".join(log))
        workers_up = len(serve_worker.session_pids(proc.pid)) - 1  # the master is in the session too
        if workers_up >= workers and all(_ok(port) for _ in range(4)):
            time.sleep(1.5)  # the app is loaded in every worker well within this (about 1 s here)
            return
        time.sleep(0.2)
    pytest.fail("the workers did not come up:\n" + "".join(log))


def _ok(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/healthz")
        ok = conn.getresponse().read() is not None
        conn.close()
        return ok
    except OSError:
        return False


def _hammer(conns, rounds: int) -> list[int]:
    """`rounds` GET /healthz on each connection from a thread each (http.client reopens a closed one)."""
    statuses: list[int] = []

    def go(c):
        for _ in range(rounds):
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            statuses.append(r.status)

    threads = [threading.Thread(target=go, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_connections_opened_at_once_are_spread_over_the_workers(serve):
    proc, port, _ = serve(2)
    for attempt in range(3):  # fresh connections each time: one lucky spread proves nothing, three in a row do
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(8)]
        try:
            assert _hammer(conns, 5) == [200] * 40
            spread = serve_worker.connection_spread(port, proc.pid)
            assert sum(spread) == 8 and len(spread) == 2 and spread[0] - spread[1] <= 2, spread
        finally:
            for c in conns:
                c.close()
        time.sleep(0.3)


def test_connections_held_by_one_worker_spread_out_when_a_second_starts(serve):
    proc, port, log = serve(1)
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(8)]
    try:
        assert _hammer(conns, 3) == [200] * 24
        assert serve_worker.connection_spread(port, proc.pid) == [8]
        os.kill(proc.pid, signal.SIGTTIN)  # gunicorn's master starts one more worker
        _wait_for_workers(proc, port, 2, log)
        statuses = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            statuses += _hammer(conns, 10)
            spread = serve_worker.connection_spread(port, proc.pid)
            # a connection the server has just closed to move it reopens on its next request: until
            # then the count is one short, so only a full count settles it
            if len(spread) == 2 and sum(spread) == 8 and spread[0] - spread[1] <= 2:
                break
        assert set(statuses) == {200}  # every request answered, the closed connections reopened
        assert len(spread) == 2 and sum(spread) == 8 and spread[0] - spread[1] <= 2, spread
    finally:
        for c in conns:
            c.close()


class _Bare(serve_worker.HeaderDeadlineWorker):
    """The worker's spreading decisions alone (no gunicorn around it)."""

    def __init__(self, slot: int, conns: int):
        self.slot, self.nr_conns, self.shed_at, self.after_hold = slot, conns, 0.0, False


@pytest.fixture
def board():
    saved, used = serve_worker._board[:], serve_worker._board_used.value
    serve_worker._board[:] = [0.0] * len(saved)
    serve_worker._board_used.value = 2  # the two slots these tests write
    yield serve_worker._board
    serve_worker._board[:] = saved
    serve_worker._board_used.value = used


def _put(board, slot: int, pid: int, conns: int, age: float = 0.0) -> None:
    board[3 * slot:3 * slot + 3] = [pid, conns, time.monotonic() - age]


def test_a_worker_leaves_new_connections_to_a_live_sibling_that_holds_fewer(board):
    me = _Bare(0, 3)
    _put(board, 0, 100, 3)
    assert not me.sibling_holds_fewer()  # alone
    _put(board, 1, 101, 3)
    assert not me.sibling_holds_fewer()  # as many
    _put(board, 1, 101, 2)
    assert me.sibling_holds_fewer()
    me.after_hold = True  # it waited DEFER_ACCEPT already: the connection is taken whatever the others hold
    assert not me.sibling_holds_fewer()
    me.after_hold = False
    _put(board, 1, 101, 0, age=serve_worker.STALE + 1)  # a sibling silent for longer than STALE is gone
    assert not me.sibling_holds_fewer()
    me.slot = None  # more workers than slots: gunicorn's own accept
    _put(board, 1, 101, 0)
    assert not me.sibling_holds_fewer()


def test_a_worker_sheds_one_connection_at_a_time_when_it_holds_two_more(board):
    me = _Bare(0, 5)
    _put(board, 1, 101, 4)
    assert not me.holds_too_many()  # one more: even enough
    _put(board, 1, 101, 3)
    assert me.holds_too_many()
    assert not me.holds_too_many()  # not again within SHED_EVERY
    me.shed_at -= serve_worker.SHED_EVERY
    assert me.holds_too_many()
    _put(board, 1, 101, 0, age=serve_worker.STALE + 1)
    me.shed_at = 0.0
    assert not me.holds_too_many()


def test_slots_are_claimed_once_and_freed_by_their_own_worker(board):
    a = serve_worker._claim_slot(100)
    b = serve_worker._claim_slot(101)
    assert a != b and board[3 * a] == 100 and board[3 * b] == 101
    serve_worker._free_slot(a, 999)  # not its worker: kept
    assert board[3 * a] == 100
    serve_worker._free_slot(a, 100)
    assert board[3 * a] == 0
    board[3 * b + 2] = time.monotonic() - serve_worker.STALE - 1  # silent: its slot can be claimed again
    assert serve_worker._claim_slot(102) in (a, b)
