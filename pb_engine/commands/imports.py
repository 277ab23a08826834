"""`pb-engine import-pabulib FILE_OR_FOLDER… [--city SLUG] [--replace]`: published rounds into the database."""

from __future__ import annotations

import sys

import click

from pb_engine import pabulib
from pb_engine.commands import paused_gc
from pb_engine.commands.allocate import expand
from pb_engine.errors import PBError, PabulibError
from pb_engine.store.db import Database

PROGRESS_FROM = 10_000  # ballots: a bar below this would only flicker


@click.command("import-pabulib")
@click.argument("paths", nargs=-1, required=True)
@click.option("--city", "city", default=None, help="import into this city (slug) instead of META unit's")
@click.option("--replace", is_flag=True, help="replace a district imported earlier from a different file")
@click.option("--database", envvar="PB_DATABASE_URL", default=None)
def import_pabulib(paths, city, replace, database):
    """Import each Pabulib FILE (or the .pb files of a FOLDER): projects, votes, voters' columns, `selected`.

    A file that cannot be read is refused whole, naming its line; the others still import,
    and the exit code is 1 at the end if any failed."""
    from pb_engine.importer import import_file

    files = expand(paths)
    db = Database(database)
    failed = 0
    try:
        for path in files:
            try:
                bar = None

                def step(n, total):  # a bar only on long imports
                    nonlocal bar
                    if bar is None and total >= PROGRESS_FROM:
                        bar = click.progressbar(length=total, label=f"importing {path.name}", file=sys.stderr)
                        bar.__enter__()
                    if bar is not None:
                        bar.update(n)

                try:
                    with paused_gc():
                        result = import_file(db, path, city=city, replace=replace, progress=step)
                finally:
                    if bar is not None:
                        bar.__exit__(None, None, None)
            except PabulibError as e:
                failed += 1
                click.echo(f"error: {e.message} (file not imported)", err=True)
                continue
            except PBError as e:
                failed += 1
                click.echo(f"error: {e.message}", err=True)
                continue
            click.echo(result.line())
            if result.status != "unchanged":
                for line in pabulib.warning_lines(result.warnings):
                    click.echo(f"  warning: {line}")
    finally:
        db.dispose()
    if failed:
        click.echo(f"{failed} of {len(files)} file(s) not imported", err=True)
        sys.exit(1)


commands = [import_pabulib]
