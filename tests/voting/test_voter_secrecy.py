"""Voter secrecy (issue 13): a code opens nothing once voting has closed and no session shows choices
then; one person, one ballot across a resident account and the codes it claims; exports that carry no
voter and no casting order; running counts hidden while voting is open unless the round allows them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from pb_engine import compare, pabulib, voting
from pb_engine.config import parse_round
from pb_engine.errors import ConfigError
from pb_engine.errors import Conflict, PhaseClosed
from pb_engine.export import export_district
from pb_engine.queries import booth as booth_queries
from pb_engine.store.tables import AccessCode, Ballot, City, District, Resident, Round, VoterSession

from voting_world import NOW, PHASES, build

VOTING_ENDS = dict((n, b) for n, _a, b in PHASES)["voting"]


def _codes(w, n=1, district="north"):
    with w.db.session() as s:
        return voting.generate_access_codes(s, s.get(Round, w.round_id), district, n, w.staff_id, now=NOW)


def _open(w, *, now=NOW, **who):
    with w.db.session() as s:
        rnd = s.get(Round, w.round_id)
        if "claimant" in who and isinstance(who["claimant"], int):
            who["claimant"] = s.get(Resident, who["claimant"])
        return voting.open_voter_session(s, rnd, now=now, **who)


def _voter(w, token, now=NOW):
    with w.db.session() as s:
        return voting.voter_from_token(s, s.get(City, w.city_id), s.get(Round, w.round_id), token, now)


def _cast(w, voter, content, *, now=NOW, district="north"):
    return voting.cast_ballot(w.db, w.round_id, district, voter, content, now=now)


def _booth(w, voter, now):
    with w.db.session() as s:
        rnd = s.get(Round, w.round_id)
        return booth_queries.booth(s, rnd, s.get(District, w.north_id), voter, now), \
            booth_queries.my_ballots(s, rnd, voter, now)


def _resident(w, username):
    with w.db.session() as s:
        row = Resident(city_id=w.city_id, username=username, display_name=username)
        s.add(row)
        s.flush()
        return row.id


def test_once_voting_closed_a_code_signs_in_to_nothing_and_no_session_shows_choices(db):
    w = build(db)
    code = _codes(w)[0]
    before_close = VOTING_ENDS - timedelta(minutes=1)
    voter = _voter(w, _open(w, access_code=code, now=before_close), before_close)
    _cast(w, voter, {"projects": [w.north[0], w.north[1]]}, now=before_close)
    b, mine = _booth(w, voter, before_close)
    assert b.chosen() == {str(w.north[0]): 1, str(w.north[1]): 1} and not b.choices_hidden and len(mine) == 1

    after = VOTING_ENDS + timedelta(seconds=1)
    # The session opened before the close is still live, but shows no choice and no ballot any more.
    b, mine = _booth(w, voter, after)
    assert b.own is None and b.chosen() == {} and b.choices_hidden and mine == []
    for who in ({"access_code": code}, {"resident": w.resident_id}):
        with pytest.raises(PhaseClosed) as e:
            _open(w, now=after, **who)
        assert e.value.reason == "sign_in_closed"


def test_a_claimed_code_and_its_account_hold_one_ballot(db):
    w = build(db)
    code, other_code = _codes(w, 2)
    # Jan (verified in north) votes with his account, then opens the ballot with his code while signed in.
    account = _voter(w, _open(w, resident=w.resident_id))
    _cast(w, account, {"projects": [w.north[0]]})
    with_code = _voter(w, _open(w, access_code=code, claimant=w.resident_id))
    assert with_code.key == account.key and with_code.method == "access_code"
    b, _ = _booth(w, with_code, NOW)
    assert b.chosen() == {str(w.north[0]): 1}
    again = _cast(w, with_code, {"projects": [w.north[1]]})
    assert again.replaced and again.version == 2
    # The slip alone still opens that same ballot; another account cannot take the code.
    assert _voter(w, _open(w, access_code=code)).key == account.key
    with pytest.raises(Conflict) as e:
        _open(w, access_code=code, claimant=_resident(w, "ola"))
    assert e.value.reason == "access_code_claimed"
    # On paper the claimed code is the same voter, who voted online.
    with pytest.raises(Conflict) as e:
        voting.enter_paper_ballot(w.db, w.round_id, "north", {"projects": [w.north[2]]}, staff=w.staff_id,
                                  access_code=code, now=NOW)
    assert e.value.reason == "voted_online"
    with w.db.session() as s:
        assert len(s.exec(select(Ballot).where(Ballot.round_id == w.round_id)).all()) == 1
        claimed = s.exec(select(AccessCode).where(AccessCode.claimed_by == w.resident_id)).all()
        assert len(claimed) == 1 and claimed[0].spent_at is not None

    # A code that voted without an account cannot be claimed (its ballot would be a second one) ...
    alone = _voter(w, _open(w, access_code=other_code))
    _cast(w, alone, {"projects": [w.north[3]]})
    with pytest.raises(Conflict) as e:
        _open(w, access_code=other_code, claimant=w.resident_id)
    assert e.value.reason == "access_code_voted_unbound"


def test_claiming_ends_the_codes_earlier_sessions(db):
    w = build(db)
    code = _codes(w)[0]
    earlier = _open(w, access_code=code)  # opened signed out, not used yet
    _open(w, access_code=code, claimant=w.unverified_id)  # the code is the credential: no verification needed
    with w.db.session() as s:
        assert voting.session_for_token(s, s.get(Round, w.round_id), earlier, NOW) is None
        assert s.exec(select(VoterSession)).all()  # the claimant's session
    later = _voter(w, _open(w, access_code=code))
    assert _cast(w, later, {"projects": [w.north[0]]}).version == 1


def _round_data(eligibility):
    return {"slug": "2030", "title": "T", "budget": 100, "districts": [{"slug": "all", "name": "All", "budget": 100}],
            "phases": [{"name": "voting", "starts_at": "2030-04-01T09:00:00+02:00", "ends_at": "2030-04-30"}],
            "ballot": {"kind": "approval"}, "rule": {"id": "greedy"}, "eligibility": eligibility}


def test_code_binding_and_live_turnout_settings():
    parse = lambda data: parse_round(data, timezone="Europe/Warsaw", currency="PLN")  # noqa: E731
    both = {"methods": ["access_code", "resident"]}
    assert "code_binding" not in parse(_round_data({**both, "code_binding": "claim"})).eligibility  # the default
    assert parse(_round_data({"methods": ["resident"], "code_binding": "separate"})).eligibility["code_binding"] == "separate"
    assert parse(_round_data(both)).live_turnout is False
    assert parse({**_round_data(both), "live_turnout": True}).live_turnout is True
    for elig, extra, key in (({**both, "code_binding": "separate"}, {}, "eligibility.code_binding"),
                             ({**both, "code_binding": "merge"}, {}, "eligibility.code_binding"),
                             (both, {"live_turnout": "yes"}, "live_turnout")):
        with pytest.raises(ConfigError) as e:
            parse({**_round_data(elig), **extra})
        assert key in str(e.value)


def test_export_carries_no_voter_and_no_casting_order(db):
    w = build(db)
    contents = [[w.north[i]] for i in range(5)] + [[w.north[0], w.north[1]], [w.north[1], w.north[2]],
                                                   [w.north[2], w.north[4]]]
    codes = _codes(w, len(contents))
    receipts = []
    for minute, (code, chosen) in enumerate(zip(codes, reversed(contents))):  # cast in some order
        voter = _voter(w, _open(w, access_code=code))
        receipts.append(_cast(w, voter, {"projects": chosen}, now=NOW + timedelta(minutes=minute)).receipt)
    with w.db.session() as s:
        text = export_district(s, s.get(Round, w.round_id), "north")
        keys = [b.voter_key for b in s.exec(select(Ballot))]
    votes = pabulib.parse_text(text).profile.ballots
    written = [tuple(sorted(b.supported())) for b in votes]
    # Sorted by content alone: the order says nothing about who cast which ballot or when.
    assert written == sorted(written) and len(written) == len(contents)
    assert not any(r in text or r.replace("-", "") in text for r in receipts)
    assert not any(k in text for k in keys) and not any(c in text or c.replace("-", "") in text for c in codes)
    cast_times = {(NOW + timedelta(minutes=m)).strftime(f) for m in range(len(contents)) for f in ("%H:%M", "%Y-%m-%dT")}
    assert not any(t in text for t in cast_times)  # no casting time (META holds the voting dates only)
    assert re.findall(r"^(\d+);", text.split("VOTES")[1], re.M) == [str(i) for i in range(1, len(contents) + 1)]


def test_running_counts_hidden_during_voting_unless_the_round_allows_them(db):
    w = build(db)
    voter = _voter(w, _open(w, access_code=_codes(w)[0]))
    _cast(w, voter, {"projects": [w.north[0]]})

    def figures(now):
        with w.db.session() as s:
            return compare.compare(s, [("testville", "2026")], now)["rounds"][0]["figures"]

    during = figures(NOW)
    assert (during["voters"], during["ballots"], during["turnout"], during["ballot_length"]) == (None, None, None, None)
    with w.db.session() as s:
        s.get(Round, w.round_id).live_turnout = True
    assert figures(NOW)["voters"] == 1 and figures(NOW)["ballots"] == 1
    with w.db.session() as s:
        s.get(Round, w.round_id).live_turnout = False
    assert figures(VOTING_ENDS + timedelta(hours=1))["voters"] == 1  # once voting has ended: public
