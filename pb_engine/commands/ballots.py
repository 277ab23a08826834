"""`pb-engine ballots export|codes`: anonymous .pb files of a round's ballots; printable access codes."""

from __future__ import annotations

from pathlib import Path

import click

from pb_engine.errors import PBError
from pb_engine.store.db import Database
from pb_engine.store.lookup import city_by_slug, districts_of, round_by_slug


@click.group("ballots")
def ballots_group() -> None:
    """A round's ballots: export them, make access codes."""


def _round(s, ref: str):
    city_slug, _, round_slug = ref.partition("/")
    if not round_slug:
        raise click.BadParameter("give the round as CITY/ROUND, e.g. taipei/2026")
    city = city_by_slug(s, city_slug)
    return city, round_by_slug(s, city, round_slug)


@ballots_group.command("export")
@click.argument("round_ref", metavar="CITY/ROUND")
@click.option("--district", "district_slug", default=None, help="one district (default: every district)")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder for <city>_<round>_<district>.pb files (default: print to stdout)")
@click.option("--database", envvar="PB_DATABASE_URL", default=None)
def export_cmd(round_ref: str, district_slug: str | None, out_dir: Path | None, database: str | None) -> None:
    """Each district's counting ballots as an anonymous Pabulib file."""
    from pb_engine.export import export_district

    db = Database(database)
    try:
        with db.session() as s:
            city, rnd = _round(s, round_ref)
            slugs = [district_slug] if district_slug else [d.slug for d in districts_of(s, rnd)]
            texts = [(slug, export_district(s, rnd, slug)) for slug in slugs]
    except PBError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        db.dispose()
    for slug, text in texts:
        if out_dir is None:
            click.echo(text, nl=False)
        else:
            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / f"{city.slug}_{rnd.slug}_{slug}.pb"
            path.write_text(text, encoding="utf-8")
            click.echo(str(path), err=True)


@ballots_group.command("codes")
@click.argument("round_ref", metavar="CITY/ROUND")
@click.option("--district", "district_slug", required=True)
@click.option("--count", type=click.IntRange(1, 10_000), required=True)
@click.option("--batch", default="")
@click.option("--database", envvar="PB_DATABASE_URL", default=None)
def codes_cmd(round_ref: str, district_slug: str, count: int, batch: str, database: str | None) -> None:
    """Print COUNT new one-time access codes for a district, one a line (shown once, stored hashed)."""
    from pb_engine.voting import generate_access_codes

    db = Database(database)
    try:
        with db.write_session() as s:
            _, rnd = _round(s, round_ref)
            codes = generate_access_codes(s, rnd, district_slug, count, None, batch=batch)
    except PBError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        db.dispose()
    click.echo("\n".join(codes))


commands = [ballots_group]
