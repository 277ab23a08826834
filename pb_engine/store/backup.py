"""Backups of the whole platform or of one round, in a format that no database owns.

A backup file is gzip'd JSON lines (format `pb_engine-backup`, version 1):

    {"format": "pb_engine-backup", "format_version": 1, "alembic_revision": "...", "scope": {...}, ...}
    {"table": "city", "columns": ["id", "slug", ...]}
    [1, "taipei", ...]                      one JSON array per row, in the columns' order
    ...                                     (next table: its own {"table": ...} line, then its rows)
    {"end": true, "rows": {"city": 1, ...}} the row counts: a cut-off file is refused

Tables come in dependency order (parents first) and rows by primary key. Values are JSON: date-times
as ISO 8601 with their offset (UTC), bytes as base64, JSON columns as they are. The file names the
schema (Alembic revision) it was taken from; a restore into a database at another revision is
refused, so a column is never guessed. The tables are the models' (pb_engine/store/tables.py):
search indexes and other derived objects are rebuilt by the database on insert.

Scope `platform`: every row of every table; restored only into an empty platform (no city), with
every id kept. Scope `round`: one round and every row that hangs from it (districts, phases,
proposals with their comments and history, access codes, ballots, outcomes, the round's audit
events, ...) plus its city and the city's own rows (categories, staff, residents). A round restores
into a platform where its city exists (the city's rows are matched by their unique keys: slug,
username, token) or does not (they are created), and the round's rows keep their ids: project ids
are inside ballots, published outcomes and .pb exports, so keeping them is what makes a restored
round give the same outcome and the same ballot digest. A restore that would clash (the round is
there already, or its ids or unique values are taken) is refused whole, naming the clash.

A backup holds everything needed to run again, so it is as secret as the database: the rounds'
voter secrets, access-code and token hashes, password hashes.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any, Iterator

from sqlalchemy import Date, DateTime, Integer, LargeBinary, Table, func, inspect, or_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator

FORMAT = "pb_engine-backup"
FORMAT_VERSION = 1
BATCH = 1000


class BackupError(Exception):
    """A backup that cannot be read or restored here; the message says why and what to do."""


@dataclass
class Report:
    scope: dict
    rows: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        total = sum(self.rows.values())
        tables = ", ".join(f"{t} {n}" for t, n in self.rows.items() if n)
        return f"{total} rows ({tables})"


def _tables() -> list[Table]:
    from sqlmodel import SQLModel

    import pb_engine.store.tables  # noqa: F401  (the models register their tables)

    return list(SQLModel.metadata.sorted_tables)


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from pb_engine.store.db import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


# --- values --------------------------------------------------------------------------------------

def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decoder(column):
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, DateTime):
        return datetime.fromisoformat
    if isinstance(kind, Date):
        return date.fromisoformat
    if isinstance(kind, LargeBinary):
        return base64.b64decode
    return None


# --- which rows a round holds --------------------------------------------------------------------

def _fk_columns(table: Table) -> list[tuple[Any, Table]]:
    return [(fk.parent, fk.column.table) for fk in table.foreign_keys]


def _round_selection(tables: list[Table], round_id: int, city_id: int) -> tuple[dict[str, Any], list[str]]:
    """Per table, the WHERE clause of the rows a round backup holds; and which tables are the round's own."""
    by_name = {t.name: t for t in tables}
    rnd, city = by_name["pb_round"], by_name["city"]
    own: dict[str, Any] = {"pb_round": rnd.c.id == round_id}
    for t in tables:  # parents first: a table hangs from the round when a foreign key leads to a round table
        if t.name in own:
            continue
        links = [col.in_(select(parent.c.id).where(own[parent.name]))
                 for col, parent in _fk_columns(t) if parent.name in own and parent is not t]
        if links:
            own[t.name] = or_(*links)
    where: dict[str, Any] = {"city": city.c.id == city_id}
    for t in tables:  # the city's own rows (categories, staff, residents): matched or created on restore
        if t.name in own or t.name == "city":
            continue
        to_city = [col for col, parent in _fk_columns(t) if parent is city]
        if to_city:
            where[t.name] = or_(*(col == city_id for col in to_city))
    where.update(own)
    return where, list(own)


# --- writing -------------------------------------------------------------------------------------

