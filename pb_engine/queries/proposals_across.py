"""Proposals of every city and year side by side (GET /api/v1/proposals, the /proposals page).

One row per public proposal of any round, live or imported from Pabulib: its city, round, shared
categories (pb_engine.taxonomy), cost in the round's currency and in a chosen one (the dated rates
file of pb_engine.analysis.currency), cost as a share of its district's budget and per resident,
votes and share of the district's voters, funded or not under the official outcome and under every
rule run on the same ballots, and implementation progress.

Decisions worth knowing:
- `status` filters by how far a proposal got, each stage including the later ones: submitted (every
  public proposal), on_ballot (on the ballot, whatever the count said), funded (by the published
  outcome), built (funded and its latest implementation update says done).
- Votes (the ballots supporting a project: approved, given points, or ranked) and rule runs are
  public once the round's voting has ended or an outcome is published (imported rounds), as the
  round's own CSV export does; before that they are null.
- Cost bands are fixed in the rates file's base currency (EUR), so "10k-50k" means the same in
  Taipei and Warszawa; a cost in a currency the file has no rate for has no band.
- Votes per round are counted once per process and kept while the round's ballots do not change
  (count and last id). Rule runs are the comparison's (pb_engine.queries.comparison.round_rule_runs: the
  same elections, the rule-result cache): with a `background` (the web layer's), heavy ones missing from
  the cache are counted by the comparison's background job and the row says which rules are pending
  (`rules_pending`) until it is done; without one, rounds over MAX_RULE_BALLOTS ballots run no rule (null).
"""

from __future__ import annotations

import re
import statistics
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction
from math import ceil
from typing import Mapping

from sqlalchemy import func
from sqlmodel import Session, select

from pb_engine.analysis.currency import Rates
from pb_engine.errors import ValidationFailed
from pb_engine.money import minor_digits
from pb_engine.phases import PhaseWindow, sort_phases, window
from pb_engine.proposals import ON_BALLOT, PUBLIC_STATUSES
from pb_engine.store.tables import (Ballot, Category, City, District, ImplementationUpdate, OutcomeRecord, Phase,
                                    Proposal, Round)
from pb_engine.taxonomy import TERMS

STAGES = ("submitted", "on_ballot", "funded", "built")
# (slug, lower bound, upper bound) in the rates' base currency, major units; upper bound excluded.
BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under-10k", 0, 10_000), ("10k-50k", 10_000, 50_000), ("50k-200k", 50_000, 200_000),
    ("200k-1m", 200_000, 1_000_000), ("over-1m", 1_000_000, None))
BAND_SLUGS = tuple(b[0] for b in BANDS)
SORTS = ("relevance", "year", "-year", "city", "-city", "title", "cost", "-cost", "votes", "-votes",
         "voter_share", "-voter_share", "share_of_budget", "-share_of_budget")
MAX_RULE_BALLOTS = 20_000
MAX_PER_PAGE = 200
_YEAR = re.compile(r"(?<!\d)(19|20)\d\d(?!\d)")


@dataclass(frozen=True)
class Filters:
    category: str | None = None      # a shared taxonomy term
    city: str | None = None          # a city slug
    year: int | None = None
    status: str | None = None        # a stage, see STAGES
    cost_band: str | None = None     # a band slug, see BANDS
    q: str | None = None
    sort: str | None = None          # default: relevance with q, else newest year first
    page: int = 1
    per_page: int = 20
    currency: str | None = None      # the chosen currency (default: the rates' base)

    def checked(self, rates: Rates) -> "Filters":
        """Itself with the currency resolved; ValidationFailed naming each bad field and the rule."""
        errors: dict[str, list[str]] = {}
        if self.category is not None and self.category not in TERMS:
            errors["category"] = [f"unknown shared category {self.category!r}; one of: {', '.join(TERMS)}"]
        if self.status is not None and self.status not in STAGES:
            errors["status"] = [f"must be one of {', '.join(STAGES)}"]
        if self.cost_band is not None and self.cost_band not in BAND_SLUGS:
            errors["cost_band"] = [f"unknown cost band {self.cost_band!r}; one of: {', '.join(BAND_SLUGS)} "
                                   f"(in {rates.base})"]
        if self.sort is not None and self.sort not in SORTS:
            errors["sort"] = [f"must be one of {', '.join(SORTS)}"]
        if self.page < 1:
            errors["page"] = ["must be 1 or more"]
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            errors["per_page"] = [f"must be from 1 to {MAX_PER_PAGE}"]
        currency = (self.currency or rates.base).upper()
        if currency not in rates.currencies:
            errors["currency"] = [f"no exchange rate for {currency!r} in the rates file (dated "
                                  f"{rates.date.isoformat()}); it has {', '.join(rates.currencies)}"]
        if errors:
            raise ValidationFailed(f"invalid input: {', '.join(errors)}", errors)
        return Filters(**{**self.__dict__, "currency": currency})


