"""Published results: funded projects per district with their reasons, turnout, and the same
ballots under the other rules side by side (what each would fund instead)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from pb_engine import outcomes, voting
from pb_engine.allocation import tiebreak
from pb_engine.allocation.instance import Instance
from pb_engine.allocation.registry import allocate
from pb_engine.errors import PBError
from pb_engine.store.lookup import districts_of
from pb_engine.store.tables import City, Round

# The rules shown beside the official one, each as (id, options); a rule that refuses the round's
# ballot kind is left out. MES is shown with greedy completion: add1 re-runs MES once per unit of
# money per voter, which on a round priced in a small currency unit takes far too long for a page.
ALTERNATIVES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("greedy", {}),
    ("mes", {"completion": "greedy"}),
    ("phragmen", {}),
    ("max-welfare", {}),
)


@dataclass(frozen=True)
class ProjectOutcome:
    id: int
    title: str
    cost: Any                  # major units (int or exact decimal text), as in the outcome record
    funded: bool
    reason: str                # a reason code (pb_engine.allocation.outcome)
    message: str               # the engine's English sentence (the JSON API's)
    score: Any = None
    step: int | None = None
    price_per_supporter: Any = None
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DistrictOutcome:
    slug: str
    name: str
    budget: Any
    spend: Any
    ballots: int | None
    projects: tuple[ProjectOutcome, ...]

    @property
    def funded(self) -> tuple[ProjectOutcome, ...]:
        return tuple(p for p in self.projects if p.funded)

    @property
    def spend_share(self) -> float | None:
        from fractions import Fraction

        b = Fraction(str(self.budget))
        return float(Fraction(str(self.spend)) / b) if b else None


@dataclass(frozen=True)
class RuleRun:
    rule: str
    options: dict
    selected: dict[str, tuple[int, ...]]      # district slug -> funded project ids
    spend: dict[str, Any]                     # district slug -> total cost (major units)
    added: dict[str, tuple[int, ...]]         # funded here but not in the published outcome
    dropped: dict[str, tuple[int, ...]]       # funded in the published outcome but not here
    official: bool = False


@dataclass(frozen=True)
class Results:
    round_slug: str
    currency: str
    outcome_id: int
    published_at: datetime | None
    rule: dict
    input_hash: str
    engine_version: str
    districts: tuple[DistrictOutcome, ...]
    turnout: dict
    receipts: dict[str, list[str]]
    comparison: tuple[RuleRun, ...]
    titles: dict[int, str]
    ballots_check: dict = field(default_factory=dict)  # integrity.BallotsCheck.to_dict(): published vs stored now

    def district(self, slug: str) -> DistrictOutcome | None:
        return next((d for d in self.districts if d.slug == slug), None)


def _pid(x):
    return int(x) if isinstance(x, str) and x.isdigit() else x


_cache: dict[tuple, RuleRun | None] = {}
_cache_lock = threading.Lock()


def _elections(session: Session, city: City, rnd: Round) -> list[tuple[str, Instance, Any, Any]]:
    """Each district's election (in major units, as published) with its tie-breaking order, read once."""
    out = []
    for d in districts_of(session, rnd):
        instance, profile = voting.district_election(session, rnd, d)
        instance = outcomes.in_major_units(instance, city.currency)
        out.append((d.slug, instance, profile, tiebreak.for_round(rnd.tie_breaking, instance, profile)))
    return out


def _run_rule(elections, rule: str, options: dict, published: dict[str, set]) -> RuleRun | None:
    selected, spend, added, dropped = {}, {}, {}, {}
    for slug, instance, profile, tie in elections:
        try:
            out = allocate(instance, profile, rule, tie_breaking=tie, **options)
        except PBError:
            return None  # this rule does not take this ballot kind
        ids = tuple(_pid(i) for i in out.selected)
        selected[slug] = ids
        spend[slug] = out.to_dict()["total_cost"]
        official = published.get(slug, set())
        added[slug] = tuple(i for i in ids if i not in official)
        dropped[slug] = tuple(sorted(i for i in official if i not in set(ids)))
    return RuleRun(rule, dict(options), selected, spend, added, dropped)


def comparison(session: Session, city: City, rnd: Round, record, published: dict[str, set]) -> tuple[RuleRun, ...]:
    """The published rule first, then each alternative on the same ballots; cached by the ballots' hash
    (published ballots never change, so each rule runs once per outcome and process)."""
    official_rule = dict(record.rule)
    runs = [RuleRun(official_rule.get("id", ""), {k: v for k, v in official_rule.items() if k != "id"},
                    {k: tuple(sorted(v)) for k, v in published.items()},
                    {d["district"]: d["total_cost"] for d in record.result.get("districts", [])},
                    {k: () for k in published}, {k: () for k in published}, official=True)]
    elections = None  # read from the database only when some rule is not cached yet, then once for all
    for rule, options in ALTERNATIVES:
        if rule == official_rule.get("id") and all(official_rule.get(k) == v for k, v in options.items()):
            continue
        key = (record.id, record.input_hash, rule, tuple(sorted(options.items())))
        with _cache_lock:
            hit = key in _cache
            run = _cache.get(key)
        if not hit:
            if elections is None:
                elections = _elections(session, city, rnd)
            run = _run_rule(elections, rule, options, published)
            with _cache_lock:
                _cache[key] = run
        if run is not None:
            runs.append(run)
    return tuple(runs)


def results(session: Session, city: City, rnd: Round, *, compare: bool = True) -> Results:
    """NotFound while nothing is published."""
    data = outcomes.results(session, city, rnd)
    record = outcomes.published(session, rnd)
    titles: dict[int, str] = {}
    districts = []
    for d in data["districts"]:
        projects = []
        for p in d["projects"]:
            titles[p["id"]] = p.get("title", "")
            projects.append(ProjectOutcome(p["id"], p.get("title", ""), p["cost"], p["funded"], p["reason"],
                                           p["message"], p.get("score"), p.get("step"),
                                           p.get("price_per_supporter"), dict(p.get("details") or {})))
        districts.append(DistrictOutcome(d["district"], d["name"], d["budget"], d["spend"], d.get("ballots"),
                                         tuple(projects)))
    published = {d.slug: {p.id for p in d.funded} for d in districts}
    runs = comparison(session, city, rnd, record, published) if compare else ()
    return Results(rnd.slug, city.currency, record.id, record.published_at, dict(record.rule), record.input_hash,
                   record.engine_version, tuple(districts), data["turnout"], data["receipts"], runs, titles,
                   data.get("ballots_check") or {})
