"""`pb-engine verify EXPORT.pb ... [--outcome RESULTS.json]`: recompute the ballots digest and the outcome.

Anyone can run it on the public files: the anonymous .pb export of each district
(`GET R/export.pb?district=...`) and, for the outcome, the published results
(`GET R/results`) or an outcome (`GET R/outcomes/<id>`) saved as JSON. Exit code 0 when every check
holds, 1 when one fails (each check is one line: ok or MISMATCH).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from pb_engine import pabulib
from pb_engine.allocation import tiebreak
from pb_engine.allocation.registry import allocate
from pb_engine.allocation.spec import RuleSpec
from pb_engine.errors import PBError
from pb_engine.integrity import district_digest, round_digest


def _outcome_districts(data: dict) -> dict[str, dict]:
    """district slug -> {digest, selected} from a results or an outcome JSON."""
    out = {}
    for d in data.get("districts") or []:
        digest = d.get("ballots_digest") or d.get("input_hash") or ""
        if "selected" in d:
            selected = [str(x) for x in d["selected"]]
        else:
            selected = [str(p["id"]) for p in d.get("funded") or []]
        out[d["district"]] = {"digest": digest, "selected": sorted(selected)}
    return out


@click.command("verify")
@click.argument("exports", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--outcome", "outcome_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The published results (GET R/results) or an outcome (GET R/outcomes/<id>) as a JSON file: "
                   "its digests are compared and its rule is run again on the files' ballots.")
def verify(exports, outcome_path):
    """Recompute the ballots digest of each .pb export and compare it with the one the file and the published
    results carry; with --outcome, run the published rule on the file's ballots and compare what it funds."""
    outcome = None
    if outcome_path:
        try:
            outcome = json.loads(Path(outcome_path).read_text(encoding="utf-8"))
            districts = _outcome_districts(outcome)
            spec, problems = RuleSpec.from_dict(outcome.get("rule") or {})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise click.ClickException(f"{outcome_path}: not a results or outcome JSON ({exc})") from exc
        if spec is None:
            raise click.ClickException(f"{outcome_path}: rule: " + "; ".join(m for _k, m in problems))
    failed = 0
    recomputed: dict[str, str] = {}

    def line(ok: bool, text: str) -> None:
        nonlocal failed
        failed += not ok
        click.echo(f"{'ok' if ok else 'MISMATCH'}  {text}")

    for path in exports:
        try:
            pb = pabulib.parse_path(path)
        except PBError as exc:
            raise click.ClickException(f"{path}: {exc}") from exc
        digest = district_digest(pb.instance, pb.profile)
        slug = pb.meta.get("district_slug", "")
        recomputed[slug] = digest
        click.echo(f"{path}: district {slug or '?'}, {len(pb.profile)} ballots, ballots digest {digest}")
        if "ballots_digest" in pb.meta:
            line(digest == pb.meta["ballots_digest"], f"the file's ballots give the digest the file carries"
                 + ("" if digest == pb.meta["ballots_digest"] else f" ({pb.meta['ballots_digest']}): the file was changed"))
        if "published_ballots_digest" in pb.meta:
            same = digest == pb.meta["published_ballots_digest"]
            line(same, "the exported ballots are the ballots the published results were counted from"
                 + ("" if same else f" (published {pb.meta['published_ballots_digest']}): a stored ballot changed "
                                    "after publication, or the file was changed"))
        if outcome is None:
            continue
        published = districts.get(slug)
        if published is None:
            line(False, f"the outcome has no district {slug!r}")
            continue
        line(digest == published["digest"], f"digest equals the outcome's for {slug}"
             + ("" if digest == published["digest"] else f" ({published['digest']})"))
        tie = tiebreak.for_round(pb.meta.get("tie_breaking", "id"), pb.instance, pb.profile)
        result = allocate(pb.instance, pb.profile, spec.id, tie_breaking=tie, **spec.options())
        funded = sorted(str(x) for x in result.selected)
        line(funded == published["selected"], f"{spec.id} on the file's ballots funds {', '.join(funded) or 'nothing'}"
             + ("" if funded == published["selected"] else f"; the outcome funds {', '.join(published['selected'])}"))
    if outcome is not None and set(recomputed) == set(districts) and outcome.get("input_hash"):
        total = round_digest([(slug, recomputed[slug]) for slug in districts])  # in the outcome's district order
        line(total == outcome["input_hash"], f"the round's digest {total} equals the outcome's")
    raise SystemExit(1 if failed else 0)


commands = [verify]
