"""import-pabulib: a hand-made round read back, re-import, changed files, --replace, bad files, round trips, CLI."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select

from pb_engine import pabulib
from pb_engine.ballots.kinds import CumulativeBallot, OrdinalBallot
from pb_engine.cli import main
from pb_engine.errors import PabulibError
from pb_engine.export import export_district
from pb_engine.importer import ImportRefused, import_file, last_import
from pb_engine.store.tables import AuditEvent, Ballot, Category, City, District, OutcomeRecord, Phase, Proposal, Round

DATA = Path(__file__).resolve().parents[1] / "data" / "pabulib"

SMALL = """META
key;value
description;Hand-made test round
country;Poland
unit;Gdańsk
instance;2024
district;Oliwa
num_projects;3
num_votes;4
budget;1000.50
vote_type;approval
rule;greedy
date_begin;01.05.2024
date_end;15.05.2024
max_length;2
currency;PLN
PROJECTS
project_id;cost;votes;name;category;target;selected
p1;600.25;3;Bike lane;public transit and roads;adults;1
p2;400;2;Benches;public space,Zielone podwórka;seniors;1
p3;300;1;Mural;street art;youth;0
VOTES
voter_id;vote;age;sex
v1;p1,p2;34;F
v2;p1;51;M
v3;p2,p1;19;F
v4;p3,p3;27;M
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def counts(db) -> dict:
    with db.session() as s:
        return {t.__name__: len(s.exec(select(t.id)).all())
                for t in (City, Round, District, Proposal, Ballot, Category, OutcomeRecord, AuditEvent)}


def ballots_of(pb: pabulib.PabulibFile, rename: dict[str, str] | None = None) -> list:
    """The file's ballots, in order, with ids renamed (proposal id -> Pabulib id)."""
    r = rename or {}
    out = []
    for b in pb.profile.ballots:
        if isinstance(b, CumulativeBallot):
            out.append(("points", tuple(sorted((r.get(p, p), n) for p, n in b.points))))
        elif isinstance(b, OrdinalBallot):
            out.append(("ranking", tuple(r.get(p, p) for p in b.ranking)))
        else:
            out.append(("set", frozenset(r.get(p, p) for p in b.projects)))
    return out


def test_small_file_read_back(db, tmp_path):
    result = import_file(db, write(tmp_path, "small.pb", SMALL))
    assert (result.status, result.city, result.round, result.district) == ("imported", "gdansk", "2024", "oliwa")
    assert [w.code for w in result.warnings] == ["repeated_approval"]
    with db.session() as s:
        city = s.exec(select(City)).one()
        assert (city.name, city.country, city.currency, city.timezone) == ("Gdańsk", "Poland", "PLN", "Europe/Warsaw")
        rnd = s.exec(select(Round)).one()
        assert rnd.budget == 100050 and rnd.ballot == {"kind": "approval", "max_projects": 2}
        d = s.exec(select(District)).one()
        assert (d.slug, d.name, d.budget) == ("oliwa", "Oliwa", 100050)
        phase = s.exec(select(Phase)).one()
        assert phase.name == "voting" and phase.starts_at.day == 1 and phase.ends_at.day == 15
        props = {p.title: p for p in s.exec(select(Proposal))}
        assert {t: (p.reviewed_cost, p.status) for t, p in props.items()} == {
            "Bike lane": (60025, "funded"), "Benches": (40000, "funded"), "Mural": (30000, "not_funded")}
        cats = {c.slug: (c.name, c.taxonomy) for c in s.exec(select(Category))}
        assert cats == {"public-transit-and-roads": ("public transit and roads", "transport"),
                        "public-space": ("public space", "public-space"),
                        "zielone-podworka": ("Zielone podwórka", "unmapped"),
                        "street-art": ("street art", "unmapped")}
        assert props["Benches"].categories == ["public-space", "zielone-podworka"]
        ids = {t: p.id for t, p in props.items()}
        rows = s.exec(select(Ballot).order_by(Ballot.voter_key)).all()
        assert [r.content["projects"] for r in rows] == [
            sorted([ids["Bike lane"], ids["Benches"]]), [ids["Bike lane"]],
            sorted([ids["Bike lane"], ids["Benches"]]), [ids["Mural"]]]
        assert rows[0].content["voter"] == {"voter_id": "v1", "age": "34", "sex": "F"}
        official = s.exec(select(OutcomeRecord)).one()
        assert official.status == "published" and official.rule["id"] == "official"
        assert official.result["districts"][0]["selected"] == [ids["Bike lane"], ids["Benches"]]
        event = last_import(s, rnd, "oliwa")
        assert event.after["project_ids"] == {"p1": ids["Bike lane"], "p2": ids["Benches"], "p3": ids["Mural"]}
        assert event.after["project_columns"]["p1"]["target"] == "adults"
        assert [w["code"] for w in event.after["warnings"]] == ["repeated_approval"]


