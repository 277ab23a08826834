"""Proposal search in the database, on SQLite (FTS5) and PostgreSQL (tsvector, pg_trgm): what a visitor finds.

Every test runs on both databases (the `db` fixture); the answers must be the same on both.
"""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import event, text
from sqlmodel import select

from pb_engine import proposals
from pb_engine.errors import NotFound
from pb_engine.store.db import alembic_config, upgrade
from pb_engine.store.search import parse, search_all
from pb_engine.store.tables import City, District, Proposal, Round

pytestmark = pytest.mark.db

# key: (title, summary, description, district, categories, status)
PROPOSALS = {
    "bike": ("Bike lanes on Heping Road", "Protected bike lanes", "Paint and posts from end to end.",
             "daan", ["streets"], "submitted"),
    "park": ("公園綠地改善", "大安區 人行道 拓寬", "更多樹蔭與座椅", "daan", ["parks"], "on_ballot"),
    "roof": ("Green roof for the library", "", "Also adds bike parking by the door.",
             "xinyi", ["parks", "environment"], "submitted"),
    "walk": ("人行道無障礙", "斜坡與導盲磚", "", "xinyi", ["streets"], "under_review"),
    "skate": ("Skate park", "A park for skaters", "", "daan", ["parks"], "rejected"),
    "trees": ("Trees: 100% native", "", "", "xinyi", ["environment"], "submitted"),
}


@pytest.fixture
def world(db):
    """Taipei 2026 with the proposals above, and Kaohsiung 2026 with one proposal of its own."""
    with db.session() as s:
        ids = {}
        for slug, name, locales in (("taipei", "Taipei", ["zh-TW", "en"]), ("kaohsiung", "Kaohsiung", ["zh-TW"])):
            city = City(slug=slug, name=name, country="Taiwan", currency="TWD", locales=locales, timezone="Asia/Taipei")
            s.add(city)
            s.flush()
            rnd = Round(city_id=city.id, slug="2026", title=f"{name} 2026", budget=10_000_000,
                        ballot={"kind": "approval"}, rule={"id": "greedy"})
            s.add(rnd)
            s.flush()
            ids[slug] = rnd.id
            for pos, d in enumerate(("daan", "xinyi")):
                s.add(District(round_id=rnd.id, slug=d, name=d, budget=5_000_000, position=pos))
        s.flush()
        district = {d.slug: d.id for d in s.exec(select(District).where(District.round_id == ids["taipei"]))}
        for key, (title, summary, description, d, cats, status) in PROPOSALS.items():
            p = Proposal(round_id=ids["taipei"], district_id=district[d], title=title, summary=summary,
                         description=description, categories=cats, status=status)
            s.add(p)
            s.flush()
            ids[key] = p.id
        kd = s.exec(select(District).where(District.round_id == ids["kaohsiung"])).first()
        other = Proposal(round_id=ids["kaohsiung"], district_id=kd.id, title="愛河人行道照明",
                         summary="Lights along the river walk", categories=["streets"], status="on_ballot")
        s.add(other)
        s.flush()
        ids["river"] = other.id
    return db, ids


def found(world, **kw) -> list[str]:
    db, ids = world
    names = {v: k for k, v in ids.items()}
    with db.session() as s:
        rows, _ = proposals.search(s, s.get(Round, ids["taipei"]), **kw)
        return [names[p.id] for p in rows]


def page(world, **kw) -> tuple[list[int], int]:
    db, ids = world
    with db.session() as s:
        rows, total = proposals.search(s, s.get(Round, ids["taipei"]), **kw)
        return [p.id for p in rows], total


# --- how a query is read ----------------------------------------------------------

def test_parse_splits_words_from_unspaced_runs_and_drops_syntax():
    t = parse('"Bike" lanes* 大安區,人行道 NEAR(x) 台北101 % -bike ^BIKE')
    assert t.words == ["Bike", "lanes", "NEAR", "x"]  # case-folded duplicates (-bike, ^BIKE) counted once
    assert t.substrings == ["大安區", "人行道", "台北101", "%"]
    assert not parse("  \t ") and not parse(None) and not parse("\x00\x07")
    many = parse(" ".join(f"w{i}" for i in range(40)) + " 公園")
    assert many.words == [f"w{i}" for i in range(32)] and many.substrings == []  # the first 32 runs


# --- English -------------------------------------------------------------------

