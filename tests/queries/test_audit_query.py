"""pb_engine.queries.audit: a city's audit log, newest first, filtered by round and action, page by page."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from pb_engine import audit
from pb_engine.queries.audit import AuditPage, audit_page
from pb_engine.store.lookup import city_by_slug
from pb_engine.store.tables import AuditEvent, Round

pytestmark = pytest.mark.db


@pytest.fixture
def log(world):
    """Beside the city.create and round.create events of the world: 23 more, on rounds and the city."""
    ids = world.round_ids
    with world.db.session() as s:
        alpha, beta = world.city_ids["alpha"], world.city_ids["beta"]
        for i in range(20):
            rid = ids["alpha/a"] if i % 2 else (ids["alpha/c"] if i % 3 else None)
            audit.record(s, actor=f"staff:{i % 3}", action=("proposal.review", "round.advance")[i % 4 == 0],
                         city_id=alpha, round_id=rid, target=f"proposal:{i}", before={"i": i}, after={"i": i + 1})
        audit.record(s, actor="cli", action="round.advance", city_id=beta, round_id=ids["beta/x"], target="beta/x")
        # An alpha event naming beta's round: it keeps no round slug, alpha's log never shows beta's rounds.
        audit.record(s, actor="system", action="odd", city_id=alpha, round_id=ids["beta/x"], before=["a", 1])
        audit.record(s, actor="system", action="nowhere", city_id=None)
    return world


def naive(db, city_slug, round_slug=None, action=None) -> list[tuple]:
    """The same answer from every event read into Python: (id, round slug) newest first."""
    with db.session() as s:
        c = city_by_slug(s, city_slug)
        slugs = {r.id: r.slug for r in s.exec(select(Round).where(Round.city_id == c.id))}
        rows = [e for e in s.exec(select(AuditEvent)) if e.city_id == c.id]
    out = [(e.id, slugs.get(e.round_id)) for e in rows
           if (not round_slug or slugs.get(e.round_id) == round_slug) and (not action or e.action == action)]
    return sorted(out, reverse=True)


def read(db, city_slug="alpha", **kw) -> AuditPage:
    with db.session() as s:
        return audit_page(s, city_by_slug(s, city_slug), **kw)


@pytest.mark.parametrize("filters", [{}, {"round_slug": "a"}, {"round_slug": "c"}, {"action": "proposal.review"},
                                     {"round_slug": "a", "action": "round.advance"}, {"action": "city.create"},
                                     {"round_slug": "x"}, {"round_slug": "nosuch"}, {"action": "nosuch"}])
def test_each_filter_gives_what_reading_every_event_gives(log, filters):
    expected = naive(log.db, "alpha", filters.get("round_slug"), filters.get("action"))
    got = read(log.db, per_page=500, **filters)
    assert [(e.id, e.round_slug) for e in got.events] == expected
    assert got.total == len(expected)


def test_filters_find_what_they_name(log):
    assert read(log.db, round_slug="nosuch").total == 0
    assert read(log.db, round_slug="x").total == 0          # beta's round, even with an alpha event naming it
    assert read(log.db, "beta", round_slug="x").total == 2  # round.create and the advance
    by_round = read(log.db, round_slug="a", per_page=500)
    assert by_round.total == 11 and {e.round_slug for e in by_round.events} == {"a"}  # round.create + 10
    assert {e.action for e in read(log.db, action="round.advance", per_page=500).events} == {"round.advance"}


def test_pages_split_the_newest_first_list(log):
    everything = [e.id for e in read(log.db, per_page=500).events]
    assert everything == sorted(everything, reverse=True) and len(everything) == 1 + 4 + 20 + 1  # +city, rounds
    pages = [read(log.db, page=n, per_page=7) for n in (1, 2, 3, 4)]
    assert [e.id for p in pages for e in p.events] == everything
    assert [len(p.events) for p in pages] == [7, 7, 7, 5]
    assert {p.total for p in pages} == {26} and pages[0].pages == 4
    beyond = read(log.db, page=5, per_page=7)
    assert beyond.events == () and beyond.total == 26 and (beyond.page, beyond.per_page) == (5, 7)


def test_an_entry_carries_what_was_recorded(log):
    entries = read(log.db, per_page=500).events
    odd = next(e for e in entries if e.action == "odd")
    assert (odd.actor, odd.round_slug, odd.target, odd.before, odd.after) == ("system", None, "", ["a", 1], None)
    review = next(e for e in entries if e.target == "proposal:1")
    assert (review.actor, review.action, review.round_slug, review.before, review.after) == \
        ("staff:1", "proposal.review", "a", {"i": 1}, {"i": 2})
    assert all(e.at.tzinfo is not None for e in entries)
    with pytest.raises(dataclasses.FrozenInstanceError):
        odd.action = "changed"  # type: ignore[misc]


def test_tenants_see_only_their_own_log(log):
    beta = read(log.db, "beta", per_page=500).events
    assert {e.action for e in beta} == {"city.create", "round.create", "round.advance"}
    assert "nowhere" not in {e.action for e in read(log.db, per_page=500).events}


def test_two_statements_whatever_the_page_size(log, statements):
    with log.db.session() as s:
        alpha = city_by_slug(s, "alpha")
        with statements(log.db.engine) as small:
            audit_page(s, alpha, per_page=2)
        with statements(log.db.engine) as large:
            audit_page(s, alpha, round_slug="a", action="proposal.review", per_page=500)
    assert small.count == large.count == 2


def test_page_numbers_start_at_one(log):
    with pytest.raises(ValueError):
        read(log.db, page=0)
    with pytest.raises(ValueError):
        read(log.db, per_page=0)
