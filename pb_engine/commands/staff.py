"""`pb-engine staff create --city C --role manager|reviewer|clerk|viewer --name N`: prints the new token once,
and a one-time link (/console/set-password/<token>, valid 7 days) to set the console password."""

from __future__ import annotations

import click

from pb_engine.errors import PBError
from pb_engine.staff import ROLES, SETUP_DAYS, create_staff, issue_setup_link, list_staff
from pb_engine.store.types import utcnow
from pb_engine.store.db import Database
from pb_engine.store.lookup import city_by_slug


@click.group("staff")
def staff_group() -> None:
    """City staff and their API tokens."""


@staff_group.command("create")
@click.option("--city", required=True, help="city slug, e.g. taipei")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", required=True)
@click.option("--database", envvar="PB_DATABASE_URL", default=None, help="database URL (default: PB_DATABASE_URL)")
def create(city: str, role: str, name: str, database: str | None) -> None:
    """Make a staff member; the token is printed once and only its hash is kept."""
    db = Database(database)
    try:
        with db.session() as s:
            staff, token = create_staff(s, city_by_slug(s, city), name=name, role=role, actor="cli")
            link = f"/console/set-password/{issue_setup_link(s, staff, now=utcnow(), actor='cli')}"
            staff_id = staff.id
    except PBError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        db.dispose()
    click.echo(f"staff {staff_id} ({role}) of {city}: {name}", err=True)
    # The link goes to stderr and the token stays the last line of stdout, so scripts reading it keep working.
    click.echo(f"console password link (once, valid {SETUP_DAYS} days; prefix it with the site's address):", err=True)
    click.echo(link, err=True)
    click.echo("token (shown once, keep it safe):", err=True)
    click.echo(token)


@staff_group.command("list")
@click.option("--city", required=True)
@click.option("--database", envvar="PB_DATABASE_URL", default=None)
def list_(city: str, database: str | None) -> None:
    """Staff of a city (never their tokens)."""
    db = Database(database)
    try:
        with db.session() as s:
            for st in list_staff(s, city_by_slug(s, city)):
                click.echo(f"{st.id}\t{st.role}\t{'active' if st.active else 'inactive'}\t{st.name}")
    except PBError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        db.dispose()


commands = [staff_group]
