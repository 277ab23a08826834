"""`pb-engine compare taipei/2026,warszawa/2026 [--currency EUR] [--rates FILE] [--csv]`: rounds side by side
(the API's /api/v1/compare, the same figures)."""

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
@click.option("--currency", default=None, help="also show money in this currency (default: the rates file's base)")
@click.option("--rates", "rates_path", envvar="PB_CURRENCY_RATES", default=None,
              help="exchange rates file (default: PB_CURRENCY_RATES, else data/currency_rates.toml)")
@click.option("--database", envvar="PB_DATABASE_URL", default=None, help="database URL (default: PB_DATABASE_URL)")
def compare(rounds: str, as_csv: bool, currency: str | None, rates_path: str | None, database: str | None) -> None:
    """Budget (also in one chosen currency), proposals, voters and turnout, ballot length, project costs,
    categories, and each rule's outcome with fairness figures on the same ballots, of ROUNDS (city/round,...)."""
    from pb_engine.analysis.currency import load_rates

    db = Database(database)
    try:
        refs = parse_refs(rounds)
        rates = load_rates(rates_path)
        with db.session() as s:
            result = compare_rounds(s, refs, utcnow(), rates=rates, currency=currency.upper() if currency else None)
    except PBError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        db.dispose()
    click.echo(to_csv(result) if as_csv else json.dumps(result, ensure_ascii=False, indent=2), nl=not as_csv)


commands = [compare]
