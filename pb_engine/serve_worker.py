"""gunicorn's threaded worker with a deadline for request headers (slowloris).

gunicorn's gthread worker hands a connection to a thread as soon as its first byte arrives; the thread
then reads the request line and headers with a blocking socket and no deadline. A client that sends
its headers one byte a second (slowloris) holds that thread as long as it likes, and as many such
clients as there are threads stop the worker.

This worker reads the header block in the worker's event loop instead (non-blocking, no thread held)
and gives the connection to a thread only once the block is complete (the blank line is in), with the
bytes read so far handed to gunicorn's parser. A connection whose header block is not complete within
PB_HEADER_TIMEOUT seconds (default 10) of its first wait is answered 408 and closed; so is a
kept-alive connection that starts a request and does not finish its headers in time. Bodies are the
app's (PB_READ_TIMEOUT between bytes, PB_BODY_TIMEOUT for the whole body: pb_engine.serve_body).
TLS connections (gunicorn's own certfile, not the reverse proxy's) keep gunicorn's behaviour: the
handshake happens in a thread.

Not covered: many connections at once (at most `worker_connections`, 1000 per worker, are open; a
reverse proxy in front buffers requests and caps connections per address: README, Scaling out).

Connections are also spread over the workers. A kept-alive connection stays with the worker that
accepted it, and a worker's Python runs on one core at a time; gunicorn lets whichever worker wakes
first accept, and 8 connections opened at once (a load client, a proxy's upstream pool), or opened
while the second worker was still loading the app, often all stayed on one worker of two, leaving a
core idle (measured, SQLite, runs whose spread was read: /healthz 510-725 req/s and ballots 316-436/s
with 8+0, against 1210-1410 req/s and 586-648/s with 7+1, 6+2 or 5+3). Each running worker publishes how many connections it holds on a board
shared by the workers of one server (shared memory made in the master before it forks them). A worker
that holds more than a live sibling leaves a new connection to it for DEFER_ACCEPT (2 ms), then takes
it itself if it is still waiting (a stuck sibling costs a new connection 2 ms at most); one that holds
two or more above a sibling answers one request (at most every SHED_EVERY, 10 ms) with
"Connection: close", and the client's next connection goes to the sibling (HTTP clients reconnect;
the answer itself is whole).

A module of its own, outside pb_engine/commands (whose modules every CLI command imports): gunicorn's
worker modules take some 60 ms to import, and only `pb-engine serve` needs them (gunicorn loads this
class by name, `worker_class`).
"""

from __future__ import annotations

import contextlib
import errno
import multiprocessing
import os
import selectors
import time
from collections import deque
from functools import partial
from pathlib import Path

from gunicorn import util
from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import ThreadWorker, TConn

from pb_engine.serve_body import close_after

HEADER_TIMEOUT = float(os.environ.get("PB_HEADER_TIMEOUT", "10"))  # seconds for the whole header block
_RECV = 65536

# The board: per worker slot its pid, the connections it holds and when it last said so (time.monotonic,
# one clock for every process of the machine). Made at import, which is in gunicorn's master (it loads
# the worker class before forking), so that every worker of the server shares it.
SLOTS = 64
STALE = 3.0            # seconds without a word: the slot's worker is gone (a live one speaks at least every 1 s)
DEFER_ACCEPT = 0.002   # seconds a new connection is left to a sibling that holds fewer
SHED_EVERY = 0.01      # seconds between two connections closed to even out the spread
_board = multiprocessing.RawArray("d", 3 * SLOTS)
_board_used = multiprocessing.RawValue("i", 0)  # slots ever claimed: every request reads only those
_board_lock = multiprocessing.Lock()


def session_pids(session_id: int) -> list[int]:
    """The processes of session `session_id` (a server started in a session of its own: its master and
    workers), from Linux /proc (empty without it)."""
    pids = []
    for pid_dir in Path("/proc").iterdir():
        if pid_dir.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                if int((pid_dir / "stat").read_text().rsplit(")", 1)[1].split()[3]) == session_id:
                    pids.append(int(pid_dir.name))
    return pids


