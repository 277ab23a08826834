"""Writing a parsed city config to the database, and reading a round back in config shape.

Idempotent: the wanted state is compared with the stored one and only a
difference is written, with an audit event holding the changed keys before and
after. Loading the same file twice writes nothing, not even an audit event.

Frozen settings: once a round's voting has started (or it has ballots or an
outcome), the settings that decide who is funded cannot change: budget,
districts (which there are and their budgets), districts_must_sum, ballot,
rule, tie_breaking, eligibility, and the start of voting. Titles, texts,
district names and populations, categories, the endorsement threshold and the
other phase dates stay editable (an election office may extend voting). A
frozen change is refused with RoundFrozen; it needs a new round (a new slug,
e.g. `2026-v2`).

Removing a round or a district that has proposals from a config does not
delete it: rounds are never deleted by a config load; a district with proposals
is refused.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from pb_engine import audit
from pb_engine.config.model import CityConfig, RoundConfig
from pb_engine.errors import Conflict
from pb_engine.money import major_json
from pb_engine.phases import PhaseWindow, current_phase, has_started, sort_phases, window
from pb_engine.store.lookup import districts_of, phases_of
from pb_engine.store.tables import Ballot, Category, City, District, OutcomeRecord, Phase, Proposal, Round
from pb_engine.store.types import utcnow

FROZEN_KEYS = ("budget", "districts_must_sum", "districts", "ballot", "rule", "tie_breaking", "eligibility",
               "phases.voting.starts_at")
CITY_FIELDS = ("name", "country", "population", "currency", "locales", "timezone", "notes")


class RoundFrozen(Conflict):
    """A change to a setting that is frozen because the round's voting has started."""

    code = "round_frozen"

    def __init__(self, ref: str, keys: list[str], since: str):
        self.ref = ref
        self.keys = keys
        keys_text = ", ".join(keys)
        problem = (f"{keys_text} {'is' if len(keys) == 1 else 'are'} frozen: voting {since}; the ballot and allocation "
                   f"rules, budgets and eligibility cannot change once voting has started. Create a new round "
                   f"(a new slug, e.g. '{ref.split('/')[-1]}-v2') to change them")
        super().__init__(f"round {ref}: {problem}", {k: [problem] for k in keys})
        self.problem = problem


# --- state: the comparable shape of a round or city ---------------------------

def _iso_utc(dt: datetime) -> str:
    return dt.isoformat()


def round_state_from_config(cfg: RoundConfig) -> dict[str, Any]:
    return {
        "title": cfg.title,
        "description": cfg.description,
        "budget": cfg.budget,
        "districts_must_sum": cfg.districts_must_sum,
        "endorsement_threshold": cfg.endorsement_threshold,
        "endorsement": {"require": cfg.endorsement_requires},
        "categories": list(cfg.categories),
        "districts": [{"slug": d.slug, "name": d.name, "budget": d.budget, "population": d.population}
                      for d in cfg.districts],
        "phases": [{"name": p.name, "starts_at": _iso_utc(p.starts_at), "ends_at": _iso_utc(p.ends_at)}
                   for p in sort_phases(cfg.phases)],
        "ballot": cfg.ballot.to_dict(),
        "rule": cfg.rule.to_dict(),
        "eligibility": dict(cfg.eligibility),
        "tie_breaking": cfg.tie_breaking,
        "live_turnout": cfg.live_turnout,
    }


def round_state(session: Session, row: Round) -> dict[str, Any]:
    """The stored round in the shape of round_state_from_config (minor units, UTC)."""
    return {
        "title": row.title,
        "description": row.description,
        "budget": row.budget,
        "districts_must_sum": row.districts_must_sum,
        "endorsement_threshold": row.endorsement_threshold,
        "endorsement": {"require": row.endorsement_requires or "account"},
        "categories": list(row.categories or []),
        "districts": [{"slug": d.slug, "name": d.name, "budget": d.budget, "population": d.population}
                      for d in districts_of(session, row)],
        "phases": [{"name": p.name, "starts_at": _iso_utc(p.starts_at), "ends_at": _iso_utc(p.ends_at)}
                   for p in phases_of(session, row)],
        "ballot": dict(row.ballot or {}),
        "rule": dict(row.rule or {}),
        "eligibility": dict(row.eligibility or {}),
        "tie_breaking": row.tie_breaking,
        "live_turnout": bool(row.live_turnout),
    }