def test_a_word_finds_proposals_with_a_word_starting_with_it_title_first(world):
    assert found(world, q="bike") == ["bike", "roof"]          # title and summary before description
    assert found(world, q="bik") == ["bike", "roof"]           # prefix
    assert found(world, q="park") == ["skate", "roof"]         # "parking" starts with park; title first
    assert found(world, q="ike") == []                         # a word start, not any substring


def test_case_and_several_words(world):
    assert found(world, q="Bike LANES") == ["bike"]            # every word must match
    assert found(world, q="BIKE") == found(world, q="bike")
    assert found(world, q="bike zebra") == []


# --- Chinese -------------------------------------------------------------------

def test_chinese_matches_inside_a_run_of_characters(world):
    assert found(world, q="公園綠地") == ["park"]
    assert found(world, q="綠地改善") == ["park"]               # from the middle of the title's run
    assert found(world, q="大安區 人行道") == ["park"]          # both terms, in the summary
    assert found(world, q="人行道") == ["walk", "park"]         # title before summary
    assert found(world, q="無障礙") == ["walk"]
    assert found(world, q="公園 bike") == []


def test_short_chinese_terms_of_one_or_two_characters(world):
    assert found(world, q="綠地") == ["park"]
    assert found(world, q="大安") == ["park"]
    assert found(world, q="樹") == ["park"]                     # one character, in the description
    assert found(world, q="人行") == ["walk", "park"]
    assert found(world, q="綠 公園") == ["park"]
    assert found(world, q="鐵") == []


# --- filters with q, pages ---------------------------------------------------------

def test_filters_combined_with_q(world):
    assert found(world, q="park", category="parks") == ["skate", "roof"]
    assert found(world, q="park", status="rejected") == ["skate"]
    assert found(world, q="park", district="xinyi") == ["roof"]
    assert found(world, q="park", district="xinyi", category="streets") == []
    assert found(world, q="人行道", category="streets") == ["walk"]
    assert found(world, q="人行道", district="daan", status="on_ballot") == ["park"]


def test_filters_without_q_keep_id_order(world):
    assert found(world, category="parks") == ["park", "roof", "skate"]
    assert found(world, category="environment") == ["roof", "trees"]
    assert found(world, category="park") == []                  # a listed category, not a substring of one
    assert found(world, district="xinyi", status="submitted") == ["roof", "trees"]
    assert found(world) == list(PROPOSALS)                     # only this round's, by id
    with pytest.raises(NotFound):
        found(world, district="nowhere")


def test_pages_and_totals_count_every_match(world):
    db, ids = world
    with db.session() as s:
        district = s.exec(select(District).where(District.round_id == ids["taipei"], District.slug == "daan")).one()
        lights = []
        for i in range(25):
            p = Proposal(round_id=ids["taipei"], district_id=district.id, title=f"Street light {i}",
                         summary="路燈" if i % 2 else "燈具", categories=["streets"] if i < 10 else [])
            s.add(p)
            s.flush()
            lights.append(p.id)
    assert page(world, q="street", per_page=10) == (lights[:10], 25)      # equal rank: by id
    assert page(world, q="street", per_page=10, page=3) == (lights[20:], 25)
    assert page(world, q="street", per_page=10, page=4) == ([], 25)
    assert page(world, q="路燈", per_page=5, page=2)[1] == 12
    every, total = page(world, category="streets", per_page=100)
    assert total == 12 and every == [ids["bike"], ids["walk"], *lights[:10]]
    assert page(world, category="streets", per_page=5, page=3) == (every[10:], 12)
    assert page(world, q="street light", district="daan", category="streets", per_page=3, page=4) == ([lights[9]], 10)


# --- untrusted text ------------------------------------------------------------------

NASTY = ['"', '""', '"bike', "'", "''", "*", "bike*", "*bike", "NEAR", "NEAR(bike lanes)", "NEAR(bike lanes, 2)",
         "AND", "OR", "NOT", "bike AND", "AND bike", "bike OR green", "-bike", "bike -lanes", "^bike", "title:bike",
         "{title}:bike", "bike:*", ":*", "!", "&", "|", "<->", "bike & lanes", "bike | green", "!bike", "(", ")",
         "()", "(bike", "\\", "\\\\", "%", "_", "%%", "a'b", "O'Brien", "bike\x00lanes", "\x00", "\u200b", "+",
         "綠\"地", "公園*", "½", "bike ½", "大安區:", "'公園'", "@@", "::regconfig", "); DROP TABLE proposal; --"]


