"""The comparison's figures of one round in the database: its districts' elections through the pure
functions of pb_engine.analysis.figures, under the official outcome and under every rule.

`ballot_figures(session, city, rnd, now, ...)` returns the parts of a round's `figures` that need its
projects and ballots (pb_engine/compare.py merges them with the counts it reads itself):
- `cost_distribution` of the projects on the ballot (major units) — always public;
- `ballot_length`, `ballot_spend` — when voters and turnout are (pb_engine.secrecy.counts_public: once
  voting has ended, or during voting when the round sets live_turnout);
- `rules`: {"official": the published outcome, then each rule outcomes_for ran on the same ballots}
  with funded count, spend, spend share and the fairness figures, or why it did not run;
  `changes`: the projects funded under some of them and not others; `category_shares` under the
  official outcome — all only once voting has ended (nobody sees a partial count).
Money is in the city's currency, major units (elections are scaled as outcomes.run scales them).

A counted round's ballots no longer change, so its figures are memoised per process by the round,
its version, its published outcome and a fingerprint of its ballots (count, last id, versions).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from pb_engine import outcomes, voting
from pb_engine.allocation import tiebreak
from pb_engine.analysis import figures as fig
from pb_engine import rule_cache
from pb_engine.analysis.rule_runs import outcomes_for
from pb_engine.ballots.kinds import Profile
from pb_engine.phases import PhaseWindow, current_phase, has_started, sort_phases, window
from pb_engine.secrecy import counts_public
from pb_engine.store.lookup import districts_of, phases_of
from pb_engine.store.tables import Ballot, Category, City, OutcomeRecord, Phase, Round

OFFICIAL = "official"
MEMO_SIZE = 64
_memo: OrderedDict[tuple, dict] = OrderedDict()
_lock = threading.Lock()


def _fingerprint(session: Session, rnd: Round) -> tuple:
    row = session.exec(select(func.count(Ballot.id), func.max(Ballot.id), func.sum(Ballot.version))
                       .where(Ballot.round_id == rnd.id)).one()
    return tuple(int(x or 0) for x in row)


def _elections(session: Session, city: City, rnd: Round, with_ballots: bool):
    out = []
    for d in districts_of(session, rnd):
        instance, profile = voting.district_election(session, rnd, d)
        if not with_ballots:
            profile = Profile(profile.vote_type, [])
        out.append((d, outcomes.in_major_units(instance, city.currency), profile))
    return out


def _official_funded(record: OutcomeRecord | None, districts) -> list[frozenset[str]] | None:
    if record is None:
        return None
    by_slug = {x.get("district"): x for x in record.result.get("districts", [])}
    return [frozenset(str(i) for i in (by_slug.get(d.slug) or {}).get("selected", [])) for d in districts]


def _rule_figures(elections, funded, fairness: fig.Fairness) -> dict[str, Any]:
    return {**fig.as_json(fig.spending(elections, funded)), "fairness": fig.as_json(fairness),
            "selected": sorted((i for f in funded for i in f), key=_natural)}


def _natural(pid: str):
    return (0, int(pid), "") if pid.isdigit() else (1, 0, pid)


def _counted(session: Session, city: City, rnd: Round, record, max_ballots: int | None) -> dict:
    rows = _elections(session, city, rnd, with_ballots=True)
    districts = [d for d, _, _ in rows]
    elections = [(i, p) for _, i, p in rows]
    out: dict[str, Any] = {"ballot_length": fig.as_json(fig.ballot_length(elections)),
                           "ballot_spend": fig.as_json(fig.ballot_spend(elections)),
                           "cost_distribution": fig.as_json(fig.cost_distribution(elections))}
    funded_by: dict[str, list[frozenset[str]]] = {}
    rules: dict[str, Any] = {}
    official = _official_funded(record, districts)
    if official is not None:
        funded_by[OFFICIAL] = official
        rules[OFFICIAL] = {"rule": dict(record.rule)}
        taxonomy = {c.slug: c.taxonomy for c in session.exec(select(Category).where(Category.city_id == city.id))}
        term_of = {c: taxonomy.get(c, "other") for i, _ in elections for p in i.projects for c in p.categories}
        out["category_shares"] = fig.as_json(fig.category_shares(elections, official, term_of))
    runs = outcomes_for(elections, tie_breaking=lambda i, p: tiebreak.for_round(rnd.tie_breaking, i, p),
                        tie_kind=rnd.tie_breaking, max_ballots=max_ballots, cache=rule_cache.Store(session))
    for rule_id, run in runs.items():
        if run.outcomes is None:
            rules[rule_id] = {"skipped": run.skipped, "message": run.message}
            continue
        funded_by[rule_id] = list(run.funded)
        rules[rule_id] = {}
    fairness = fig.fairness_many(elections, funded_by)  # the ballots read once for every rule
    for rule_id, funded in funded_by.items():
        rules[rule_id].update(_rule_figures(elections, funded, fairness[rule_id]))
    out.setdefault("category_shares", None)
    out["rules"] = rules
    names = {p.id: (p.name, d.slug) for d, i, _ in rows for p in i.projects}
    out["changes"] = [{"id": int(c.id) if c.id.isdigit() else c.id, "title": names.get(c.id, ("", ""))[0],
                       "district": names.get(c.id, ("", ""))[1], "funded_by": list(c.funded_by),
                       "not_funded_by": list(c.not_funded_by)} for c in fig.changes(funded_by)]
    return out


def _memoised(key: tuple, compute) -> dict:
    with _lock:
        hit = _memo.get(key)
        if hit is not None:
            _memo.move_to_end(key)
            return hit
    value = compute()
    with _lock:
        _memo[key] = value
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return value


def _open(session: Session, city: City, rnd: Round, visible: bool) -> dict[str, Any]:
    elections = [(i, p) for _, i, p in _elections(session, city, rnd, with_ballots=visible)]
    out: dict[str, Any] = {"cost_distribution": fig.as_json(fig.cost_distribution(elections)),
                           "ballot_length": None, "ballot_spend": None, "rules": None, "changes": None,
                           "category_shares": None}
    if visible:
        out["ballot_length"] = fig.as_json(fig.ballot_length(elections))
        out["ballot_spend"] = fig.as_json(fig.ballot_spend(elections))
    return out


def ballot_figures(session: Session, city: City, rnd: Round, now: datetime, *,
                   max_ballots: int | None = None) -> dict[str, Any]:
    phases = phases_of(session, rnd)
    if outcomes.voting_ended(session, rnd, now):
        record = outcomes.published(session, rnd)
        key = (rnd.id, rnd.version, record.id if record else None, _fingerprint(session, rnd), max_ballots)
        return _memoised(key, lambda: _counted(session, city, rnd, record, max_ballots))
    visible = counts_public(rnd, phases, now)  # as voters and turnout: hidden while voting unless live_turnout
    if not has_started(phases, "voting", now):
        return _open(session, city, rnd, visible)  # no ballots yet; costs may still change in review
    # Voting: the ballot (projects, costs) is frozen, so the figures change only with the ballots; a page
    # and its seven charts then read them once, not eight times.
    key = ("voting", rnd.id, rnd.version, visible, _fingerprint(session, rnd))
    return _memoised(key, lambda: _open(session, city, rnd, visible))


# --- the picker of the comparison page -------------------------------------------------------------

@dataclass(frozen=True)
class RoundChoice:
    ref: str            # city/round
    city: str
    city_name: str
    round: str
    title: str
    year: int | None
    phase: str


@dataclass(frozen=True)
class Choices:
    cities: tuple[tuple[str, str], ...]   # (slug, name) of every city, by slug
    years: tuple[int, ...]                # every round's year, newest first
    rounds: tuple[RoundChoice, ...]       # the rounds matching the filters, by city then year


YEAR = re.compile(r"(?<!\d)(19|20)\d\d(?!\d)")


def _year(rnd: Round, windows: list[PhaseWindow]) -> int | None:
    """A round's year: the year in its slug or title (Pabulib's `instance`, "2026"), else its voting's."""
    m = YEAR.search(rnd.slug) or YEAR.search(rnd.title or "")
    if m:
        return int(m.group(0))
    w = window(windows, "voting") or (sort_phases(windows)[0] if windows else None)
    return w.starts_at.year if w else None


