"""What the server does with request bodies: a deadline for each body, kept by one thread per worker.

gunicorn has no body timeout of its own. A socket timeout bounds each wait for bytes (PB_READ_TIMEOUT)
but not the whole body: gunicorn's read of n bytes waits for all n, and each `recv` inside it gets
the timeout afresh, so a client trickling a byte every few seconds held a thread for as long as its
Content-Length lasted (and a chunked body for ever). `with_body_deadlines` wraps the WSGI app that
`pb-engine serve` runs (pb_engine.commands.serve) so that a body must be in within PB_BODY_TIMEOUT
seconds of the request as well; headers have their own deadline (pb_engine.serve_worker).
tests/test_serve_faults.py trickles bodies at a real server.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time


READ_TIMEOUT = float(os.environ.get("PB_READ_TIMEOUT", "10"))  # seconds a body may go without a byte
BODY_TIMEOUT = float(os.environ.get("PB_BODY_TIMEOUT", "30"))  # seconds a whole body may take to arrive


class BodyDeadline:
    """A request's body (gunicorn's `wsgi.input`) that must arrive within `total` seconds of the request,
    with no wait longer than `gap` for a byte. Past either, the read answers 408 (werkzeug's RequestTimeout,
    raised through the app's own reading, so the page or JSON error is the app's) and the connection is
    closed (the rest of the body is never read). Without the total, a client trickling one byte a second
    keeps a thread for as long as its Content-Length lasts: PB_READ_TIMEOUT bounds only the gap, and
    gunicorn's read of n bytes waits for all n, so the total is kept by `_WATCHDOG`, which shuts the
    socket's reading side when the deadline passes (the read then returns short, and answers 408)."""

    __slots__ = ("_body", "sock", "_left", "reading", "timed_out")

    def __init__(self, body, sock, length: float):
        """`length`: the Content-Length, or infinity for a chunked body (read until it ends)."""
        self._body, self.sock, self._left = body, sock, length
        self.reading = length > 0
        self.timed_out = False

    def _call(self, method, *args):
        if self.timed_out:
            return self._timeout()
        try:
            data = method(*args)
        except TimeoutError:   # no byte for `gap` seconds (the socket's timeout)
            self.timed_out = True
            return self._timeout()
        except Exception:
            if self.timed_out:  # the watchdog shut the reading side mid-chunk: gunicorn's parser refuses the rest
                return self._timeout()
            raise
        if self.timed_out:     # the watchdog shut the reading side: what came is not the whole body
            return self._timeout()
        got = len(data) if isinstance(data, (bytes, bytearray)) else sum(map(len, data))
        self._left -= got
        if self._left <= 0 or not got:   # all of it, or the end of a chunked body
            self.reading = False
        return data

    def _timeout(self):
        from werkzeug.exceptions import RequestTimeout

        self.reading = False
        raise RequestTimeout("The request body did not arrive in time.")

    def expire(self) -> None:
        """The total deadline passed while the body was still being read (the watchdog's thread, under its
        lock: `_Watchdog.done` takes it too, so a request that is answered meanwhile is left alone)."""
        if not self.reading or self.sock is None:
            return
        self.timed_out = True
        try:
            self.sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    def read(self, *args):
        return self._call(self._body.read, *args)

    def readline(self, *args):
        return self._call(self._body.readline, *args)

    def readlines(self, *args):
        return self._call(self._body.readlines, *args)

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


class _Watchdog:
    """One thread per worker process that expires the bodies still being read at their deadline (a heap of
    deadlines: a request costs one push under a lock, not a timer thread of its own)."""

    def __init__(self):
        self._heap: list = []
        self._cond = threading.Condition()
        self._pid = None
        self._seq = itertools.count()

    def watch(self, deadline: float, body: BodyDeadline) -> None:
        with self._cond:
            if self._pid != os.getpid():   # started in the worker, after gunicorn's fork
                self._pid, self._heap = os.getpid(), []
                threading.Thread(target=self._run, name="pb-body-deadline", daemon=True).start()
            heapq.heappush(self._heap, (deadline, next(self._seq), body))
            if self._heap[0][2] is body:
                self._cond.notify()

    def done(self, body: BodyDeadline) -> None:
        """The request is answered: its body is never expired, and what it holds (gunicorn's body and
        socket) is let go now rather than when its deadline leaves the heap."""
        with self._cond:
            body.reading = False
            body.sock = body._body = None

    def _run(self) -> None:
        with self._cond:
            while True:
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, _, body = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                body.expire()


_WATCHDOG = _Watchdog()


def close_after(start_response) -> None:
    """Close the connection once this answer is sent. gunicorn drops an app's `Connection` header (it is
    hop-by-hop), and its start_response is its Response's method, whose force_close() does it."""
    response = getattr(start_response, "__self__", None)
    if hasattr(response, "force_close"):
        response.force_close()


def with_body_deadlines(app, gap: float | None = None, total: float | None = None):
    """A request whose client stops sending its body, or sends it too slowly, frees its thread: 408 once a
    read waited `gap` seconds for a byte or the body is not in `total` seconds after the request began,
    and the connection is closed (BodyDeadline); gunicorn has no body timeout of its own. Headers have
    their own deadline (serve_worker). A reverse proxy that buffers bodies is still the better shield
    against floods (README: Scaling out)."""
    gap = READ_TIMEOUT if gap is None else gap
    total = BODY_TIMEOUT if total is None else total

    def wrapped(environ, start_response):
        sock = environ.get("gunicorn.socket")
        length = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if sock is None or not (chunked or (length.isdigit() and int(length) > 0)):
            return app(environ, start_response)
        sock.settimeout(gap)
        body = environ["wsgi.input"] = BodyDeadline(environ["wsgi.input"], sock,
                                                     float("inf") if chunked else int(length))
        _WATCHDOG.watch(time.monotonic() + total, body)

        def respond(status, headers, exc_info=None):
            if body.timed_out:   # the rest of the body is still on its way: no other request on this connection
                close_after(start_response)
            return start_response(status, headers, exc_info)

        try:
            return app(environ, respond)
        finally:
            _WATCHDOG.done(body)   # answered: the watchdog leaves this connection alone

    return wrapped
