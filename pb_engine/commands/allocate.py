"""`pb-engine allocate FILE.pb …`: run a rule (or each file's official rule) on Pabulib files."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable

import click

from pb_engine import pabulib
from pb_engine.allocation.instance import Instance
from pb_engine.allocation.official import official
from pb_engine.allocation.selected import SelectedComparison, compare_with_selected, published_selection
from pb_engine.allocation.outcome import Outcome, money_json, number_json
from pb_engine.allocation.registry import all_options, allocate, check_options, rule_ids
from pb_engine.commands import paused_gc, quiet_highs_banner
from pb_engine.errors import PBError, ValidationFailed


def known_rules() -> list[str]:
    return ["official", *rule_ids()]


def expand(paths: Iterable[str]) -> list[Path]:
    """Files as given; directories become their .pb files (recursively, sorted)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*.pb") if q.is_file()))
        else:
            out.append(p)
    return out


def run_file(path: Path, rule: str, options: dict[str, Any]) -> tuple[pabulib.PabulibFile, Outcome]:
    with paused_gc():
        pb = pabulib.parse_path(path)
    if rule == "official":
        outcome = official(pb.instance, pb.profile)
    else:
        outcome = allocate(pb.instance, pb.profile, rule, **options)
    return pb, outcome


def comparison(pb: pabulib.PabulibFile, outcome: Outcome) -> SelectedComparison | None:
    """compare_with_selected, or None when there is nothing to compare (no column, no outcome computed)."""
    published = published_selection(pb.instance)
    if outcome.options.get("computed") is False or published is None:
        return None
    return compare_with_selected(outcome, published)


def result_json(path: Path, pb: pabulib.PabulibFile, outcome: Outcome) -> dict[str, Any]:
    cmp = comparison(pb, outcome)
    data = outcome.to_dict()
    published = published_selection(pb.instance)
    out: dict[str, Any] = {
        "file": str(path),
        "rule": outcome.rule,
        "official_rule": pb.meta.get("rule"),
        "vote_type": pb.vote_type.value,
        "ballots": len(pb.profile),
        "budget": data["budget"],
        "selected": [str(x) for x in outcome.selected],
        "total_cost": data["total_cost"],
        "matches_official": None if cmp is None else cmp.matches,
        "published_selected": None if published is None else list(published.projects),
        "not_published": None if cmp is None else list(cmp.not_selected_in_file),
        "not_funded": None if cmp is None else list(cmp.missing_from_rule),
        "differences": None if cmp is None else [dict(d) for d in cmp.differences],
        "set_aside": None if cmp is None else [dict(d) for d in cmp.set_aside],
        "notes": data["notes"],
        "warnings": [w.to_dict() for w in pb.warnings],
        "options": data["options"],
        "tie_breaking": data["tie_breaking"],
        "engine_version": data["engine_version"],
        "input_hash": data["input_hash"],
        "projects": data["projects"],
    }
    return out


def render_table(path: Path, pb: pabulib.PabulibFile, outcome: Outcome) -> str:
    inst: Instance = pb.instance
    by_id = inst.by_id
    cmp = comparison(pb, outcome)
    marks = {p.id: (p.extra.get("selected") or "").strip() for p in inst.projects}
    has_marks = "selected" in pb.project_columns
    rule_name = outcome.rule
    if outcome.rule == "official":
        rule_name = f"official ({outcome.options.get('official_rule') or pb.meta.get('rule') or 'none'})"
    lines = [
        f"{path}",
        f"  rule {rule_name} · {pb.vote_type.value} · {len(pb.profile)} ballots · {len(inst.projects)} projects"
        f" · budget {_money(inst.budget)}",
    ]
    rows = []
    for r in sorted((r for r in outcome.projects if r.funded), key=lambda r: r.step or 0):
        rows.append((str(r.step or ""), r.id, _money(r.cost), _num(r.score), marks.get(r.id, "") if has_marks else "",
                     by_id[r.id].name))
    if cmp is not None:
        for pid in cmp.missing_from_rule:  # published but not funded here
            r = outcome.result(pid)
            rows.append(("-", pid, _money(r.cost), _num(r.score), marks.get(pid, ""), f"{by_id[pid].name}  [not funded: {r.reason}]"))
    header = ("step", "project", "cost", "score", "published" if has_marks else "", "name")
    if rows:
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header[:-1])]
        fmt = "  ".join(f"{{:{'>' if i in (0, 2, 3) else '<'}{w}}}" for i, w in enumerate(widths))
        lines.append("  " + fmt.format(*header[:-1]) + "  " + header[-1])
        for row in rows:
            name = row[-1] if len(row[-1]) <= 60 else row[-1][:59] + "…"
            lines.append("  " + fmt.format(*row[:-1]) + "  " + name)
    else:
        lines.append("  (no project funded)")
    share = f" ({float(outcome.total_cost / inst.budget):.1%})" if inst.budget else ""
    lines.append(f"  funded {len(outcome.selected)} project(s), total cost {_money(outcome.total_cost)} of "
                 f"{_money(inst.budget)}{share}")
    if outcome.options.get("computed") is False:
        lines.append("  matches official: n/a (no outcome computed, see the notes)")
    elif cmp is None:
        lines.append("  matches official: n/a (the file has no 'selected' column)")
    else:
        lines.append(_comparison_line(cmp))
    lines.extend(f"  note: {n}" for n in outcome.notes)
    if cmp is not None:
        lines.extend(f"  note: {_set_aside_text(d)}" for d in cmp.set_aside)
    return "\n".join(lines)


