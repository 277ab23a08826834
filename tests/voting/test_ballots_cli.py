"""`pb-engine ballots codes|export` on a round."""

from __future__ import annotations

from click.testing import CliRunner

from pb_engine import pabulib, voting
from pb_engine.cli import main
from pb_engine.store.tables import Round

from voting_world import NOW, build


def test_codes_then_export(db, tmp_path):
    w = build(db)
    run = CliRunner()
    res = run.invoke(main, ["ballots", "codes", "testville/2026", "--district", "north", "--count", "3",
                            "--database", db.url])
    assert res.exit_code == 0, res.output
    codes = res.stdout.split()
    assert len(codes) == 3
    with db.session() as s:
        voter = voting.paper_voter(s, s.get(Round, w.round_id), access_code=codes[0])
    voting.cast_ballot(db, w.round_id, "north", voter, {"projects": w.north[:2]}, now=NOW)
    res = run.invoke(main, ["ballots", "export", "testville/2026", "--out", str(tmp_path), "--database", db.url])
    assert res.exit_code == 0, res.output
    north = pabulib.parse(tmp_path / "testville_2026_north.pb")
    assert len(north.profile) == 1 and len(pabulib.parse(tmp_path / "testville_2026_south.pb").profile) == 0
    assert codes[0] not in (tmp_path / "testville_2026_north.pb").read_text()
    res = run.invoke(main, ["ballots", "export", "testville/nope", "--database", db.url])
    assert res.exit_code != 0 and "no round 'nope'" in res.output
