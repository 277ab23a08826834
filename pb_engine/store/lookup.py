"""Finding rows by the slugs people use (taipei/2026/north); NotFound names what is missing."""

from __future__ import annotations

from sqlmodel import Session, select

from pb_engine.errors import NotFound
from pb_engine.phases import PhaseWindow, sort_phases
from pb_engine.store.tables import Category, City, District, Phase, Round


def city_by_slug(session: Session, slug: str) -> City:
    city = session.exec(select(City).where(City.slug == slug)).first()
    if city is None:
        raise NotFound(f"no city {slug!r}")
    return city


def round_by_slug(session: Session, city: City, slug: str, *, for_update: bool = False) -> Round:
    query = select(Round).where(Round.city_id == city.id, Round.slug == slug)
    if for_update:
        query = query.with_for_update()
    rnd = session.exec(query).first()
    if rnd is None:
        raise NotFound(f"no round {slug!r} in city {city.slug!r}")
    bind = session.get_bind()
    remember_round_id(getattr(bind, "engine", bind).url, city.slug, slug, rnd.id)
    return rnd


# The id of a round by its slugs, as last found in this process, per database: a hint for the online
# ballot (voting.cast_online), which needs the round's id to know the voter's token (a browser's cookie
# holds one per round id) before its one statement that reads round and voter session together. Only a
# hint: the cast checks it against the round it reads, and a wrong or missing one costs a statement more.
_ROUND_IDS: dict[tuple[str, str, str], int] = {}
_ROUND_IDS_MAX = 4096


def remember_round_id(url, city_slug: str, round_slug: str, round_id: int) -> None:
    key = (str(url), city_slug, round_slug)
    if _ROUND_IDS.get(key) != round_id:
        if len(_ROUND_IDS) >= _ROUND_IDS_MAX:
            _ROUND_IDS.clear()
        _ROUND_IDS[key] = round_id


def round_id_hint(url, city_slug: str, round_slug: str) -> int | None:
    return _ROUND_IDS.get((str(url), city_slug, round_slug))


def round_exists(session: Session, city: City, slug: str) -> bool:
    return session.exec(select(Round.id).where(Round.city_id == city.id, Round.slug == slug)).first() is not None


def rounds_of(session: Session, city: City) -> list[Round]:
    """The city's rounds, oldest first (created_at, then id)."""
    return list(session.exec(select(Round).where(Round.city_id == city.id).order_by(Round.created_at, Round.id)))


def category_slugs(session: Session, city: City) -> list[str]:
    """The slugs of the city's categories, by slug."""
    return list(session.exec(select(Category.slug).where(Category.city_id == city.id).order_by(Category.slug)))


def district_by_slug(session: Session, rnd: Round, slug: str) -> District:
    d = session.exec(select(District).where(District.round_id == rnd.id, District.slug == slug)).first()
    if d is None:
        raise NotFound(f"no district {slug!r} in round {rnd.slug!r}")
    return d


def district_slug(session: Session, district_id: int | None) -> str | None:
    """The slug of the district with this id (None for None or an unknown id)."""
    if district_id is None:
        return None
    return session.exec(select(District.slug).where(District.id == district_id)).first()


def districts_of(session: Session, rnd: Round) -> list[District]:
    return list(session.exec(select(District).where(District.round_id == rnd.id).order_by(District.position, District.id)))


def phases_of(session: Session, rnd: Round) -> list[PhaseWindow]:
    rows = session.exec(select(Phase).where(Phase.round_id == rnd.id))
    return sort_phases(PhaseWindow(p.name, p.starts_at, p.ends_at) for p in rows)
