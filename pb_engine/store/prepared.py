"""The hot path's statements (a ballot), compiled once per dialect and run on the DBAPI cursor.

Measured in one process (CPU time, SQLite): SQLAlchemy's `Connection.execute` of an already cached
statement costs 30-50 µs of Python a call (execution context, events, result wrapping), the ORM
Session's `connection()`, begin and commit as much again, and sqlite3's own work for a ballot's
statements is a fraction of that: a transaction of two statements took 290 µs through a Session,
200 µs through a Connection and 50 µs on the cursor. So a ballot runs here:

- the statement is still SQLAlchemy Core (the same SQL as through SQLAlchemy), compiled by the
  connection's dialect the first time that dialect meets it and kept;
- its parameters and results go through the column types' own bind and result processors
  (`TypeEngine.dialect_impl(dialect)`: UTCDateTime, JSON), so the values stored and read are
  exactly those of the ORM;
- the transaction is a SQLAlchemy Connection's (`Tx`): its begin (BEGIN IMMEDIATE on SQLite, see
  store.db) and commit are the engine's, with their events, and `Tx.session` is an ORM Session on
  the same connection and transaction for the rare steps that need one (a cold cast setup, a
  paper ballot's audit entry);
- a DBAPI error becomes SQLAlchemy's own exception (IntegrityError, OperationalError … via
  `DBAPIError.instance`), so callers and the error handler (api/errors.py: 503 when the database
  is unreachable) see what they see from SQLAlchemy; a lost connection is invalidated.

The engine's `before_cursor_execute` and `after_cursor_execute` listeners see each statement as
SQLAlchemy would show it (the SQL and the driver's parameters), with `context` None: there is no
execution context (tests/voting/test_cast_cost.py counts a ballot's statements so).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Mapping

from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Select
from sqlmodel import Session

from pb_engine.store.db import without_pre_ping


_REQUIRED = object()


class _Compiled:
    """One statement as one dialect runs it: SQL text, how to build its parameters, how to read its rows."""

    __slots__ = ("sql", "positional", "binds", "results", "varying")

    def __init__(self, stmt, dialect, keys, varying=None):
        compiled = stmt.compile(dialect=dialect, column_keys=keys)
        self.sql = compiled.string
        self.positional = compiled.positional
        names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
        binds = []
        for name in names:
            bp = compiled.binds[name]
            proc = bp.type.dialect_impl(dialect).bind_processor(dialect)
            # A literal in the statement (`status == "on_ballot"`) keeps its value; every other value is ours to give.
            fixed = _REQUIRED if bp.required or bp.callable is not None or keys and name in keys else bp.value
            binds.append((name, proc, fixed))
        self.binds = tuple(binds)
        # The columns a SELECT or a RETURNING gives back (an INSERT's implicit RETURNING of its key is drained).
        columns = stmt.selected_columns if isinstance(stmt, Select) else stmt.exported_columns
        self.results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        self.varying = varying

    def parameters(self, values: Mapping[str, Any]):
        out = []
        for name, proc, fixed in self.binds:
            if name in values:
                value = values[name]
            elif fixed is _REQUIRED:
                raise KeyError(f"no value for the parameter {name!r} of: {self.sql}")
            else:
                value = fixed
            out.append(proc(value) if proc is not None else value)
        if self.positional:
            return tuple(out)
        return {b[0]: v for b, v in zip(self.binds, out)}

    def rows(self, raw_rows) -> list[tuple]:
        procs = self.results
        if not any(procs):
            return [tuple(r) for r in raw_rows]
        if self.varying is None or len(raw_rows) < 2:
            return [tuple(p(v) if p is not None else v for p, v in zip(procs, r)) for r in raw_rows]
        # One row joined to many (a round and its phases): the one row's columns are read once, from the
        # first row, and only the varying columns of the others (a JSON or datetime column is parsed per call).
        first = tuple(p(v) if p is not None else v for p, v in zip(procs, raw_rows[0]))
        out = [first]
        start, stop = self.varying
        vprocs = procs[start:stop]
        for r in raw_rows[1:]:
            out.append(first[:start] + tuple(p(v) if p is not None else v for p, v in zip(vprocs, r[start:stop]))
                       + first[stop:])
        return out


class Prepared:
    """A Core statement (or, per dialect name, a function that builds one) for `Tx` to run.

    `keys`: for an INSERT without values, the columns it sets (each its own parameter, named by the column).
    `varying`: (start, stop) of the result columns that differ between rows, for a SELECT of one row joined
    to many (a round and its phases) whose other columns are the same in every row: those are read from
    the first row only."""

    __slots__ = ("_stmt", "_keys", "_varying", "_by_dialect", "_lock")

    def __init__(self, stmt: Any | Callable[[str], Any], *, keys: tuple[str, ...] | None = None,
                 varying: tuple[int, int] | None = None):
        self._stmt = stmt
        self._keys = list(keys) if keys else None
        self._varying = varying
        self._by_dialect: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def compiled(self, dialect) -> _Compiled:
        c = self._by_dialect.get(dialect.name)
        if c is None:
            with self._lock:
                c = self._by_dialect.get(dialect.name)
                if c is None:
                    stmt = self._stmt(dialect.name) if callable(self._stmt) else self._stmt
                    c = self._by_dialect[dialect.name] = _Compiled(stmt, dialect, self._keys, self._varying)
        return c


def before_commit(exc: BaseException) -> bool:
    """Whether `exc` is a lost connection met by a statement of a Tx, before its COMMIT: the transaction is
    then known not to have been stored, and may be run again on a fresh connection."""
    return bool(getattr(exc, "pb_before_commit", False))


class Tx:
    """One transaction on a pooled connection: prepared statements on its cursor, an ORM session on demand.

    Committed when the with-block ends without an error, rolled back otherwise (like store.db's units
    of work); `write=True` takes SQLite's write lock first (BEGIN IMMEDIATE). `turn`: a context manager
    (store.writer_turn) held from just before the BEGIN to just after the COMMIT or ROLLBACK, so that
    the pool's checkout and return, and the cursor's making and closing, happen outside it. `ping=False`: the
    connection is not pinged before use (store.db.without_pre_ping), for a transaction its caller runs again
    when a statement finds the connection dead (before_commit)."""

    __slots__ = ("db", "write", "turn", "ping", "conn", "trans", "dialect", "cursor", "_session", "_dbapi",
                 "_error", "_before", "_after")

    def __init__(self, db, *, write: bool = True, turn=None, ping: bool = True):
        self.db = db
        self.write = write
        self.turn = turn
        self.ping = ping
        self._session = None

    def __enter__(self) -> "Tx":
        engine = self.db.write_engine if self.write else self.db.engine
        if self.ping:
            self.conn = engine.connect()
        else:
            with without_pre_ping():
                self.conn = engine.connect()
        try:
            self.dialect = self.conn.dialect
            self._dbapi = self.conn.connection.dbapi_connection
            self._error = self.dialect.loaded_dbapi.Error
            # The engine's cursor listeners as they are now, for every statement of this transaction.
            dispatch = self.conn.dispatch
            self._before = tuple(dispatch.before_cursor_execute)  # non-retval ones are wrapped to return both
            self._after = tuple(dispatch.after_cursor_execute)
            self.cursor = self._dbapi.cursor()
            if self.turn is not None:
                self.turn.__enter__()
            try:
                self.trans = self.conn.begin()
            except BaseException:
                self._leave_turn()
                raise
        except BaseException:
            self.conn.close()
            raise
        return self

    def _leave_turn(self) -> None:
        turn, self.turn = self.turn, None
        if turn is not None:
            turn.__exit__(None, None, None)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            try:
                if exc_type is None:
                    if self._session is not None:
                        self._session.flush()
                    try:
                        self.trans.commit()
                    except BaseException:
                        # A COMMIT that failed may leave the database's transaction open (SQLite does, for a
                        # deferred constraint), and SQLAlchemy then counts it over: undone before the turn passes.
                        with contextlib.suppress(Exception):
                            self._dbapi.rollback()
                        raise
                elif self.trans.is_active:
                    self.trans.rollback()
            finally:
                if self.trans.is_active:  # a commit that failed: its transaction is undone before the turn passes
                    self.trans.rollback()
                self._leave_turn()
        finally:
            try:
                if self._session is not None:
                    self._session.close()
                self.cursor.close()
            finally:
                self.conn.close()

    @property
    def session(self) -> Session:
        """An ORM session in this transaction (it neither commits nor rolls back: the Tx does)."""
        if self._session is None:
            # Joined to the Connection's transaction (SQLAlchemy's default, conditional_savepoint): the
            # session's flushes go into it, and its close neither commits nor rolls it back.
            self._session = Session(bind=self.conn, expire_on_commit=False)
        return self._session

    def _run(self, prepared: Prepared, values: Mapping[str, Any]) -> _Compiled:
        c = prepared.compiled(self.dialect)
        params = c.parameters(values)
        if self._session is not None:
            self._session.flush()  # what the ORM holds is written before a statement may read it
        self._execute(c.sql, params)
        return c

    def _execute(self, sql: str, params) -> None:
        """One statement on the cursor, seen by the engine's cursor listeners, its errors SQLAlchemy's."""
        for fn in self._before:
            sql, params = fn(self.conn, self.cursor, sql, params, None, False)
        try:
            self.cursor.execute(sql, params)
        except self._error as e:
            invalidated = self.dialect.is_disconnect(e, self._dbapi, self.cursor)
            if invalidated:
                # Every connection of the pool made before this one was lost is suspect too (a restart): they
                # are replaced at their next checkout, as SQLAlchemy's own handling of a lost connection does.
                self.conn.engine.pool._invalidate(self.conn.connection, e, _checkin=False)
                self.conn.invalidate(e)
            err = DBAPIError.instance(sql, params, e, self._error, connection_invalidated=invalidated,
                                      dialect=self.dialect)
            # Dead before the COMMIT was sent: nothing of this transaction can have been stored (see before_commit).
            err.pb_before_commit = invalidated
            raise err from e
        for fn in self._after:
            fn(self.conn, self.cursor, sql, params, None, False)

    def control(self, sql: str) -> None:
        """A transaction-control statement of ours (SAVEPOINT, ROLLBACK TO, RELEASE: store.group_commit),
        on the cursor, its errors SQLAlchemy's as for every statement; what the ORM session holds is written
        first, and after a ROLLBACK TO the session is dropped (what it thinks it wrote is undone)."""
        if self._session is not None:
            if sql.startswith("ROLLBACK"):
                self._session.close()
                self._session = None
            else:
                self._session.flush()
        self._execute(sql, ())

    def rows(self, prepared: Prepared, **values) -> list[tuple]:
        """Every row the statement returns, its values as the column types read them."""
        c = self._run(prepared, values)
        return c.rows(self.cursor.fetchall())

    def first(self, prepared: Prepared, **values) -> tuple | None:
        c = self._run(prepared, values)
        rows = self.cursor.fetchall()  # all of them: the next statement starts clean on every driver
        return c.rows(rows[:1])[0] if rows else None

    def run(self, prepared: Prepared, **values) -> int:
        """A statement whose rows (if any: an INSERT's implicit RETURNING) are not wanted: the rows it changed."""
        self._run(prepared, values)
        count = self.cursor.rowcount
        if self.cursor.description is not None:
            self.cursor.fetchall()
        return count