def _comparison_line(cmp: SelectedComparison) -> str:
    """The comparison's differences, worded (they are codes and project ids)."""
    if cmp.matches:
        return f"  matches official: yes ({len(cmp.published)} published project(s))"
    parts = []
    if cmp.not_selected_in_file:
        parts.append(f"funded here but not published: {', '.join(cmp.not_selected_in_file)}")
    if cmp.missing_from_rule:
        parts.append(f"published but not funded here: {', '.join(cmp.missing_from_rule)}")
    return "  matches official: NO — " + "; ".join(parts)


_MARKS = {
    "2": "funded outside the plain rule (e.g. the 80% rule or a counting error; see the file's comment)",
    "3": "funded from additional funds (e.g. money left in other districts), whose amount the file does not give",
}


def _set_aside_text(d) -> str:
    meaning = _MARKS.get(d["mark"], "a mark the Pabulib format does not define")
    return f"project {d['project']} is marked selected={d['mark']!r}: {meaning}; not compared"


def _money(x) -> str:
    v = money_json(Fraction(x))
    if isinstance(v, int):
        return f"{v:,}".replace(",", " ")
    return str(v)


def _num(x) -> str:
    return "" if x is None else str(number_json(x))


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def rule_flags() -> list[click.Option]:
    """One flag per option name of the registered rules, from their descriptors (`pb-engine rules`)."""
    out = []
    for name, takers in all_options().items():
        first = takers[0][1]
        by_help: dict[str, list[str]] = {}   # rules that word the option alike are listed together
        for r, o in takers:
            by_help.setdefault(o.help, []).append(r.id)
        help_text = "; ".join(f"[{', '.join(ids)}] {text}" for text, ids in by_help.items())
        if first.type == "boolean":
            out.append(click.Option([f"{flag(name)}/--no-{name.replace('_', '-')}", name], default=None,
                                    help=help_text))
            continue
        if first.type == "choice":
            choices = list(dict.fromkeys(c for _r, o in takers for c in o.choices))
            kind: Any = click.Choice(choices)
        else:
            kind = click.INT if first.type == "integer" else click.STRING
        out.append(click.Option([flag(name), name], type=kind, default=None, help=help_text,
                                metavar="N" if first.type in ("number", "integer") else None))
    return out


class RuleFlagsCommand(click.Command):
    """A command whose rule flags are read from the registry when used, so a rule registered later has its flags."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = [*self.params, *rule_flags()]
        help_option = self.get_help_option(ctx)
        return params + ([help_option] if help_option is not None else [])


@click.command("allocate", cls=RuleFlagsCommand)
@click.argument("paths", nargs=-1, required=True)
@click.option("--rule", "rule", required=True, metavar="RULE",
              help="a rule id (see `pb-engine rules`) or 'official' for each file's own rule")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line and file")
def allocate_cmd(paths, rule, as_json, **rule_options):
    """Allocate the budget of each Pabulib FILE (or of every .pb file in a directory).

    Prints, per file, the funded projects, their cost, and whether they match the
    file's published `selected` column. A malformed file prints its error and the
    others still run; the exit status is then 1. The rule options are listed by
    `pb-engine rules`; a rule refuses an option it does not take.
    """
    rules = known_rules()
    if rule not in rules:
        raise click.BadParameter(f"unknown rule {rule!r}; known: {', '.join(rules)}", param_hint="--rule")
    options: dict[str, Any] = {k: v for k, v in rule_options.items() if v is not None}
    if rule == "official" and options:
        click.echo(f"warning: --rule official uses each file's own settings; ignoring {', '.join(options)}", err=True)
    elif rule != "official":
        try:
            check_options(rule, options)
        except ValidationFailed as e:
            name = next(iter(e.errors), "rule")
            raise click.BadParameter(e.message, param_hint=flag(name) if name in options else "--rule") from None
    if options.get("solver") == "highs":
        quiet_highs_banner()
    files = expand(paths)
    if not files:
        raise click.UsageError("no .pb files found in the given paths")
    failures = 0
    show_bar = len(files) > 1 and sys.stderr.isatty()
    with click.progressbar(files, label="allocating", file=sys.stderr,
                           item_show_func=lambda p: p.name if p else "") if show_bar else nullcontext(files) as items:
        for i, path in enumerate(items):
            try:
                pb, outcome = run_file(path, rule, options)
            except PBError as e:
                failures += 1
                _report_error(path, e.message, getattr(e, "line", None), as_json)
                continue
            except OSError as e:
                failures += 1
                _report_error(path, str(e), None, as_json)
                continue
            for line in pabulib.warning_lines(pb.warnings):  # what the reader repaired (a repeated project, ...)
                click.echo(f"warning: {path}: {line}", err=True)
            if as_json:
                click.echo(json.dumps(result_json(path, pb, outcome), ensure_ascii=False))
            else:
                if i:
                    click.echo("")
                click.echo(render_table(path, pb, outcome))
    if failures:
        click.echo(f"{failures} of {len(files)} file(s) failed", err=True)
        sys.exit(1)


def _report_error(path: Path, message: str, line: int | None, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"file": str(path), "error": message, "line": line}, ensure_ascii=False))
    text = message if str(path) in message else f"{path}: {message}"
    click.echo(f"error: {text}", err=True)


commands = [allocate_cmd]