def connection_spread(port: int, session_id: int) -> list[int] | None:
    """Established connections to local `port` held by each process of the session `session_id`, largest
    first; None without Linux /proc. For the load script and the tests: how the connections sit on the
    workers."""
    proc = Path("/proc")
    if not (proc / "net" / "tcp").exists():
        return None
    wanted = f":{port:04X}"
    inodes = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (proc / "net" / table).read_text().splitlines()[1:]:
                cols = line.split()
                if cols[1].endswith(wanted) and cols[3] == "01":  # local address ends in the port; ESTABLISHED
                    inodes.add(cols[9])
    counts = []
    for pid in session_pids(session_id):
        with contextlib.suppress(OSError):
            n = sum(1 for fd in (proc / str(pid) / "fd").iterdir()
                    if (link := os.readlink(fd)).startswith("socket:[") and link[8:-1] in inodes)
            if n:
                counts.append(n)
    return sorted(counts, reverse=True)


def _claim_slot(pid: int) -> int | None:
    now = time.monotonic()
    with _board_lock:
        for i in range(SLOTS):
            if _board[3 * i] == 0 or now - _board[3 * i + 2] > STALE:
                _board[3 * i:3 * i + 3] = [pid, 0, now]
                _board_used.value = max(_board_used.value, i + 1)
                return i
    return None  # more workers than slots: this one accepts as gunicorn would


def _free_slot(slot: int | None, pid: int) -> None:
    if slot is not None:
        with _board_lock:
            if _board[3 * slot] == pid:
                _board[3 * slot:3 * slot + 3] = [0, 0, 0]


def _header_cap(cfg) -> int:
    """Bytes beyond which the header block is over gunicorn's own limits whatever follows: the parser is
    then given what has come and answers 414 or 431 from it."""
    if not (cfg.limit_request_line and cfg.limit_request_fields and cfg.limit_request_field_size):
        return 1 << 20
    return cfg.limit_request_line + 4 + cfg.limit_request_fields * (cfg.limit_request_field_size + 2) + 4


class HeaderConn(TConn):
    """A connection that waits in the event loop until its header block is in (`head` holds it)."""

    def __init__(self, cfg, sock, client, server):
        super().__init__(cfg, sock, client, server)
        self.head = bytearray()
        self.header_deadline = 0.0

    def hand_over(self) -> None:
        """Give the bytes read in the event loop to gunicorn's parser (made here for a new connection)."""
        self.init()
        if self.head:
            self.parser.unreader.unread(bytes(self.head))
            self.head = bytearray()