@dataclass(frozen=True)
class Row:
    proposal_id: int
    city_slug: str
    city_name: str
    country: str
    round_slug: str
    round_title: str
    year: int | None
    district_slug: str
    district_name: str
    title: str
    summary: str
    terms: tuple[str, ...]            # shared categories
    status: str                       # the proposal's own status
    stage: str                        # the furthest of STAGES it reached
    currency: str                     # the round's
    cost: int | None                  # minor units of the round's currency (reviewed, else estimated)
    cost_converted: Fraction | None   # major units of the chosen currency
    cost_band: str | None
    district_budget: int              # minor units
    share_of_budget: Fraction | None
    population: int | None            # the district's, else the city's for a one-district round
    cost_per_resident: Fraction | None  # major units of the round's currency
    votes: int | None
    voters: int | None                # ballots in its district
    funded_official: bool | None      # None: no published outcome
    funded_by_rule: Mapping[str, bool | None] = field(default_factory=dict)  # None: rule not run (too large, ...)
    rules_pending: tuple[str, ...] = ()  # rules a background job is still counting (funded_by_rule None meanwhile)
    implementation: str | None = None  # latest update's status
    percent_done: int | None = None
    imported: bool = False
    relevance: int | None = None      # position in the full-text ranking (0 best) when q is given

    @property
    def voter_share(self) -> Fraction | None:
        if self.votes is None or not self.voters:
            return None
        return Fraction(self.votes, self.voters)

    @property
    def ref(self) -> str:
        return f"{self.city_slug}/{self.round_slug}"


@dataclass(frozen=True)
class CityFigures:
    city_slug: str
    city_name: str
    count: int
    median_cost: Fraction | None      # chosen currency, major units
    decided: int                      # on the ballot of a round with a published outcome
    funded: int
    votes_per_project: Fraction | None  # mean votes of the projects whose votes are public

    @property
    def share_funded(self) -> Fraction | None:
        return Fraction(self.funded, self.decided) if self.decided else None


@dataclass(frozen=True)
class Page:
    rows: tuple[Row, ...]
    total: int
    page: int
    per_page: int
    currency: str
    rates_date: str
    filters: Filters

    @property
    def pages(self) -> int:
        return ceil(self.total / self.per_page) if self.per_page else 0


# --- what every request reads once ------------------------------------------------------------

@dataclass
class _World:
    cities: dict[int, City]
    rounds: dict[int, Round]
    districts: dict[int, District]
    terms: dict[tuple[int, str], str]       # (city id, category slug) -> shared term
    years: dict[int, int | None]
    public_votes: dict[int, bool]           # round id -> votes and rule runs may be shown
    official: dict[int, set[int]]           # round id -> funded by the published outcome
    imported: set[int]
    district_count: dict[int, int] = field(default_factory=dict)  # round id -> districts
    ballots: dict[int, tuple] = field(default_factory=dict)        # round id -> ballots' fingerprint, once read


def round_year(rnd: Round, phases) -> int | None:
    m = _YEAR.search(rnd.slug) or _YEAR.search(rnd.title or "")
    if m:
        return int(m.group(0))
    w = window(phases, "voting") or window(phases, "submission")
    return w.starts_at.year if w else (rnd.created_at.year if rnd.created_at else None)


