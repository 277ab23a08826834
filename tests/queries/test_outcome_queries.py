"""pb_engine.queries.outcomes: every outcome of a round, oldest first, by status, as recorded."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from pb_engine.queries.outcomes import STATUSES, outcome_info, outcomes_of
from pb_engine.store.tables import OutcomeRecord, Round
from query_world import NOW

pytestmark = pytest.mark.db

DISTRICTS = [{"district": "north", "budget": 50000, "spend": "12345.67", "ballots": 3, "projects": []}]


@pytest.fixture
def runs(world):
    """Round alpha/a: a superseded, a published, a draft and a what-if draft; alpha/c and beta/x one each."""
    ids = world.round_ids
    made = {}
    with world.db.session() as s:
        def add(key, round_key, **kw):
            o = OutcomeRecord(round_id=ids[round_key], rule=kw.pop("rule", {"id": "greedy"}),
                              result={"districts": DISTRICTS}, input_hash=f"h-{key}", engine_version="1.2.3",
                              created_at=NOW + timedelta(minutes=len(made)), **kw)
            s.add(o)
            s.flush()
            made[key] = o.id

        add("old", "alpha/a", status="superseded", published_at=NOW)
        add("pub", "alpha/a", status="published", published_at=NOW + timedelta(hours=1), supersedes_id=made["old"])
        add("other", "alpha/c", status="draft")
        add("draft", "alpha/a", status="draft")
        add("whatif", "alpha/a", status="draft", what_if=True, rule={"id": "mes", "completion": "greedy"})
        add("beta", "beta/x", status="published", published_at=NOW)
    return world, made


def listed(runs, round_key="alpha/a", **kw):
    world, _made = runs
    with world.db.session() as s:
        return outcomes_of(s, s.get(Round, world.round_ids[round_key]), **kw)


def test_every_outcome_of_the_round_oldest_first(runs):
    _world, made = runs
    assert [o.id for o in listed(runs)] == [made[k] for k in ("old", "pub", "draft", "whatif")]
    assert [o.id for o in listed(runs, "alpha/c")] == [made["other"]]
    assert [o.id for o in listed(runs, "beta/x")] == [made["beta"]]
    assert listed(runs, "alpha/b") == []


@pytest.mark.parametrize("status,keys", [("draft", ("draft", "whatif")), ("published", ("pub",)),
                                         ("superseded", ("old",))])
def test_the_status_filter_keeps_one_kind(runs, status, keys):
    _world, made = runs
    found = listed(runs, status=status)
    assert [o.id for o in found] == [made[k] for k in keys]
    assert {o.status for o in found} == {status}


def test_an_unknown_status_is_refused_not_ignored(runs):
    with pytest.raises(ValueError, match="draft, published, superseded"):
        listed(runs, status="deleted")
    assert STATUSES == ("draft", "published", "superseded")


def test_an_outcome_carries_what_was_recorded(runs):
    _world, made = runs
    by_id = {o.id: o for o in listed(runs)}
    pub, whatif, old = by_id[made["pub"]], by_id[made["whatif"]], by_id[made["old"]]
    assert (pub.round_slug, pub.status, pub.what_if, pub.rule, pub.input_hash, pub.engine_version) == \
        ("a", "published", False, {"id": "greedy"}, "h-pub", "1.2.3")
    assert pub.supersedes == made["old"] and old.supersedes is None
    assert pub.published_at == NOW + timedelta(hours=1) and pub.published_at.tzinfo is not None
    assert pub.created_at.tzinfo is not None and whatif.published_at is None
    assert (whatif.what_if, whatif.rule) == (True, {"id": "mes", "completion": "greedy"})
    assert pub.districts == tuple(DISTRICTS)  # exactly as stored: exact decimal text stays text
    with pytest.raises(dataclasses.FrozenInstanceError):
        pub.status = "draft"  # type: ignore[misc]


def test_one_statement_for_the_list(runs, statements):
    world, _made = runs
    with world.db.session() as s:
        rnd = s.get(Round, world.round_ids["alpha/a"])
        with statements(world.db.engine) as n:
            outcomes_of(s, rnd)
    assert n.count == 1


def test_outcome_info_of_a_record_without_districts():
    rnd = Round(id=7, city_id=1, slug="r", title="R")
    info = outcome_info(OutcomeRecord(id=3, round_id=7, rule={"id": "greedy"}, result={}, created_at=NOW), rnd)
    assert (info.id, info.round_slug, info.status, info.districts, info.supersedes) == (3, "r", "draft", (), None)