class HeaderDeadlineWorker(ThreadWorker):
    """gthread worker (gunicorn.workers.gthread.ThreadWorker) that reads request headers in its event loop,
    under a deadline, before a thread takes the request."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.header_conns: deque[HeaderConn] = deque()  # in deadline order (one timeout for all)
        self.header_cap = _header_cap(self.cfg)
        self.slot: int | None = None
        self.held_until = 0.0   # accepting is left to siblings until then
        self.after_hold = False  # the next connection is this worker's, whatever the others hold
        self.shed_at = 0.0       # when a kept-alive connection was last closed to even out the spread

    def run(self):
        # On the board only while its loop runs: a worker still loading the app is not there to take connections.
        pid = os.getpid()
        self.slot = _claim_slot(pid)
        try:
            super().run()
        finally:
            _free_slot(self.slot, pid)
            self.slot = None

    def load_wsgi(self):
        super().load_wsgi()
        app = self.wsgi

        def shedding(environ, start_response):
            # Closing after this answer hands the client's next connection to the sibling that holds fewer
            # (the client reconnects; nothing is lost).
            if self.holds_too_many():
                close_after(start_response)
            return app(environ, start_response)

        self.wsgi = shedding

    def holds_too_many(self) -> bool:
        """Two or more connections above a live sibling (one shed every SHED_EVERY seconds: no stampede)."""
        if self.slot is None:
            return False
        now = time.monotonic()
        if now - self.shed_at < SHED_EVERY:
            return False
        fewest = self.fewest_elsewhere(now)
        if fewest is None or self.nr_conns - fewest < 2:
            return False
        self.shed_at = now
        return True

    def fewest_elsewhere(self, now: float) -> float | None:
        """The fewest connections a live sibling holds, or None (asked by every request: one copy of the board)."""
        board, mine = _board[:3 * _board_used.value], 3 * self.slot
        fewest = None
        for i in range(0, len(board), 3):
            if i != mine and board[i] and now - board[i + 2] <= STALE:
                n = board[i + 1]
                fewest = n if fewest is None or n < fewest else fewest
        return fewest

    def publish(self) -> None:
        if self.slot is not None:
            _board[3 * self.slot + 1] = self.nr_conns
            _board[3 * self.slot + 2] = time.monotonic()

    def sibling_holds_fewer(self) -> bool:
        if self.slot is None or self.after_hold:
            return False
        fewest = self.fewest_elsewhere(time.monotonic())
        return fewest is not None and fewest < self.nr_conns

    def wait_for_and_dispatch_events(self, timeout):
        self.publish()  # every turn of the loop (at least once a second): the heartbeat
        if self.held_until:
            left = self.held_until - time.monotonic()
            if left > 0:
                self.set_accept_enabled(False)  # the loop enables it each turn; held, it stays off
                timeout = min(timeout, left)
            else:
                self.held_until, self.after_hold = 0.0, True
        return super().wait_for_and_dispatch_events(timeout)

    # New connections and kept-alive connections that become readable wait for their headers here.
    def accept(self, listener):
        if self.sibling_holds_fewer():
            self.held_until = time.monotonic() + DEFER_ACCEPT
            self.set_accept_enabled(False)
            return
        self.after_hold = False
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self.publish()
        if self.cfg.is_ssl or negotiation.prior_knowledge_allowed(self.cfg, client_addr):
            # gunicorn's own way: the TLS handshake or the HTTP/2 preface is read in a thread
            client_sock.setblocking(True)
            self.enqueue_req(TConn(self.cfg, client_sock, client_addr, listener.getsockname()))
            return
        self.wait_for_headers(HeaderConn(self.cfg, client_sock, client_addr, listener.getsockname()))

    def on_client_socket_readable(self, conn, client):
        if not isinstance(conn, HeaderConn):
            return super().on_client_socket_readable(conn, client)
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self.wait_for_headers(conn)

    def wait_for_headers(self, conn: HeaderConn) -> None:
        conn.sock.setblocking(False)
        conn.header_deadline = time.monotonic() + HEADER_TIMEOUT
        self.header_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_header_bytes, conn))

    def on_header_bytes(self, conn: HeaderConn, client) -> None:
        try:
            data = conn.sock.recv(_RECV)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away before its request was complete
            self._drop(conn)
            util.close(conn.sock)
            return
        start = max(len(conn.head) - 3, 0)  # the blank line may straddle two reads
        conn.head += data
        # A bare-LF blank line too: gunicorn's parser then answers such a request itself, at once
        if conn.head.find(b"\r\n\r\n", start) >= 0 or conn.head.find(b"\n\n", start) >= 0 \
                or len(conn.head) > self.header_cap:
            self._forget(conn)
            conn.data_ready = True
            self.enqueue_req(conn)

    def handle(self, conn):
        if isinstance(conn, HeaderConn) and conn.data_ready:
            try:
                conn.sock.setblocking(True)
                conn.hand_over()
            except Exception as e:  # noqa: BLE001 - as gunicorn's handle: the error is answered, the connection closed
                self.handle_error(None, conn.sock, conn.client, e)
                return False
        return super().handle(conn)

    def finish_request(self, conn, fs):
        if isinstance(conn, HeaderConn):
            conn.data_ready = False  # its next request waits for its headers again
        return super().finish_request(conn, fs)

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        while self.header_conns and self.header_conns[0].header_deadline <= now:
            conn = self.header_conns[0]
            self._drop(conn)
            if conn.head:  # a request was started and not finished: say why the connection closes
                self.log.info("closing a connection from %s: request headers not complete within %g s",
                              conn.client, HEADER_TIMEOUT)
                try:
                    util.write_error(conn.sock, 408, "Request Timeout",
                                     f"request headers not complete within {HEADER_TIMEOUT:g} s")
                except OSError:
                    pass
            util.close(conn.sock)

    def _forget(self, conn: HeaderConn) -> None:
        self.header_conns.remove(conn)
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):
            pass

    def _drop(self, conn: HeaderConn) -> None:
        self._forget(conn)
        self.nr_conns -= 1
