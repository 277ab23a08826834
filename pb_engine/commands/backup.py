"""`pb-engine backup FILE [--round CITY/ROUND]` and `pb-engine restore FILE`: database-neutral backups.

The format (gzip'd JSON lines, versioned, naming its schema revision) is described in
pb_engine/store/backup.py and the README; a backup taken from SQLite restores into PostgreSQL and back.
"""

from __future__ import annotations

import os
import time

import click

from pb_engine import __version__
from pb_engine.store.db import Database

_db_option = click.option("--database-url", envvar="PB_DATABASE_URL", default=None,
                          help="Default: $PB_DATABASE_URL, else sqlite:///instance/pb_engine.db")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--round", "round_ref", metavar="CITY/ROUND", default=None,
              help="Only this round (with its city's staff, residents and categories); default: the whole platform.")
@_db_option
def backup_cmd(file, round_ref, database_url):
    """Write a backup of the whole platform, or of one round, to FILE (gzip'd JSON lines)."""
    from pb_engine.store.backup import BackupError, dump

    db = Database(database_url)
    started = time.monotonic()
    tmp = f"{file}.partial"
    try:
        with open(tmp, "wb") as out:
            report = dump(db.engine, out, round_ref=round_ref, engine_version=__version__)
        os.replace(tmp, file)  # a backup file is complete or absent, never half-written
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
        db.dispose()
    what = f"round {round_ref}" if round_ref else "the whole platform"
    click.echo(f"backup of {what} to {file}: {report.summary()} in {time.monotonic() - started:.2f} s")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@_db_option
def restore_cmd(file, database_url):
    """Restore FILE (from `pb-engine backup`) into the database: a whole platform into an empty one, a round
    where it is missing. Everything or nothing; a clash is refused with its reason."""
    from pb_engine.store.backup import BackupError, restore

    db = Database(database_url)
    started = time.monotonic()
    try:
        report = restore(db.engine, file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    scope = report.scope
    what = f"round {scope['city']}/{scope['round']}" if scope["kind"] == "round" else "the whole platform"
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo(f"restored {what} from {file}: {report.summary()} in {time.monotonic() - started:.2f} s")


commands = [backup_cmd, restore_cmd]