def _world(session: Session, now) -> _World:
    cities = {c.id: c for c in session.exec(select(City))}
    rounds = {r.id: r for r in session.exec(select(Round))}
    districts = {d.id: d for d in session.exec(select(District))}
    terms = {(c.city_id, c.slug): c.taxonomy for c in session.exec(select(Category))}
    official: dict[int, set[int]] = {}
    imported: set[int] = set()
    for rec in session.exec(select(OutcomeRecord).where(OutcomeRecord.status == "published")):
        official[rec.round_id] = {int(pid) for d in (rec.result or {}).get("districts", []) for pid in d.get("selected", [])}
        if (rec.rule or {}).get("source") == "pabulib":
            imported.add(rec.round_id)
    years, public = {}, {}
    windows: dict[int, list[PhaseWindow]] = {}
    for ph in session.exec(select(Phase)):  # every round's phases in one query
        windows.setdefault(ph.round_id, []).append(PhaseWindow(ph.name, ph.starts_at, ph.ends_at))
    for r in rounds.values():
        phases = sort_phases(windows.get(r.id, []))
        years[r.id] = round_year(r, phases)
        w = window(phases, "voting")
        public[r.id] = r.id in official or (w is not None and now >= w.ends_at)
    count: dict[int, int] = {}
    for d in districts.values():
        count[d.round_id] = count.get(d.round_id, 0) + 1
    return _World(cities, rounds, districts, terms, years, public, official, imported, count)


# --- votes, counted once per round while its ballots stay the same ------------------------------

# Memos per database (the engine, held weakly): round ids and ballot counts only mean something within one.
_memos: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_memo_lock = threading.Lock()
MEMO_SIZE = 512


def _memo(session: Session, name: str) -> OrderedDict:
    engine = session.get_bind()
    with _memo_lock:
        return _memos.setdefault(engine, {}).setdefault(name, OrderedDict())


def _supported(content: dict) -> list:
    if "projects" in content:
        return content["projects"] or []
    if "points" in content:
        return [p for p, n in (content["points"] or {}).items() if n]
    return content.get("ranking") or []


def _fingerprints(session: Session, round_ids) -> dict[int, tuple]:
    # Count and last id come from the round_id index alone. Votes are public once voting has ended, when
    # ballots are only added (paper ballots counted late), never changed: these two see every change then.
    rows = session.exec(select(Ballot.round_id, func.count(Ballot.id), func.max(Ballot.id))
                        .where(Ballot.round_id.in_(list(round_ids))).group_by(Ballot.round_id)).all()
    return {r: (int(n), int(m or 0)) for r, n, m in rows}


def round_votes(session: Session, round_id: int, fingerprint: tuple) -> tuple[dict[int, int], dict[int, int]]:
    """({proposal id: supporting ballots}, {district id: ballots}) of a round."""
    key = (round_id, fingerprint)
    memo = _memo(session, "votes")
    with _memo_lock:
        hit = memo.get(key)
    if hit is not None:
        return hit
    votes: dict[int, int] = {}
    voters: dict[int, int] = {}
    for district_id, content in session.exec(select(Ballot.district_id, Ballot.content)
                                             .where(Ballot.round_id == round_id)):
        voters[district_id] = voters.get(district_id, 0) + 1
        for pid in _supported(content or {}):
            try:
                pid = int(pid)
            except (TypeError, ValueError):
                continue
            votes[pid] = votes.get(pid, 0) + 1
    with _memo_lock:
        memo[key] = (votes, voters)
        while len(memo) > MEMO_SIZE:
            memo.popitem(last=False)
    return votes, voters


PENDING = "pending"  # a rule_funding value: a background job is counting this rule


def rule_funding(session: Session, rnd: Round, districts: list[District],
                 fingerprint: tuple | None = None, background=None) -> dict[str, set[int] | str | None]:
    """{rule id: funded proposal ids, None when the rule did not run, or PENDING while a background job
    counts it} for every rule taking the round's ballots, on the same ballots as the comparison's.

    With the ballots' `fingerprint`, kept per round: reading a large round's ballots to compute the input
    hash costs more than the page (61 668 Warszawa ballots: seconds). A value waiting on jobs is kept
    until one of them has finished, then computed again (from the cache)."""
    key = None
    memo = _memo(session, "rules")
    if fingerprint is not None:
        key = (rnd.id, rnd.version, str(rnd.updated_at), fingerprint,
               tuple((d.id, d.budget) for d in districts), background.threshold if background else None)
        with _memo_lock:
            hit = memo.get(key)
        if hit is not None and not _a_job_finished(hit[1], background):
            return hit[0]
    if background is None and fingerprint is not None and fingerprint[0] > MAX_RULE_BALLOTS:
        out, waiting = _too_large(rnd), ()  # known from the count: never read the ballots to learn it
    else:
        out, waiting = _rule_funding(session, rnd, background)
    if key is not None:
        with _memo_lock:
            memo[key] = (out, waiting)
            while len(memo) > MEMO_SIZE:
                memo.popitem(last=False)
    return out