def _lookup_round(conn: Connection, tables: dict[str, Table], city_slug: str, round_slug: str) -> tuple[int, int]:
    city, rnd = tables["city"], tables["pb_round"]
    row = conn.execute(select(city.c.id, rnd.c.id).join(rnd, rnd.c.city_id == city.c.id)
                       .where(city.c.slug == city_slug, rnd.c.slug == round_slug)).first()
    if row is None:
        raise BackupError(f"no round {city_slug}/{round_slug} in this database")
    return row[0], row[1]


def dump(engine: Engine, out: IO[bytes], *, round_ref: str | None = None, now: datetime | None = None,
         engine_version: str = "") -> Report:
    """Write a backup of the platform, or of one round (`round_ref` = "city/round"), to `out` (binary)."""
    tables = _tables()
    by_name = {t.name: t for t in tables}
    with engine.connect() as conn, gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")  # one snapshot for every table
        writer = io.TextIOWrapper(gz, encoding="utf-8", newline="\n")
        revision = current_revision(conn)
        if revision is None:
            raise BackupError("the database has no schema (no alembic_version table): nothing to back up")
        if round_ref:
            city_slug, _, round_slug = round_ref.partition("/")
            if not city_slug or not round_slug:
                raise BackupError(f"--round: give CITY/ROUND, e.g. taipei/2026 (got {round_ref!r})")
            city_id, round_id = _lookup_round(conn, by_name, city_slug, round_slug)
            where, own = _round_selection(tables, round_id, city_id)
            scope = {"kind": "round", "city": city_slug, "round": round_slug, "round_tables": own}
        else:
            where, scope = {}, {"kind": "platform"}
        report = Report(scope)
        header = {"format": FORMAT, "format_version": FORMAT_VERSION, "alembic_revision": revision,
                  "engine_version": engine_version, "source_dialect": engine.dialect.name,
                  "created_at": (now or datetime.now().astimezone()).isoformat(), "scope": scope,
                  "tables": [t.name for t in tables if not round_ref or t.name in where]}
        writer.write(json.dumps(header, ensure_ascii=False) + "\n")
        for t in tables:
            if round_ref and t.name not in where:
                continue
            cols = _columns(conn, t)
            writer.write(json.dumps({"table": t.name, "columns": [c.name for c in cols]}) + "\n")
            query = select(*cols)
            if t.name in where:
                query = query.where(where[t.name])
            pk = list(t.primary_key.columns)
            query = query.order_by(*pk)
            n = 0
            for row in conn.execution_options(stream_results=True, yield_per=BATCH).execute(query):
                writer.write(json.dumps([_encode(v) for v in row], ensure_ascii=False, separators=(",", ":")) + "\n")
                n += 1
            report.rows[t.name] = n
        writer.write(json.dumps({"end": True, "rows": report.rows}) + "\n")
        writer.flush()
        writer.detach()
    return report


# --- reading -------------------------------------------------------------------------------------

def _lines(src: IO[bytes]) -> Iterator[Any]:
    try:
        with gzip.GzipFile(fileobj=src, mode="rb") as gz:
            for raw in io.TextIOWrapper(gz, encoding="utf-8"):
                yield json.loads(raw)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"not a readable pb_engine backup (gzip'd JSON lines): {exc}") from exc


def read_header(src: IO[bytes]) -> dict:
    first = next(_lines(src), None)
    _check_header(first)
    return first


def _check_header(header: Any) -> None:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"not a pb_engine backup: the first line does not say format {FORMAT!r}")
    if header.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"backup format version {header.get('format_version')!r}; this pb_engine reads "
                          f"version {FORMAT_VERSION}")


def _tables_of(src: IO[bytes]) -> Iterator[tuple[str, list[str], list[list]]]:
    """(table, columns, rows) per table of the file, checked against its end line."""
    lines = _lines(src)
    _check_header(next(lines, None))
    table, columns, rows, counts = None, [], [], {}
    for item in lines:
        if isinstance(item, list):
            if table is None:
                raise BackupError("a row before any table line")
            rows.append(item)
        elif isinstance(item, dict) and "table" in item:
            if table is not None:
                counts[table] = len(rows)
                yield table, columns, rows
            table, columns, rows = item["table"], item["columns"], []
        elif isinstance(item, dict) and item.get("end"):
            if table is not None:
                counts[table] = len(rows)
                yield table, columns, rows
            if item.get("rows") != counts:
                raise BackupError("the backup's row counts do not match its end line: the file is damaged")
            return
    raise BackupError("the backup ends before its end line: the file was cut off")