@pytest.mark.parametrize("q", NASTY)
def test_query_syntax_typed_by_a_visitor_never_raises(world, q):
    rows, total = page(world, q=q)
    assert total == len(rows)


def test_syntax_characters_are_text_not_operators(world):
    for q in ('"bike"', "bike*", "-bike", "^bike", "(bike)", "bike:", "BIKE!"):
        assert found(world, q=q) == ["bike", "roof"], q
    assert found(world, q="bike -lanes") == ["bike"]           # the minus is not "without"
    assert found(world, q="bike OR green") == []               # OR is a word to find, and no proposal has it
    assert found(world, q="NEAR(bike lanes)") == []
    assert found(world, q="%") == ["trees"]                    # a literal %, not a wildcard
    assert found(world, q="100%") == ["trees"]
    assert found(world, q="_") == []
    assert found(world, q="'公園'") == ["park"]
    with world[0].session() as s:                               # the table is still there
        assert len(s.exec(select(Proposal)).all()) == len(PROPOSALS) + 1


# --- the index follows edits and deletes ------------------------------------------------

def _fts_intact(db) -> None:
    if db.dialect == "sqlite":  # FTS5 compares its index with the proposal table and raises on a difference
        with db.session() as s:
            for t in ("proposal_fts", "proposal_fts_trigram"):
                s.execute(text(f"INSERT INTO {t}({t}, rank) VALUES ('integrity-check', 1)"))


def test_an_edited_proposal_is_found_by_its_new_words_only(world):
    db, ids = world
    with db.session() as s:
        p = s.get(Proposal, ids["bike"])
        p.title, p.summary = "Tram stop shelter", "Roofed tram stop"
        w = s.get(Proposal, ids["walk"])
        w.title = "路燈更新"
        s.add_all([p, w])
    assert found(world, q="bike") == ["roof"]
    assert found(world, q="tram") == ["bike"]
    assert found(world, q="paint") == ["bike"]                 # the description, unchanged, is still indexed
    assert found(world, q="路燈更新") == ["walk"]
    assert found(world, q="路燈") == ["walk"]
    assert found(world, q="無障礙") == []
    assert found(world, q="人行道") == ["park"]
    with db.session() as s:                                     # a change outside the text keeps the index right
        s.execute(text("UPDATE proposal SET endorsement_count = endorsement_count + 1, status = 'endorsed'"))
    assert found(world, q="tram", status="endorsed") == ["bike"]
    _fts_intact(db)


def test_a_deleted_proposal_is_not_found(world):
    db, ids = world
    with db.session() as s:
        s.delete(s.get(Proposal, ids["park"]))
    assert found(world, q="公園") == []
    assert found(world, q="綠") == []
    assert found(world, q="人行道") == ["walk"]
    with db.session() as s:                                     # deleting a round deletes its proposals (cascade)
        s.execute(text("DELETE FROM pb_round WHERE id = :id"), {"id": ids["kaohsiung"]})
    with db.session() as s:
        assert [p.id for p in search_all(s, "人行道")] == [ids["walk"]]
    _fts_intact(db)


# --- every city -------------------------------------------------------------------------

def test_search_all_looks_in_every_round_of_every_city(world):
    db, ids = world
    with db.session() as s:
        hits = search_all(s, "人行道")
        assert [p.id for p in hits] == [ids["walk"], ids["river"], ids["park"]]  # titles first
        assert {p.round_id for p in hits} == {ids["taipei"], ids["kaohsiung"]}
        city_of = {r.id: r.city_id for r in s.exec(select(Round))}
        assert len({city_of[p.round_id] for p in hits}) == 2
        assert [p.id for p in search_all(s, "人行道", limit=1)] == [ids["walk"]]
        assert [p.id for p in search_all(s, "walk")] == [ids["river"]]
        assert [p.id for p in search_all(s, "人行道 river")] == [ids["river"]]  # a word and a CJK term together
        assert [p.id for p in search_all(s, "人行道", statuses=["on_ballot"])] == [ids["river"], ids["park"]]
        assert search_all(s, "") == [] and search_all(s, "   ") == [] and search_all(s, "bike", limit=0) == []
        assert {p.id for p in search_all(s, "park")} == {ids["skate"], ids["roof"]}  # every public status


# --- the migration ------------------------------------------------------------------------

