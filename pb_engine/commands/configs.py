"""`pb-engine load-configs PATH`: load or update city configs, one transaction per file."""

from __future__ import annotations

import sys

import click

from pb_engine.config import load_path
from pb_engine.store.db import Database


@click.command("load-configs")
@click.argument("path", default="city_configs", type=click.Path(exists=True))
@click.option("--database-url", envvar="PB_DATABASE_URL", default=None, help="Default: $PB_DATABASE_URL or sqlite:///instance/pb_engine.db")
@click.option("--upgrade/--no-upgrade", default=True, show_default=True, help="Bring the schema up to date first.")
@click.option("--quiet", "-q", is_flag=True, help="Print only failures and the summary.")
def load_configs(path: str, database_url: str | None, upgrade: bool, quiet: bool) -> None:
    """Load or update the city configs in PATH (a .toml file or a directory of them).

    Idempotent: a second run reports every file "unchanged". A bad file is
    refused whole (the message names file, key and problem) and the others
    still load; the exit code is 1 if any file failed.
    """
    db = Database(database_url)
    try:
        if upgrade:
            db.upgrade()
        report = load_path(db, path, actor="cli")
    finally:
        db.dispose()
    for f in report.files:
        if f.status == "failed":
            click.echo(f.line(), err=True)
        elif not quiet:
            click.echo(f.line())
    click.echo(f"load-configs: {report.summary()}", err=not report.ok)
    if not report.ok:
        sys.exit(1)


commands = [load_configs]
