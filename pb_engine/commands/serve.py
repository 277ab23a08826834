"""`pb-engine serve`, `pb-engine db upgrade`, `pb-engine seed-demo`: run the service.

serve = upgrade the schema, load the city configs, seed the demo data, then
serve with gunicorn (stateless workers, so more of them, or more machines
behind a load balancer on one PostgreSQL, scale it out). `--dev` uses Flask's
own server with the debugger and reloader instead.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import sys
import threading
import time
from pathlib import Path

import click

from pb_engine.store.db import Database, normalise_url
from pb_engine.store.db import database_url as default_database_url

_db_option = click.option("--database-url", envvar="PB_DATABASE_URL", default=None,
                          help="Default: $PB_DATABASE_URL, else sqlite:///instance/pb_engine.db")


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def prepare(url: str, configs: str | None, demo: bool, echo=click.echo) -> bool:
    """Schema up to date, configs loaded, demo seeded. Returns False when a config file failed."""
    from pb_engine.config import load_path

    db = Database(url)
    ok = True
    try:
        db.upgrade()
        echo(f"database {_redacted(db.url)} ({db.dialect}) is up to date")
        if configs:
            if Path(configs).exists():
                report = load_path(db, configs, actor="cli")
                for f in report.failed:
                    click.echo(f.line(), err=True)
                ok = report.ok
                echo(f"city configs from {configs}: {report.summary()}")
            else:
                click.echo(f"no city configs at {configs}; skipped", err=True)
        if demo:
            from pb_engine.demo import seed_demo

            result = seed_demo(db, say=echo)
            echo(f"demo data: {result.summary()}")
    finally:
        db.dispose()
    return ok


class _Gunicorn:
    """gunicorn in-process (gunicorn.app.base.BaseApplication): each worker builds its own app and engine.

    Threaded workers (gthread): a request waiting on the database (PostgreSQL's commit waits for the
    WAL flush) or a client that is slow to send its body holds one thread, not a whole worker, and
    idle keep-alive connections hold none; request headers are read by the worker's event loop under
    PB_HEADER_TIMEOUT (pb_engine/serve_worker.py), so a client slow to send them holds none either. Behind a reverse proxy that buffers requests (nginx,
    Caddy; see the README) slow clients never reach gunicorn at all.
    """

    @staticmethod
    def run(url: str, host: str, port: int, workers: int, timeout: int, threads: int = 1) -> None:
        from gunicorn.app.base import BaseApplication

        class App(BaseApplication):
            def load_config(self):
                settings = {
                    "bind": f"{host}:{port}",
                    "workers": workers,
                    # gthread, request headers read in its event loop under PB_HEADER_TIMEOUT (pb_engine/serve_worker);
                    # with one thread too: gunicorn's sync worker reads headers with no deadline (one slow
                    # client holds the whole worker) and keeps no connection alive
                    "worker_class": "pb_engine.serve_worker.HeaderDeadlineWorker",
                    "threads": threads,
                    "timeout": timeout,
                    "graceful_timeout": min(timeout, 30),
                    "keepalive": 5,  # seconds an idle keep-alive connection stays open (gthread holds no thread for it)
                    "accesslog": os.environ.get("PB_ACCESS_LOG"),
                    "errorlog": "-",
                    "loglevel": "warning",
                    "when_ready": lambda server: click.echo(f"pb_engine serving on http://{_show(host)}:{port}"
                                                            f" ({workers} gunicorn workers x {threads} threads)"),
                }
                for key, value in settings.items():
                    if value is not None:
                        self.cfg.set(key, value)

            def load(self):
                from api import create_app

                return _read_timeout(create_app({"DATABASE_URL": url}), READ_TIMEOUT)

        App().run()


READ_TIMEOUT = float(os.environ.get("PB_READ_TIMEOUT", "10"))  # seconds a body may go without a byte
BODY_TIMEOUT = float(os.environ.get("PB_BODY_TIMEOUT", "30"))  # seconds a whole body may take to arrive


class _BodyDeadline:
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

    def watch(self, deadline: float, body: _BodyDeadline) -> None:
        with self._cond:
            if self._pid != os.getpid():   # started in the worker, after gunicorn's fork
                self._pid, self._heap = os.getpid(), []
                threading.Thread(target=self._run, name="pb-body-deadline", daemon=True).start()
            heapq.heappush(self._heap, (deadline, next(self._seq), body))
            if self._heap[0][2] is body:
                self._cond.notify()

    def done(self, body: _BodyDeadline) -> None:
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


def _read_timeout(app, gap: float, total: float | None = None):
    """A request whose client stops sending its body, or sends it too slowly, frees its thread: 408 once a
    read waited `gap` seconds for a byte or the body is not in `total` seconds after the request began,
    and the connection is closed (_BodyDeadline); gunicorn has no body timeout of its own. Headers have
    their own deadline (serve_worker). A reverse proxy that buffers bodies is still the better shield
    against floods (README: Scaling out)."""
    total = BODY_TIMEOUT if total is None else total

    def wrapped(environ, start_response):
        sock = environ.get("gunicorn.socket")
        length = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if sock is None or not (chunked or (length.isdigit() and int(length) > 0)):
            return app(environ, start_response)
        sock.settimeout(gap)
        body = environ["wsgi.input"] = _BodyDeadline(environ["wsgi.input"], sock,
                                                     float("inf") if chunked else int(length))
        _WATCHDOG.watch(time.monotonic() + total, body)

        def respond(status, headers, exc_info=None):
            # The rest of the body is still on its way: this connection cannot carry another request.
            # gunicorn drops an app's Connection header (hop-by-hop); its Response closes on force_close().
            response = getattr(start_response, "__self__", None)
            if body.timed_out and hasattr(response, "force_close"):
                response.force_close()
            return start_response(status, headers, exc_info)

        try:
            return app(environ, respond)
        finally:
            _WATCHDOG.done(body)   # answered: the watchdog leaves this connection alone

    return wrapped


def _show(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="PB_HOST")
@click.option("--port", default=8000, show_default=True, type=int, envvar="PB_PORT")
@click.option("--demo/--no-demo", default=True, show_default=True, help="Seed the demo rounds (idempotent).")
@click.option("--dev", is_flag=True, help="Flask's development server (debugger, reloader) instead of gunicorn.")
@click.option("--configs", default="city_configs", show_default=True, help="City configs to load ('' to skip).")
@click.option("--workers", default=2, show_default=True, type=int, envvar="PB_WORKERS")
@click.option("--threads", default=8, show_default=True, type=int, envvar="PB_THREADS",
              help="threads per worker (gthread; 1 serves one request at a time per worker)")
@click.option("--timeout", default=60, show_default=True, type=int, help="gunicorn worker timeout, seconds")
@_db_option
def serve(host, port, demo, dev, configs, workers, threads, timeout, database_url):
    """Upgrade the database, load city configs, seed demo data and serve the API and pages."""
    url = normalise_url(database_url or default_database_url())
    # In --dev the reloader runs this command twice; preparing in the child only keeps one set of messages.
    if not dev or os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        prepare(url, configs, demo)
    if dev:
        from api import create_app

        if os.environ.get("WERKZEUG_RUN_MAIN") == "true":
            click.echo(f"pb_engine serving on http://{_show(host)}:{port} (Flask development server)")
        create_app({"DATABASE_URL": url}).run(host=host, port=port, debug=True)
        return
    if workers < 1:
        raise click.BadParameter("at least 1", param_hint="--workers")
    if threads < 1:
        raise click.BadParameter("at least 1", param_hint="--threads")
    sys.stdout.flush()
    _Gunicorn.run(url, host, port, workers, timeout, threads)


@click.group("db")
def db_group():
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@_db_option
def db_upgrade(revision, database_url):
    """Bring the database schema up to REVISION (the run command does this on every start)."""
    from pb_engine.store.db import upgrade

    url = normalise_url(database_url or default_database_url())
    upgrade(url, revision)
    click.echo(f"database {_redacted(url)} upgraded to {revision}")


@click.command("seed-demo")
@_db_option
def seed_demo_cmd(database_url):
    """Seed the demo rounds (voting open now, in submission, with published results); idempotent."""
    from pb_engine.demo import seed_demo

    db = Database(database_url)
    try:
        db.upgrade()
        click.echo(f"demo data: {seed_demo(db).summary()}")
    finally:
        db.dispose()


commands = [serve, db_group, seed_demo_cmd]
