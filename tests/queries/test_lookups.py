"""The small lookups the JSON views call instead of writing queries (pb_engine.store.lookup, residents)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from pb_engine import residents
from pb_engine.errors import NotFound
from pb_engine.store import lookup
from pb_engine.store.tables import District, Resident, Round

pytestmark = pytest.mark.db


def test_round_exists_only_in_its_own_city(world):
    with world.db.session() as s:
        alpha, beta = lookup.city_by_slug(s, "alpha"), lookup.city_by_slug(s, "beta")
        assert lookup.round_exists(s, alpha, "a") and lookup.round_exists(s, beta, "x")
        assert not lookup.round_exists(s, alpha, "x") and not lookup.round_exists(s, beta, "a")
        assert not lookup.round_exists(s, alpha, "A")  # slugs are compared as written


def test_rounds_of_a_city_oldest_first(world):
    with world.db.session() as s:
        rows = lookup.rounds_of(s, lookup.city_by_slug(s, "alpha"))
        assert [r.slug for r in rows] == ["b", "d", "c", "a"]  # created_at, then id for d and c
        assert all(isinstance(r, Round) for r in rows)
        assert [r.slug for r in lookup.rounds_of(s, lookup.city_by_slug(s, "beta"))] == ["x"]


def test_category_slugs_of_a_city_by_slug(world):
    with world.db.session() as s:
        assert lookup.category_slugs(s, lookup.city_by_slug(s, "alpha")) == ["art-alpha", "parks", "streets"]
        assert lookup.category_slugs(s, lookup.city_by_slug(s, "beta")) == ["art-beta", "parks", "streets"]


def test_district_slug_by_id(world):
    with world.db.session() as s:
        north = s.exec(select(District).where(District.round_id == world.round_ids["alpha/c"],
                                              District.slug == "north")).one()
        assert lookup.district_slug(s, north.id) == "north"
        assert lookup.district_slug(s, None) is None
        assert lookup.district_slug(s, 2**31 - 1) is None


def test_find_resident_by_username_within_the_city(world):
    with world.db.session() as s:
        alpha, beta = lookup.city_by_slug(s, "alpha"), lookup.city_by_slug(s, "beta")
        ada = residents.register(s, alpha, username="ada", password="correct horse")
        s.add(Resident(city_id=alpha.id, username="x", display_name="X"))  # shorter than register allows
        s.flush()
        assert residents.find_by_username(s, alpha, "ada").id == ada.id
        assert residents.find_by_username(s, alpha, "x").display_name == "X"
        assert residents.find_by_username(s, beta, "ada") is None
        assert residents.find_by_username(s, alpha, "nobody") is None
        # by_username keeps its own rule: a name register could never give is not found.
        with pytest.raises(NotFound, match="no resident 'x'"):
            residents.by_username(s, alpha, "x")
        assert residents.by_username(s, alpha, "ada").id == ada.id


def test_the_database_answers_a_ping(db):
    assert db.ping() is None


def test_a_ping_to_no_database_raises():
    from sqlalchemy.exc import OperationalError

    from pb_engine.store.db import Database

    nowhere = Database("postgresql://nobody@127.0.0.1:1/none")  # nothing listens on port 1
    try:
        with pytest.raises(OperationalError):
            nowhere.ping()
    finally:
        nowhere.dispose()
