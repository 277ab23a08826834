"""`pb-engine pabulib validate|format`: check .pb files, or rewrite them in canonical form."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pb_engine import pabulib
from pb_engine.commands import paused_gc
from pb_engine.commands.allocate import expand
from pb_engine.errors import PabulibError


@click.group("pabulib")
def pabulib_group() -> None:
    """Pabulib .pb files."""


@pabulib_group.command("validate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--strict", is_flag=True,
              help="refuse a vote that names a project twice (read by default: counted once, points summed, "
                   "first rank kept, with a warning)")
def validate(paths, strict):
    """Parse each FILE (or the .pb files of a directory); print a summary or the error with its line.

    What the reader accepted but repaired or noticed is listed as warnings (line, voter, project)."""
    files = expand(paths)
    bad = 0
    for path in files:
        try:
            with paused_gc():
                pb = pabulib.parse_path(path, strict=strict)
        except PabulibError as e:
            bad += 1
            click.echo(f"error: {e.message}", err=True)
            continue
        inst = pb.instance
        click.echo(f"ok: {path}: {pb.vote_type.value}, {len(inst.projects)} projects, {len(pb.profile)} ballots, "
                   f"budget {pabulib.format_number(inst.budget)}, rule {pb.meta.get('rule', '-')}")
        for key, count in (("num_projects", len(inst.projects)), ("num_votes", len(pb.profile))):
            declared = pb.meta.get(key)
            if declared is not None and declared.strip() != str(count):
                click.echo(f"  warning: META {key} is {declared} but the file holds {count}")
        for line in pabulib.warning_lines(pb.warnings):
            click.echo(f"  warning: {line}")
    if bad:
        click.echo(f"{bad} of {len(files)} file(s) invalid", err=True)
        sys.exit(1)


@pabulib_group.command("format")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.argument("target", type=click.Path(dir_okay=False), required=False)
@click.option("--crlf/--lf", default=None, help="line endings (default: as in SOURCE)")
def format_cmd(source, target, crlf):
    """Rewrite SOURCE with every line formatted from its content (to TARGET, or stdout)."""
    try:
        with paused_gc():
            pb = pabulib.parse_path(source)
    except PabulibError as e:
        raise click.ClickException(e.message) from None
    if crlf is not None:
        pb = pb.with_(newline="\r\n" if crlf else "\n")
    text = pabulib.dumps(pb, preserve=False)
    if target:
        Path(target).write_bytes(text.encode("utf-8"))
    else:
        click.echo(text, nl=False)


commands = [pabulib_group]