def test_the_migration_indexes_proposals_that_existed_before_it(db):
    cfg = alembic_config(db.url)
    db.engine.dispose()
    command.downgrade(cfg, "0003_voter_indexes")
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO city (slug, name, country, currency, locales, timezone, notes, config_file, "
                       "config_hash, created_at) VALUES ('old', 'Old', 'TW', 'TWD', '[]', 'Asia/Taipei', '', '', '', "
                       "CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO pb_round (city_id, slug, title, description, budget, districts_must_sum, "
                       "endorsement_threshold, ballot, rule, eligibility, tie_breaking, version, voter_secret, "
                       "created_at, updated_at) SELECT id, '2020', 'Old 2020', '', 100, false, 0, '{}', '{}', '{}', "
                       "'', 1, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM city"))
        c.execute(text("INSERT INTO district (round_id, slug, name, budget, position) "
                       "SELECT id, 'all', 'All', 100, 0 FROM pb_round"))
        c.execute(text("INSERT INTO proposal (round_id, district_id, title, summary, description, categories, status, "
                       "endorsement_count, created_at, updated_at) SELECT round_id, id, '舊公園 Old park', '', '', "
                       "'[]', 'submitted', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM district"))
    db.engine.dispose()
    upgrade(db.url)
    with db.session() as s:
        assert [p.title for p in search_all(s, "舊公園")] == ["舊公園 Old park"]
        assert [p.title for p in search_all(s, "公園")] == ["舊公園 Old park"]
        assert [p.title for p in search_all(s, "old")] == ["舊公園 Old park"]
    _fts_intact(db)


def test_queries_use_the_search_indexes(world):
    """PostgreSQL: the tsvector and trigram indexes serve the match. SQLite: each MATCH runs once, as a
    materialized table, not once per proposal of the round (which took seconds on 20 000 proposals)."""
    db, ids = world
    seen = []
    event.listen(db.engine, "before_cursor_execute", lambda conn, cur, stmt, params, *a: seen.append((stmt, params)))
    plans = {}
    for q in ("bike lanes", "人行道"):  # across every round: within one, the round's index may win on a small table
        seen.clear()
        with db.session() as s:
            assert search_all(s, q)
            proposals.search(s, s.get(Round, ids["taipei"]), q=q, page=9)  # past the end: the count query too
        with db.engine.connect() as c:
            if db.dialect == "postgresql":
                c.exec_driver_sql("SET enable_seqscan = off")
            explain = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN "
            plans[q] = ["\n".join(str(r[-1]) for r in c.exec_driver_sql(explain + stmt, params))
                        for stmt, params in seen if "proposal" in stmt and stmt.lstrip().startswith(("SELECT", "WITH"))]
    assert len(plans["bike lanes"]) >= 3 and len(plans["人行道"]) >= 3
    if db.dialect == "sqlite":
        for plan in plans["bike lanes"] + plans["人行道"]:
            assert "MATERIALIZE" in plan and "VIRTUAL TABLE" in plan, plan
        return
    # search_all's plan (the first): no round to narrow by, so the planner has the search index or a scan.
    assert "ix_proposal_search" in plans["bike lanes"][0], plans["bike lanes"][0]
    with db.engine.connect() as c:
        trgm = c.exec_driver_sql("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_proposal_search_trgm'").first()
    if trgm:
        assert "ix_proposal_search_trgm" in plans["人行道"][0], plans["人行道"][0]


def test_words_between_angle_brackets_are_found(world):
    """PostgreSQL's parser reads '<…>' as markup and would drop the words inside: a proposal titled
    like a script tag, or with 'x<y … y>z' in it, is still found by those words (SQLite alike)."""
    db, ids = world
    with db.session() as s:
        rnd = s.get(Round, ids["taipei"])
        district = s.exec(select(District).where(District.round_id == rnd.id)).first()
        for title in ("<script>alert(1)</script>", "age<12 ramps and seats >65"):
            s.add(Proposal(round_id=rnd.id, district_id=district.id, title=title, summary="", description="",
                           categories=[], status="submitted"))
    with db.session() as s:
        rnd = s.get(Round, ids["taipei"])
        assert [p.title for p in proposals.search(s, rnd, q="alert")[0]] == ["<script>alert(1)</script>"]
        assert [p.title for p in proposals.search(s, rnd, q="ramps")[0]] == ["age<12 ramps and seats >65"]
        assert [p.title for p in search_all(s, "seats")] == ["age<12 ramps and seats >65"]
