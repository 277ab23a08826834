"""Cities and rounds as people read them: phases with their state, districts, rules, threshold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from pb_engine.ballots.rules import BallotRules
from pb_engine.phases import CLOSED, UPCOMING, current_phase
from pb_engine.store.lookup import districts_of, phases_of
from pb_engine.store.tables import Category, City, OutcomeRecord, Phase, Round


@dataclass(frozen=True)
class CityInfo:
    id: int
    slug: str
    name: str
    country: str
    currency: str
    locales: tuple[str, ...]
    timezone: str
    population: int | None


@dataclass(frozen=True)
class PhaseInfo:
    name: str
    starts_at: datetime
    ends_at: datetime
    state: str  # past | current | upcoming


@dataclass(frozen=True)
class DistrictInfo:
    id: int
    slug: str
    name: str
    budget: int          # minor units
    population: int | None


@dataclass(frozen=True)
class CategoryInfo:
    slug: str
    name: str
    taxonomy: str


@dataclass(frozen=True)
class RoundInfo:
    id: int
    city: CityInfo
    slug: str
    title: str
    description: str
    budget: int                       # minor units
    current_phase: str                # a phase name, upcoming, closed or after_<phase>
    phases: tuple[PhaseInfo, ...]
    districts: tuple[DistrictInfo, ...]
    ballot: BallotRules | None        # None when the stored settings are invalid
    rule: dict
    tie_breaking: str
    endorsement_threshold: int
    methods: tuple[str, ...]          # how voters identify themselves
    multi_district: bool
    categories: tuple[CategoryInfo, ...]  # those proposals may use
    has_results: bool

    def phase(self, name: str) -> PhaseInfo | None:
        return next((p for p in self.phases if p.name == name), None)

    @property
    def phase_name(self) -> str:
        """The current phase, or the one just ended while between phases."""
        return self.current_phase[len("after_"):] if self.current_phase.startswith("after_") else self.current_phase

    def is_open(self, *names: str) -> bool:
        return self.current_phase in names

    def district(self, slug: str) -> DistrictInfo | None:
        return next((d for d in self.districts if d.slug == slug), None)


def city_info(c: City) -> CityInfo:
    return CityInfo(c.id, c.slug, c.name, c.country, c.currency, tuple(c.locales or ()), c.timezone, c.population)


def _phases(windows, now: datetime) -> tuple[PhaseInfo, ...]:
    out = []
    for w in windows:
        state = "current" if w.contains(now) else ("past" if w.ends_at <= now else "upcoming")
        out.append(PhaseInfo(w.name, w.starts_at, w.ends_at, state))
    return tuple(out)


def round_info(session: Session, c: City, rnd: Round, now: datetime) -> RoundInfo:
    from pb_engine.voting import eligibility  # voting imports the store; keep this module light to import

    windows = phases_of(session, rnd)
    rules, _problems = BallotRules.from_dict(rnd.ballot or {"kind": "approval"})
    cats = session.exec(select(Category).where(Category.city_id == c.id).order_by(Category.id)).all()
    if rnd.categories:
        cats = [x for x in cats if x.slug in set(rnd.categories)]
    methods, multi = eligibility(rnd)
    has_results = session.exec(select(OutcomeRecord.id).where(OutcomeRecord.round_id == rnd.id,
                                                              OutcomeRecord.status == "published")).first() is not None
    return RoundInfo(
        id=rnd.id, city=city_info(c), slug=rnd.slug, title=rnd.title, description=rnd.description,
        budget=rnd.budget, current_phase=current_phase(windows, now), phases=_phases(windows, now),
        districts=tuple(DistrictInfo(d.id, d.slug, d.name, d.budget, d.population) for d in districts_of(session, rnd)),
        ballot=rules, rule=dict(rnd.rule or {}), tie_breaking=rnd.tie_breaking,
        endorsement_threshold=rnd.endorsement_threshold, methods=methods, multi_district=multi,
        categories=tuple(CategoryInfo(x.slug, x.name, x.taxonomy) for x in cats), has_results=has_results,
    )


@dataclass(frozen=True)
class RoundSummary:
    slug: str
    title: str
    budget: int
    current_phase: str
    next_phase: PhaseInfo | None


@dataclass(frozen=True)
class CityRounds:
    city: CityInfo
    rounds: tuple[RoundSummary, ...]


def directory(session: Session, now: datetime) -> list[CityRounds]:
    """Every city with its rounds (newest first) and their current phase: three queries in all."""
    cities = session.exec(select(City).order_by(City.slug)).all()
    rounds = session.exec(select(Round).order_by(Round.created_at.desc(), Round.id.desc())).all()
    from pb_engine.phases import PhaseWindow, sort_phases

    windows: dict[int, list] = {}
    for p in session.exec(select(Phase)).all():
        windows.setdefault(p.round_id, []).append(PhaseWindow(p.name, p.starts_at, p.ends_at))
    by_city: dict[int, list[RoundSummary]] = {}
    for r in rounds:
        ws = sort_phases(windows.get(r.id, []))
        nxt = next((PhaseInfo(w.name, w.starts_at, w.ends_at, "upcoming") for w in ws if w.starts_at > now), None)
        by_city.setdefault(r.city_id, []).append(RoundSummary(r.slug, r.title, r.budget, current_phase(ws, now), nxt))
    return [CityRounds(city_info(c), tuple(by_city.get(c.id, ()))) for c in cities]


__all__ = ["CityInfo", "PhaseInfo", "DistrictInfo", "CategoryInfo", "RoundInfo", "RoundSummary", "CityRounds",
           "city_info", "round_info", "directory", "UPCOMING", "CLOSED"]