def test_reimport_changes_nothing(db, tmp_path):
    path = write(tmp_path, "small.pb", SMALL)
    import_file(db, path)
    before = counts(db)
    assert import_file(db, path).status == "unchanged"
    assert counts(db) == before


def test_changed_file_refused_naming_the_difference_unless_replace(db, tmp_path):
    import_file(db, write(tmp_path, "small.pb", SMALL))
    changed = SMALL.replace("budget;1000.50", "budget;1200").replace("v4;p3,p3;27;M\n", "")
    path = write(tmp_path, "small2.pb", changed)
    before = counts(db)
    with pytest.raises(ImportRefused) as e:
        import_file(db, path)
    assert "votes 4 -> 3" in e.value.message and "budget 1000.5 -> 1200" in e.value.message
    assert counts(db) == before
    assert import_file(db, path, replace=True).status == "replaced"
    after = counts(db)
    assert after["Ballot"] == 3 and after["Proposal"] == 3 and after["OutcomeRecord"] == 2
    with db.session() as s:
        assert s.exec(select(Round)).one().budget == 120000
        assert [o.status for o in s.exec(select(OutcomeRecord).order_by(OutcomeRecord.id))] == ["superseded", "published"]
    assert import_file(db, path).status == "unchanged"


def test_changed_costs_named(db, tmp_path):
    import_file(db, write(tmp_path, "small.pb", SMALL))
    with pytest.raises(ImportRefused, match=r"cost of 1 project\(s\) \(first p3: 300 -> 350\)"):
        import_file(db, write(tmp_path, "c.pb", SMALL.replace("p3;300;", "p3;350;")))


def test_malformed_file_refused_whole(db, tmp_path):
    bad = SMALL.replace("v3;p2,p1;19;F", "v3;p2,p9;19;F")
    with pytest.raises(PabulibError) as e:
        import_file(db, write(tmp_path, "bad.pb", bad))
    assert e.value.line == 26 and "unknown project 'p9'" in e.value.message
    finer = SMALL.replace("p2;400;", "p2;400.001;")
    with pytest.raises(PabulibError) as e:
        import_file(db, write(tmp_path, "fine.pb", finer))
    assert e.value.line == 20 and "finer than the minor unit" in e.value.message
    assert counts(db)["Proposal"] == 0 and counts(db)["City"] == 0


def test_second_district_joins_the_round(db, tmp_path):
    import_file(db, write(tmp_path, "a.pb", SMALL))
    import_file(db, write(tmp_path, "b.pb", SMALL.replace("district;Oliwa", "district;Wrzeszcz")))
    with db.session() as s:
        rnd = s.exec(select(Round)).one()
        assert rnd.budget == 200100
        assert sorted(d.slug for d in s.exec(select(District))) == ["oliwa", "wrzeszcz"]
        official = s.exec(select(OutcomeRecord).where(OutcomeRecord.status == "published")).one()
        assert [d["district"] for d in official.result["districts"]] == ["oliwa", "wrzeszcz"]
        assert len(s.exec(select(Category)).all()) == 4  # the city's categories are shared


# One file per vote type the repo holds (approval, choose-1, cumulative, ordinal), the smaller ones.
ROUND_TRIP = ["Poland_Warszawa_2018_rejon_6.pb", "Poland_Wroclaw_2018_Rejon_nr_10_250.pb",
              "Poland_Czestochowa_2020_Grabowka.pb", "Poland_Krakow_2021_Wzgorza_Krzeslawickie.pb",
              "Worldwide_Mechanical_Turk_Utilities_3.pb", "US_Stanford_Dataset_PB_Cambridge_2015_vote_knapsacks.pb"]


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_export_round_trip_same_ballots(db, name):
    source = pabulib.parse_path(DATA / name)
    result = import_file(db, DATA / name)
    with db.session() as s:
        rnd = s.exec(select(Round).where(Round.slug == result.round)).one()
        text = export_district(s, rnd, result.district)
        back = {str(v): k for k, v in last_import(s, rnd, result.district).after["project_ids"].items()}
    exported = pabulib.parse_text(text)
    assert exported.vote_type == source.vote_type
    assert len(exported.profile) == len(source.profile)
    # The same ballots, each as often; not in the file's order: exports list ballots sorted by their
    # content, so that an export carries no casting order (ballot secrecy, pb_engine/secrecy.py).
    assert Counter(ballots_of(exported, back)) == Counter(ballots_of(source))
    assert Counter(back[p.id] for p in exported.instance.projects) == Counter(p.id for p in source.instance.projects)
    assert {back[p.id]: p.cost for p in exported.instance.projects} == {p.id: p.cost for p in source.instance.projects}
    selected = source.published("selected")
    if selected is not None:
        assert {back[p.id]: p.extra["selected"] for p in exported.instance.projects} == selected


