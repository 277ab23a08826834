"""Engine, sessions and migrations, selected by one database URL.

SQLite (the embedded default) runs in WAL mode with foreign keys on. Write
paths that must not interleave (casting a ballot) use `write_session()`, which
on SQLite opens the transaction with BEGIN IMMEDIATE (the write lock is taken
up front, so two writers never deadlock on a lock upgrade) and on PostgreSQL
is an ordinary transaction whose queries use SELECT … FOR UPDATE.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlmodel import Session

DEFAULT_URL = "sqlite:///" + str(Path("instance") / "pb_engine.db")
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url() -> str:
    return os.environ.get("PB_DATABASE_URL") or DEFAULT_URL


def normalise_url(url: str) -> str:
    # psycopg 3 is the driver we install; plain postgresql:// URLs would ask for psycopg2.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None) -> Engine:
    url = normalise_url(url or database_url())
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _sqlite_setup(engine)
        return engine
    # connect_timeout: an unreachable host fails a request in seconds (503) instead of holding its thread for
    # the operating system's TCP timeout.
    engine = create_engine(url, pool_size=10, max_overflow=20, connect_args={"connect_timeout": 5})
    _pre_ping(engine)
    return engine


# Checkouts made inside `without_pre_ping()` in this thread skip the ping.
_unpinged = threading.local()


@contextmanager
def without_pre_ping() -> Iterator[None]:
    """Connections checked out in this block are not pinged first (PostgreSQL). For a transaction that is safe
    to run again when its connection turns out dead before its COMMIT (a ballot's: store.prepared.Tx with
    ping=False, retried by voting._committed): the ping's round trip was a fifth of a ballot's."""
    _unpinged.on = True
    try:
        yield
    finally:
        _unpinged.on = False


def _pre_ping(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping, as a checkout listener that `without_pre_ping` can switch off: a connection
    the database dropped (restart, failover) is replaced before use, and with it every older connection of
    the pool, so the service recovers by itself. A new connection is not pinged (as pool_pre_ping)."""
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_conn, record):
        record.info["pb_fresh"] = True

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):
        if record.info.pop("pb_fresh", False) or getattr(_unpinged, "on", False):
            return
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as e:
            if dialect.is_disconnect(e, dbapi_conn, None):
                raise InvalidatePoolError() from e  # the pool connects again (SQLAlchemy's pre-ping does so)
            raise


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see "begin" below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        sql = "BEGIN IMMEDIATE" if conn.get_execution_options().get("pb_write_lock", False) else "BEGIN"
        # On the driver's connection: through exec_driver_sql this cost a whole SQLAlchemy execution (a
        # tenth of a ballot's CPU). A driver error is SQLAlchemy's own, as there (a busy database: 503).
        dbapi_conn = conn.connection.dbapi_connection
        try:
            dbapi_conn.execute(sql)
        except sqlite3.Error as e:
            raise DBAPIError.instance(sql, (), e, sqlite3.Error, dialect=conn.dialect) from e


class Database:
    """One engine and its sessions. The Flask app and the CLI each hold one."""

    def __init__(self, url: str | None = None):
        self.url = normalise_url(url or database_url())
        self.engine = make_engine(self.url)
        self._write_engine = self.engine.execution_options(pb_write_lock=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def write_engine(self) -> Engine:
        """The engine whose transactions take the write lock first on SQLite (BEGIN IMMEDIATE)."""
        return self._write_engine

    def ping(self) -> None:
        """Ask the database one trivial question; raises when it does not answer (health checks)."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def session(self):
        """A unit of work: committed when the block ends, rolled back on error."""
        return _unit_of_work(self.engine)

    def write_session(self):
        """Like session(), but takes the write lock first on SQLite (BEGIN IMMEDIATE)."""
        return _unit_of_work(self._write_engine)

    def session_object(self) -> Session:
        """A session whose commit and close the caller owns (the web layer's unit of work per request)."""
        return Session(self.engine, expire_on_commit=False)

    def write_session_object(self) -> Session:
        """Like session_object(), taking the write lock first on SQLite."""
        return Session(self._write_engine, expire_on_commit=False)

    def upgrade(self) -> None:
        upgrade(self.url)

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _unit_of_work(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database to the latest schema (the run command does this on every start)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)