# --- restoring -----------------------------------------------------------------------------------

def restore(engine: Engine, src_path: str) -> Report:
    """Restore a backup file into the database; everything or nothing (one transaction)."""
    from pb_engine.store.db import upgrade

    with open(src_path, "rb") as fh:
        header = read_header(fh)
    revision = header["alembic_revision"]
    with engine.connect() as conn:
        target = current_revision(conn)
    if target is None:
        upgrade(engine.url.render_as_string(hide_password=False), revision)  # an empty database: make the dump's schema
        target = revision
    if target != revision:
        raise BackupError(f"the backup is of schema revision {revision}, this database is at {target}: restore "
                          f"into a database at {revision} (`pb-engine db upgrade --revision {revision}` on an "
                          f"empty one), then `pb-engine db upgrade`")
    tables = {t.name: t for t in _tables()}
    report = Report(header["scope"])
    with engine.begin() as conn, open(src_path, "rb") as fh:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")  # self-references are set after their rows
        try:
            if header["scope"]["kind"] == "platform":
                _restore_platform(conn, tables, _tables_of(fh), report)
            else:
                _restore_round(conn, tables, header["scope"], _tables_of(fh), report)
        except IntegrityError as exc:
            raise BackupError(f"the restore would clash with rows already there, so nothing was restored: "
                              f"{str(exc.orig).splitlines()[0]}") from exc
        _reset_sequences(conn, tables.values(), report)
    return report


def _columns(conn: Connection, t: Table) -> list:
    """The model's columns that the database has (derived columns such as a search vector are left out)."""
    there = {c["name"] for c in inspect(conn).get_columns(t.name)}
    return [c for c in t.columns if c.name in there]


def _known(conn: Connection, tables: dict[str, Table], name: str, columns: list[str]) -> Table:
    t = tables.get(name)
    if t is None or set(columns) != {c.name for c in _columns(conn, t)}:
        raise BackupError(f"table {name} of the backup does not match this pb_engine's models at the same revision")
    return t


def _rows(t: Table, columns: list[str], rows: list[list]) -> list[dict]:
    decoders = {c: _decoder(t.c[c]) for c in columns}
    out = []
    for r in rows:
        d = {}
        for c, v in zip(columns, r):
            dec = decoders[c]
            d[c] = dec(v) if dec is not None and v is not None else v
        out.append(d)
    return out


def _self_refs(t: Table) -> list[str]:
    return [col.name for col, parent in _fk_columns(t) if parent is t]


def _insert(conn: Connection, t: Table, rows: list[dict]) -> None:
    """Insert rows with their ids; self-references (a merged duplicate, a superseded outcome) afterwards."""
    later = _self_refs(t)
    pending = []
    for i in range(0, len(rows), BATCH):
        batch = rows[i:i + BATCH]
        if later:
            pending += [(r["id"], {c: r[c] for c in later}) for r in batch if any(r[c] is not None for c in later)]
            batch = [{**r, **{c: None for c in later}} for r in batch]
        conn.execute(t.insert(), batch)
    for row_id, values in pending:
        conn.execute(update(t).where(t.c.id == row_id).values(**values))


def _restore_platform(conn, tables, items, report: Report) -> None:
    cities = conn.execute(select(tables["city"].c.slug)).scalars().all()
    if cities:
        raise BackupError(f"a whole-platform backup restores into an empty platform; this one holds "
                          f"{len(cities)} cities ({', '.join(sorted(cities)[:5])}): nothing was restored. Restore "
                          "it into a new database, or back up and restore single rounds")
    for name, columns, rows in items:
        t = _known(conn, tables, name, columns)
        _insert(conn, t, _rows(t, columns, rows))
        report.rows[name] = len(rows)


def _natural_key(t: Table) -> list[str] | None:
    """The first unique key of a table other than its id: how a city's row is found in another platform."""
    for c in t.columns:
        if c.unique and not c.primary_key:
            return [c.name]
    for cons in t.constraints:
        if cons.__class__.__name__ == "UniqueConstraint":
            return [c.name for c in cons.columns]
    return None


