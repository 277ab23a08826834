"""Cities as the JSON API lists them: each city with its rounds (oldest first) and their current phase,
and one city with its notes and categories. A fixed number of queries, however many rounds there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from pb_engine.phases import PhaseWindow, current_phase, sort_phases
from pb_engine.queries.rounds import CategoryInfo, CityInfo, CityRounds, PhaseInfo, RoundSummary, city_info
from pb_engine.store.tables import Category, City, Phase, Round


@dataclass(frozen=True)
class CityDetail:
    city: CityInfo
    notes: str
    rounds: tuple[RoundSummary, ...]        # oldest first
    categories: tuple[CategoryInfo, ...]    # every category of the city, by slug


def _rounds_by_city(session: Session, now: datetime, city_id: int | None = None) -> dict[int, list[RoundSummary]]:
    """Round summaries per city id, oldest first (created_at, then id): two queries."""
    rounds = select(Round).order_by(Round.created_at, Round.id)
    phases = select(Phase)
    if city_id is not None:
        rounds = rounds.where(Round.city_id == city_id)
        phases = phases.join(Round, Round.id == Phase.round_id).where(Round.city_id == city_id)
    windows: dict[int, list[PhaseWindow]] = {}
    for p in session.exec(phases).all():
        windows.setdefault(p.round_id, []).append(PhaseWindow(p.name, p.starts_at, p.ends_at))
    out: dict[int, list[RoundSummary]] = {}
    for r in session.exec(rounds).all():
        ws = sort_phases(windows.get(r.id, []))
        nxt = next((PhaseInfo(w.name, w.starts_at, w.ends_at, "upcoming") for w in ws if w.starts_at > now), None)
        out.setdefault(r.city_id, []).append(RoundSummary(r.slug, r.title, r.budget, current_phase(ws, now), nxt))
    return out


def cities(session: Session, now: datetime) -> list[CityRounds]:
    """Every city by slug, each with its rounds oldest first: three queries in all."""
    rows = session.exec(select(City).order_by(City.slug)).all()
    by_city = _rounds_by_city(session, now)
    return [CityRounds(city_info(c), tuple(by_city.get(c.id, ()))) for c in rows]


def city_detail(session: Session, city: City, now: datetime) -> CityDetail:
    """One city: its settings, notes, rounds oldest first and categories by slug (three queries)."""
    cats = session.exec(select(Category).where(Category.city_id == city.id).order_by(Category.slug)).all()
    return CityDetail(
        city=city_info(city), notes=city.notes,
        rounds=tuple(_rounds_by_city(session, now, city.id).get(city.id, ())),
        categories=tuple(CategoryInfo(c.slug, c.name, c.taxonomy) for c in cats),
    )


__all__ = ["CityDetail", "cities", "city_detail"]
