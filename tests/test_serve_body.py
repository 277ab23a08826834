"""pb_engine.serve_body without a server: a body read as gunicorn reads it (n bytes, waiting for all n)
from one end of a socket pair, trickled from the other. tests/test_serve_faults.py does the same against
a real `pb-engine serve`."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from werkzeug.exceptions import RequestTimeout

from pb_engine.serve_body import BodyDeadline, _WATCHDOG


class _GunicornLikeBody:
    """read(n) waits for all n bytes, or the end of the stream, as gunicorn's Body does."""

    def __init__(self, sock):
        self.sock = sock

    def read(self, size):
        out = b""
        while len(out) < size:
            chunk = self.sock.recv(size - len(out))
            if not chunk:
                break
            out += chunk
        return out


def _trickled(every: float, stop: threading.Event):
    ours, theirs = socket.socketpair()

    def send():
        while not stop.is_set():
            try:
                theirs.sendall(b"x")
            except OSError:
                return
            stop.wait(every)

    threading.Thread(target=send, daemon=True).start()
    return ours, theirs


def test_a_trickled_body_times_out_at_the_total_though_no_gap_is_long():
    stop = threading.Event()
    ours, theirs = _trickled(0.05, stop)
    try:
        ours.settimeout(1.0)   # the gap: a byte comes every 0.05 s, so this alone never fires
        body = BodyDeadline(_GunicornLikeBody(ours), ours, 1000)
        started = time.monotonic()
        _WATCHDOG.watch(started + 0.5, body)
        with pytest.raises(RequestTimeout):
            body.read(1000)
        assert 0.45 < time.monotonic() - started < 1.5 and body.timed_out
        with pytest.raises(RequestTimeout):   # and it stays refused
            body.read(10)
    finally:
        stop.set()
        ours.close()
        theirs.close()


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def test_a_gap_longer_than_the_socket_timeout_is_a_timeout_too(pair):
    ours, theirs = pair
    ours.settimeout(0.2)
    theirs.sendall(b"abc")
    body = BodyDeadline(_GunicornLikeBody(ours), ours, 10)
    _WATCHDOG.watch(time.monotonic() + 30, body)
    with pytest.raises(RequestTimeout):
        body.read(10)
    _WATCHDOG.done(body)


def test_a_body_in_time_and_an_answered_request_are_left_alone(pair):
    ours, theirs = pair
    ours.settimeout(1.0)
    theirs.sendall(b"0123456789")
    body = BodyDeadline(_GunicornLikeBody(ours), ours, 10)
    _WATCHDOG.watch(time.monotonic() + 0.2, body)
    assert body.read(10) == b"0123456789" and not body.reading   # all of it: no longer watched
    answered = BodyDeadline(_GunicornLikeBody(ours), ours, 10)   # its body never read (a 401 before it)
    _WATCHDOG.watch(time.monotonic() + 0.2, answered)
    _WATCHDOG.done(answered)
    time.sleep(0.4)   # both deadlines passed
    assert not body.timed_out and not answered.timed_out
    theirs.sendall(b"more")     # the connection still reads: its reading side was not shut
    assert ours.recv(4) == b"more"