def _restore_round(conn, tables, scope: dict, items, report: Report) -> None:
    city_slug, round_slug = scope["city"], scope["round"]
    own = set(scope["round_tables"])
    city_t, round_t = tables["city"], tables["pb_round"]
    there = conn.execute(select(round_t.c.id).join(city_t, city_t.c.id == round_t.c.city_id)
                         .where(city_t.c.slug == city_slug, round_t.c.slug == round_slug)).first()
    if there is not None:
        raise BackupError(f"round {city_slug}/{round_slug} already exists in this platform: nothing was restored "
                          "(a round is restored only where it is missing)")
    ids: dict[str, dict[Any, Any]] = {}  # table -> id in the file -> id here (the city's rows may move)
    kept: dict[str, set] = {}           # the round's tables -> the ids the file holds (kept as they are)
    for name, columns, rows in items:
        t = _known(conn, tables, name, columns)
        data = _rows(t, columns, rows)
        if name in own:
            kept[name] = {r["id"] for r in data}
            taken = _taken_ids(conn, t, [r["id"] for r in data])
            if taken:
                raise BackupError(f"{name} ids {', '.join(map(str, taken[:5]))}{' …' if len(taken) > 5 else ''} "
                                  f"are taken in this platform: round {city_slug}/{round_slug} keeps its ids (they "
                                  "are in its ballots and published outcome), so it cannot be restored here")
            for r in data:
                _remap(conn, t, r, ids, report, kept)
            _insert(conn, t, data)
            report.rows[name] = len(data)
        else:
            ids[name] = {}
            created = 0
            key = _natural_key(t)
            for r in data:
                _remap(conn, t, r, ids, report, kept)
                existing = None
                if key:
                    existing = conn.execute(select(t.c.id).where(*(t.c[k] == r[k] for k in key))).scalar()
                if existing is not None:
                    ids[name][r["id"]] = existing
                    continue
                old = r["id"]
                if _taken_ids(conn, t, [old]):
                    del r["id"]  # the id is another row's here: the database gives a new one
                new = conn.execute(t.insert().values(**r).returning(t.c.id)).scalar()
                ids[name][old] = new
                created += 1
            report.rows[name] = created
            if created < len(data):
                report.notes.append(f"{name}: {len(data) - created} of {len(data)} already here, matched by "
                                    f"{'+'.join(key or [])}")


def _taken_ids(conn, t: Table, wanted: list) -> list:
    taken = []
    for i in range(0, len(wanted), BATCH):
        chunk = wanted[i:i + BATCH]
        taken += conn.execute(select(t.c.id).where(t.c.id.in_(chunk)).order_by(t.c.id)).scalars().all()
    return taken


def _remap(conn, t: Table, row: dict, ids: dict, report: Report, kept: dict) -> None:
    """Foreign keys to the city's rows follow them to their ids here; one to a row outside the backup
    (an idea borrowed from another city's proposal) stays when that row is here, else becomes empty."""
    for col, parent in _fk_columns(t):
        v = row.get(col.name)
        if v is None:
            continue
        if parent.name in kept or parent.name not in ids:
            if v in kept.get(parent.name, ()) or parent is t and v in {row.get("id")}:
                continue
            if parent is t and parent.name not in kept:
                continue  # the table's own rows are being read: checked once they are all known
            if conn.execute(select(parent.c.id).where(parent.c.id == v)).first() is None:
                if not col.nullable:
                    raise BackupError(f"{t.name}.{col.name} = {v} names a {parent.name} row that is neither in "
                                      "the backup nor here")
                row[col.name] = None
                report.notes.append(f"{t.name} {row.get('id')}: {col.name} {v} is not here; left empty")
            continue
        if v in ids[parent.name]:
            row[col.name] = ids[parent.name][v]
        elif col.nullable:
            row[col.name] = None
        else:
            raise BackupError(f"{t.name}.{col.name} = {v} names a {parent.name} row that is not in the backup")


def _reset_sequences(conn, tables, report: Report) -> None:
    """PostgreSQL's id sequences past the restored ids (SQLite takes max(id) + 1 by itself)."""
    if conn.dialect.name != "postgresql":
        return
    for t in tables:
        pk = list(t.primary_key.columns)
        if len(pk) != 1 or pk[0].name != "id" or not isinstance(pk[0].type, Integer):
            continue
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{t.name}\"', 'id'), "
                          f"COALESCE((SELECT MAX(id) FROM \"{t.name}\"), 1), "
                          f"(SELECT MAX(id) IS NOT NULL FROM \"{t.name}\"))"))


def count_rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in _tables()}
