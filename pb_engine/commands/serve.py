"""`pb-engine serve`, `pb-engine db upgrade`, `pb-engine seed-demo`: run the service.

serve = upgrade the schema, load the city configs, seed the demo data, then
serve with gunicorn (stateless workers, so more of them, or more machines
behind a load balancer on one PostgreSQL, scale it out). `--dev` uses Flask's
own server with the debugger and reloader instead.
"""

from __future__ import annotations

import os
import sys
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
                    "worker_exit": _worker_exit,
                    "when_ready": lambda server: click.echo(f"pb_engine serving on http://{_show(host)}:{port}"
                                                            f" ({workers} gunicorn workers x {threads} threads)"),
                }
                for key, value in settings.items():
                    if value is not None:
                        self.cfg.set(key, value)

            def load(self):
                from api import create_app

                from pb_engine.serve_body import with_body_deadlines

                return with_body_deadlines(create_app({"DATABASE_URL": url}))

        App().run()


def _worker_exit(_server, worker) -> None:
    """A stopping worker says how its SQLite casts were batched (store.group_commit; scripts/load_test.py reads it)."""
    from pb_engine.store import group_commit

    t = group_commit.totals()
    if t["casts"]:
        click.echo(f"worker {worker.pid}: {t['casts']} casts in {t['batches']} SQLite write transactions", err=True)


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
