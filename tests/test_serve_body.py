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


def _watched(sock, length: float, seconds: float) -> BodyDeadline:
    """sock's body as `with_body_deadlines` hands it to the app: `length` bytes (infinity: chunked), due in `seconds`."""
    body = BodyDeadline(_GunicornLikeBody(sock), sock, length)
    _WATCHDOG.watch(time.monotonic() + seconds, body)
    return body


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
        started = time.monotonic()
        body = _watched(ours, 1000, 0.5)
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
    body = _watched(ours, 10, 30)
    with pytest.raises(RequestTimeout):
        body.read(10)
    _WATCHDOG.done(body)


def test_a_body_in_time_and_an_answered_request_are_left_alone(pair):
    ours, theirs = pair
    ours.settimeout(1.0)
    theirs.sendall(b"0123456789")
    body = _watched(ours, 10, 0.2)
    assert body.read(10) == b"0123456789" and not body.reading   # all of it: no longer watched
    answered = _watched(ours, 10, 0.2)   # its body never read (a 401 before it)
    _WATCHDOG.done(answered)
    time.sleep(0.4)   # both deadlines passed
    assert not body.timed_out and not answered.timed_out
    theirs.sendall(b"more")     # the connection still reads: its reading side was not shut
    assert ours.recv(4) == b"more"


class _ChunkedLikeBody:
    """A chunked body as gunicorn gives it: pieces, then b"" once the last chunk came."""

    def __init__(self, pieces):
        self.pieces = list(pieces)

    def read(self, size=None):
        return self.pieces.pop(0) if self.pieces else b""


def test_a_chunked_body_that_ends_in_time_is_no_longer_watched(pair):
    ours, _ = pair
    body = BodyDeadline(_ChunkedLikeBody([b'{"projects": ', b"[1]}"]), ours, float("inf"))
    _WATCHDOG.watch(time.monotonic() + 0.2, body)
    assert body.read(8192) + body.read(8192) == b'{"projects": [1]}' and body.reading   # not at its end yet
    assert body.read(8192) == b"" and not body.reading                                 # the end: done
    time.sleep(0.4)
    assert not body.timed_out
