"""`pb-engine import-pabulib FOLDER --processes N` on PostgreSQL: whole imports in parallel, the files of one
city in one process; the same result as one process (SQLite always imports in one: its single writer)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import func, select

from pb_engine.cli import main
from pb_engine.importer import meta_unit
from pb_engine.store.tables import Ballot, City, District

pytestmark = pytest.mark.db

DATA = Path(__file__).resolve().parents[1] / "data" / "pabulib"
FILES = ("Netherlands_Assen_2024.pb", "Poland_Czestochowa_2020_Grabowka.pb", "Poland_Warszawa_2017_Plac_Wojska_Polskiego.pb",
         "Poland_Warszawa_2018_rejon_6.pb")


def test_folder_in_processes_imports_every_file_once(db, tmp_path):
    folder = tmp_path / "pb"
    folder.mkdir()
    for n in FILES:
        shutil.copy(DATA / n, folder / n)
    (folder / "broken.pb").write_text("META\nkey;value\nunit;Nowhere\n", encoding="utf-8")
    assert meta_unit(folder / FILES[2]) == meta_unit(folder / FILES[3]) == "Warszawa"  # one process for both
    r = CliRunner().invoke(main, ["import-pabulib", str(folder), "--database", db.url, "--processes", "2"])
    assert r.exit_code == 1, r.output
    assert r.output.count("imported: ") == 4 and "broken.pb" in r.output and "1 of 5 file(s) not imported" in r.output
    with db.session() as s:
        assert s.exec(select(func.count()).select_from(District)).one() == 4
        assert sorted(s.exec(select(City.slug)).all()) == ["assen", "czestochowa", "warszawa"]
        ballots = s.exec(select(func.count()).select_from(Ballot)).one()
    assert ballots == 84 + 201 + 27 + 2736
    again = CliRunner().invoke(main, ["import-pabulib", *(str(folder / n) for n in FILES), "--database", db.url,
                                      "--processes", "2"])
    assert again.exit_code == 0 and again.output.count("unchanged: ") == 4
