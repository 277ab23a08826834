"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL.

Without this a column added to pb_engine/store/tables.py but forgotten in a migration (or the other
way round) shows up only on a real database, as a failed insert or a missing index.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import pb_engine.store.tables  # noqa: F401  (registers the tables)
from pb_engine.store.unmodelled import include_name


def _differences(db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name, "compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def _shown(diff) -> str:
    return "\n".join(repr(d) for d in diff)


def _fk_key(fk):
    return (fk.parent.name, tuple(c.name for c in fk.columns), fk.referred_table.name,
            tuple(e.column.name for e in fk.elements))


def _without_sqlite_reflection_gaps(db, diff):
    """SQLAlchemy's SQLite reflection loses ON DELETE of a column added by ALTER TABLE (0007 adds three
    that way so as not to rebuild `proposal` and lose its search triggers). Such a remove/add pair is
    dropped from the diff here and the ON DELETE rule checked with SQLite's own PRAGMA instead."""
    if db.engine.dialect.name != "sqlite":
        return diff
    removed = {_fk_key(d[1]): d for d in diff if d[0] == "remove_fk"}
    added = {_fk_key(d[1]): d for d in diff if d[0] == "add_fk"}
    kept = [d for d in diff if d[0] not in ("remove_fk", "add_fk")]
    kept += [d for k, d in removed.items() if k not in added] + [d for k, d in added.items() if k not in removed]
    with db.engine.connect() as conn:
        for key, (_, fk) in added.items():
            if key not in removed:
                continue
            table, columns, target, _ = key
            rows = conn.exec_driver_sql(f"PRAGMA foreign_key_list({table})").fetchall()
            on_delete = {(r[2], r[3]): r[6] for r in rows}
            want = (fk.ondelete or "NO ACTION").upper()
            got = on_delete.get((target, columns[0]))
            if got != want:
                kept.append(("ondelete", table, columns, target, got, want))
    return kept


def test_the_migrated_schema_matches_the_models(db):
    diff = _without_sqlite_reflection_gaps(db, _differences(db))
    assert diff == [], "migrations and tables.py disagree:\n" + _shown(diff)