def _a_job_finished(job_ids, background) -> bool:
    if not job_ids or background is None:
        return False
    from pb_engine import jobs
    from pb_engine.errors import NotFound

    with background.db.session() as s:  # not the request's: its snapshot may predate the job's end
        for job_id in job_ids:
            try:
                if jobs.status(s, job_id).finished:
                    return True
            except NotFound:
                return True
    return False


def _too_large(rnd: Round) -> dict[str, None]:
    from pb_engine.analysis.rule_runs import rules_for
    from pb_engine.voting import ballot_rules

    try:
        vote_type = ballot_rules(rnd).vote_type.value
    except Exception:  # noqa: BLE001 - a round whose ballot settings do not parse runs no rule
        return {}
    return {rule: None for rule in rules_for(vote_type) if rule != "greedy-threshold"}


def _rule_funding(session: Session, rnd: Round, background) -> tuple[dict[str, set[int] | str | None], tuple]:
    from pb_engine.queries.comparison import _elections, round_rule_runs

    city = session.get(City, rnd.city_id)
    elections = [(i, p) for _, i, p in _elections(session, city, rnd, with_ballots=True)]
    if not any(i.projects for i, _ in elections):
        return {}, ()
    runs = round_rule_runs(session, rnd, elections, background,
                           max_ballots=None if background is not None else MAX_RULE_BALLOTS)
    # A rule that cannot run without options (greedy-threshold's threshold) is left out; one skipped for
    # another reason (too many ballots for a request, a refusal) stays, as None; one a job counts, PENDING.
    out: dict[str, set[int] | str | None] = {}
    for rule, run in runs.items():
        if run.skipped == "needs_options":
            continue
        if run.skipped == "pending":
            out[rule] = PENDING
        else:
            out[rule] = None if run.outcomes is None else {int(p) for fs in run.funded for p in fs if p.isdigit()}
    return out, tuple(dict.fromkeys(run.job for run in runs.values() if run.skipped == "pending" and run.job))


# --- the rows ---------------------------------------------------------------------------------

def terms_of(session: Session, proposal: Proposal) -> frozenset[str]:
    """A proposal's shared categories (its city's categories mapped to the taxonomy)."""
    rnd = session.get(Round, proposal.round_id)
    cats = session.exec(select(Category.slug, Category.taxonomy).where(Category.city_id == rnd.city_id)).all()
    mapped = dict(cats)
    return frozenset(mapped[c] for c in (proposal.categories or []) if mapped.get(c) in TERMS)


def _band(value: Fraction | None) -> str | None:
    if value is None:
        return None
    for slug, lo, hi in BANDS:
        if value >= lo and (hi is None or value < hi):
            return slug
    return None


def _factor(rates: Rates, currency: str, to: str) -> Fraction | None:
    """Major units of `to` per minor unit of `currency`, or None without a rate."""
    if currency != rates.base and currency not in rates.rates:
        return None
    return rates.convert(Fraction(1, 10 ** minor_digits(currency)), currency, to)


def band_of(cost_minor: int | None, currency: str, rates: Rates, factor: Fraction | None = None) -> str | None:
    factor = factor if factor is not None else _factor(rates, currency, rates.base)
    if cost_minor is None or factor is None:
        return None
    return _band(cost_minor * factor)


def _latest_updates(session: Session, ids: list[int]) -> dict[int, tuple[str, int]]:
    ids = set(ids)
    out: dict[int, tuple[str, int]] = {}
    for pid, status, pct in session.exec(select(ImplementationUpdate.proposal_id, ImplementationUpdate.status,
                                                ImplementationUpdate.percent_done)
                                         .order_by(ImplementationUpdate.on_date.desc(), ImplementationUpdate.id.desc())):
        if pid in ids:
            out.setdefault(pid, (status, pct))
    return out


def _relevance(session: Session, q: str | None) -> dict[int, int] | None:
    if not q or not q.strip():
        return None
    from pb_engine.store.search import search_all

    return {p.id: i for i, p in enumerate(search_all(session, q, limit=100_000))}


def rows(session: Session, filters: Filters, rates: Rates, *, now, with_rules: bool = False,
         any_terms: frozenset[str] | None = None, background=None) -> list[Row]:
    """Every row matching the filters (checked with `Filters.checked`), in the asked order.

    `any_terms`: only proposals with one of these shared categories (similar proposals' candidates).
    `background`: where heavy rule runs go (pb_engine.queries.comparison.Background)."""
    found, w = _rows(session, filters, rates, now, any_terms)
    return with_rule_runs(session, found, w, background) if with_rules else found