def _frozen_view(state: dict[str, Any]) -> dict[str, Any]:
    voting = next((p for p in state["phases"] if p["name"] == "voting"), None)
    return {
        "budget": state["budget"],
        "districts_must_sum": state["districts_must_sum"],
        "districts": [(d["slug"], d["budget"]) for d in state["districts"]],
        "ballot": state["ballot"],
        "rule": state["rule"],
        "tie_breaking": state["tie_breaking"],
        "eligibility": state["eligibility"],
        "phases.voting.starts_at": voting["starts_at"] if voting else None,
    }


def frozen_since(session: Session, row: Round, now: datetime | None = None, *,
                 phases: list[PhaseWindow] | None = None) -> str | None:
    """Why the round's frozen settings cannot change (None: they can). `phases`: the round's, if read already."""
    now = now or utcnow()
    phases = phases_of(session, row) if phases is None else phases
    if has_started(phases, "voting", now):
        return f"started at {window(phases, 'voting').starts_at.isoformat()}"
    if session.exec(select(Ballot.id).where(Ballot.round_id == row.id).limit(1)).first() is not None:
        return "has ballots"
    if session.exec(select(OutcomeRecord.id).where(OutcomeRecord.round_id == row.id).limit(1)).first() is not None:
        return "has an outcome"
    return None


# --- rounds ------------------------------------------------------------------

def upsert_round(session: Session, city_row: City, round_cfg: RoundConfig, actor: str,
                 now: datetime | None = None) -> Round:
    """Create or update one round of a city; writes nothing when nothing changed.

    Raises RoundFrozen when a frozen setting of a round whose voting has started
    would change, Conflict when a district with proposals would be removed.
    """
    row, _ = _upsert_round(session, city_row, round_cfg, actor, now or utcnow())
    return row


def _upsert_round(session: Session, city: City, cfg: RoundConfig, actor: str, now: datetime) -> tuple[Round, str | None]:
    ref = f"{city.slug}/{cfg.slug}"
    row = session.exec(select(Round).where(Round.city_id == city.id, Round.slug == cfg.slug).with_for_update()).first()
    wanted = round_state_from_config(cfg)
    if row is None:
        row = Round(city_id=city.id, slug=cfg.slug, voter_secret=secrets.token_hex(32), created_at=now, updated_at=now)
        _set_round_fields(row, cfg)
        session.add(row)
        session.flush()
        _write_districts(session, row, cfg, ref)
        _write_phases(session, row, cfg)
        audit.record(session, actor=actor, action="round.create", city_id=city.id, round_id=row.id, target=ref,
                     before=None, after=wanted)
        session.flush()
        return row, f"round {ref} created"

    current = round_state(session, row)
    if current == wanted:
        return row, None
    since = frozen_since(session, row, now)
    if since is not None:
        old, new = _frozen_view(current), _frozen_view(wanted)
        changed = [k for k in FROZEN_KEYS if old[k] != new[k]]
        if changed:
            raise RoundFrozen(ref, changed, since)
    changed_keys = [k for k in wanted if wanted[k] != current[k]]
    _set_round_fields(row, cfg)
    row.updated_at = now
    session.add(row)
    if "districts" in changed_keys:
        _write_districts(session, row, cfg, ref)
    if "phases" in changed_keys:
        _write_phases(session, row, cfg)
    audit.record(session, actor=actor, action="round.update", city_id=city.id, round_id=row.id, target=ref,
                 before={k: current[k] for k in changed_keys}, after={k: wanted[k] for k in changed_keys})
    session.flush()
    return row, f"round {ref} updated ({', '.join(changed_keys)})"


