"""Every refusal a voter can meet on the voting path carries a stable code and its figures.

One case per code of VOTING_PROBLEMS: it provokes the refusal and gives the expected error class,
field, params and (where the other tests do not pin it already) the English message. Dates are
aware datetimes, slugs and methods plain strings, counts ints: a page words them in the visitor's
language and time zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import delete

from pb_engine import access_codes, voter_keys, voting
from pb_engine.ballots.refusals import DATE_PARAMS, VOTING_PROBLEMS
from pb_engine.errors import Conflict, Forbidden, NotFound, PhaseClosed, Unauthorized, ValidationFailed
from pb_engine.store.tables import City, District, Phase, Resident, Round, VoterSession

from voting_world import AFTER, BEFORE, NOW, PHASES, build

CASES = {}
VOTING = {name: (a, b) for name, a, b in PHASES}


def case(code):
    def register(fn):
        CASES[code] = fn
        return fn
    return register


def codes_for(w, district="north", n=1):
    with w.db.session() as s:
        return voting.generate_access_codes(s, s.get(Round, w.round_id), district, n, w.staff_id, now=NOW)


def login(w, *, code=None, resident=None, now=NOW):
    with w.db.session() as s:
        token = voting.open_voter_session(s, s.get(Round, w.round_id), access_code=code, resident=resident, now=now)
    with w.db.session() as s:
        return voting.voter_from_token(s, s.get(City, w.city_id), s.get(Round, w.round_id), token, now)


def cast(w, voter, content, district="north", **kw):
    kw.setdefault("now", NOW)
    return voting.cast_ballot(w.db, w.round_id, district, voter, content, **kw)


def paper(w, content, *, now=NOW, **who):
    return voting.enter_paper_ballot(w.db, w.round_id, "north", content, staff=w.staff_id, now=now, **who)


def open_session(w, **kw):
    with w.db.session() as s:
        return voting.open_voter_session(s, s.get(Round, w.round_id), now=NOW, **kw)


# Each case: (db) -> (action that raises, error class, field, params, message or None).

@case("no_voting_phase")
def _(db):
    w = build(db)
    voter = login(w, code=codes_for(w)[0])
    with db.session() as s:
        s.exec(delete(Phase).where(Phase.round_id == w.round_id, Phase.name == "voting"))
    return (lambda: cast(w, voter, {"projects": [w.north[0]]}), PhaseClosed, "phase", {"round": "2026"},
            "round '2026' has no voting phase: no ballot can be cast")


def _phase_params(phase, channel):
    starts, ends = VOTING[phase]
    return {"opens_at": VOTING["voting"][0], "closes_at": VOTING["voting"][1], "timezone": "Europe/Warsaw",
            "channel": channel, "phase": phase, "phase_starts_at": starts, "phase_ends_at": ends}


@case("voting_not_open")
def _(db):
    w = build(db)
    voter = login(w, code=codes_for(w)[0])
    return (lambda: cast(w, voter, {"projects": [w.north[0]]}, now=BEFORE), PhaseClosed, "phase",
            _phase_params("review", "online"), None)  # message pinned in test_voting


@case("voting_closed")
def _(db):
    w = build(db)
    code = codes_for(w)[0]
    late = AFTER + timedelta(days=10)
    return (lambda: paper(w, {"projects": [w.north[0]]}, now=late, access_code=code), PhaseClosed, "phase",
            _phase_params("results", "paper"),
            "voting has closed: it ran from 2026-04-01 09:00 to 2026-04-30 18:00 (Europe/Warsaw); paper ballots "
            "are taken during voting and tally; the round is in phase results (2026-05-07 02:00 to 2026-12-31 01:00)")


@case("ballot_settings_invalid")
def _(db):
    w = build(db, ballot={"kind": "plurality"})
    voter = login(w, resident=w.resident_id)
    return (lambda: cast(w, voter, {"projects": [w.north[0]]}), Conflict, "ballot", {"round": "2026"},
            "the ballot settings of round '2026' are invalid (ballot.kind: must be one of approval, knapsack, "
            "cumulative, ranked, got 'plurality'); staff must fix them")


@case("voter_credentials_missing")
def _(db):
    w = build(db)
    return (lambda: open_session(w), ValidationFailed, "access_code", {},
            "give an access code, or log in as a resident")


@case("paper_voter_missing")
def _(db):
    w = build(db)
    return (lambda: paper(w, {"projects": [w.north[0]]}), ValidationFailed, "voter", {},
            "a paper ballot needs the voter's access code or resident account")


@case("access_code_not_text")
def _(db):
    w = build(db)
    return (lambda: open_session(w, access_code=1234), ValidationFailed, "access_code", {},
            "an access code is text like K7QM-4TXR-9PWC")


@case("access_code_wrong_length")
def _(db):
    w = build(db)
    return (lambda: open_session(w, access_code="ABC"), ValidationFailed, "access_code", {"length": 12, "got": 3},
            "an access code has 12 characters (like K7QM-4TXR-9PWC), this one has 3")


@case("access_code_bad_characters")
def _(db):
    w = build(db)
    return (lambda: open_session(w, access_code="K7QM-1TXR-9PWO"), ValidationFailed, "access_code",
            {"characters": ["1", "O"]}, "an access code never contains 1, O; check the code for a typo")


@case("access_code_typo")
def _(db):
    w = build(db)
    code = codes_for(w)[0].replace("-", "")
    wrong = code[:3] + ("A" if code[3] != "A" else "B") + code[4:]
    return (lambda: open_session(w, access_code=wrong), ValidationFailed, "access_code", {},
            "this access code has a typo (its check character does not match)")


@case("access_code_unknown")
def _(db):
    w = build(db)
    return (lambda: open_session(w, access_code=access_codes.new_code()), Unauthorized, "access_code",
            {"round": "2026"}, None)  # message pinned in test_voting


@case("resident_unknown")
def _(db):
    w = build(db)
    return lambda: open_session(w, resident=987654), NotFound, "resident", {}, "no such resident in this city"


@case("method_not_accepted")
def _(db):
    w = build(db, eligibility={"methods": ["resident"]})
    code = codes_for(w)[0]
    return (lambda: open_session(w, access_code=code), Forbidden, "access_code",
            {"round": "2026", "method": "access_code", "accepted": ["resident"]},
            "round '2026' does not take access codes; it takes resident accounts")


@case("resident_not_verified")
def _(db):
    w = build(db)
    return (lambda: open_session(w, resident=w.unverified_id), Forbidden, "resident", {},
            "your resident account is not verified yet: city staff must verify your district before you can vote")


@case("code_for_other_district")
def _(db):
    w = build(db)
    voter = login(w, code=codes_for(w)[0])
    return (lambda: cast(w, voter, {"projects": [w.south[0]]}, district="south"), Forbidden, "district",
            {"district": "south", "code_district": "north"}, None)  # message pinned in test_voting


@case("not_your_district")
def _(db):
    w = build(db)
    jan = login(w, resident=w.resident_id)
    return (lambda: cast(w, jan, {"projects": [w.south[0]]}, district="south"), Forbidden, "district",
            {"district": "south", "own_district": "north"},
            "you may vote in district north only (your verified district); this round allows a ballot in one district")


@case("already_voted_elsewhere")
def _(db):
    w = build(db)
    with db.session() as s:
        nomad = Resident(city_id=w.city_id, username="nomad", display_name="No District", verified=True)
        s.add(nomad)
        s.flush()
        rid = nomad.id
    voter = login(w, resident=rid)
    cast(w, voter, {"projects": [w.north[0]]})
    return (lambda: cast(w, voter, {"projects": [w.south[0]]}, district="south"), Conflict, "district",
            {"district": "south", "voted_district": "north"},
            "you already voted in district north; this round allows a ballot in one district only "
            "(you may change that ballot)")


@case("voted_on_paper")
def _(db):
    w = build(db)
    code = codes_for(w)[0]
    paper(w, {"projects": [w.north[0]]}, access_code=code)
    return (lambda: open_session(w, access_code=code), Conflict, "channel", {},
            "this voter has voted on paper in this round and cannot also vote online")


@case("voted_online")
def _(db):
    w = build(db)
    code = codes_for(w)[0]
    cast(w, login(w, code=code), {"projects": [w.north[0]]})
    return (lambda: paper(w, {"projects": [w.north[1]]}, access_code=code), Conflict, "channel", {},
            "this voter has voted online in this round; a paper ballot cannot be added")


def _from_token(w, token, now=NOW):
    with w.db.session() as s:
        return voting.voter_from_token(s, s.get(City, w.city_id), s.get(Round, w.round_id), token, now)


@case("voter_session_expired")
def _(db):
    w = build(db)
    token = open_session(w, access_code=codes_for(w)[0])
    return (lambda: _from_token(w, token, NOW + voting.SESSION_TTL), Unauthorized, "session", {},
            "unknown or expired voter session; enter your access code or log in again")


@case("voter_session_invalid")
def _(db):
    w = build(db)
    token = voting.TOKEN_PREFIX + "orphan"
    with db.session() as s:
        # A session whose resident was deleted (resident_id SET NULL) names nobody any more.
        s.add(VoterSession(round_id=w.round_id, token_hash=voter_keys.token_hash(token), voter_key="k" * 64,
                           district_id=None, resident_id=None, created_at=NOW, expires_at=NOW + timedelta(hours=1)))
    return (lambda: _from_token(w, token), Unauthorized, "session", {},
            "this voter session no longer names a voter; log in again")


@case("voter_of_another_round")
def _(db):
    w = build(db)
    voter = login(w, code=codes_for(w)[0])
    with db.session() as s:
        other = Round(city_id=w.city_id, slug="2027", title="Testville 2027", ballot={"kind": "approval"})
        s.add(other)
        s.flush()
        s.add(District(round_id=other.id, slug="north", name="North", budget=100))
        other_id = other.id
    return (lambda: voting.cast_ballot(db, other_id, "north", voter, {"projects": [w.north[0]]}, now=NOW),
            Forbidden, "voter", {}, "this voter belongs to another round")


# --- access codes and paper ballots in the staff console (pb_engine.codes, pb_engine.paper) -------------

def _in_session(w, fn):
    """Run fn(session, round, staff) in a unit of work (the refusal rolls it back)."""
    from pb_engine.store.tables import StaffUser

    def act():
        with w.db.session() as s:
            return fn(s, s.get(Round, w.round_id), s.get(StaffUser, w.staff_id))
    return act


def _batch(w, key):
    from pb_engine import codes

    return _in_session(w, lambda s, rnd, st: codes.issue_batch(s, rnd, "north", 2, st, key, now=NOW).batch)()


KEY_A = b"HMmcQ7a6q0FMNsqRtqhQ3hx1MGAdiz9S8frFPL5Atb8="
KEY_B = b"s8y8IMBhRPJ0Lc6oG96D5Jz2zOr8m9kIw1kG0hN4yQ4="


@case("access_code_revoked")
def _(db):
    from pb_engine import codes
    w = build(db)
    code = codes_for(w)[0]
    _in_session(w, lambda s, rnd, st: codes.revoke_code(s, rnd, code, st, now=NOW))()
    return (lambda: open_session(w, access_code=code), Forbidden, "access_code", {},
            "this access code was revoked by the city (a lost or misprinted slip); it opens nothing")


@case("access_code_already_revoked")
def _(db):
    from pb_engine import codes
    w = build(db)
    code = codes_for(w)[0]
    revoke = _in_session(w, lambda s, rnd, st: codes.revoke_code(s, rnd, code, st, now=NOW))
    revoke()
    return revoke, Conflict, "access_code", {}, "this access code is already revoked"


@case("access_code_used")
def _(db):
    from pb_engine import codes
    w = build(db)
    code = codes_for(w)[0]
    cast(w, login(w, code=code), {"projects": [w.north[0]]})
    return (_in_session(w, lambda s, rnd, st: codes.revoke_code(s, rnd, code, st, now=NOW)), Conflict,
            "access_code", {}, None)


@case("batch_unknown")
def _(db):
    from pb_engine import codes
    w = build(db)
    return (_in_session(w, lambda s, rnd, st: codes.batch_codes(s, rnd, "nope", KEY_A)), NotFound, "batch",
            {"batch": "nope"}, None)


@case("batch_printed")
def _(db):
    from pb_engine import codes
    w = build(db)
    name = _batch(w, KEY_A)
    _in_session(w, lambda s, rnd, st: codes.mark_printed(s, rnd, name, st, now=NOW))()
    return (_in_session(w, lambda s, rnd, st: codes.batch_codes(s, rnd, name, KEY_A)), Conflict, "batch",
            {"batch": name}, None)


@case("batch_unsealable")
def _(db):
    from pb_engine import codes
    w = build(db)
    name = _batch(w, KEY_A)
    assert len(_in_session(w, lambda s, rnd, st: codes.batch_codes(s, rnd, name, KEY_A))()) == 2
    return (_in_session(w, lambda s, rnd, st: codes.batch_codes(s, rnd, name, KEY_B)), Conflict, "batch",
            {"batch": name}, None)


@case("paper_entry_unknown")
def _(db):
    from pb_engine import paper as paper_svc
    w = build(db)
    return (_in_session(w, lambda s, rnd, st: paper_svc.discard(s, rnd, 9999, st)), NotFound, "entry", {}, None)


@case("paper_entry_closed")
def _(db):
    from pb_engine import paper as paper_svc
    w = build(db)
    code = codes_for(w)[0]
    for status in ("pending", "counted"):
        r = paper_svc.enter(w.db, w.round_id, "north", {"projects": [w.north[0]]}, staff=w.staff_id,
                            access_code=code, now=NOW)
        assert r.status == status
    return (_in_session(w, lambda s, rnd, st: paper_svc.discard(s, rnd, r.entry_id, st)), Conflict, "entry", {},
            None)


# Voter secrecy and one person, one ballot (pb_engine.secrecy, pb_engine.code_binding).
@case("sign_in_closed")
def _(db):
    w = build(db)
    code = codes_for(w)[0]
    return (_in_session(w, lambda s, rnd, st: voting.open_voter_session(s, rnd, access_code=code, now=AFTER)),
            PhaseClosed, "phase", {"round": "2026"}, None)


def _claimer(w, s, username="ola"):
    row = Resident(city_id=w.city_id, username=username, display_name=username)
    s.add(row)
    s.flush()
    return row


@case("access_code_claimed")
def _(db):
    w = build(db)
    code = codes_for(w)[0]
    _in_session(w, lambda s, rnd, st: voting.open_voter_session(s, rnd, access_code=code, claimant=_claimer(w, s),
                                                                 now=NOW))()
    return (_in_session(w, lambda s, rnd, st: voting.open_voter_session(
        s, rnd, access_code=code, claimant=_claimer(w, s, "piotr"), now=NOW)), Conflict, "access_code", {}, None)


@case("access_code_voted_unbound")
def _(db):
    w = build(db)
    code = codes_for(w)[0]
    cast(w, login(w, code=code), {"projects": [w.north[0]]})
    return (_in_session(w, lambda s, rnd, st: voting.open_voter_session(s, rnd, access_code=code, claimant=_claimer(w, s),
                                                                         now=NOW)), Conflict, "access_code", {}, None)


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_voting_refusal_carries_its_code_and_figures(db, code):
    act, cls, field, params, message = CASES[code](db)
    with pytest.raises(cls) as e:
        act()
    err = e.value
    assert [(p.field, p.code, dict(p.params)) for p in err.problems] == [(field, code, params)]
    assert (err.reason, err.params) == (code, params)
    assert err.problems[0].message == err.message
    if message is not None:
        assert err.message == message
    assert set(params) == set(VOTING_PROBLEMS[code])
    for name, value in params.items():
        assert not isinstance(value, float)
        if name in DATE_PARAMS:
            assert value is None or isinstance(value, datetime) and value.tzinfo is not None, (code, name, value)


def test_every_voting_code_has_a_case():
    assert set(CASES) == set(VOTING_PROBLEMS)


@pytest.mark.parametrize("code, errors", [("voter_session_expired", False), ("resident_not_verified", True)])
def test_refusals_keep_the_json_errors_they_had(db, code, errors):
    # The API shows `errors` as before: the field for a form, none where there never was one.
    act, cls, field, *_ = CASES[code](db)
    with pytest.raises(cls) as e:
        act()
    assert e.value.to_dict() == {"code": cls.code, "status": cls.status, "message": e.value.message,
                                 "errors": {field: [e.value.message]} if errors else {}}


def test_before_the_first_phase_the_current_phase_has_no_window(db):
    w = build(db)
    voter = login(w, code=codes_for(w)[0])
    early = datetime(2026, 2, 1, 12, 0, tzinfo=NOW.tzinfo)
    with pytest.raises(PhaseClosed) as e:
        cast(w, voter, {"projects": [w.north[0]]}, now=early)
    assert e.value.reason == "voting_not_open"
    assert e.value.params == {**_phase_params("review", "online"), "phase": "upcoming", "phase_starts_at": None,
                              "phase_ends_at": None}
    assert e.value.message.endswith("(Europe/Warsaw); the round has not started")