def _rows(session: Session, filters: Filters, rates: Rates, now,
          any_terms: frozenset[str] | None = None) -> tuple[list[Row], _World]:
    w = _world(session, now)
    currency = filters.currency or rates.base
    round_ids = [r.id for r in w.rounds.values()
                 if (filters.city is None or w.cities[r.city_id].slug == filters.city)
                 and (filters.year is None or w.years[r.id] == filters.year)]
    if not round_ids:
        return [], w
    query = select(Proposal.id, Proposal.round_id, Proposal.district_id, Proposal.title, Proposal.summary,
                   Proposal.categories, Proposal.status, Proposal.estimated_cost, Proposal.reviewed_cost) \
        .where(Proposal.round_id.in_(round_ids), Proposal.status.in_(PUBLIC_STATUSES))
    if filters.status in ("on_ballot",):
        query = query.where(Proposal.status.in_(ON_BALLOT))
    elif filters.status in ("funded", "built"):
        query = query.where(Proposal.status == "funded")
    found = session.exec(query).all()
    relevance = _relevance(session, filters.q)
    if relevance is not None:
        found = [f for f in found if f.id in relevance]
    rnd_of = w.rounds
    to_base = {ccy: _factor(rates, ccy, rates.base) for ccy in {c.currency for c in w.cities.values()}}
    to_chosen = {ccy: _factor(rates, ccy, currency) for ccy in to_base}
    picked = []
    for f in found:
        rnd = rnd_of[f.round_id]
        terms = tuple(dict.fromkeys(t for t in (w.terms.get((rnd.city_id, c)) for c in (f.categories or []))
                                    if t and t in TERMS))
        if filters.category is not None and filters.category not in terms:
            continue
        if any_terms is not None and not any_terms.intersection(terms):
            continue
        cost = f.reviewed_cost if f.reviewed_cost is not None else f.estimated_cost
        ccy = w.cities[rnd.city_id].currency
        band = band_of(cost, ccy, rates, to_base[ccy]) if to_base[ccy] is not None else None
        if filters.cost_band is not None and band != filters.cost_band:
            continue
        picked.append((f, rnd, terms, cost, band))
    ids = [f.id for f, *_ in picked]
    updates = _latest_updates(session, ids) if ids else {}
    if filters.status == "built":
        picked = [x for x in picked if updates.get(x[0].id, ("", 0))[0] == "done"]
    used_rounds = {rnd.id for _, rnd, *_ in picked}
    prints = _fingerprints(session, [r for r in used_rounds if w.public_votes[r]]) if used_rounds else {}
    w.ballots.update(prints)
    votes = {r: round_votes(session, r, prints[r]) for r in prints}
    out = [_row(w, f, rnd, terms, cost, band, to_chosen, votes.get(rnd.id), updates.get(f.id),
                relevance.get(f.id) if relevance else None)
           for f, rnd, terms, cost, band in picked]
    return _sorted(out, filters.sort or ("relevance" if relevance is not None else "-year")), w


def _row(w: _World, f, rnd: Round, terms, cost, band, to_chosen, votes, update, relevance) -> Row:
    city = w.cities[rnd.city_id]
    d = w.districts.get(f.district_id)
    one_district = w.district_count.get(rnd.id) == 1
    population = d.population if d and d.population else (city.population if one_district else None)
    scale = 10 ** minor_digits(city.currency)
    factor = to_chosen.get(city.currency)
    converted = cost * factor if cost is not None and factor is not None else None
    stage = "submitted"
    if f.status in ON_BALLOT:
        stage = "on_ballot"
    if f.status == "funded":
        stage = "built" if update and update[0] == "done" else "funded"
    v, voters = None, None
    if votes is not None:
        v = votes[0].get(f.id, 0) if f.status in ON_BALLOT else None
        voters = votes[1].get(f.district_id, 0)
    return Row(
        proposal_id=f.id, city_slug=city.slug, city_name=city.name, country=city.country, round_slug=rnd.slug,
        round_title=rnd.title, year=w.years[rnd.id], district_slug=d.slug if d else "", district_name=d.name if d else "",
        title=f.title, summary=f.summary, terms=terms, status=f.status, stage=stage, currency=city.currency, cost=cost,
        cost_converted=converted, cost_band=band, district_budget=d.budget if d else 0,
        share_of_budget=Fraction(cost, d.budget) if cost is not None and d and d.budget else None,
        population=population,
        cost_per_resident=Fraction(cost, scale * population) if cost is not None and population else None,
        votes=v, voters=voters,
        funded_official=(f.id in w.official[rnd.id]) if rnd.id in w.official else None,
        implementation=update[0] if update else None, percent_done=update[1] if update else None,
        imported=rnd.id in w.imported, relevance=relevance)


