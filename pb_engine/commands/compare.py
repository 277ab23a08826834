"""`pb-engine compare taipei/2026,warszawa/2026 [--csv]`: rounds side by side (the API's /api/v1/compare)."""

from __future__ import annotations

import json

import click

from pb_engine.compare import compare as compare_rounds, parse_refs, to_csv
from pb_engine.errors import PBError
from pb_engine.store.db import Database
from pb_engine.store.types import utcnow


@click.command("compare")
@click.argument("rounds")
@click.option("--csv", "as_csv", is_flag=True, help="CSV instead of JSON")
@click.option("--database", envvar="PB_DATABASE_URL", default=None, help="database URL (default: PB_DATABASE_URL)")
def compare(rounds: str, as_csv: bool, database: str | None) -> None:
    """Budget, districts, proposals, voters and turnout, funded projects and spend of ROUNDS (city/round,...)."""
    db = Database(database)
    try:
        refs = parse_refs(rounds)
        with db.session() as s:
            result = compare_rounds(s, refs, utcnow())
    except PBError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        db.dispose()
    click.echo(to_csv(result) if as_csv else json.dumps(result, ensure_ascii=False, indent=2), nl=not as_csv)


commands = [compare]
