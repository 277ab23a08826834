"""pb_engine.queries.cities: every city with its rounds oldest first, one city with notes and categories."""

from __future__ import annotations

from datetime import timedelta

import pytest

from query_world import NOW
from pb_engine.queries.cities import cities, city_detail
from pb_engine.store.lookup import city_by_slug

pytestmark = pytest.mark.db


def test_cities_by_slug_each_with_its_rounds_oldest_first(world):
    with world.db.session() as s:
        found = cities(s, NOW)
    assert [c.city.slug for c in found] == ["alpha", "beta"]
    alpha, beta = found
    # b (EARLY) before d and c (MID, same moment: d was created first) before a (LATE).
    assert [r.slug for r in alpha.rounds] == ["b", "d", "c", "a"]
    assert [r.slug for r in beta.rounds] == ["x"]
    assert alpha.city.id == world.city_ids["alpha"]
    assert (alpha.city.name, alpha.city.currency, alpha.city.timezone, alpha.city.locales) == \
        ("Alpha", "EUR", "Europe/Warsaw", ("en",))


def test_round_summaries_carry_phase_budget_and_next_phase(world):
    with world.db.session() as s:
        rounds = {r.slug: r for r in cities(s, NOW)[0].rounds}
    assert {slug: r.current_phase for slug, r in rounds.items()} == \
        {"a": "submission", "b": "upcoming", "c": "submission", "d": "closed"}
    assert all(type(r.budget) is int and r.budget == 100_000 * 100 for r in rounds.values())  # minor units
    assert rounds["a"].title == "Round a"
    assert rounds["d"].next_phase is None
    nxt = rounds["a"].next_phase
    assert (nxt.name, nxt.state) == ("endorsement", "upcoming")
    assert nxt.starts_at == NOW - timedelta(days=1) + timedelta(days=10)
    assert nxt.starts_at.tzinfo is not None
    assert rounds["b"].next_phase.name == "submission"


def test_the_phase_moves_with_now(world):
    later = NOW + timedelta(days=12)  # a's endorsement window
    with world.db.session() as s:
        rounds = {r.slug: r.current_phase for r in cities(s, later)[0].rounds}
    assert rounds["a"] == "endorsement"


def test_a_city_without_rounds_is_listed_with_none(world):
    from pb_engine.store.tables import City

    with world.db.session() as s:
        s.add(City(slug="gamma", name="Gamma", country="X", currency="TWD", locales=["zh-TW"], timezone="Asia/Taipei"))
    with world.db.session() as s:
        found = {c.city.slug: c for c in cities(s, NOW)}
    assert found["gamma"].rounds == ()
    assert found["gamma"].city.population is None


def test_city_detail_has_notes_categories_by_slug_and_only_its_rounds(world):
    with world.db.session() as s:
        alpha = city_detail(s, city_by_slug(s, "alpha"), NOW)
        beta = city_detail(s, city_by_slug(s, "beta"), NOW)
    assert alpha.notes == "Notes of alpha."
    assert [(c.slug, c.name, c.taxonomy) for c in alpha.categories] == \
        [("art-alpha", "Art", "culture"), ("parks", "Parks", "environment"), ("streets", "Streets", "transport")]
    assert [r.slug for r in alpha.rounds] == ["b", "d", "c", "a"]
    assert [c.slug for c in beta.categories] == ["art-beta", "parks", "streets"]
    assert [(r.slug, r.current_phase) for r in beta.rounds] == [("x", "submission")]


def test_queries_do_not_grow_with_the_rounds(world, statements):
    with world.db.session() as s:
        alpha = city_by_slug(s, "alpha")
        with statements(world.db.engine) as every:
            cities(s, NOW)
        with statements(world.db.engine) as one:
            city_detail(s, alpha, NOW)
    assert every.count == 3  # cities, rounds, phases
    assert one.count == 3    # categories, rounds, phases


def test_results_are_frozen(world):
    import dataclasses

    with world.db.session() as s:
        found = city_detail(s, city_by_slug(s, "alpha"), NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.notes = "changed"  # type: ignore[misc]