def test_cli_exit_codes_and_messages(db, tmp_path):
    good = write(tmp_path, "good.pb", SMALL)
    bad = write(tmp_path, "bad.pb", SMALL.replace("p3;300;", "p3;-300;"))
    runner = CliRunner()
    out = runner.invoke(main, ["import-pabulib", str(bad), str(good), "--database", db.url])
    assert out.exit_code == 1
    assert "imported: " in out.output and "gdansk/2024/oliwa: 3 projects, 4 ballots" in out.output
    assert "line 21" in out.output and "negative" in out.output and "1 of 2 file(s) not imported" in out.output
    assert "warning: line 27: voter 'v4' names project 'p3' twice" in out.output
    again = runner.invoke(main, ["import-pabulib", str(good), "--database", db.url])
    assert again.exit_code == 0 and again.output.startswith("unchanged: ")
    changed = write(tmp_path, "changed.pb", SMALL.replace("v4;p3,p3;27;M\n", ""))
    refused = runner.invoke(main, ["import-pabulib", str(changed), "--database", db.url])
    assert refused.exit_code == 1 and "votes 4 -> 3" in refused.output and "--replace" in refused.output
    replaced = runner.invoke(main, ["import-pabulib", str(changed), "--replace", "--database", db.url])
    assert replaced.exit_code == 0 and replaced.output.startswith("replaced: ")
    other = runner.invoke(main, ["import-pabulib", str(good), "--city", "elsewhere", "--database", db.url])
    assert other.exit_code == 0 and "elsewhere/2024/oliwa" in other.output


def test_receipts_have_the_voting_form_and_differ():
    import re

    from pb_engine.importer import receipts

    codes = receipts(2000)
    assert len(set(codes)) == 2000
    assert all(re.fullmatch(r"[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}", c) for c in codes)
    assert len({c[0] for c in codes}) == 31  # every symbol of the alphabet turns up


def test_receipts_unique_across_imported_ballots(db, tmp_path):
    import_file(db, DATA / "Worldwide_Mechanical_Turk_Utilities_3.pb")
    with db.session() as s:
        rows = s.exec(select(Ballot.receipt, Ballot.channel)).all()
    assert len({r for r, _ in rows}) == len(rows) == 74 and {c for _, c in rows} == {"paper"}


def test_rule_from_meta():
    from pb_engine.importer import rule_settings

    assert rule_settings({"rule": "greedy-threshold", "min_project_score_threshold": "50"}) == \
        {"id": "greedy-threshold", "threshold": 50}
    assert rule_settings({"rule": "equalshares/add1"}) == {"id": "mes", "completion": "add1"}
    assert rule_settings({"rule": "greedy-threshold"}) == {"id": "greedy"}  # no threshold given
    assert rule_settings({"rule": "unknown"}) == {"id": "greedy"}


def test_official_outcome_kept_beside_an_analysts_run(db, tmp_path):
    from datetime import datetime, timezone

    from pb_engine import outcomes

    import_file(db, write(tmp_path, "small.pb", SMALL.replace("p3;300;1;Mural;street art;youth;0",
                                                              "p3;300;1;Mural;street art;youth;1")))
    with db.write_session() as s:
        city, rnd = s.exec(select(City)).one(), s.exec(select(Round)).one()
        official = outcomes.results(s, city, rnd)
        assert official["rule"]["id"] == "official"
        assert sorted(p["title"] for d in official["districts"] for p in d["funded"]) == ["Benches", "Bike lane",
                                                                                            "Mural"]
        run = outcomes.run(s, city, rnd, staff=None, now=datetime.now(timezone.utc))
        # greedy by votes on the stored ballots: Bike lane (3) then Benches (2); Mural no longer fits
        titles = {p.id: p.title for p in s.exec(select(Proposal))}
        assert sorted(titles[i] for i in run.result["districts"][0]["selected"]) == ["Benches", "Bike lane"]
        assert outcomes.published(s, rnd).rule["id"] == "official"