def _set_round_fields(row: Round, cfg: RoundConfig) -> None:
    row.title = cfg.title
    row.description = cfg.description
    row.budget = cfg.budget
    row.districts_must_sum = cfg.districts_must_sum
    row.endorsement_threshold = cfg.endorsement_threshold
    row.endorsement_requires = cfg.endorsement_requires
    row.categories = list(cfg.categories)
    row.ballot = cfg.ballot.to_dict()
    row.rule = cfg.rule.to_dict()
    row.eligibility = dict(cfg.eligibility)
    row.tie_breaking = cfg.tie_breaking
    row.live_turnout = cfg.live_turnout


def _write_districts(session: Session, row: Round, cfg: RoundConfig, ref: str) -> None:
    existing = {d.slug: d for d in session.exec(select(District).where(District.round_id == row.id))}
    wanted = {d.slug for d in cfg.districts}
    for slug, d in existing.items():
        if slug in wanted:
            continue
        used = session.exec(select(func.count()).select_from(Proposal).where(Proposal.district_id == d.id)).one()
        if used:
            raise Conflict(f"round {ref}: district {slug!r} has {used} proposal(s) and cannot be removed",
                           {"districts": [f"district {slug!r} has proposals"]})
        session.delete(d)
    session.flush()
    for position, d in enumerate(cfg.districts):
        target = existing.get(d.slug) or District(round_id=row.id, slug=d.slug)
        target.name, target.budget, target.population, target.position = d.name, d.budget, d.population, position
        session.add(target)


def _write_phases(session: Session, row: Round, cfg: RoundConfig) -> None:
    existing = {p.name: p for p in session.exec(select(Phase).where(Phase.round_id == row.id))}
    wanted = {p.name: p for p in cfg.phases}
    for name, p in existing.items():
        if name not in wanted:
            session.delete(p)
    for name, w in wanted.items():
        target = existing.get(name) or Phase(round_id=row.id, name=name)
        target.starts_at, target.ends_at = w.starts_at, w.ends_at
        session.add(target)


# --- cities ------------------------------------------------------------------

def _city_state(row: City, categories: Iterable[Category]) -> dict[str, Any]:
    out = {k: getattr(row, k) for k in CITY_FIELDS}
    out["locales"] = list(out["locales"] or [])
    out["categories"] = sorted(({"slug": c.slug, "name": c.name, "taxonomy": c.taxonomy} for c in categories),
                               key=lambda c: c["slug"])
    return out


def _city_state_from_config(cfg: CityConfig) -> dict[str, Any]:
    return {
        "name": cfg.name, "country": cfg.country, "population": cfg.population, "currency": cfg.currency,
        "locales": list(cfg.locales), "timezone": cfg.timezone, "notes": cfg.notes,
        "categories": sorted(({"slug": c.slug, "name": c.name, "taxonomy": c.taxonomy} for c in cfg.categories),
                             key=lambda c: c["slug"]),
    }


