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
app's (PB_READ_TIMEOUT, pb_engine.commands.serve). TLS connections (gunicorn's own certfile, not the
reverse proxy's) keep gunicorn's behaviour: the handshake happens in a thread.

Not covered: a client that trickles a large body (PB_READ_TIMEOUT bounds the wait between bytes, not
the total), and many connections at once (at most `worker_connections`, 1000 per worker, are open; a
reverse proxy in front buffers requests and caps connections per address: README, Scaling out).

A module of its own, outside pb_engine/commands (whose modules every CLI command imports): gunicorn's
worker modules take some 60 ms to import, and only `pb-engine serve` needs them (gunicorn loads this
class by name, `worker_class`).
"""

from __future__ import annotations

import errno
import os
import selectors
import time
from collections import deque
from functools import partial

from gunicorn import util
from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import ThreadWorker, TConn

HEADER_TIMEOUT = float(os.environ.get("PB_HEADER_TIMEOUT", "10"))  # seconds for the whole header block
_RECV = 65536


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

    # New connections and kept-alive connections that become readable wait for their headers here.
    def accept(self, listener):
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
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
