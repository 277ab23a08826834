"""`pb-engine rules [--json]`: the registered rules and their options, from their descriptors."""

from __future__ import annotations

import json

import click

from pb_engine.allocation.registry import ALL_KINDS, descriptors_json, rules


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
            default = "" if opt["default"] is None else f" (default {_show(opt['default'])})"
            lines.append(f"  --{o.name.replace('_', '-')} {kind}{default}: {o.help}")
        if not r.options:
            lines.append("  no options")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def markdown(rule_list=None) -> str:
    """The rules as a Markdown list, for the README (a test keeps the README's copy equal to it)."""
    lines = []
    for r in rule_list if rule_list is not None else rules():
        kinds = "all ballot kinds" if set(r.ballot_kinds) == set(ALL_KINDS) else ", ".join(r.ballot_kinds)
        lines.append(f"- `{r.id}`, {r.name}{' (exhaustive)' if r.exhaustive else ''}: {r.description} "
                     f"Takes {kinds}.")
        for o in r.options:
            opt = o.to_json()
            values = " \\| ".join(f"`{c}`" for c in o.choices) if o.choices else o.type
            default = "" if opt["default"] is None else f", default `{_show(opt['default'])}`"
            lines.append(f"  - `{o.name}` ({values}{default}): {o.help}")
    return "\n".join(lines)


def _show(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@click.command("rules")
@click.option("--json", "as_json", is_flag=True, help="the descriptors as JSON (what GET /api/v1/rules serves)")
@click.option("--markdown", "as_markdown", is_flag=True, help="as a Markdown list (the README's rules section)")
def rules_cmd(as_json, as_markdown):
    """List the allocation rules, their ballot kinds and options (the flags of `pb-engine allocate`)."""
    if as_json:
        click.echo(json.dumps(descriptors_json(), ensure_ascii=False, indent=2))
    elif as_markdown:
        click.echo(markdown())
    else:
        click.echo(render())


commands = [rules_cmd]
