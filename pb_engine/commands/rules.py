"""`pb-engine rules [--json]`: the registered rules and their options, from their descriptors."""

from __future__ import annotations

import json

import click

from pb_engine.allocation.registry import descriptors_json, rules


def render(rule_list=None) -> str:
    """The rules for people: name, id, description, ballot kinds, options with their allowed values."""
    blocks = []
    for r in rule_list if rule_list is not None else rules():
        lines = [f"{r.id}: {r.name}{' (exhaustive)' if r.exhaustive else ''}",
                 f"  {r.description}",
                 f"  ballots: {', '.join(r.ballot_kinds)}"]
        for o in r.options:
            opt = o.to_json()
            kind = "|".join(o.choices) if o.choices else o.type
            default = "" if opt["default"] is None else f" (default {json.dumps(opt['default'])})"
            lines.append(f"  --{o.name.replace('_', '-')} {kind}{default}: {o.help}")
        if not r.options:
            lines.append("  no options")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


@click.command("rules")
@click.option("--json", "as_json", is_flag=True, help="the descriptors as JSON (what GET /api/v1/rules serves)")
def rules_cmd(as_json):
    """List the allocation rules, their ballot kinds and options (the flags of `pb-engine allocate`)."""
    if as_json:
        click.echo(json.dumps(descriptors_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render())


commands = [rules_cmd]
