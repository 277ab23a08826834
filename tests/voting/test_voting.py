"""The voting service on SQLite and PostgreSQL: codes, sessions, eligibility, paper, phases, changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from pb_engine import access_codes, voting
from pb_engine.errors import Conflict, Forbidden, NotFound, PhaseClosed, Unauthorized, ValidationFailed
from pb_engine.store.tables import (
    AccessCode,
    AuditEvent,
    Ballot,
    BallotHistory,
    City,
    Round,
    VoterChannel,
)

from voting_world import AFTER, BEFORE, NOW, build


def codes_for(w, district="north", n=2):
    with w.db.session() as s:
        return voting.generate_access_codes(s, s.get(Round, w.round_id), district, n, w.staff_id, now=NOW)


def login(w, *, code=None, resident=None, now=NOW):
    with w.db.session() as s:
        rnd = s.get(Round, w.round_id)
        token = voting.open_voter_session(s, rnd, access_code=code, resident=resident, now=now)
    with w.db.session() as s:
        return voting.voter_from_token(s, s.get(City, w.city_id), s.get(Round, w.round_id), token, now)


def cast(w, voter, content, district="north", **kw):
    kw.setdefault("now", NOW)
    return voting.cast_ballot(w.db, w.round_id, district, voter, content, **kw)


def ballots(w):
    with w.db.session() as s:
        return list(s.exec(select(Ballot).order_by(Ballot.id)))


def history(w):
    with w.db.session() as s:
        return list(s.exec(select(BallotHistory).order_by(BallotHistory.id)))


# --- access codes ------------------------------------------------------------------

def test_codes_are_printable_and_stored_only_as_hashes(world):
    codes = codes_for(world, n=20)
    assert len(set(codes)) == 20
    for c in codes:
        assert len(c) == 14 and c[4] == c[9] == "-"
        assert access_codes.normalise(c.lower().replace("-", " ")) == c.replace("-", "")
    with world.db.session() as s:
        rows = s.exec(select(AccessCode)).all()
        dump = repr([r.model_dump() for r in rows])
        assert len(rows) == 20 and all(r.spent_at is None for r in rows)
        assert s.get(Round, world.round_id).voter_secret  # made on first need
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "access_codes.generate")).all()
        assert events[0].actor == f"staff:{world.staff_id}" and events[0].after["count"] == 20
    for c in codes:
        assert c.replace("-", "") not in dump and c not in dump
        assert c not in repr(events[0].after)


def test_code_count_and_staff_checked(world):
    with world.db.session() as s:
        rnd = s.get(Round, world.round_id)
        with pytest.raises(ValidationFailed, match="from 1 to 10000"):
            voting.generate_access_codes(s, rnd, "north", 0, world.staff_id)
        with pytest.raises(Forbidden, match="another city"):
            voting.generate_access_codes(s, rnd, "north", 1, world.other_staff_id)
        with pytest.raises(NotFound):
            voting.generate_access_codes(s, rnd, "east", 1, world.staff_id)


def test_code_is_spent_by_its_first_ballot_and_then_only_changes_it(world):
    code = codes_for(world)[0]
    voter = login(world, code=code)
    first = cast(world, voter, {"projects": world.north[:2]})
    with world.db.session() as s:
        assert s.exec(select(AccessCode).where(AccessCode.spent_at.is_not(None))).one()
    # the spent code opens a session again, to change that same ballot
    again = login(world, code=code)
    assert again.key == voter.key
    second = cast(world, again, {"projects": world.north[2:4]})
    assert (second.version, second.replaced) == (2, True) and second.receipt != first.receipt
    rows = ballots(world)
    assert len(rows) == 1 and rows[0].content == {"projects": world.north[2:4]}
    # ... and nothing else: the code is for north
    with pytest.raises(Forbidden, match="this access code is for district north; it cannot vote in district south"):
        cast(world, again, {"projects": world.south[:1]}, district="south")
    assert len(ballots(world)) == 1


def test_unknown_code_refused(world):
    codes_for(world)
    bogus = access_codes.new_code()
    with pytest.raises(Unauthorized, match="unknown access code for round '2026'") as e:
        login(world, code=bogus)
    assert "access_code" in e.value.errors


def test_code_with_a_typo_refused(world):
    code = codes_for(world)[0].replace("-", "")
    wrong = code[:3] + ("A" if code[3] != "A" else "B") + code[4:]
    with pytest.raises(ValidationFailed, match="typo"):
        login(world, code=wrong)
    with pytest.raises(ValidationFailed, match="12 characters"):
        login(world, code="ABC")


def test_code_of_another_round_refused(db):
    w = build(db)
    with db.session() as s:
        other = Round(city_id=w.city_id, slug="2027", title="2027", ballot={"kind": "approval"})
        s.add(other)
        s.flush()
        from pb_engine.store.tables import District
        d = District(round_id=other.id, slug="north", name="North", budget=100)
        s.add(d)
        s.flush()
        code = voting.generate_access_codes(s, other, d, 1, w.staff_id)[0]
    with pytest.raises(Unauthorized, match="unknown access code for round '2026'"):
        login(w, code=code)


def test_session_token_expires_and_is_bound_to_its_round(world):
    code = codes_for(world)[0]
    with world.db.session() as s:
        token = voting.open_voter_session(s, s.get(Round, world.round_id), access_code=code, now=NOW)
    with world.db.session() as s:
        rnd, city = s.get(Round, world.round_id), s.get(City, world.city_id)
        assert voting.session_for_token(s, rnd, token, NOW + voting.SESSION_TTL - timedelta(seconds=1))
        with pytest.raises(Unauthorized, match="expired"):
            voting.voter_from_token(s, city, rnd, token, NOW + voting.SESSION_TTL)
        with pytest.raises(Unauthorized):
            voting.voter_from_token(s, city, rnd, "pbv_nonsense", NOW)
        other = Round(city_id=world.city_id, slug="2027", title="2027")
        s.add(other)
        s.flush()
        assert voting.session_for_token(s, other, token, NOW) is None
    with world.db.session() as s:
        from pb_engine.store.tables import VoterSession
        assert voting.purge_voter_sessions(s, NOW) == 0
        assert voting.purge_voter_sessions(s, NOW + voting.SESSION_TTL) == 1
        assert s.exec(select(VoterSession)).all() == []


# --- residents and districts ----------------------------------------------------------

def test_resident_must_be_verified(world):
    with pytest.raises(Forbidden, match="not verified"):
        login(world, resident=world.unverified_id)
    voter = login(world, resident=world.resident_id)
    assert cast(world, voter, {"projects": [world.north[0]]}).version == 1


def test_resident_of_another_city_refused(db):
    w = build(db)
    from pb_engine.store.tables import Resident
    with db.session() as s:
        other_city = s.exec(select(City).where(City.slug == "otherville")).one()
        r = Resident(city_id=other_city.id, username="x", display_name="X", verified=True)
        s.add(r)
        s.flush()
        rid = r.id
    with pytest.raises(NotFound):
        login(w, resident=rid)


def test_single_district_round_refuses_a_second_district(world):
    from pb_engine.store.tables import Resident
    with world.db.session() as s:
        r = Resident(city_id=world.city_id, username="nomad", display_name="No District", verified=True)
        s.add(r)
        s.flush()
        rid = r.id
    voter = login(world, resident=rid)
    cast(world, voter, {"projects": [world.north[0]]})
    with pytest.raises(Conflict, match="you already voted in district north; this round allows a ballot in one "
                                       "district only"):
        cast(world, voter, {"projects": [world.south[0]]}, district="south")
    # a resident whose verified district is north may not vote in south at all
    jan = login(world, resident=world.resident_id)
    with pytest.raises(Forbidden, match="you may vote in district north only"):
        cast(world, jan, {"projects": [world.south[0]]}, district="south")
    assert len(ballots(world)) == 1


def test_multi_district_round_takes_one_ballot_per_district(db):
    w = build(db, eligibility={"methods": ["resident"], "multi_district": True})
    voter = login(w, resident=w.resident_id)
    cast(w, voter, {"projects": [w.north[0]]})
    cast(w, voter, {"projects": [w.south[0]]}, district="south")
    cast(w, voter, {"projects": [w.south[1]]}, district="south")
    rows = ballots(w)
    assert sorted(b.district_id for b in rows) == sorted([w.north_id, w.south_id])
    assert len(history(w)) == 1
    with db.session() as s:
        assert [b.district for b in voting.voter_ballots(s, s.get(Round, w.round_id), voter)] == ["north", "south"]


def test_eligibility_methods(db):
    w = build(db, eligibility={"methods": ["resident"]})
    with db.session() as s:
        code = voting.generate_access_codes(s, s.get(Round, w.round_id), "north", 1, w.staff_id)[0]
    with pytest.raises(Forbidden, match="does not take access codes"):
        login(w, code=code)


# --- what a ballot names ----------------------------------------------------------------

def test_refusals_name_the_rule_and_change_nothing(world):
    code = codes_for(world)[0]
    voter = login(world, code=code)
    first = cast(world, voter, {"projects": [world.north[0]]})
    n = world.north
    cases = [
        ({"projects": n[:4]}, "4 projects chosen, at most 3 allowed"),
        ({"projects": [world.south[0]]}, f"project {world.south[0]} is not on the ballot of district north "
                                         f"(it is on the ballot of district south)"),
        ({"projects": [world.withdrawn_id]}, f"project {world.withdrawn_id} is not on the ballot of district north"),
        ({"projects": [987654]}, "project 987654 is not on the ballot of district north"),
        ({"points": {str(n[0]): 1}}, "'points' does not belong in it"),
    ]
    for content, message in cases:
        with pytest.raises(ValidationFailed) as e:
            cast(world, voter, content)
        assert message in e.value.message
    rows = ballots(world)
    assert len(rows) == 1 and rows[0].receipt == first.receipt and rows[0].version == 1
    assert history(world) == []


def test_knapsack_budget_message_in_city_currency(db):
    w = build(db, ballot={"kind": "knapsack", "min_spend_share": 0.7})
    with db.session() as s:
        code = voting.generate_access_codes(s, s.get(Round, w.round_id), "north", 1, w.staff_id)[0]
    voter = login(w, code=code)
    with pytest.raises(ValidationFailed) as e:
        cast(w, voter, {"projects": w.north})  # 1 250 000 zł
    fmt = voting.money_formatter(City(slug="x", name="x", country="PL", currency="PLN", timezone="UTC"))
    assert e.value.message == (f"total {fmt(1_250_000_00)} exceeds the district budget {fmt(1_000_000_00)} "
                               f"by {fmt(250_000_00)}")
    assert "1,250,000" in e.value.message or "1 250 000" in e.value.message
    with pytest.raises(ValidationFailed, match="below the minimum spend"):
        cast(w, voter, {"projects": w.north[:2]})  # 550 000 < 700 000
    assert cast(w, voter, {"projects": w.north[:3]}).version == 1  # 750 000


def test_cumulative_and_ranked_rounds(db):
    w = build(db, ballot={"kind": "cumulative", "max_points": 10, "max_points_per_project": 6})
    voter = login(w, resident=w.resident_id)
    r = cast(w, voter, {"points": {str(w.north[0]): 6, str(w.north[1]): 4}})
    assert r.content == {"points": {str(w.north[0]): 6, str(w.north[1]): 4}}
    with pytest.raises(ValidationFailed, match="11 points given, at most 10 allowed"):
        cast(w, voter, {"points": {str(w.north[0]): 6, str(w.north[1]): 5}})


# --- receipts and changes -----------------------------------------------------------------

def test_change_moves_the_old_ballot_to_history_with_a_new_receipt(world):
    voter = login(world, code=codes_for(world)[0])
    r1 = cast(world, voter, {"projects": [world.north[0]]})
    r2 = cast(world, voter, {"projects": [world.north[1]]}, now=NOW + timedelta(minutes=5))
    assert r1.receipt != r2.receipt and (r1.version, r2.version) == (1, 2) and r2.replaced
    (old,) = history(world)
    assert (old.receipt, old.version, old.content) == (r1.receipt, 1, {"projects": [world.north[0]]})
    # The row as it was before the change (copied inside the database: on PostgreSQL in the change's one statement)
    assert (old.channel, old.cast_at, old.replaced_at) == ("online", r1.cast_at, NOW + timedelta(minutes=5))
    with world.db.session() as s:
        (current,) = s.exec(select(Ballot).where(Ballot.voter_key == old.voter_key)).all()
        assert (current.receipt, current.version, current.content, current.cast_at) == \
            (r2.receipt, 2, {"projects": [world.north[1]]}, NOW + timedelta(minutes=5))
        assert s.exec(select(AccessCode.spent_at).where(AccessCode.voter_key == old.voter_key)).one() == NOW
    with world.db.session() as s:
        rnd = s.get(Round, world.round_id)
        # The old receipt answers as the new one does, and stays in the public list: whoever holds it (a
        # coercer who demanded it) must not learn that the voter changed their vote (issue 13).
        assert voting.receipts(s, rnd) == {"north": sorted([r1.receipt, r2.receipt]), "south": []}
        assert voting.check_receipt(s, rnd, r2.receipt.lower()) == "received"
        assert voting.check_receipt(s, rnd, r1.receipt) == "received"
        assert voting.check_receipt(s, rnd, "AAAA-AAAA-AAAA-AAAA") == "unknown"
        mine = voting.get_ballot(s, rnd, "north", voter)
        assert mine.receipt == r2.receipt and mine.content == {"projects": [world.north[1]]}
        assert voting.get_ballot(s, rnd, "south", voter) is None


def test_receipts_belong_to_their_round(world):
    voter = login(world, code=codes_for(world)[0])
    r1 = cast(world, voter, {"projects": [world.north[0]]})
    r2 = cast(world, voter, {"projects": [world.north[1]]}, now=NOW + timedelta(minutes=5))
    with world.db.session() as s:
        otherville = s.exec(select(City).where(City.slug == "otherville")).one()
        other = Round(city_id=otherville.id, slug="2026", title="Otherville 2026",
                      ballot={"kind": "approval"})
        s.add(other)
        s.flush()
        from pb_engine.store.tables import District
        s.add(District(round_id=other.id, slug="north", name="North", budget=100))
        s.flush()
        # Another city's round neither counts nor lists this round's receipts, current or replaced.
        assert voting.check_receipt(s, other, r2.receipt) == "unknown"
        assert voting.check_receipt(s, other, r1.receipt) == "unknown"
        assert voting.receipts(s, other) == {"north": []}


def test_a_voter_and_a_district_act_in_their_own_round_only(world):
    from pb_engine.export import export_district
    from pb_engine.store.tables import District

    voter = login(world, code=codes_for(world)[0])
    with world.db.session() as s:
        other = Round(city_id=world.city_id, slug="2027", title="Testville 2027", ballot={"kind": "approval"})
        s.add(other)
        s.flush()
        s.add(District(round_id=other.id, slug="north", name="North", budget=100))
        other_id = other.id
    with pytest.raises(Forbidden, match="belongs to another round"):
        voting.cast_ballot(world.db, other_id, "north", voter, {"projects": [world.north[0]]}, now=NOW)
    assert ballots(world) == []
    with world.db.session() as s:
        rnd, foreign = s.get(Round, world.round_id), s.exec(select(District).where(District.round_id == other_id)).one()
        for act in (lambda: voting.generate_access_codes(s, rnd, foreign, 1, world.staff_id, now=NOW),
                    lambda: voting.get_ballot(s, rnd, foreign, voter),
                    lambda: export_district(s, rnd, foreign)):
            with pytest.raises(NotFound, match="is not a district of round '2026'"):
                act()


def test_ballots_name_no_person(world):
    code = codes_for(world)[0]
    cast(world, login(world, code=code), {"projects": [world.north[0]]})
    cast(world, login(world, resident=world.resident_id), {"projects": [world.north[1]]})
    rows = ballots(world)
    text = repr([b.model_dump() for b in rows])
    for secret in (code, code.replace("-", ""), f"resident:{world.resident_id}", "Jan Kowalski", "jan"):
        assert secret not in text
    assert all(len(b.voter_key) == 64 for b in rows)


# --- paper ballots ------------------------------------------------------------------------

def test_paper_ballot_is_audited_with_staff_but_not_with_voter_or_content(world):
    code = codes_for(world)[0]
    r = voting.enter_paper_ballot(world.db, world.round_id, "north", {"projects": [world.north[2]]},
                                  staff=world.staff_id, access_code=code, now=NOW)
    assert r.channel == "paper"
    with world.db.session() as s:
        (ev,) = s.exec(select(AuditEvent).where(AuditEvent.action == "paper_ballot.enter")).all()
        ballot = s.exec(select(Ballot)).one()
    assert ev.actor == f"staff:{world.staff_id}" and ev.after["receipt"] == r.receipt
    logged = repr(ev.model_dump())
    assert ballot.voter_key not in logged and code not in logged and "projects" not in logged
    assert ballot.channel == "paper"


def test_paper_voter_cannot_vote_online(world):
    code = codes_for(world)[0]
    voting.enter_paper_ballot(world.db, world.round_id, "north", {"projects": [world.north[2]]},
                              staff=world.staff_id, access_code=code, now=NOW)
    with pytest.raises(Conflict, match="voted on paper in this round and cannot also vote online"):
        login(world, code=code)
    # nor with a session opened before the paper ballot was entered
    voting.enter_paper_ballot(world.db, world.round_id, "north", {"projects": [world.north[0]]},
                              staff=world.staff_id, resident=world.resident_id, now=NOW)
    with pytest.raises(Conflict, match="voted on paper"):
        login(world, resident=world.resident_id)


def test_online_voter_cannot_vote_on_paper(world):
    code = codes_for(world)[0]
    voter = login(world, code=code)
    cast(world, voter, {"projects": [world.north[0]]})
    with pytest.raises(Conflict, match="voted online in this round; a paper ballot cannot be added"):
        voting.enter_paper_ballot(world.db, world.round_id, "north", {"projects": [world.north[1]]},
                                  staff=world.staff_id, access_code=code, now=NOW)
    (b,) = ballots(world)
    assert b.channel == "online" and b.content == {"projects": [world.north[0]]}


def test_session_opened_before_paper_entry_cannot_cast(world):
    code = codes_for(world)[0]
    voter = login(world, code=code)
    voting.enter_paper_ballot(world.db, world.round_id, "north", {"projects": [world.north[2]]},
                              staff=world.staff_id, access_code=code, now=NOW)
    with pytest.raises(Conflict, match="voted on paper"):
        cast(world, voter, {"projects": [world.north[0]]})
    with world.db.session() as s:
        assert s.exec(select(VoterChannel)).one().channel == "paper"


def test_paper_entry_needs_staff_of_the_city(world):
    code = codes_for(world)[0]
    with pytest.raises(Forbidden, match="another city"):
        voting.enter_paper_ballot(world.db, world.round_id, "north", {"projects": [world.north[0]]},
                                  staff=world.other_staff_id, access_code=code, now=NOW)
    with pytest.raises(Forbidden, match="entered by staff"):
        cast(world, login(world, code=codes_for(world)[0]), {"projects": [world.north[0]]}, channel="paper")
    assert ballots(world) == []


# --- phases -----------------------------------------------------------------------------------

def test_before_voting_refused_with_dates(world):
    voter = login(world, code=codes_for(world)[0])
    with pytest.raises(PhaseClosed) as e:
        cast(world, voter, {"projects": [world.north[0]]}, now=BEFORE)
    # Warsaw is UTC+2 in April: 07:00Z -> 09:00, 16:00Z -> 18:00
    assert e.value.message == ("voting has not opened yet: it runs from 2026-04-01 09:00 to 2026-04-30 18:00 "
                               "(Europe/Warsaw); the round is in phase review (2026-03-01 01:00 to 2026-04-01 09:00)")
    assert ballots(world) == []


def test_after_voting_refused_with_dates_but_paper_taken_during_tally(world):
    code, code2 = codes_for(world)
    voter = login(world, code=code)
    with pytest.raises(PhaseClosed) as e:
        cast(world, voter, {"projects": [world.north[0]]}, now=AFTER)
    assert e.value.message.startswith("voting has closed: it ran from 2026-04-01 09:00 to 2026-04-30 18:00 "
                                      "(Europe/Warsaw); the round is in phase tally (2026-04-30 18:00 to ")
    r = voting.enter_paper_ballot(world.db, world.round_id, "north", {"projects": [world.north[0]]},
                                  staff=world.staff_id, access_code=code2, now=AFTER)
    assert r.version == 1
    with pytest.raises(PhaseClosed, match="paper ballots are taken during voting and tally"):
        voting.enter_paper_ballot(world.db, world.round_id, "north", {"projects": [world.north[0]]},
                                  staff=world.staff_id, access_code=code2, now=AFTER + timedelta(days=10))


# --- the election ----------------------------------------------------------------------------

def test_district_election_holds_counting_ballots_of_projects_on_the_ballot(world):
    v1 = login(world, code=codes_for(world)[0])
    v2 = login(world, resident=world.resident_id)
    cast(world, v1, {"projects": world.north[:2]})
    cast(world, v1, {"projects": world.north[1:3]})
    cast(world, v2, {"projects": [world.north[4]]})
    with world.db.session() as s:
        rnd = s.get(Round, world.round_id)
        inst, prof = voting.district_election(s, rnd, "north")
        again = voting.district_election(s, rnd, "north")
    assert [p.id for p in inst.projects] == [str(i) for i in world.north]  # withdrawn one left out
    assert inst.budget == 1_000_000_00 and inst.project(str(world.north[0])).cost == 300_000_00
    assert sorted(sorted(b.projects) for b in prof.ballots) == sorted(
        [sorted(map(str, world.north[1:3])), [str(world.north[4])]])
    assert again == (inst, prof)