def round_choices(session: Session, now: datetime, *, city: str | None = None, year: int | None = None,
                  q: str | None = None) -> Choices:
    """Every round matching city (slug), year and words of `q` (in the city's name or slug, the
    round's title or slug; case-insensitive, every word must match): three queries."""
    cities = session.exec(select(City).order_by(City.slug)).all()
    by_id = {c.id: c for c in cities}
    windows: dict[int, list[PhaseWindow]] = {}
    for p in session.exec(select(Phase)).all():
        windows.setdefault(p.round_id, []).append(PhaseWindow(p.name, p.starts_at, p.ends_at))
    words = [w.casefold() for w in (q or "").split() if w]
    found, years = [], set()
    for r in session.exec(select(Round).order_by(Round.city_id, Round.slug)).all():
        c = by_id[r.city_id]
        ws = windows.get(r.id, [])
        y = _year(r, ws)
        if y is not None:
            years.add(y)
        if city and c.slug != city or year and y != year:
            continue
        text = f"{c.slug} {c.name} {r.slug} {r.title}".casefold()
        if any(w not in text for w in words):
            continue
        found.append(RoundChoice(f"{c.slug}/{r.slug}", c.slug, c.name, r.slug, r.title, y, current_phase(ws, now)))
    found.sort(key=lambda x: (x.city, -(x.year or 0), x.round))
    return Choices(tuple((c.slug, c.name) for c in cities), tuple(sorted(years, reverse=True)), tuple(found))


__all__ = ["OFFICIAL", "Choices", "RoundChoice", "ballot_figures", "round_choices"]