def apply_city(session: Session, cfg: CityConfig, actor: str = "cli", now: datetime | None = None, *,
               config_file: str = "", config_hash: str = "") -> list[str]:
    """Create or update a city, its categories and its rounds. Returns what changed ([] when nothing did).

    Everything happens in the caller's transaction: on any error the caller
    rolls back and nothing of the config is applied.
    """
    now = now or utcnow()
    changes: list[str] = []
    row = session.exec(select(City).where(City.slug == cfg.slug).with_for_update()).first()
    wanted = _city_state_from_config(cfg)
    if row is None:
        row = City(slug=cfg.slug, name=cfg.name, country=cfg.country, population=cfg.population,
                   currency=cfg.currency, locales=list(cfg.locales), timezone=cfg.timezone, notes=cfg.notes,
                   config_file=config_file, config_hash=config_hash, created_at=now)
        session.add(row)
        session.flush()
        for c in cfg.categories:
            session.add(Category(city_id=row.id, slug=c.slug, name=c.name, taxonomy=c.taxonomy))
        audit.record(session, actor=actor, action="city.create", city_id=row.id, target=cfg.slug, before=None, after=wanted)
        changes.append(f"city {cfg.slug} created")
    else:
        existing = {c.slug: c for c in session.exec(select(Category).where(Category.city_id == row.id))}
        current = _city_state(row, existing.values())
        if current != wanted:
            changed = [k for k in wanted if wanted[k] != current[k]]
            if "currency" in changed:
                has_rounds = session.exec(select(Round.id).where(Round.city_id == row.id).limit(1)).first()
                if has_rounds is not None:
                    raise Conflict(f"city {cfg.slug}: currency cannot change from {row.currency} to {cfg.currency} "
                                   f"once the city has rounds (their budgets are in {row.currency})",
                                   {"city.currency": ["cannot change once the city has rounds"]})
            for k in CITY_FIELDS:
                setattr(row, k, list(getattr(cfg, k)) if k == "locales" else getattr(cfg, k))
            row.config_file, row.config_hash = config_file or row.config_file, config_hash or row.config_hash
            session.add(row)
            if "categories" in changed:
                new = {c.slug: c for c in cfg.categories}
                for slug, c in existing.items():
                    if slug not in new:
                        session.delete(c)
                for slug, c in new.items():
                    target = existing.get(slug) or Category(city_id=row.id, slug=slug)
                    target.name, target.taxonomy = c.name, c.taxonomy
                    session.add(target)
            audit.record(session, actor=actor, action="city.update", city_id=row.id, target=cfg.slug,
                         before={k: current[k] for k in changed}, after={k: wanted[k] for k in changed})
            changes.append(f"city {cfg.slug} updated ({', '.join(changed)})")
    session.flush()
    for rnd in cfg.rounds:
        _, change = _upsert_round(session, row, rnd, actor, now)
        if change:
            changes.append(change)
    return changes


# --- reading a round back -----------------------------------------------------

def round_to_dict(session: Session, round_row: Round, now: datetime | None = None) -> dict[str, Any]:
    """The round as its config section, in JSON form: money in major units, phases as ISO 8601 with the
    city's offset, plus `city`, `currency`, `timezone`, `current_phase` and `frozen` (read-only keys that
    parse_round skips with read_only_ok=True)."""
    now = now or utcnow()
    city = session.get(City, round_row.city_id)
    zone = ZoneInfo(city.timezone)
    cur = city.currency
    phases = phases_of(session, round_row)
    districts = []
    for d in districts_of(session, round_row):
        item: dict[str, Any] = {"slug": d.slug, "name": d.name, "budget": major_json(d.budget, cur)}
        if d.population is not None:
            item["population"] = d.population
        districts.append(item)
    return {
        "city": city.slug,
        "slug": round_row.slug,
        "title": round_row.title,
        "description": round_row.description,
        "budget": major_json(round_row.budget, cur),
        "currency": cur,
        "timezone": city.timezone,
        "districts_must_sum": round_row.districts_must_sum,
        "endorsement_threshold": round_row.endorsement_threshold,
        "endorsement": {"require": round_row.endorsement_requires or "account"},
        "categories": list(round_row.categories or []),
        "districts": districts,
        "phases": [{"name": p.name, "starts_at": p.starts_at.astimezone(zone).isoformat(),
                    "ends_at": p.ends_at.astimezone(zone).isoformat()} for p in phases],
        "ballot": dict(round_row.ballot or {}),
        "rule": dict(round_row.rule or {}),
        "eligibility": dict(round_row.eligibility or {}),
        "tie_breaking": round_row.tie_breaking,
        "live_turnout": bool(round_row.live_turnout),
        "current_phase": current_phase(phases, now),
        "frozen": frozen_since(session, round_row, now, phases=phases) is not None,
    }
