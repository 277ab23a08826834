"""Demo data: whatever the date, one round is in voting, one in submission, one has published results."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import func, select

from pb_engine.config import load_path
from pb_engine.demo import seed_demo
from pb_engine.phases import current_phase
from pb_engine.store.lookup import city_by_slug, phases_of, round_by_slug
from pb_engine.store.tables import (AuditEvent, Ballot, Comment, Endorsement, OutcomeRecord, Proposal, Round,
                                    StaffResponse)

pytestmark = [pytest.mark.db, pytest.mark.slow]

CONFIGS = Path(__file__).resolve().parents[1] / "city_configs"
TABLES = (Round, Proposal, Endorsement, Comment, StaffResponse, Ballot, OutcomeRecord, AuditEvent)
NOW = datetime(2031, 3, 15, 4, 30, tzinfo=timezone.utc)  # any date: the demo dates itself from now


def counts(db):
    with db.session() as s:
        return {t.__name__: s.exec(select(func.count()).select_from(t)).one() for t in TABLES}


def phase_of(db, ref: str, now) -> str:
    city, slug = ref.split("/")
    with db.session() as s:
        return current_phase(phases_of(s, round_by_slug(s, city_by_slug(s, city), slug)), now)


def test_demo_is_in_its_phases_and_idempotent(db):
    assert load_path(db, CONFIGS, now=NOW).ok
    seed_demo(db, now=NOW)
    first = counts(db)
    assert {ref: phase_of(db, ref, NOW) for ref in ("taipei/2026", "taichung/2026", "kaohsiung/2026")} == {
        "taipei/2026": "voting", "taichung/2026": "submission", "kaohsiung/2026": "results"}
    assert first["Proposal"] >= 20 and first["Endorsement"] > 0 and first["Comment"] > 0
    assert first["StaffResponse"] > 0 and first["Ballot"] > 0

    again = seed_demo(db, now=NOW + timedelta(hours=1))
    assert counts(db) == first
    assert all(line.endswith("unchanged") for line in again.lines), again.lines

    with db.session() as s:
        taipei = round_by_slug(s, city_by_slug(s, "taipei"), "2026")
        on_ballot = s.exec(select(func.count()).select_from(Proposal).where(
            Proposal.round_id == taipei.id, Proposal.status == "on_ballot")).one()
        assert on_ballot >= 6
        assert s.exec(select(func.count()).select_from(Ballot).where(Ballot.round_id == taipei.id)).one() > 0
        kaohsiung = round_by_slug(s, city_by_slug(s, "kaohsiung"), "2026")
        record = s.exec(select(OutcomeRecord).where(OutcomeRecord.round_id == kaohsiung.id)).one()
        assert record.status == "published" and record.rule["id"] == "mes"
        funded = s.exec(select(Proposal.id).where(Proposal.round_id == kaohsiung.id,
                                                  Proposal.status == "funded")).all()
    districts = record.result["districts"]
    assert [d["district"] for d in districts] == ["lingya", "sanmin", "gushan"]
    for d in districts:
        assert d["selected"] and d["total_cost"] <= 5_000_000
        assert {"id", "funded", "reason", "message"} <= set(d["projects"][0])
        assert {p["id"] for p in d["projects"] if p["funded"]} == set(d["selected"])
    assert sorted(funded) == sorted(i for d in districts for i in d["selected"])


    # Restarted long after seeding: the rounds are moved back into their phases, nothing is re-cast.
    later = NOW + timedelta(days=400)
    result = seed_demo(db, now=later)
    assert {ref: phase_of(db, ref, later) for ref in ("taipei/2026", "taichung/2026", "kaohsiung/2026")} == {
        "taipei/2026": "voting", "taichung/2026": "submission", "kaohsiung/2026": "results"}
    assert counts(db)["Ballot"] == first["Ballot"]
    assert any("dates shifted" in line for line in result.lines)