def with_rule_runs(session: Session, rows_: list[Row], w: _World, background=None) -> list[Row]:
    """The rows with `funded_by_rule` (and `rules_pending`) filled in, for rounds whose votes are public."""
    from dataclasses import replace

    if not rows_:
        return rows_
    by_round: dict[str, dict] = {}
    for r in rows_:
        if r.ref in by_round or r.votes is None and r.voters is None:
            continue
        rnd = next(x for x in w.rounds.values() if x.slug == r.round_slug and w.cities[x.city_id].slug == r.city_slug)
        ds = sorted((d for d in w.districts.values() if d.round_id == rnd.id), key=lambda d: (d.position, d.id))
        by_round[r.ref] = rule_funding(session, rnd, ds, w.ballots.get(rnd.id) or
                                       _fingerprints(session, [rnd.id]).get(rnd.id, (0, 0)), background)
    out = []
    for r in rows_:
        runs = by_round.get(r.ref)
        if not runs or r.stage == "submitted":
            out.append(r)
            continue
        out.append(replace(r, funded_by_rule={rule: (None if ids is None or ids == PENDING else r.proposal_id in ids)
                                              for rule, ids in runs.items()},
                           rules_pending=tuple(rule for rule, ids in runs.items() if ids == PENDING)))
    return out


def _value(r: Row, name: str):
    if name == "relevance":
        return r.relevance
    if name == "city":
        return r.city_name.casefold()
    if name == "title":
        return r.title.casefold()
    return {"year": r.year, "cost": r.cost_converted, "votes": r.votes, "voter_share": r.voter_share,
            "share_of_budget": r.share_of_budget}[name]


def _sorted(rows_: list[Row], sort: str) -> list[Row]:
    """By `sort` ("-" first: descending), rows without the value last; ties by city, round, id."""
    name, desc = sort.lstrip("-"), sort.startswith("-")
    tie = lambda r: (r.city_slug, r.round_slug, r.proposal_id)  # noqa: E731
    known = sorted((r for r in rows_ if _value(r, name) is not None), key=tie)
    known.sort(key=lambda r: _value(r, name), reverse=desc)  # stable: equal values keep the tie order
    return known + sorted((r for r in rows_ if _value(r, name) is None), key=tie)


def page(session: Session, filters: Filters, rates: Rates, *, now, background=None) -> Page:
    filters = filters.checked(rates)
    everything, w = _rows(session, filters, rates, now)
    start = (filters.page - 1) * filters.per_page
    shown = with_rule_runs(session, everything[start:start + filters.per_page], w, background)
    return Page(tuple(shown), len(everything), filters.page, filters.per_page, filters.currency,
                rates.date.isoformat(), filters)


def by_city(rows_: list[Row]) -> list[CityFigures]:
    """Per city: count, median cost (chosen currency), funded among decided, mean votes per project."""
    groups: dict[str, list[Row]] = {}
    for r in rows_:
        groups.setdefault(r.city_slug, []).append(r)
    out = []
    for slug, rs in groups.items():
        costs = [r.cost_converted for r in rs if r.cost_converted is not None]
        decided = [r for r in rs if r.funded_official is not None and r.stage != "submitted"]
        voted = [r.votes for r in rs if r.votes is not None]
        out.append(CityFigures(slug, rs[0].city_name, len(rs), statistics.median(costs) if costs else None,
                               len(decided), sum(1 for r in decided if r.funded_official),
                               Fraction(sum(voted), len(voted)) if voted else None))
    return sorted(out, key=lambda c: (-c.count, c.city_name.casefold()))


def facets(session: Session, now) -> dict:
    """The cities and years a filter form offers."""
    w = _world(session, now)
    cities = sorted({(c.slug, c.name) for c in w.cities.values()}, key=lambda x: x[1].casefold())
    years = sorted({y for y in w.years.values() if y}, reverse=True)
    return {"cities": cities, "years": years}


__all__ = ["BANDS", "BAND_SLUGS", "CityFigures", "Filters", "Page", "Row", "SORTS", "STAGES", "band_of", "by_city",
           "facets", "page", "round_year", "rows", "with_rule_runs"]
