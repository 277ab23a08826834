"""Cross-city figures: any rounds side by side.

`compare(session, refs, now, currency=..., rates=...)` returns `{"currency", "rates", "rounds": [entry, ...]}`,
one entry per `city/round` asked for, each with a `figures` object, so that new figures can be added
without changing the shape. Only public data is used: funded projects and spend come from the
published outcome (null before one is published); voters, turnout and the ballot figures appear once
voting has started; every rule's outcome and the fairness figures once voting has ended
(pb_engine/queries/comparison.py, through the pure functions of pb_engine/analysis/figures.py).
Money figures are in each city's currency (major units) with the currency named, and again in the
chosen currency (`in_currency`, rates from the dated file of pb_engine/analysis/currency.py); shares
(spend / budget, turnout) compare across currencies as they are.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from fractions import Fraction

from sqlalchemy import func
from sqlmodel import Session, select

from pb_engine import csv_cells
from pb_engine.analysis.currency import Rates
from pb_engine.errors import NotFound, ValidationFailed
from pb_engine.money import major_json, minor_digits
from pb_engine.outcomes import published
from pb_engine.phases import current_phase, has_started
from pb_engine.proposals import ON_BALLOT
from pb_engine.queries.comparison import ballot_figures
from pb_engine.secrecy import counts_public
from pb_engine.store.lookup import city_by_slug, districts_of, phases_of, round_by_slug
from pb_engine.store.tables import Ballot, Category, City, Proposal, Round

REF = re.compile(r"^([a-z0-9][a-z0-9_-]{0,63})/([A-Za-z0-9][A-Za-z0-9_.-]{0,63})$")
MAX_ROUNDS = 50
REVIEWED = ON_BALLOT + ("rejected",)  # staff review has concluded: on the ballot or turned down
CSV_FIELDS = ("city", "round", "title", "currency", "current_phase", "budget", "districts", "proposals_submitted",
              "proposals_reviewed", "proposals_on_ballot", "voters", "population", "turnout", "funded_projects",
              "spend", "spend_share", "budget_per_capita")
# Nested figures, flattened for the CSV as column -> path in `figures`.
CSV_NESTED = (
    ("chosen_currency", ("in_currency", "currency")), ("rates_date", ("in_currency", "rates_date")),
    ("budget_in_currency", ("in_currency", "budget")),
    ("budget_per_capita_in_currency", ("in_currency", "budget_per_capita")),
    ("spend_in_currency", ("in_currency", "spend")),
    ("ballot_length_mean", ("ballot_length", "mean")), ("ballot_length_median", ("ballot_length", "median")),
    ("ballot_spend_mean_share", ("ballot_spend", "mean_share")),
    ("ballot_spend_median_share", ("ballot_spend", "median_share")),
    ("project_cost_min", ("cost_distribution", "min")), ("project_cost_q1", ("cost_distribution", "q1")),
    ("project_cost_median", ("cost_distribution", "median")), ("project_cost_q3", ("cost_distribution", "q3")),
    ("project_cost_max", ("cost_distribution", "max")),
    ("largest_project_share", ("cost_distribution", "largest_share")),
)
RULE_FIELDS = (("funded", ("funded",)), ("spend", ("spend",)), ("spend_share", ("spend_share",)),
               ("share_with_funded", ("fairness", "share_with_funded")),
               ("mean_satisfaction_cost", ("fairness", "mean_satisfaction_cost")),
               ("mean_satisfaction_count", ("fairness", "mean_satisfaction_count")),
               ("gini_cost", ("fairness", "gini_cost")), ("gini_count", ("fairness", "gini_count")),
               ("unapproved_spend_share", ("fairness", "unapproved_spend_share")))


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


def _converted(value, currency: str, rates: Rates, to: str, places: int = 2):
    """A major-units figure in the chosen currency, rounded for reading (never used to decide anything)."""
    if value is None:
        return None
    return round(float(rates.convert(Fraction(str(value)), currency, to)), places)


def round_figures(session: Session, city: City, rnd: Round, now: datetime, *, rates: Rates | None = None,
                  to: str | None = None, max_ballots: int | None = None, background=None) -> dict:
    phases = phases_of(session, rnd)
    districts = districts_of(session, rnd)
    cur = city.currency
    count = lambda q: int(session.exec(q).one())  # noqa: E731
    proposals = session.exec(select(Proposal).where(Proposal.round_id == rnd.id)).all()
    submitted = len(proposals)
    on_ballot = sum(p.status in ON_BALLOT for p in proposals)
    reviewed = sum(p.status in REVIEWED for p in proposals)
    population = sum(d.population or 0 for d in districts) or city.population
    voters = ballots = None
    live = counts_public(rnd, phases, now)  # running counts stay hidden during voting unless the round allows them
    if live:
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
    out = {
        "budget": major_json(rnd.budget, cur),
        "districts": len(districts),
        "proposals_submitted": submitted,
        "proposals_reviewed": reviewed,
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
    out.update(ballot_figures(session, city, rnd, now, max_ballots=max_ballots, background=background))
    if not live:
        out["ballot_length"] = out["ballot_spend"] = None  # computed from the running ballots too
    for term, share in (out.get("category_shares") or {}).items():
        if term in by_term:
            by_term[term]["funded_share"] = share["funded_share"]
            by_term[term]["spend_share"] = share["spend_share"]
    if rates is not None and to:
        out["in_currency"] = {
            "currency": to, "rates_date": rates.date.isoformat(),
            "budget": _converted(out["budget"], cur, rates, to),
            # from the exact budget, not the rounded per-capita figure above
            "budget_per_capita": round(float(rates.convert(Fraction(rnd.budget, 10 ** minor_digits(cur)) / population,
                                                           cur, to)), 4) if population else None,
            "spend": _converted(out["spend"], cur, rates, to),
        }
    return out


def compare(session: Session, refs: list[tuple[str, str]], now: datetime, *, rates: Rates | None = None,
            currency: str | None = None, max_ballots: int | None = None, background=None) -> dict:
    """`currency` (default: the rates' base) names the one currency every budget is also shown in.
    `background` (pb_engine.queries.comparison.Background): heavy rule runs missing from the rule-result
    cache go to a job and show as `{"skipped": "pending", "job": id}` until it is done."""
    to = (currency or (rates.base if rates else None)) if rates is not None else None
    if rates is not None and to:
        rates.rate(to)  # an unknown currency is refused naming `currency` before any work
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
            "figures": round_figures(session, city, rnd, now, rates=rates, to=to, max_ballots=max_ballots,
                                     background=background),
        })
    info = None if rates is None else {"base": rates.base, "date": rates.date.isoformat(), "source": rates.source,
                                       "currencies": list(rates.currencies)}
    return {"currency": to, "rates": info, "rounds": entries}


def _dig(data, path):
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def csv_columns(result: dict) -> list[tuple[str, tuple]]:
    """Every CSV column with its path in an entry: the flat figures, the nested ones, one group per rule."""
    cols = [(k, ("figures", k)) if k not in ("city", "round", "title", "currency", "current_phase") else (k, (k,))
            for k in CSV_FIELDS]
    cols += [(name, ("figures", *path)) for name, path in CSV_NESTED]
    rules: list[str] = []  # a rule that ran on some round (one skipped everywhere would be empty columns)
    for e in result["rounds"]:
        for r, run in (e["figures"].get("rules") or {}).items():
            if r not in rules and "skipped" not in run:
                rules.append(r)
    for r in rules:
        cols += [(f"{r}:{name}", ("figures", "rules", r, *path)) for name, path in RULE_FIELDS]
    cols.append(("projects_changing", ("figures", "changes")))
    return cols


def to_csv(result: dict) -> str:
    out = io.StringIO()
    w = csv_cells.writer(out, lineterminator="\n")  # round titles and names are typed by people: never a formula
    cols = csv_columns(result)
    w.writerow([name for name, _ in cols])
    for e in result["rounds"]:
        row = []
        for name, path in cols:
            v = _dig(e, path)
            if name == "projects_changing" and v is not None:
                v = len(v)
            row.append("" if v is None else v)
        w.writerow(row)
    return out.getvalue()
