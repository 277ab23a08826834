"""`pb-engine import-pabulib FILE_OR_FOLDER… [--city SLUG] [--replace]`: published rounds into the database."""

from __future__ import annotations

import os
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
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="PostgreSQL: import several files at once, one process and connection each, the files of one "
                   "city in one process (default: every core). SQLite has one writer: one process (README)")
def import_pabulib(paths, city, replace, database, processes):
    """Import each Pabulib FILE (or the .pb files of a FOLDER): projects, votes, voters' columns, `selected`.

    A file that cannot be read is refused whole, naming its line; the others still import,
    and the exit code is 1 at the end if any failed."""
    from pb_engine.importer import import_file

    files = expand(paths)
    db = Database(database)
    # SQLite: one process. Its single writer leaves only the parsing to share out, and a parsed file costs
    # more to send between processes than to parse (Warszawa 2026: parse 0.9 s, pickle and unpickle 3.5 s);
    # measured on 13 files: 3.7 s in one process, 7.0 s parsing in two (README, "Importing").
    if processes is None:
        processes = os.cpu_count() or 1
    if db.dialect == "postgresql" and processes > 1 and len(files) > 1:
        try:
            failed = _parallel_postgres(db, files, city, replace, processes)
        finally:
            db.dispose()
        if failed:
            click.echo(f"{failed} of {len(files)} file(s) not imported", err=True)
            sys.exit(1)
        return
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


def _report(path, result, error) -> bool:
    """One file's lines, as the sequential import prints them; True when it failed."""
    if error:
        click.echo(f"error: {error}", err=True)
        return True
    click.echo(result.line())
    if result.status != "unchanged":
        for line in pabulib.warning_lines(result.warnings):
            click.echo(f"  warning: {line}")
    return False


def _error_text(e: Exception) -> str:
    if isinstance(e, PabulibError):
        return f"{e.message} (file not imported)"
    return e.message if isinstance(e, PBError) else f"{type(e).__name__}: {e}"


def _import_group(url: str, paths: list[str], city, replace) -> list:
    """A worker process's part on PostgreSQL: whole imports of one city's files, on its own connection."""
    from pb_engine.importer import import_file

    db = Database(url)
    out = []
    try:
        for path in paths:
            try:
                with paused_gc():
                    out.append((path, import_file(db, path, city=city, replace=replace), ""))
            except PBError as e:
                out.append((path, None, _error_text(e)))
    finally:
        db.dispose()
    return out


def _parallel_postgres(db, files, city, replace, processes) -> int:
    from pb_engine import jobs
    from pb_engine.importer import meta_unit

    groups: dict[str, list[str]] = {}
    for p in files:  # one city per process: two processes never race to create the same city or round
        groups.setdefault(city or meta_unit(p) or str(p), []).append(str(p))
    items = sorted(groups.values(), key=lambda g: -sum(os.path.getsize(p) for p in g))
    failed = 0
    with click.progressbar(length=len(files), label="importing", file=sys.stderr) as bar:
        for _i, results, error in jobs.fan_out("pb_engine.commands.imports:_import_group",
                                               [(db.url, g, city, replace) for g in items], processes=processes):
            if error:  # the process itself failed: every file of its group is reported
                for p in items[_i]:
                    failed += _report(p, None, f"{p}: {error}")
                bar.update(len(items[_i]))
                continue
            for path, result, problem in results:
                failed += _report(path, result, problem)
            bar.update(len(results))
    return failed


commands = [import_pabulib]
