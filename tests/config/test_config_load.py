"""Loading city configs: the shipped ones, idempotence, updates with an audit event, frozen rounds."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlmodel import select

from cfg_helpers import BEFORE, DURING_VOTING, GOOD, counts, edit
from pb_engine.config import RoundFrozen, load_path, parse_round, round_to_dict, upsert_round
from pb_engine.store.lookup import city_by_slug, round_by_slug
from pb_engine.store.tables import AuditEvent, Category

pytestmark = pytest.mark.db

SHIPPED = Path(__file__).resolve().parents[2] / "city_configs"
NOW = datetime(2026, 11, 26, 12, tzinfo=timezone.utc)


def events(db) -> list[AuditEvent]:
    with db.session() as s:
        return list(s.exec(select(AuditEvent).order_by(AuditEvent.id)))


def the_round(db, city: str, slug: str, now=NOW) -> dict:
    with db.session() as s:
        return round_to_dict(s, round_by_slug(s, city_by_slug(s, city), slug), now)


def test_all_shipped_configs_load(db):
    report = load_path(db, SHIPPED, now=NOW)
    assert report.ok, [f.error for f in report.failed]
    cities = {f.city for f in report.files}
    assert {"taipei", "taichung", "kaohsiung", "warszawa", "wieliczka", "toulouse"} <= cities
    assert all(f.status == "created" for f in report.files)


def test_shipped_pabulib_rounds_have_their_real_rules(db):
    load_path(db, SHIPPED, now=NOW)
    warszawa = the_round(db, "warszawa", "2026")
    assert warszawa["budget"] == 24186815 and warszawa["currency"] == "PLN"
    assert warszawa["ballot"] == {"kind": "approval", "max_projects": 5}
    assert warszawa["rule"] == {"id": "greedy-threshold", "threshold": 3000}
    assert warszawa["phases"] == [{"name": "voting", "starts_at": "2025-06-01T00:00:00+02:00",
                                   "ends_at": "2025-06-16T00:00:00+02:00"}]
    assert warszawa["current_phase"] == "closed" and warszawa["frozen"] is True
    wieliczka = the_round(db, "wieliczka", "2023-green-budget")
    assert wieliczka["budget"] == 1000000
    assert wieliczka["rule"] == {"id": "mes", "satisfaction": "cost", "completion": "add1-comparison"}
    toulouse = the_round(db, "toulouse", "2022")
    assert (toulouse["budget"], toulouse["currency"]) == (8000000, "EUR")
    assert toulouse["ballot"] == {"kind": "approval", "min_projects": 1, "max_projects": 3}
    assert toulouse["rule"] == {"id": "greedy"}
    taipei = the_round(db, "taipei", "2025")
    assert taipei["currency"] == "TWD" and len(taipei["districts"]) == 12
    assert taipei["phases"][2]["starts_at"] == "2025-08-01T09:00:00+08:00"


def test_loading_twice_changes_nothing(db):
    first = load_path(db, SHIPPED, now=NOW)
    before = counts(db)
    assert before["AuditEvent"] > 0
    second = load_path(db, SHIPPED, now=NOW)
    assert [f.status for f in second.files] == ["unchanged"] * len(first.files)
    assert counts(db) == before


def test_a_change_to_a_round_before_voting_updates_it_with_an_audit_event(db, write):
    path = write(GOOD)
    assert load_path(db, path, now=BEFORE).ok
    n_events = len(events(db))
    text = edit(GOOD, 'title = "Testville 2030"', 'title = "Testville 2030, second call"')
    text = edit(text, "max_projects = 3", "max_projects = 4")
    text = edit(text, 'id = "greedy"', 'id = "mes"\n  satisfaction = "cost"')
    path.write_text(text, encoding="utf-8")
    report = load_path(db, path, now=BEFORE)
    assert report.ok and report.files[0].status == "updated", report.files[0].line()
    rnd = the_round(db, "testville", "2030")
    assert rnd["title"] == "Testville 2030, second call"
    assert rnd["ballot"]["max_projects"] == 4
    assert rnd["rule"] == {"id": "mes", "satisfaction": "cost"}
    new = events(db)[n_events:]
    assert [e.action for e in new] == ["round.update"]
    assert new[0].target == "testville/2030" and new[0].actor == "cli"
    assert new[0].before["ballot"]["max_projects"] == 3 and new[0].after["ballot"]["max_projects"] == 4
    assert set(new[0].after) == {"title", "ballot", "rule"}


def test_city_and_category_changes_are_applied_and_audited(db, write):
    path = write(GOOD)
    load_path(db, path, now=BEFORE)
    text = edit(GOOD, 'name = "Parks"', 'name = "Parks and gardens"')
    text = edit(text, "population = 100000", "population = 120000")
    path.write_text(text, encoding="utf-8")
    assert load_path(db, path, now=BEFORE).files[0].status == "updated"
    with db.session() as s:
        city = city_by_slug(s, "testville")
        assert city.population == 120000
        names = {c.slug: c.name for c in s.exec(select(Category).where(Category.city_id == city.id))}
    assert names == {"parks": "Parks and gardens", "roads": "Roads"}
    assert events(db)[-1].action == "city.update"


@pytest.mark.parametrize("old,new,key", [
    ('id = "greedy"', 'id = "mes"', "rule"),
    ("max_projects = 3", "max_projects = 5", "ballot"),
    ('tie_breaking = "id"', 'tie_breaking = "cost-asc"', "tie_breaking"),
])
def test_frozen_round_refuses_rule_and_ballot_changes(db, write, old, new, key):
    path = write(GOOD)
    assert load_path(db, path, now=BEFORE).ok
    before_counts, before_round = counts(db), the_round(db, "testville", "2030", DURING_VOTING)
    # The same file with a frozen setting changed, and an innocent city change that must not land either.
    text = edit(edit(GOOD, old, new), "population = 100000", "population = 1")
    path.write_text(text, encoding="utf-8")
    report = load_path(db, path, now=DURING_VOTING)
    assert not report.ok
    message = report.failed[0].error
    assert f"{path}: rounds.2030.{key}: round testville/2030" in message
    assert "frozen" in message and "new round" in message
    assert counts(db) == before_counts  # no audit event either
    assert the_round(db, "testville", "2030", DURING_VOTING) == before_round
    with db.session() as s:
        assert city_by_slug(s, "testville").population == 100000


def test_frozen_round_refuses_district_budget_changes(db, write):
    path = write(GOOD)
    load_path(db, path, now=BEFORE)
    path.write_text(edit(edit(GOOD, "budget = 600_000", "budget = 500_000"), "budget = 400_000", "budget = 500_000"))
    report = load_path(db, path, now=DURING_VOTING)
    assert "rounds.2030.districts: round testville/2030" in report.failed[0].error


def test_frozen_round_still_takes_editable_changes(db, write):
    path = write(GOOD)
    load_path(db, path, now=BEFORE)
    text = edit(GOOD, 'title = "Testville 2030"', 'title = "Testville 2030 (voting extended)"')
    text = edit(text, "ends_at = 2030-06-30T17:00:00+08:00", "ends_at = 2030-07-07T17:00:00+08:00")
    path.write_text(text, encoding="utf-8")
    report = load_path(db, path, now=DURING_VOTING)
    assert report.ok, report.failed[0].error
    rnd = the_round(db, "testville", "2030", DURING_VOTING)
    assert rnd["phases"][-1]["ends_at"] == "2030-07-07T17:00:00+08:00"
    assert rnd["current_phase"] == "voting" and rnd["frozen"] is True


def test_shipped_past_round_is_frozen(db, tmp_path):
    shutil.copy(SHIPPED / "warszawa.toml", tmp_path / "warszawa.toml")
    path = tmp_path / "warszawa.toml"
    load_path(db, path, now=NOW)
    path.write_text(path.read_text(encoding="utf-8").replace("threshold = 3000", "threshold = 2000"), encoding="utf-8")
    report = load_path(db, path, now=NOW)
    assert not report.ok
    assert f"{path}: rounds.2026.rule: round warszawa/2026" in report.failed[0].error
    assert the_round(db, "warszawa", "2026")["rule"]["threshold"] == 3000


def test_round_dict_round_trips_through_parse_round(db, write):
    load_path(db, write(GOOD), now=BEFORE)
    n = len(events(db))
    data = the_round(db, "testville", "2030", BEFORE)
    assert data["budget"] == 1000000 and data["districts"][0] == {"slug": "north", "name": "North", "budget": 600000,
                                                                   "population": 40000}
    # Local dates are in the city's time zone; a bare end date includes that day.
    assert data["phases"][0] == {"name": "submission", "starts_at": "2030-02-01T00:00:00+08:00",
                                 "ends_at": "2030-03-01T00:00:00+08:00"}
    assert data["phases"][1]["ends_at"] == "2030-05-31T23:00:00+08:00"
    assert data["current_phase"] == "upcoming"
    cfg = parse_round(data, timezone="Asia/Taipei", currency="TWD", categories=["parks", "roads"], file="api",
                      prefix="", read_only_ok=True)
    with db.session() as s:
        upsert_round(s, city_by_slug(s, "testville"), cfg, "api", BEFORE)
    assert len(events(db)) == n  # the same content writes nothing


def test_upsert_round_raises_round_frozen(db, write):
    load_path(db, write(GOOD), now=BEFORE)
    data = the_round(db, "testville", "2030", DURING_VOTING)
    data["rule"] = {"id": "mes"}
    cfg = parse_round(data, timezone="Asia/Taipei", currency="TWD", categories=["parks", "roads"], file="api",
                      read_only_ok=True)
    with pytest.raises(RoundFrozen) as info:
        with db.session() as s:
            upsert_round(s, city_by_slug(s, "testville"), cfg, "api", DURING_VOTING)
    assert info.value.status == 409 and "rule" in info.value.errors
    assert "testville/2030" in info.value.message
