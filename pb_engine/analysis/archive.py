"""One Pabulib file under chosen rules: the rows `pb-engine analyse` writes (pure: no database, no web).

    rows = analyse_file("Poland_Warszawa_2026.pb", ["greedy", "mes:completion=add1"])

One row per rule (and one for the file's own `selected` outcome, rule "official", when it has one)
with the round's figures (pb_engine.analysis.figures: ballot length and spend, cost distribution,
spending, fairness), the agreement with the official outcome
(pb_engine.allocation.selected.compare_with_selected) and the seconds the rule took. The function
takes a path, or the file's text (so a queue worker on another machine needs no shared folder), and
returns plain values, so it runs the same in a local process and on an RQ worker.

A rule is `ID` or `ID:option=value:option=value` (`mes:completion=add1`); a rule that cannot run on
the file (another ballot kind, a missing option) gives a row with status `skipped` and its reason,
a rule that fails one with status `failed`: one file never stops an archive run.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from pb_engine import pabulib
from pb_engine.allocation import registry
from pb_engine.allocation.selected import compare_with_selected, published_selection
from pb_engine.analysis import figures as fig
from pb_engine.errors import PBError

OFFICIAL = "official"
COLUMNS = (
    "file", "sha256", "country", "unit", "instance", "subunit", "vote_type", "projects", "voters", "budget",
    "rule", "status", "message", "seconds", "parse_seconds",
    "funded", "spend", "spend_share",
    "official_funded", "matches_official", "missing_from_rule", "not_selected_in_file",
    "share_with_funded", "mean_satisfaction_cost", "mean_satisfaction_count", "gini_cost", "gini_count",
    "unapproved_spend_share",
    "ballot_length_mean", "ballot_length_median", "ballot_spend_mean", "cost_median", "largest_cost_share",
)


def parse_rule(text: str) -> tuple[str, dict[str, str]]:
    """`mes:completion=add1` -> ("mes", {"completion": "add1"}); ValueError naming what is wrong."""
    rid, *opts = [part.strip() for part in text.strip().split(":")]
    if rid not in registry.RULES:
        raise ValueError(f"unknown rule {rid!r}; registered: {', '.join(registry.rule_ids())}")
    options = {}
    for opt in opts:
        name, eq, value = opt.partition("=")
        if not eq or not name:
            raise ValueError(f"rule {text!r}: option {opt!r} is not name=value")
        options[name.strip()] = value.strip()
    desc = registry.describe(rid)
    converted = {}
    for name, value in options.items():
        o = desc.option(name)
        if o is None:
            raise ValueError(f"rule {rid}: no option {name!r}; it takes {', '.join(x.name for x in desc.options) or 'none'}")
        if o.type == "boolean":
            converted[name] = value.lower() in ("1", "true", "yes")
        elif o.type == "integer":
            converted[name] = int(value)
        elif o.type == "number":
            from fractions import Fraction

            converted[name] = Fraction(value)
        else:
            converted[name] = value
    registry.check_options(rid, converted)  # ValidationFailed names the option
    return rid, converted


def analyse_file(source: str, rules: list[str], text: str | None = None, label: str | None = None) -> dict:
    """{"file", "sha256", "rows": [{column: value}], "error": ""} for one file (read from `source`, or
    `text` when given; `label` names it in the rows, default its file name). A file that does not parse
    gives no rows and its error."""
    started = time.perf_counter()
    name = label or Path(source).name
    try:
        data = text.encode("utf-8") if text is not None else Path(source).read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        pb = pabulib.parse_text(data.decode("utf-8"), source=name)
    except (PBError, OSError, UnicodeDecodeError) as e:
        return {"file": name, "sha256": "", "rows": [], "error": getattr(e, "message", None) or str(e)}
    parse_seconds = time.perf_counter() - started
    instance, profile = pb.instance, pb.profile
    election = (instance, profile)
    meta = pb.meta
    base = {"file": name, "sha256": sha, "country": meta.get("country", ""), "unit": meta.get("unit", ""),
            "instance": meta.get("instance", ""), "subunit": meta.get("subunit", "") or meta.get("district", ""),
            "vote_type": pb.vote_type.value, "projects": len(instance.projects), "voters": len(profile.ballots),
            "budget": pabulib.format_number(instance.budget), "parse_seconds": round(parse_seconds, 4)}
    length, spend = fig.as_json(fig.ballot_length(election)), fig.as_json(fig.ballot_spend(election))
    costs = fig.as_json(fig.cost_distribution(election))
    base.update({"ballot_length_mean": length["mean"], "ballot_length_median": length["median"],
                 "ballot_spend_mean": spend["mean_share"], "cost_median": costs["median"],
                 "largest_cost_share": costs["largest_share"]})
    selection = published_selection(instance)
    rows = []
    if selection is not None:
        rows.append({**base, "rule": OFFICIAL, "status": "ok", "message": "the file's selected column",
                     "seconds": 0, **_figures(election, selection.projects),
                     "official_funded": len(selection.projects)})
    for text_rule in rules:
        row = {**base, "rule": text_rule}
        try:
            rid, options = parse_rule(text_rule)
            t = time.perf_counter()
            outcome = registry.allocate(instance, profile, rid, **options)
            row["seconds"] = round(time.perf_counter() - t, 4)
        except (PBError, ValueError) as e:
            rows.append({**row, "status": "skipped", "message": getattr(e, "message", None) or str(e)})
            continue
        except Exception as e:  # a rule's own failure on odd data: named, and the archive goes on
            rows.append({**row, "status": "failed", "message": f"{type(e).__name__}: {e}"})
            continue
        row.update({"status": "ok", "message": "", **_figures(election, outcome.selected)})
        if selection is not None:
            cmp = compare_with_selected(outcome, selection)
            row.update({"official_funded": len(selection.projects), "matches_official": cmp.matches,
                        "missing_from_rule": " ".join(cmp.missing_from_rule),
                        "not_selected_in_file": " ".join(cmp.not_selected_in_file)})
        rows.append(row)
    return {"file": name, "sha256": sha, "rows": rows, "error": ""}


def _figures(election, funded) -> dict:
    """The figures of one funded set, as figures.as_json words them (shares as rounded floats, money exact)."""
    s = fig.as_json(fig.spending(election, funded))
    f = fig.as_json(fig.fairness(election, funded))
    return {"funded": s["funded"], "spend": s["spend"], "spend_share": s["spend_share"],
            **{k: f[k] for k in ("share_with_funded", "mean_satisfaction_cost", "mean_satisfaction_count",
                                 "gini_cost", "gini_count", "unapproved_spend_share")}}
