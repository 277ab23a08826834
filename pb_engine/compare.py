"""Cross-city figures: any rounds side by side.

`compare(session, refs)` returns `{"rounds": [entry, ...]}`, one entry per
`city/round` asked for, each with a `figures` object, so that new figures can
be added without changing the shape. Only public data is used: funded
projects and spend come from the published outcome (null before one is
published); voters and turnout appear once voting has started. Money figures
are in each city's currency (major units) with the currency named; shares
(spend / budget, turnout) compare across currencies.
"""

from __future__ import annotations

import io
import re
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from pb_engine import csv_cells
from pb_engine.errors import NotFound, ValidationFailed
from pb_engine.money import major_json, minor_digits
from pb_engine.outcomes import published
from pb_engine.phases import current_phase, has_started
from pb_engine.proposals import ON_BALLOT
from pb_engine.store.lookup import city_by_slug, districts_of, phases_of, round_by_slug
from pb_engine.store.tables import Ballot, Category, City, Proposal, Round

REF = re.compile(r"^([a-z0-9][a-z0-9_-]{0,63})/([A-Za-z0-9][A-Za-z0-9_.-]{0,63})$")
MAX_ROUNDS = 50
CSV_FIELDS = ("city", "round", "title", "currency", "current_phase", "budget", "districts", "proposals_submitted",
              "proposals_on_ballot", "voters", "population", "turnout", "funded_projects", "spend", "spend_share",
              "budget_per_capita")


def parse_refs(text: str) -> list[tuple[str, str]]:
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not parts:
        raise ValidationFailed.field("rounds", "name at least one round as city/round, e.g. taipei/2026")
    if len(parts) > MAX_ROUNDS:
        raise ValidationFailed.field("rounds", f"at most {MAX_ROUNDS} rounds at once")
    refs = []
    for p in parts:
        m = REF.match(p)
        if not m:
            raise ValidationFailed.field("rounds", f"{p[:80]!r} is not city/round (e.g. taipei/2026)")
        refs.append((m.group(1), m.group(2)))
    return refs


def _share(a, b):
    return round(a / b, 6) if a is not None and b else None


def round_figures(session: Session, city: City, rnd: Round, now: datetime) -> dict:
    phases = phases_of(session, rnd)
    districts = districts_of(session, rnd)
    cur = city.currency
    count = lambda q: int(session.exec(q).one())  # noqa: E731
    proposals = session.exec(select(Proposal).where(Proposal.round_id == rnd.id)).all()
    submitted = len(proposals)
    on_ballot = sum(p.status in ON_BALLOT for p in proposals)
    population = sum(d.population or 0 for d in districts) or city.population
    voters = ballots = None
    if has_started(phases, "voting", now):
        voters = count(select(func.count(func.distinct(Ballot.voter_key))).where(Ballot.round_id == rnd.id))
        ballots = count(select(func.count(Ballot.id)).where(Ballot.round_id == rnd.id))
    record = published(session, rnd)
    funded_ids: set = set()
    spend = None
    if record is not None:
        funded_ids = {pid for d in record.result.get("districts", []) for pid in d.get("selected", [])}
        spend = sum(p.reviewed_cost or 0 for p in proposals if p.id in funded_ids)
    taxonomy = {c.slug: c.taxonomy for c in session.exec(select(Category).where(Category.city_id == city.id))}
    by_term: dict[str, dict] = {}
    for p in proposals:
        for term in sorted({taxonomy.get(c, "other") for c in (p.categories or [])} or {"uncategorised"}):
            t = by_term.setdefault(term, {"proposals": 0, "on_ballot": 0, "funded": 0, "spend": 0})
            t["proposals"] += 1
            t["on_ballot"] += p.status in ON_BALLOT
            if p.id in funded_ids:
                t["funded"] += 1
                t["spend"] += p.reviewed_cost or 0
    for t in by_term.values():
        t["spend"] = major_json(t["spend"], cur) if record is not None else None
        if record is None:
            t["funded"] = None
    return {
        "budget": major_json(rnd.budget, cur),
        "districts": len(districts),
        "proposals_submitted": submitted,
        "proposals_on_ballot": on_ballot,
        "voters": voters,
        "ballots": ballots,
        "population": population,
        "turnout": _share(voters, population),
        "funded_projects": len(funded_ids) if record is not None else None,
        "spend": major_json(spend, cur) if spend is not None else None,
        "spend_share": _share(spend, rnd.budget) if spend is not None else None,
        "budget_per_capita": round(rnd.budget / population / 10 ** minor_digits(cur), 4) if population else None,
        "ballot_kind": (rnd.ballot or {}).get("kind"),
        "rule": (rnd.rule or {}).get("id"),
        "published": record is not None,
        "by_taxonomy": by_term,
    }


def compare(session: Session, refs: list[tuple[str, str]], now: datetime) -> dict:
    entries = []
    for city_slug, round_slug in refs:
        try:
            city = city_by_slug(session, city_slug)
            rnd = round_by_slug(session, city, round_slug)
        except NotFound as exc:
            raise NotFound(f"{exc.message} (asked for {city_slug}/{round_slug})",
                           {"rounds": [f"{city_slug}/{round_slug} not found"]}) from None
        entries.append({
            "city": city.slug, "round": rnd.slug, "ref": f"{city.slug}/{rnd.slug}", "title": rnd.title,
            "city_name": city.name, "country": city.country, "currency": city.currency,
            "current_phase": current_phase(phases_of(session, rnd), now),
            "figures": round_figures(session, city, rnd, now),
        })
    return {"rounds": entries}


def to_csv(result: dict) -> str:
    out = io.StringIO()
    w = csv_cells.writer(out, lineterminator="\n")  # round titles and names are typed by people: never a formula
    w.writerow(CSV_FIELDS)
    for e in result["rounds"]:
        row = {**e, **e["figures"]}
        w.writerow(["" if row.get(k) is None else row.get(k) for k in CSV_FIELDS])
    return out.getvalue()
