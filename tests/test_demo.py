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
    seed_demo(db, now=NOW, real_rounds=False)  # the real rounds: test_real_rounds_* below
    first = counts(db)
    assert {ref: phase_of(db, ref, NOW) for ref in ("taipei/2026", "taichung/2026", "kaohsiung/2026")} == {
        "taipei/2026": "voting", "taichung/2026": "submission", "kaohsiung/2026": "results"}
    assert first["Proposal"] >= 20 and first["Endorsement"] > 0 and first["Comment"] > 0
    assert first["StaffResponse"] > 0 and first["Ballot"] > 0

    again = seed_demo(db, now=NOW + timedelta(hours=1), real_rounds=False)
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
    result = seed_demo(db, now=later, real_rounds=False)
    assert {ref: phase_of(db, ref, later) for ref in ("taipei/2026", "taichung/2026", "kaohsiung/2026")} == {
        "taipei/2026": "voting", "taichung/2026": "submission", "kaohsiung/2026": "results"}
    assert counts(db)["Ballot"] == first["Ballot"]
    assert any("dates shifted" in line for line in result.lines)


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "pabulib"


def test_the_repo_ships_the_real_rounds_with_their_source():
    from pb_engine.demo import PABULIB_DIR

    names = sorted(p.name for p in PABULIB_DIR.glob("*.pb"))
    assert names == ["France_Toulouse_2022.pb", "Poland_Warszawa_2026.pb", "Poland_Wieliczka_2023_Green_Budget.pb"]
    source = (PABULIB_DIR / "SOURCE.md").read_text()
    assert "pabulib.org" in source and all(n in source for n in names)
    import hashlib

    for name in names:  # named with the sha256 of the very file shipped
        assert hashlib.sha256((PABULIB_DIR / name).read_bytes()).hexdigest() in source, name


def test_real_rounds_import_once_and_compare_with_the_demo_cities(db, tmp_path):
    """Wieliczka and Toulouse (the shipped files; Warszawa's 61,668 ballots are left to the run command,
    `pb-engine serve`, which takes seconds for it): imported at demo load, not again on a restart (the
    file is not even parsed), and comparable with a Taiwanese round."""
    import shutil

    from pb_engine.compare import compare, parse_refs
    from pb_engine.demo import PABULIB_DIR, seed_real_rounds

    folder = tmp_path / "pabulib"
    folder.mkdir()
    for name in ("France_Toulouse_2022.pb", "Poland_Wieliczka_2023_Green_Budget.pb"):
        shutil.copy(PABULIB_DIR / name, folder / name)
    assert load_path(db, CONFIGS, now=NOW).ok
    said = []
    lines = seed_real_rounds(db, folder, say=said.append)
    # into the rounds that city_configs/ describes (their rule, phases and district slugs)
    assert lines == ["toulouse/2022/toulouse (Pabulib, 4532 ballots) imported",
                     "wieliczka/2023-green-budget/gmina (Pabulib, 6586 ballots) imported"]
    assert said == []  # small files: nothing to warn about
    first = counts(db)
    assert first["Ballot"] == 4532 + 6586
    import pb_engine.importer as importer

    def no_parse(*a, **k):  # a restart must not even read the files again
        raise AssertionError("imported again")

    real, importer.import_file = importer.import_file, no_parse
    try:
        again = seed_real_rounds(db, folder)
    finally:
        importer.import_file = real
    assert all(line.endswith("unchanged") for line in again) and counts(db) == first
    with db.session() as s:
        wieliczka = round_by_slug(s, city_by_slug(s, "wieliczka"), "2023-green-budget")
        official = s.exec(select(OutcomeRecord).where(OutcomeRecord.round_id == wieliczka.id)).one()
        assert official.status == "published" and official.rule["id"] == "official"
        assert wieliczka.rule["completion"] == "add1-comparison" and wieliczka.budget == 1_000_000 * 100
    with db.session() as s:  # beside a Taiwanese round of city_configs/ (the demo's own are seeded above)
        rows = compare(s, parse_refs("taipei/2025,toulouse/2022,wieliczka/2023-green-budget"), NOW)["rounds"]
    assert [(r["ref"], r["currency"]) for r in rows] == [("taipei/2025", "TWD"), ("toulouse/2022", "EUR"),
                                                         ("wieliczka/2023-green-budget", "PLN")]
    assert [r["figures"]["voters"] for r in rows[1:]] == [4532, 6586]
