"""The voting path: who may vote, casting and changing ballots, paper ballots, receipts.

API (the HTTP layer calls these; `session` is a sqlmodel Session, `db` a store.db.Database):

    generate_access_codes(session, rnd, district, count, staff=None, *, batch="", now=None, seal_key=None)
        -> list[str]: printable one-time codes ("K7QM-4TXR-9PWC") for one district; stored as keyed
        hashes, and sealed with `seal_key` for reprinting until the batch is marked printed (pb_engine.codes).
    open_voter_session(session, rnd, *, access_code=None, resident=None, claimant=None, now=None) -> str
        a bearer token ("pbv_…") for a code or a verified resident; expires after SESSION_TTL; none once
        voting has closed; a code given with a `claimant` resident is bound to them (pb_engine.code_binding).
    session_for_token(session, rnd, token, now=None) -> VoterSession | None
    voter_from_token(session, city, rnd, token, now=None) -> Voter          (Unauthorized if not live)
    purge_voter_sessions(session, now=None) -> int                          (expired ones; run daily)
    paper_voter(session, rnd, *, access_code=None, resident=None) -> Voter
    cast_ballot(db, round_id, district_slug, voter, content, *, channel="online", now=None,
                entered_by=None) -> Receipt                                  (own write transaction)
    cast_online(db, city_slug, round_slug, district_slug, token_for, content, *, now=None) -> Receipt
        the API's online ballot: round by its slugs and voter by token inside the cast's one transaction.
    enter_paper_ballot(db, round_id, district_slug, content, *, staff, access_code=None,
                       resident=None, now=None) -> Receipt                   (own write transaction)
    check_paper_ballot(db, round_id, district_slug, voter, content, *, staff, now=None) -> dict
        every check of a paper cast, storing nothing (the first of a double entry, pb_engine.paper).
    get_ballot(session, rnd, district, voter) -> CastBallot | None
    voter_ballots(session, rnd, voter) -> list[CastBallot]
    receipts(session, rnd) -> dict[district slug, sorted list of receipt codes]
    check_receipt(session, rnd, receipt) -> "received" | "unknown"
    ballot_catalog(session, rnd, district) -> ballots.validation.Catalog
    district_election(session, rnd, district) -> (Instance, Profile)

Content is `{"projects": [ids]}` (approval, knapsack), `{"points": {id: n}}` (cumulative)
or `{"ranking": [ids]}` (ranked); see pb_engine.ballots.validation for every check.

Decisions:
- Voter identity: ballots carry `voter_key`, an HMAC-SHA256 with the round's secret
  of the access code or "resident:<id>" (pb_engine.voter_keys); no person is named.
- Receipts: every cast, including a change, gets a new random receipt. The replaced
  ballot and its receipt move to BallotHistory (never counted), so the
  counting ballots are exactly the current ones. A receipt answers "received" whether its ballot
  counts or was replaced, and the published list holds the receipts of both, so an old receipt
  tells whoever holds it nothing about a change (pb_engine.secrecy); receipt codes only, sorted,
  never content or time.
- Sessions: once voting has closed a code or account opens no voter session, and the booth shows
  no choices (pb_engine.secrecy). Codes claimed by a resident vote with the account's key
  (pb_engine.code_binding): one person, one ballot.
- One ballot per voter and district: the unique constraint plus a per-voter lock
  (the VoterChannel row's upsert, whose row lock PostgreSQL holds to the commit: for an online
  cast it is taken by the statement that reads the round and the voter session; BEGIN IMMEDIATE on
  SQLite) serialise every cast of one voter; an insert that still loses a race is
  retried as a replacement. Versions of one voter's ballot in a district count
  1, 2, 3 … without gaps: the history is the order of acknowledgement.
- The receipt is returned only after the commit: an acknowledged ballot is stored.
- Channels: the first ballot fixes a voter's channel in the round (online or paper);
  a paper voter cannot vote online and the reverse (CONSUL's rule). Staff may
  re-enter a paper ballot (a correction): it replaces the earlier paper ballot.
- Phases: online ballots only during `voting`; paper ballots during `voting` and
  `tally` (ballot papers collected at a booth are keyed in while counting).
- Access codes bind their district: a code votes there only, and once spent can only
  change that ballot. Residents need `verified` to vote online; a paper ballot is
  vouched for by the staff member entering it, so it needs no verification.
  With `eligibility.multi_district` false a voter holds a ballot in one district
  only (a resident's verified district, when it is one of the round's); with true
  a voter may vote in every district, one ballot each.
- An empty ballot is refused unless the rules allow it (min_projects: 0).
- Every refusal a voter can meet carries a code and its figures beside the English message
  (`PBError.problems` / `reason` / `params`; codes in pb_engine.ballots.refusals), so a page
  words it in the visitor's language.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, Callable, Mapping, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, select

from pb_engine import access_codes, audit, code_binding, code_seal, money, secrecy, voter_keys
from pb_engine.allocation.instance import Instance, Project
from pb_engine.ballots.kinds import Profile
from pb_engine.ballots.refusals import refusal
from pb_engine.ballots.rules import BallotRules
from pb_engine.ballots.validation import Catalog, from_content, plain_money, to_content, validate
from pb_engine.errors import Conflict, Forbidden, NotFound, PBError, PhaseClosed, Unauthorized, ValidationFailed
from pb_engine.phases import PhaseWindow, current_phase, sort_phases, window
from pb_engine.store.lookup import district_by_slug, districts_of, phases_of, remember_round_id, round_id_hint
from pb_engine.store.tables import (
    AccessCode,
    Ballot,
    BallotHistory,
    City,
    District,
    Phase,
    Proposal,
    Resident,
    Round,
    StaffUser,
    VoterChannel,
    VoterSession,
)
from pb_engine.store.types import utcnow
from pb_engine.store.prepared import Prepared, Tx, before_commit
from pb_engine.store.group_commit import OwnThreadNeeded, run_batched
from pb_engine.store.writer_turn import writer_turn

SESSION_TTL = timedelta(hours=2)
TOKEN_PREFIX = "pbv_"
MAX_CODES_PER_BATCH = 10_000
ONLINE, PAPER = "online", "paper"
CHANNELS = (ONLINE, PAPER)
ON_BALLOT = "on_ballot"
# Projects that were on the ballot: statuses after the count keep them in the election.
WAS_ON_BALLOT = (ON_BALLOT, "funded", "not_funded")
PHASES_FOR = {ONLINE: ("voting",), PAPER: ("voting", "tally")}
METHODS = ("access_code", "resident")


@dataclass(frozen=True)
class Voter:
    """Who casts a ballot, as the voting path needs it. `key` is the pseudonymous voter key."""

    key: str
    method: str                       # access_code | resident
    round_id: int
    district_id: int | None = None    # the district an access code is for
    resident_id: int | None = None


@dataclass(frozen=True)
class Receipt:
    """What the voter gets back once the ballot is stored."""

    receipt: str
    district: str
    channel: str
    version: int            # 1 for a first ballot, +1 per change
    replaced: bool          # this ballot replaced an earlier one (now in history)
    cast_at: datetime
    content: dict

    def to_dict(self) -> dict:
        return {"receipt": self.receipt, "district": self.district, "channel": self.channel,
                "version": self.version, "replaced": self.replaced, "cast_at": self.cast_at.isoformat(),
                "content": self.content}


@dataclass(frozen=True)
class CastBallot:
    """A voter's own counting ballot in one district."""

    district: str
    content: dict
    receipt: str
    version: int
    channel: str
    cast_at: datetime

    def to_dict(self) -> dict:
        return {"district": self.district, "content": self.content, "receipt": self.receipt,
                "version": self.version, "channel": self.channel, "cast_at": self.cast_at.isoformat()}


# --- settings of a round --------------------------------------------------------

def eligibility(rnd: Round) -> tuple[tuple[str, ...], bool]:
    """(methods allowed, multi_district) from Round.eligibility; both methods by default."""
    data = rnd.eligibility or {}
    methods = tuple(m for m in (data.get("methods") or METHODS) if m in METHODS)
    return methods, bool(data.get("multi_district", False))


def ballot_rules(rnd: Round) -> BallotRules:
    rules, problems = BallotRules.from_dict(rnd.ballot or {"kind": "approval"})
    if rules is None:
        detail = "; ".join(f"{k}: {m}" for k, m in problems)
        raise refusal(Conflict, "ballot", "ballot_settings_invalid",
                      f"the ballot settings of round {rnd.slug!r} are invalid ({detail}); staff must fix them",
                      errors=False, round=rnd.slug)
    return rules


def money_formatter(city: City) -> Callable[[int], str]:
    """Minor units -> the city's currency format, for messages (plain digits for a currency we do not know)."""
    currency = city.currency  # the value, not the row: the formatter outlives the session (CastSetup)
    try:
        money.minor_digits(currency)
    except ValueError:
        return plain_money
    return lambda minor: money.format_money(minor, currency)


def _when(dt: datetime, tz: ZoneInfo) -> str:
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _check_phase(rnd, timezone: str, channel: str, now: datetime) -> None:
    """Is `channel` open at `now`? `rnd.phases`: the phases as read in the cast's own transaction."""
    phases = rnd.phases
    allowed = PHASES_FOR[channel]
    current = current_phase(phases, now)
    if current in allowed:
        return
    tz = ZoneInfo(timezone)
    voting = window(phases, "voting")
    if voting is None:
        raise refusal(PhaseClosed, "phase", "no_voting_phase",
                      f"round {rnd.slug!r} has no voting phase: no ballot can be cast", round=rnd.slug)
    span = f"from {_when(voting.starts_at, tz)} to {_when(voting.ends_at, tz)} ({timezone})"
    cur = window(phases, current)
    if cur is not None:
        now_text = f"the round is in phase {current} ({_when(cur.starts_at, tz)} to {_when(cur.ends_at, tz)})"
    else:
        now_text = {"upcoming": "the round has not started", "closed": "the round is closed"}.get(
            current, f"the round is between phases ({current.replace('_', ' ')})")
    if now < voting.starts_at:
        code, head = "voting_not_open", f"voting has not opened yet: it runs {span}"
    else:
        code, head = "voting_closed", f"voting has closed: it ran {span}"
    if channel == PAPER:
        head += "; paper ballots are taken during voting and tally"
    raise refusal(PhaseClosed, "phase", code, f"{head}; {now_text}", opens_at=voting.starts_at,
                  closes_at=voting.ends_at, timezone=timezone, channel=channel, phase=current,
                  phase_starts_at=cur.starts_at if cur else None, phase_ends_at=cur.ends_at if cur else None)


# --- access codes and voter sessions --------------------------------------------

def _district(session: Session, rnd: Round, district: District | str) -> District:
    if isinstance(district, District):
        if district.round_id != rnd.id:
            raise NotFound(f"district {district.slug!r} is not a district of round {rnd.slug!r}")
        return district
    return district_by_slug(session, rnd, district)


def _staff_id(staff: StaffUser | int | None, rnd: Round, session: Session) -> int | None:
    if staff is None:
        return None
    row = staff if isinstance(staff, StaffUser) else session.get(StaffUser, int(staff))
    if row is None or not row.active:
        raise Forbidden("unknown or inactive staff member")
    if row.city_id != rnd.city_id:
        raise Forbidden("staff of another city cannot act in this round")
    return row.id


def generate_access_codes(session: Session, rnd: Round, district: District | str, count: int,
                          staff: StaffUser | int | None = None, *, batch: str = "",
                          now: datetime | None = None, seal_key: bytes | None = None) -> list[str]:
    """`count` new one-time codes for `district`, printable ("K7QM-4TXR-9PWC"). Stored hashed; with
    `seal_key` (pb_engine.code_seal) also sealed, so the batch's sheet can be printed again until it is
    marked printed (pb_engine.codes.mark_printed)."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_CODES_PER_BATCH:
        raise ValidationFailed.field("count", f"count must be a whole number from 1 to {MAX_CODES_PER_BATCH}, got {count!r}")
    d = _district(session, rnd, district)
    staff_id = _staff_id(staff, rnd, session)
    now = now or utcnow()
    secret = voter_keys.round_secret(session, rnd)
    batch = batch or f"{d.slug}-{now.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(2)}"
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(access_codes.new_code())
    ordered = sorted(codes)
    for code in ordered:
        session.add(AccessCode(round_id=rnd.id, district_id=d.id, code_hash=voter_keys.code_hash(secret, code),
                               voter_key=voter_keys.code_voter_key(secret, code), batch=batch,
                               created_by=staff_id, created_at=now,
                               sealed=code_seal.seal(seal_key, code) if seal_key else None))
    audit.record(session, actor=f"staff:{staff_id}" if staff_id else "cli", action="access_codes.generate",
                 city_id=rnd.city_id, round_id=rnd.id, target=f"district:{d.slug}",
                 after={"district": d.slug, "count": count, "batch": batch})
    session.flush()
    return [access_codes.pretty(c) for c in ordered]


def _code_text(code_text: str) -> str:
    try:
        return access_codes.normalise(code_text)
    except access_codes.BadCode as e:
        raise refusal(ValidationFailed, "access_code", e.code, str(e), **e.params) from None


def _code_row(session: Session, rnd: Round, code_text: str, *, revoked_ok: bool = False) -> AccessCode:
    code = _code_text(code_text)
    secret = voter_keys.round_secret(session, rnd)
    row = session.exec(select(AccessCode).where(AccessCode.round_id == rnd.id,
                                                AccessCode.code_hash == voter_keys.code_hash(secret, code))).first()
    if row is None:
        raise refusal(Unauthorized, "access_code", "access_code_unknown", f"unknown access code for round "
                      f"{rnd.slug!r} (a code is valid in the round it was issued for only)", round=rnd.slug)
    if row.revoked_at is not None and not revoked_ok:
        raise refusal(Forbidden, "access_code", "access_code_revoked",
                      "this access code was revoked by the city (a lost or misprinted slip); it opens nothing")
    return row


def _resident_row(session: Session, rnd: Round, resident: Resident | int) -> Resident:
    row = resident if isinstance(resident, Resident) else session.get(Resident, int(resident))
    if row is None or row.city_id != rnd.city_id:
        raise refusal(NotFound, "resident", "resident_unknown", "no such resident in this city")
    return row


def _check_method(rnd: Round, method: str) -> None:
    methods, _ = eligibility(rnd)
    if method not in methods:
        names = {"access_code": "access codes", "resident": "resident accounts"}
        msg = f"round {rnd.slug!r} does not take {names[method]}; it takes {', '.join(names[m] for m in methods) or 'no voters'}"
        raise refusal(Forbidden, method, "method_not_accepted", msg, round=rnd.slug, method=method,
                      accepted=list(methods))


def _check_verified(resident: Resident) -> None:
    if not resident.verified:
        raise refusal(Forbidden, "resident", "resident_not_verified", "your resident account is not verified yet: "
                      "city staff must verify your district before you can vote")


def _channel_of(session: Session, round_id: int, voter_key: str) -> str | None:
    return session.exec(select(VoterChannel.channel).where(VoterChannel.round_id == round_id,
                                                           VoterChannel.voter_key == voter_key)).first()


def _channel_conflict(used: str, wanted: str) -> Conflict:
    if used == PAPER:
        return refusal(Conflict, "channel", "voted_on_paper",
                       "this voter has voted on paper in this round and cannot also vote online")
    return refusal(Conflict, "channel", "voted_online",
                   "this voter has voted online in this round; a paper ballot cannot be added")


def _check_sessions_open(session: Session, rnd: Round, now: datetime) -> None:
    """Once voting has closed a code or an account signs in to nothing (pb_engine.secrecy)."""
    if secrecy.voting_closed(phases_of(session, rnd), now):
        raise refusal(PhaseClosed, "phase", "sign_in_closed",
                      "voting has closed: an access code or a resident account no longer opens a ballot; "
                      "check your receipt instead", round=rnd.slug)


def open_voter_session(session: Session, rnd: Round, *, access_code: str | None = None,
                       resident: Resident | int | None = None, claimant: Resident | None = None,
                       now: datetime | None = None) -> str:
    """A voter session token for an access code or a verified resident of the round's city.

    `claimant`: the resident signed in while entering `access_code`; under the round's code binding
    (pb_engine.code_binding, default `claim`) the code is bound to that account."""
    if (access_code is None) == (resident is None):
        raise refusal(ValidationFailed, "access_code", "voter_credentials_missing",
                      "give an access code, or log in as a resident")
    now = now or utcnow()
    if access_code is not None:
        _check_method(rnd, "access_code")
        code = _code_row(session, rnd, access_code)
        # After the code's own checks: a wrong guess stays a 401 the rate limits count, in any phase.
        _check_sessions_open(session, rnd, now)
        if claimant is not None:
            claimant = _resident_row(session, rnd, claimant)
        key = code_binding.code_voter_key(session, rnd, code, claimant, now)
        district_id, resident_id = code.district_id, None
    else:
        _check_method(rnd, "resident")
        row = _resident_row(session, rnd, resident)
        _check_sessions_open(session, rnd, now)
        _check_verified(row)
        key = voter_keys.resident_voter_key(voter_keys.round_secret(session, rnd), row.id)
        district_id, resident_id = None, row.id
    used = _channel_of(session, rnd.id, key)
    if used is not None and used != ONLINE:
        raise _channel_conflict(used, ONLINE)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(VoterSession(round_id=rnd.id, token_hash=voter_keys.token_hash(token), voter_key=key,
                             district_id=district_id, resident_id=resident_id, created_at=now,
                             expires_at=now + SESSION_TTL))
    session.flush()
    return token


@dataclass(frozen=True)
class VoterGrant:
    """A voter session that an access code may open, every check made: what store_voter_session writes."""

    round_id: int
    code_id: int
    claimed_by: int | None  # the code's claim as checked (code_binding): the session is for that key
    voter_key: str
    district_id: int
    now: datetime


def grant_voter_session(session: Session, rnd: Round, access_code: str, *,
                        now: datetime | None = None) -> VoterGrant | None:
    """open_voter_session's checks of an access code (no claimant), reading only: the grant, refusals as there.

    None when opening the session would write more than its own row (the round's voter secret is not
    made yet): open_voter_session in a write transaction then. With this, the sign-in hashes and checks
    the code in a read transaction and holds SQLite's write lock for one INSERT (store_voter_session)."""
    if not rnd.voter_secret:
        return None
    now = now or utcnow()
    _check_method(rnd, "access_code")
    code = _code_row(session, rnd, access_code)
    _check_sessions_open(session, rnd, now)
    key = code_binding.code_voter_key(session, rnd, code, None, now)  # no claimant: reads only
    used = _channel_of(session, rnd.id, key)
    if used is not None and used != ONLINE:
        raise _channel_conflict(used, ONLINE)
    return VoterGrant(rnd.id, code.id, code.claimed_by, key, code.district_id, now)


# The voter session row, written only if its code is still unrevoked and unclaimed-or-claimed-as-read, and
# the voter has not voted on paper since the grant's checks (they ran in another transaction).
_GRANT_COLUMNS = ("round_id", "token_hash", "voter_key", "district_id", "resident_id", "created_at", "expires_at")
_VC, _AC, _VST = VoterChannel.__table__, AccessCode.__table__, VoterSession.__table__
_STORE_GRANT = Prepared(
    insert(_VST).from_select(
        list(_GRANT_COLUMNS),
        sa_select(bindparam("round_id", type_=_VST.c.round_id.type), bindparam("token_hash", type_=_VST.c.token_hash.type),
                  bindparam("voter_key", type_=_VST.c.voter_key.type),
                  bindparam("district_id", type_=_VST.c.district_id.type),
                  bindparam("resident_id", type_=_VST.c.resident_id.type),
                  bindparam("created_at", type_=_VST.c.created_at.type),
                  bindparam("expires_at", type_=_VST.c.expires_at.type))
        .where(sa_select(_AC.c.id).where(_AC.c.id == bindparam("code_id"), _AC.c.revoked_at.is_(None),
                                         _AC.c.claimed_by.is_not_distinct_from(bindparam("claimed_by",
                                                                                         type_=_AC.c.claimed_by.type)))
               .exists(),
               ~sa_select(_VC.c.id).where(_VC.c.round_id == bindparam("vc_round_id", type_=_VC.c.round_id.type),
                                          _VC.c.voter_key == bindparam("vc_voter_key", type_=_VC.c.voter_key.type),
                                          _VC.c.channel != ONLINE).exists())))


def store_voter_session(db, grant: VoterGrant) -> str | None:
    """Write the granted voter session (one statement, SQLite writers in turn): its token, or None when the
    code or the voter changed since the grant's checks (revoked, claimed, voted on paper): open_voter_session
    in a write transaction then gives the answer."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with Tx(db, turn=writer_turn(db)) as tx:
        written = tx.run(_STORE_GRANT, round_id=grant.round_id, token_hash=voter_keys.token_hash(token),
                         voter_key=grant.voter_key, district_id=grant.district_id, resident_id=None,
                         created_at=grant.now, expires_at=grant.now + SESSION_TTL, code_id=grant.code_id,
                         claimed_by=grant.claimed_by, vc_round_id=grant.round_id, vc_voter_key=grant.voter_key)
    return token if written == 1 else None


def session_for_token(session: Session, rnd: Round, token: str, now: datetime | None = None) -> VoterSession | None:
    """The live voter session of `rnd` for `token`, or None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    now = now or utcnow()
    vs = session.exec(select(VoterSession).where(VoterSession.token_hash == voter_keys.token_hash(token))).first()
    if vs is None or vs.round_id != rnd.id or vs.expires_at <= now:
        return None
    return vs


def purge_voter_sessions(session: Session, now: datetime | None = None) -> int:
    """Delete expired voter sessions (they link a resident to a voter key; keep them no longer than needed)."""
    now = now or utcnow()
    return session.exec(delete(VoterSession).where(VoterSession.expires_at <= now)).rowcount


_VS = VoterSession.__table__
# Every ballot asks this: the columns it needs, by a statement built once (no ORM row to load).
_VOTER_COLUMNS = (_VS.c.round_id, _VS.c.voter_key, _VS.c.district_id, _VS.c.resident_id, _VS.c.expires_at)
_VOTER_BY_TOKEN = sa_select(*_VOTER_COLUMNS).where(_VS.c.token_hash == bindparam("token_hash"))


def voter_from_token(session: Session, city: City, rnd: Round, token: str, now: datetime | None = None) -> Voter:
    if rnd.city_id != city.id:
        raise NotFound(f"no round {rnd.slug!r} in city {city.slug!r}")
    vs = None
    if _token_shape_ok(token):
        vs = session.connection().execute(_VOTER_BY_TOKEN, {"token_hash": voter_keys.token_hash(token)}).first()
    return _voter_from_row(vs, rnd.id, now)


def _token_shape_ok(token: str | None) -> bool:
    return bool(token) and token.startswith(TOKEN_PREFIX) and len(token) <= 200


def _voter_from_row(vs, round_id: int, now: datetime | None) -> Voter:
    """The voter a voter session row names: (round_id, voter_key, district_id, resident_id, expires_at) or None."""
    if vs is not None and (vs[0] != round_id or vs[4] <= (now or utcnow())):
        vs = None  # the same rules as session_for_token
    if vs is None:
        raise refusal(Unauthorized, "session", "voter_session_expired",
                      "unknown or expired voter session; enter your access code or log in again", errors=False)
    _, key, district_id, resident_id, _ = vs
    if resident_id is not None:
        return Voter(key, "resident", round_id, resident_id=resident_id)
    if district_id is not None:
        return Voter(key, "access_code", round_id, district_id=district_id)
    raise refusal(Unauthorized, "session", "voter_session_invalid",
                  "this voter session no longer names a voter; log in again", errors=False)


def paper_voter(session: Session, rnd: Round, *, access_code: str | None = None,
                resident: Resident | int | None = None) -> Voter:
    """The voter a paper ballot belongs to, named by staff with the voter's code or resident account."""
    if (access_code is None) == (resident is None):
        raise refusal(ValidationFailed, "voter", "paper_voter_missing",
                      "a paper ballot needs the voter's access code or resident account")
    if access_code is not None:
        _check_method(rnd, "access_code")
        code = _code_row(session, rnd, access_code)
        return Voter(code_binding.code_voter_key(session, rnd, code), "access_code", rnd.id,
                     district_id=code.district_id)
    _check_method(rnd, "resident")
    row = _resident_row(session, rnd, resident)
    return Voter(voter_keys.resident_voter_key(voter_keys.round_secret(session, rnd), row.id), "resident",
                 rnd.id, resident_id=row.id)


# --- casting --------------------------------------------------------------------

def ballot_cost(reviewed: int | None, estimated: int | None) -> int:
    """A project's cost on the ballot (minor units): the reviewed cost, else the author's estimate."""
    return int(reviewed if reviewed is not None else (estimated or 0))


def _catalogs(session: Session, round_id: int, places: Mapping[int, "_Place"],
              fmt: Callable[[int], str]) -> dict[str, Catalog]:
    """Every district's ballot of a round from one query: its projects and costs, and where the others are."""
    rows = session.exec(select(Proposal.id, Proposal.district_id, Proposal.reviewed_cost, Proposal.estimated_cost)
                        .where(Proposal.round_id == round_id, Proposal.status == ON_BALLOT)).all()
    costs: dict[int, dict[str, int]] = {did: {} for did in places}
    where: dict[str, str] = {}
    for pid, did, reviewed, estimated in rows:
        if did in costs:
            costs[did][str(pid)] = ballot_cost(reviewed, estimated)
            where[str(pid)] = places[did].slug
    return {p.slug: Catalog(district=p.slug, budget=p.budget, costs=costs[did],
                            elsewhere={pid: slug for pid, slug in where.items() if slug != p.slug}, money=fmt)
            for did, p in places.items()}


def ballot_catalog(session: Session, rnd: Round, district: District, city: City | None = None) -> Catalog:
    """The projects on `district`'s ballot with their costs, and where the round's other projects are."""
    city = city or session.get(City, rnd.city_id)
    places = {d.id: _Place(d.id, d.slug, int(d.budget)) for d in districts_of(session, rnd)}
    places.setdefault(district.id, _Place(district.id, district.slug, int(district.budget)))
    return _catalogs(session, rnd.id, places, money_formatter(city))[district.slug]


@dataclass(frozen=True)
class _Place:
    """A district as a cast needs it (a plain value: shared between requests, unlike an ORM row)."""

    id: int
    slug: str
    budget: int


@dataclass(frozen=True)
class _RoundNow:
    """The round as one cast reads it inside its own transaction: settings and phases, one query."""

    id: int
    city_id: int
    slug: str
    ballot: dict | None
    eligibility: dict | None
    updated_at: datetime | None
    phases: tuple[PhaseWindow, ...]


# The statements of a cast: Core, compiled once per dialect and run on the DBAPI cursor of the cast's
# transaction (store.prepared): SQLAlchemy's per-statement work in Python cost more than SQLite's own.
_R, _P, _B, _H, _C = (Round.__table__, Phase.__table__, Ballot.__table__, BallotHistory.__table__,
                      AccessCode.__table__)
_ROUND_COLUMNS = (_R.c.id, _R.c.city_id, _R.c.slug, _R.c.ballot, _R.c.eligibility, _R.c.updated_at,
                  _P.c.name, _P.c.starts_at, _P.c.ends_at)
_PHASE_COLUMNS = (6, 9)  # one row per phase: only these differ between a round's rows (store.prepared)
_ROUND_NOW = Prepared(sa_select(*_ROUND_COLUMNS)
                      .outerjoin(_P, _P.c.round_id == _R.c.id).where(_R.c.id == bindparam("round_id")),
                      varying=_PHASE_COLUMNS)
# The same, found by the slugs of a URL (an online ballot names its round so): no lookup before the cast.
_CITY = City.__table__
_BY_SLUGS = (_CITY.c.slug == bindparam("city_slug"), _R.c.slug == bindparam("round_slug"))
_ROUND_BY_SLUGS = Prepared(sa_select(*_ROUND_COLUMNS).select_from(_R)
                           .join(_CITY, _CITY.c.id == _R.c.city_id).outerjoin(_P, _P.c.round_id == _R.c.id)
                           .where(*_BY_SLUGS), varying=_PHASE_COLUMNS)
# And with the voter session its token names, when the token is known before the round (a bearer
# header): round, phases and voter in one statement, each row the round's, a phase's and the session's
# (token_hash is unique: one session at most, the same in every row). On PostgreSQL a cast reads it with the
# voter's lock taken in the same statement (_ROUND_VOTER_LOCK_PG).
_ROUND_AND_VOTER = Prepared(sa_select(*_ROUND_COLUMNS, *_VOTER_COLUMNS).select_from(_R)
                            .join(_CITY, _CITY.c.id == _R.c.city_id).outerjoin(_P, _P.c.round_id == _R.c.id)
                            .outerjoin(_VS, _VS.c.token_hash == bindparam("token_hash"))
                            .where(*_BY_SLUGS), varying=_PHASE_COLUMNS)
_CITY_BY_SLUG = Prepared(sa_select(_CITY.c.id).where(_CITY.c.slug == bindparam("city_slug")))
_VOTER_BY_TOKEN_TX = Prepared(_VOTER_BY_TOKEN)
# What a cast needs of the voter's current ballots: not their content (a change copies the replaced row into
# the history inside the database, so its JSON and dates are neither read nor written again by Python).
_VOTER_BALLOTS = Prepared(sa_select(_B.c.id, _B.c.district_id, _B.c.channel, _B.c.version)
                          .where(_B.c.round_id == bindparam("round_id"), _B.c.voter_key == bindparam("voter_key"))
                          .with_for_update())
_BALLOT_KEYS = ("round_id", "district_id", "voter_key", "channel", "content", "receipt", "version", "cast_at")
_NEW_BALLOT = Prepared(insert(_B), keys=_BALLOT_KEYS)
_HISTORY_COPY = insert(_H).from_select(
    [*_BALLOT_KEYS, "replaced_at"],
    sa_select(*(_B.c[k] for k in _BALLOT_KEYS), bindparam("replaced_at", type_=_H.c.replaced_at.type))
    .where(_B.c.id == bindparam("ballot_id")))
_TO_HISTORY = Prepared(_HISTORY_COPY)
_REPLACE = (update(_B).where(_B.c.id == bindparam("ballot_id"))
            .values(content=bindparam("new_content"), channel=bindparam("new_channel"),
                    receipt=bindparam("new_receipt"), version=bindparam("new_version"),
                    cast_at=bindparam("new_cast_at")))
_REPLACE_BALLOT = Prepared(_REPLACE)
_SPEND = (update(_C).where(_C.c.round_id == bindparam("code_round_id"),
                           _C.c.voter_key == bindparam("code_voter_key"), _C.c.spent_at.is_(None))
          .values(spent_at=bindparam("now")))
_SPEND_CODE = Prepared(_SPEND)
# On PostgreSQL each pair of writes is one statement (a data-modifying WITH: one round trip fewer a
# ballot). Every part of such a statement sees the same snapshot, so the history copies the row as it
# was before the UPDATE; a failing part (a unique violation of the insert) fails the whole statement.
_CHANGE_PG = Prepared(_REPLACE.add_cte(_HISTORY_COPY.cte("replaced")))
_FIRST_WITH_CODE_PG = Prepared(_SPEND.add_cte(
    insert(_B).values(**{k: bindparam(k, type_=_B.c[k].type) for k in _BALLOT_KEYS}).cte("cast")))
_RS = Resident.__table__
_RESIDENT = Prepared(sa_select(_RS.c.id, _RS.c.city_id, _RS.c.verified, _RS.c.district_slug)
                     .where(_RS.c.id == bindparam("resident_id")))


def _lock_statement(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    table = VoterChannel.__table__
    return (upsert(table).on_conflict_do_update(index_elements=[table.c.round_id, table.c.voter_key],
                                                set_={"channel": table.c.channel})
            .returning(table.c.channel))


# INSERT … ON CONFLICT DO UPDATE … RETURNING channel, in each dialect's words.
_LOCK_VOTER = Prepared(_lock_statement, keys=("round_id", "voter_key", "channel"))


def _round_voter_lock_statement(dialect: str):
    """PostgreSQL: _ROUND_AND_VOTER that also takes the voter's lock for an online cast (one round trip fewer a
    ballot). The lock is _LOCK_VOTER's upsert in a data-modifying WITH, for the session the token names when
    that session is of the URL's round (else nothing is locked: the cast is refused as unknown or of another
    round, or, for a token other than the one looked up, locks by _LOCK_VOTER as before); the channel it
    returns is in every row (NULL when nothing was locked). The lock is taken before the checks of the
    round's rows: a refused cast rolls back, and with it the lock and a first ballot's channel row. The
    ballots the cast then reads under the lock come from a later statement, which sees every cast of this
    voter committed before the lock was granted."""
    from sqlalchemy import literal, true
    from sqlalchemy.dialects.postgresql import insert as upsert

    assert dialect == "postgresql", dialect
    vc = VoterChannel.__table__
    r, c = _R.alias("lock_round"), _CITY.alias("lock_city")
    who = (sa_select(_VS.c.round_id, _VS.c.voter_key, literal(ONLINE, type_=vc.c.channel.type))
           .select_from(_VS.join(r, r.c.id == _VS.c.round_id).join(c, c.c.id == r.c.city_id))
           .where(_VS.c.token_hash == bindparam("token_hash"), c.c.slug == bindparam("city_slug"),
                  r.c.slug == bindparam("round_slug")))
    lock = (upsert(vc).from_select(["round_id", "voter_key", "channel"], who)
            .on_conflict_do_update(index_elements=[vc.c.round_id, vc.c.voter_key], set_={"channel": vc.c.channel})
            .returning(vc.c.channel).cte("lock"))
    return (sa_select(*_ROUND_COLUMNS, *_VOTER_COLUMNS, lock.c.channel).select_from(_R)
            .join(_CITY, _CITY.c.id == _R.c.city_id).outerjoin(_P, _P.c.round_id == _R.c.id)
            .outerjoin(_VS, _VS.c.token_hash == bindparam("token_hash"))
            .outerjoin(lock, true()).where(*_BY_SLUGS))


_ROUND_VOTER_LOCK_PG = Prepared(_round_voter_lock_statement, varying=_PHASE_COLUMNS)


def _round_now(tx: Tx, round_id: int) -> _RoundNow:
    rows = tx.rows(_ROUND_NOW, round_id=round_id)
    if not rows:
        raise NotFound(f"no round with id {round_id}")
    return _round_of(rows)


def _round_by_slugs(tx: Tx, city_slug: str, round_slug: str, token_hash: str | None = None):
    """The round: 404 if there is none. With `token_hash`, (round, the voter session's columns or None,
    channel): on PostgreSQL the same statement takes the online voter's lock (_ROUND_VOTER_LOCK_PG) and
    `channel` is the lock's answer, None if it locked nothing; on SQLite it is None (the cast locks by
    _LOCK_VOTER, inside the write transaction that already serialises every cast)."""
    if token_hash is None:
        rows = tx.rows(_ROUND_BY_SLUGS, city_slug=city_slug, round_slug=round_slug)
    else:
        statement = _ROUND_VOTER_LOCK_PG if tx.dialect.name == "postgresql" else _ROUND_AND_VOTER
        rows = tx.rows(statement, city_slug=city_slug, round_slug=round_slug, token_hash=token_hash)
    if not rows:
        # Only a refusal pays for the second look: which of the two is missing.
        if tx.first(_CITY_BY_SLUG, city_slug=city_slug) is None:
            raise NotFound(f"no city {city_slug!r}")
        raise NotFound(f"no round {round_slug!r} in city {city_slug!r}")
    if token_hash is None:
        return _round_of(rows)
    first = rows[0]
    vs = first[9:14]
    return _round_of(rows), (vs if vs[1] is not None else None), (first[14] if len(first) > 14 else None)


def _round_of(rows) -> _RoundNow:
    rid, city_id, slug, ballot, elig, updated_at = rows[0][:6]
    phases = tuple(sort_phases(PhaseWindow(r[6], r[7], r[8]) for r in rows if r[6] is not None))
    return _RoundNow(rid, city_id, slug, ballot, elig, updated_at, phases)


class _ResidentNow(NamedTuple):
    """A resident as a cast checks them (one Core statement; the ORM row is not needed)."""

    id: int
    city_id: int
    verified: bool
    district_slug: str | None


class _Held(NamedTuple):
    """One of the voter's current ballots, read under their lock."""

    id: int
    district_id: int
    channel: str
    version: int


@dataclass(frozen=True)
class CastSetup:
    """What the ballots of a round are checked against, prepared once per round version.

    From the moment voting opens the ballot is frozen (pb_engine.proposals: no project joins or
    leaves it, no cost changes; pb_engine.config: districts, ballot rules and eligibility are
    frozen keys), so every cast of a round in voting can share this. The phases are not in it:
    each cast reads them in its own transaction (voting may be extended or cut short).
    """

    timezone: str
    places: Mapping[str, _Place]          # slug -> district
    slugs: Mapping[int, str]              # district id -> slug
    catalogs: Mapping[str, Catalog]       # slug -> what its ballots are checked against
    rules: BallotRules | None
    rules_error: PBError | None           # the ballot settings are broken: refused where the check stands


# Per Database (a process holds one; tests make one per database): (round id, version) -> (expires, setup).
SETUP_TTL = 30.0  # seconds: bounds how long a change made behind the services' back goes unseen
_SETUP_MAX = 256
_setups: "weakref.WeakKeyDictionary[Any, dict[tuple, tuple[float, CastSetup]]]" = weakref.WeakKeyDictionary()
_setups_lock = threading.Lock()


def _build_setup(session: Session, rnd: _RoundNow) -> CastSetup:
    city = session.get(City, rnd.city_id)
    rows = session.exec(select(District.id, District.slug, District.budget).where(District.round_id == rnd.id)).all()
    places = {did: _Place(did, slug, int(budget)) for did, slug, budget in rows}
    try:
        rules, error = ballot_rules(rnd), None
    except PBError as exc:
        rules, error = None, exc
    return CastSetup(timezone=city.timezone, places={p.slug: p for p in places.values()},
                     slugs={p.id: p.slug for p in places.values()},
                     catalogs=_catalogs(session, rnd.id, places, money_formatter(city)), rules=rules, rules_error=error)


# Per Database: round id -> (expires, setup) of the round's last cast, for _prevalidated.
_latest: "weakref.WeakKeyDictionary[Any, dict[int, tuple[float, CastSetup]]]" = weakref.WeakKeyDictionary()


def _cast_setup(db, tx: Tx, rnd: _RoundNow, now: datetime, *, fresh: bool = False) -> CastSetup:
    """The round's setup: shared while voting is open (the ballot is frozen then), read afresh before."""
    voting = window(rnd.phases, "voting")
    if voting is None or now < voting.starts_at or db is None:
        return _build_setup(tx.session, rnd)
    # The version: any change to the round row (settings or dates, through the services) makes a new entry.
    key = (rnd.id, rnd.updated_at, repr(rnd.ballot), repr(rnd.eligibility), voting.starts_at)
    clock = time.monotonic()
    with _setups_lock:
        entries = _setups.setdefault(db, {})
        hit = entries.get(key)
        if hit is not None and hit[0] > clock and not fresh:
            _latest.setdefault(db, {})[rnd.id] = hit
            return hit[1]
    setup = _build_setup(tx.session, rnd)
    with _setups_lock:
        if len(entries) >= _SETUP_MAX:
            for k in [k for k, (expires, _) in entries.items() if expires <= clock] or list(entries)[:_SETUP_MAX // 2]:
                entries.pop(k, None)
        entries[key] = _latest.setdefault(db, {})[rnd.id] = (clock + SETUP_TTL, setup)
    return setup


class _Prechecked(NamedTuple):
    """A ballot's content checked before its transaction, against the setup the round's last cast used."""

    setup: CastSetup
    district: str
    stored: dict


def _prevalidated(db, round_id: int | None, district_slug: str, content: Any) -> _Prechecked | None:
    """The content checked before the cast's transaction (on SQLite: outside the writers' turn, which every
    ballot of every worker waits for) against the setup this process last used for the round; the cast
    uses the result only if its transaction finds that very setup (the same object: same rules, same
    catalog). None when there is no such setup, or the content is refused: the transaction then checks
    it, after the checks that come first (phase, voter, district), as before."""
    if round_id is None or db is None:
        return None
    with _setups_lock:
        hit = _latest.get(db, {}).get(round_id)
    if hit is None or hit[0] <= time.monotonic():
        return None
    setup = hit[1]
    catalog = setup.catalogs.get(district_slug)
    if setup.rules_error is not None or catalog is None:
        return None
    try:
        return _Prechecked(setup, district_slug, to_content(validate(setup.rules, content, catalog)))
    except PBError:
        return None


def _check_district(tx: Tx, rnd: _RoundNow, setup: CastSetup, district: _Place, voter: Voter,
                    channel: str) -> None:
    """May this voter vote in this district at all? (The one-district rule is checked under the lock.)"""
    if voter.method == "access_code":
        if voter.district_id != district.id:
            own = setup.slugs.get(voter.district_id, "?")
            raise refusal(Forbidden, "district", "code_for_other_district",
                          f"this access code is for district {own}; it cannot vote in district {district.slug}",
                          district=district.slug, code_district=own)
        return
    row = tx.first(_RESIDENT, resident_id=voter.resident_id)
    if row is None or row[1] != rnd.city_id:
        raise refusal(NotFound, "resident", "resident_unknown", "no such resident in this city")
    resident = _ResidentNow(*row)
    if channel == ONLINE:
        _check_verified(resident)
    _, multi = eligibility(rnd)
    if not multi and resident.district_slug and resident.district_slug != district.slug:
        if resident.district_slug in setup.places:
            raise refusal(Forbidden, "district", "not_your_district",
                          f"you may vote in district {resident.district_slug} only (your verified district); "
                          f"this round allows a ballot in one district",
                          district=district.slug, own_district=resident.district_slug)


def _lock_voter(tx: Tx, round_id: int, voter_key: str, channel: str) -> str:
    """Lock the voter in the round and return their channel: every cast of one voter queues here.

    One statement: the channel row is inserted by the voter's first ballot, or else "updated" to
    itself, which on PostgreSQL takes its row lock until the transaction ends (a concurrent first
    ballot of the same voter waits for the other's commit and then finds the row). On SQLite the
    write transaction (BEGIN IMMEDIATE) already serialises every cast.
    """
    return tx.first(_LOCK_VOTER, round_id=round_id, voter_key=voter_key, channel=channel)[0]


_RECEIPT_SPACE = len(access_codes.ALPHABET) ** 16


def new_receipt() -> str:
    """16 characters from the code alphabet (79 random bits) in groups of four.

    One draw of the whole number (uniform below 31**16), written in base 31: one read of the operating
    system's randomness instead of sixteen (secrets.choice per character), each of which let go of the
    GIL inside the writers' turn on SQLite, where another thread could then keep the holder waiting."""
    n = secrets.randbelow(_RECEIPT_SPACE)
    alphabet, chars = access_codes.ALPHABET, []
    for _ in range(16):
        n, i = divmod(n, 31)
        chars.append(alphabet[i])
    return access_codes.pretty("".join(chars))


def _store(tx: Tx, rnd: _RoundNow, district: _Place, voter: Voter, stored: dict, channel: str,
           now: datetime, existing: _Held | None, receipt: str | None = None) -> tuple[str, int, bool]:
    """Write the ballot under the voter's lock: (receipt, version, replaced). `existing`: the current row or
    None; `receipt`: drawn before the transaction, or here."""
    receipt = receipt or new_receipt()
    one_statement = tx.dialect.name == "postgresql"
    if existing is None:
        # Under the voter lock nobody else inserts this ballot; should one still exist (a writer that
        # skipped the lock), the unique constraint refuses this insert and cast_ballot starts over.
        values = dict(round_id=rnd.id, district_id=district.id, voter_key=voter.key, channel=channel,
                      content=stored, receipt=receipt, version=1, cast_at=now)
        if voter.method != "access_code":
            tx.run(_NEW_BALLOT, **values)
            return receipt, 1, False
        # The code's first ballot spends it (a change finds it spent already): no read.
        spend = dict(code_round_id=rnd.id, code_voter_key=voter.key, now=now)
        if one_statement:
            tx.run(_FIRST_WITH_CODE_PG, **values, **spend)
        else:
            tx.run(_NEW_BALLOT, **values)
            tx.run(_SPEND_CODE, **spend)
        return receipt, 1, False
    version = existing.version + 1
    change = dict(ballot_id=existing.id, new_content=stored, new_channel=channel, new_receipt=receipt,
                  new_version=version, new_cast_at=now)
    if one_statement:
        tx.run(_CHANGE_PG, **change, replaced_at=now)
    else:
        tx.run(_TO_HISTORY, ballot_id=existing.id, replaced_at=now)
        tx.run(_REPLACE_BALLOT, **change)
    return receipt, version, True


def _checked(tx: Tx, round_id: int | _RoundNow, district_slug: str, voter: Voter, content: Any,
             channel: str, now: datetime, entered_by: StaffUser | int | None, db=None,
             pre: _Prechecked | None = None):
    """The checks a ballot meets before the voter's lock: (round, setup, district, staff id, content as stored)."""
    rnd = round_id if isinstance(round_id, _RoundNow) else _round_now(tx, round_id)
    if voter.round_id != rnd.id:
        raise refusal(Forbidden, "voter", "voter_of_another_round", "this voter belongs to another round",
                      errors=False)
    setup = _cast_setup(db, tx, rnd, now)
    district = setup.places.get(district_slug)
    if district is None:
        setup = _cast_setup(db, tx, rnd, now, fresh=True)  # a district added since: look again
        district = setup.places.get(district_slug)
        if district is None:
            raise NotFound(f"no district {district_slug!r} in round {rnd.slug!r}")
    staff_id = None if entered_by is None else _staff_id(entered_by, rnd, tx.session)
    if channel == PAPER and staff_id is None:
        raise Forbidden("paper ballots are entered by staff")
    _check_phase(rnd, setup.timezone, channel, now)
    _check_method(rnd, voter.method)
    _check_district(tx, rnd, setup, district, voter, channel)
    if setup.rules_error is not None:
        raise setup.rules_error
    if pre is not None and pre.setup is setup and pre.district == district.slug:
        stored = pre.stored  # checked before the transaction against this very setup
    else:
        stored = to_content(validate(setup.rules, content, setup.catalogs[district.slug]))
    return rnd, setup, district, staff_id, stored


def _cast(tx: Tx, round_id: int | _RoundNow, district_slug: str, voter: Voter, content: Any, channel: str,
          now: datetime, entered_by: StaffUser | int | None, db=None, pre: _Prechecked | None = None,
          receipt: str | None = None, locked: str | None = None) -> Receipt:
    """`locked`: the channel of the voter's lock when the statement that read the round took it already."""
    rnd, setup, district, staff_id, stored = _checked(tx, round_id, district_slug, voter, content, channel,
                                                      now, entered_by, db, pre)

    used = locked if locked is not None else _lock_voter(tx, rnd.id, voter.key, channel)
    if used != channel:
        raise _channel_conflict(used, channel)
    mine = [_Held(*row) for row in tx.rows(_VOTER_BALLOTS, round_id=rnd.id, voter_key=voter.key)]
    existing = next((b for b in mine if b.district_id == district.id), None)
    _, multi = eligibility(rnd)
    other = next((b for b in mine if b.district_id != district.id), None)
    if not multi and other is not None:
        voted = setup.slugs.get(other.district_id, "?")
        raise refusal(Conflict, "district", "already_voted_elsewhere",
                      f"you already voted in district {voted}; this round allows a ballot in one district "
                      f"only (you may change that ballot)", district=district.slug, voted_district=voted)
    receipt, version, replaced = _store(tx, rnd, district, voter, stored, channel, now, existing, receipt)
    if channel == PAPER:
        # Who entered which receipt, never whose ballot it is or what it says.
        audit.record(tx.session, actor=f"staff:{staff_id}", action="paper_ballot.enter", city_id=rnd.city_id,
                     round_id=rnd.id, target=f"district:{district.slug}",
                     after={"district": district.slug, "receipt": receipt, "replaced": replaced})
        tx.session.flush()
    return Receipt(receipt=receipt, district=district.slug, channel=channel, version=version,
                   replaced=replaced, cast_at=now, content=stored)


def _retryable(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return any(s in text for s in ("deadlock", "database is locked", "could not serialize", "lock timeout"))


def cast_ballot(db, round_id: int, district_slug: str, voter: Voter, content: Any, *, channel: str = ONLINE,
                now: datetime | None = None, entered_by: StaffUser | int | None = None,
                then: Callable[[Session, Receipt], None] | None = None) -> Receipt:
    """Check and store `voter`'s ballot in a district, replacing their earlier one; committed on return.

    `then(session, receipt)` runs in the same transaction after the ballot is stored (a paper entry
    marked confirmed with it); a refusal it raises undoes the ballot too."""
    if channel not in CHANNELS:
        raise ValidationFailed.field("channel", f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")
    now = now or utcnow()

    def cast(tx: Tx) -> Receipt:
        receipt = _cast(tx, round_id, district_slug, voter, content, channel, now, entered_by, db)
        if then is not None:
            then(tx.session, receipt)
        return receipt

    return _committed(db, cast)


def cast_online(db, city_slug: str, round_slug: str, district_slug: str, token_for: Callable[[int], str],
                content: Any, *, now: datetime | None = None, token: str | None = None) -> Receipt:
    """An online ballot as the API receives it, in one transaction: the round its URL names, the voter
    its session token names (`token_for(round id)`, which may refuse: no token), then cast_ballot's checks.

    The round and the voter session are read by one statement when the token is known before the round:
    `token` (a bearer header; token_for then returns it too), or token_for of the round's id as last seen
    in this process (store.lookup.round_id_hint: a browser's cookie holds a token per round id). The hint
    is checked against the round read; a wrong or missing one costs the voter's own statement.

    One transaction and no lookups before it: on SQLite a read transaction left open beside the cast pins
    the WAL, so that every commit checkpoints (and waits for the disk) without ever resetting it."""
    now = now or utcnow()
    known = round_id_hint(db.engine.url, city_slug, round_slug)
    hint = None if token is not None else known
    # token_for reads the request (a header, a cookie): it is asked in this thread only, since the cast may
    # run in another thread's batch (store.group_commit). Asked here for the round last seen, its answer or
    # refusal is kept for the cast; a cast that needs it for another round is run in this thread instead.
    origin = threading.get_ident()
    answers: dict[int, tuple[str | None, Exception | None]] = {}

    def token_of(round_id: int) -> str:
        if round_id not in answers:
            if threading.get_ident() != origin:
                raise OwnThreadNeeded()
            try:
                answers[round_id] = (token_for(round_id), None)
            except Exception as exc:  # noqa: BLE001 - raised where the cast asks, as before
                answers[round_id] = (None, exc)
        given, refused = answers[round_id]
        if refused is not None:
            raise refused
        return given

    if known is not None:
        with contextlib.suppress(Exception):
            token_of(known)  # a refusal is kept, and raised where the cast asks
    # Before the transaction (on SQLite: before the writers' turn), what needs no database: the token's
    # hash, the receipt, and the content checked against the round's setup as last seen here.
    early = token if token is not None else (token_of(hint) if hint is not None else None)
    early_hash = voter_keys.token_hash(early) if _token_shape_ok(early) else None
    receipt = new_receipt()
    pre = _prevalidated(db, known, district_slug, content)

    def cast(tx: Tx) -> Receipt:
        locked = None
        if early_hash is not None:
            rnd, vs, locked = _round_by_slugs(tx, city_slug, round_slug, early_hash)
            given = early if rnd.id == hint else token_of(rnd.id)
        else:
            rnd, vs = _round_by_slugs(tx, city_slug, round_slug), None
            given = token_of(rnd.id)
        if given != early:  # not the token looked up with the round: look up the one given
            vs = tx.first(_VOTER_BY_TOKEN_TX, token_hash=voter_keys.token_hash(given)) \
                if _token_shape_ok(given) else None
            locked = None   # what was locked, if anything, is the other token's voter: lock this one
        remember_round_id(db.engine.url, city_slug, round_slug, rnd.id)
        voter = _voter_from_row(vs, rnd.id, now)
        return _cast(tx, rnd, district_slug, voter, content, ONLINE, now, None, db, pre, receipt, locked)

    return _committed(db, cast, batched=True)


def _committed(db, cast: Callable[[Tx], Receipt], batched: bool = False) -> Receipt:
    """`cast(tx)` in a write transaction, retried when it lost a race; the receipt once committed.

    `batched`: on SQLite, in one transaction with the other casts waiting for the writers' turn in this
    process (store.group_commit), for casts whose only writes are their own statements (no ORM objects)."""
    attempts, attempt = 5, 0
    batched = batched and db.dialect == "sqlite"
    while True:
        attempt += 1
        try:
            if batched:
                return run_batched(db, cast)  # returns once the batch committed
            # On SQLite, writers take turns before asking for the write lock (store.writer_turn). The connection
            # is not pinged first: one the database dropped fails a statement before the COMMIT (run again below).
            with Tx(db, turn=writer_turn(db), ping=False) as tx:
                receipt = cast(tx)
            return receipt  # the with-block committed: only now is the ballot acknowledged
        except OwnThreadNeeded:
            batched, attempt = False, attempt - 1  # again alone, in this thread: not an attempt lost to a race
        except DBAPIError as exc:
            if attempt == attempts:
                raise
            if before_commit(exc):
                continue  # its connection was dead, nothing was stored: again on a fresh one
            if isinstance(exc, IntegrityError):
                continue  # a ballot of this voter appeared between our read and our insert: it is replaced now
            if not isinstance(exc, OperationalError) or not _retryable(exc):
                raise
            time.sleep(random.uniform(0, 0.02 * 2**(attempt - 1)))


def enter_paper_ballot(db, round_id: int, district_slug: str, content: Any, *, staff: StaffUser | int,
                       access_code: str | None = None, resident: Resident | int | None = None,
                       now: datetime | None = None) -> Receipt:
    """Staff enter a paper ballot for the voter named by code or resident; logged with the staff member."""
    # A write session: naming the voter may create the round's voter secret.
    with db.write_session() as session:
        rnd = session.get(Round, round_id)
        if rnd is None:
            raise NotFound(f"no round with id {round_id}")
        _staff_id(staff, rnd, session)
        voter = paper_voter(session, rnd, access_code=access_code, resident=resident)
    return cast_ballot(db, round_id, district_slug, voter, content, channel=PAPER, now=now,
                       entered_by=staff.id if isinstance(staff, StaffUser) else staff)


def check_paper_ballot(db, round_id: int, district_slug: str, voter: Voter, content: Any, *,
                       staff: StaffUser | int, now: datetime | None = None) -> dict:
    """Every check a paper ballot meets when it is cast, storing nothing: its content as it would be stored.

    For the first entry of a double entry (pb_engine.paper): a ballot that would be refused is refused
    before it waits for its second entry. The cast checks everything again under the voter's lock."""
    now = now or utcnow()
    with Tx(db, write=False) as tx:
        rnd, setup, district, _, stored = _checked(tx, round_id, district_slug, voter, content, PAPER, now,
                                                   staff, db)
        session = tx.session
        used = _channel_of(session, rnd.id, voter.key)
        if used is not None and used != PAPER:
            raise _channel_conflict(used, PAPER)
        _, multi = eligibility(rnd)
        if not multi:
            other = session.exec(select(Ballot.district_id).where(Ballot.round_id == rnd.id, Ballot.voter_key == voter.key,
                                                                  Ballot.district_id != district.id)).first()
            if other is not None:
                voted = setup.slugs.get(other, "?")
                raise refusal(Conflict, "district", "already_voted_elsewhere",
                              f"you already voted in district {voted}; this round allows a ballot in one district "
                              f"only (you may change that ballot)", district=district.slug, voted_district=voted)
        return stored


# --- reading ballots ------------------------------------------------------------

def _view(row: Ballot, slug: str) -> CastBallot:
    return CastBallot(district=slug, content=dict(row.content), receipt=row.receipt, version=row.version,
                      channel=row.channel, cast_at=row.cast_at)


def get_ballot(session: Session, rnd: Round, district: District | str, voter: Voter) -> CastBallot | None:
    d = _district(session, rnd, district)
    row = session.exec(select(Ballot).where(Ballot.round_id == rnd.id, Ballot.district_id == d.id,
                                            Ballot.voter_key == voter.key)).first()
    return None if row is None else _view(row, d.slug)


def voter_ballots(session: Session, rnd: Round, voter: Voter) -> list[CastBallot]:
    slugs = {d.id: d.slug for d in districts_of(session, rnd)}
    rows = session.exec(select(Ballot).where(Ballot.round_id == rnd.id, Ballot.voter_key == voter.key)).all()
    return sorted((_view(r, slugs[r.district_id]) for r in rows), key=lambda b: b.district)


def receipts(session: Session, rnd: Round) -> dict[str, list[str]]:
    """The published list: per district, the receipts of every ballot received, sorted (no content, no time).

    A replaced ballot's receipt stays in the list: were it dropped, whoever holds an old receipt (a
    coercer who demanded it) would learn that the voter changed their vote. Each voter's latest ballot in
    a district is the one counted."""
    districts = districts_of(session, rnd)
    out: dict[str, list[str]] = {d.slug: [] for d in districts}
    slugs = {d.id: d.slug for d in districts}
    for table in (Ballot, BallotHistory):
        for did, receipt in session.exec(select(table.district_id, table.receipt).where(table.round_id == rnd.id)):
            out[slugs[did]].append(receipt)
    return {k: sorted(v) for k, v in out.items()}


def check_receipt(session: Session, rnd: Round, receipt: str) -> str:
    """'received' for the receipt of a ballot of this round, current or replaced alike, else 'unknown'.

    The same answer for both, so an old receipt tells its holder nothing about a change of vote; only
    the voter's own session shows which ballot counts (get_ballot), and never what any receipt says."""
    text = "".join(str(receipt).split()).replace("-", "").upper()
    code = access_codes.pretty(text)
    for table in (Ballot, BallotHistory):
        if session.exec(select(table.id).where(table.round_id == rnd.id, table.receipt == code)).first():
            return "received"
    return "unknown"


# --- the election of a district, for the rules ----------------------------------

def district_election(session: Session, rnd: Round, district: District | str) -> tuple[Instance, Profile]:
    """The district's projects on the ballot and its counting ballots, as domain objects.

    Money stays in integer minor units (rules are scale-free; exports convert).
    Projects: status on_ballot (or funded / not_funded after the count), by id,
    cost = reviewed cost. Ballots: the counting ones, ordered by voter key (a
    keyed hash: deterministic, unrelated to who voted or when).
    """
    d = _district(session, rnd, district)
    city = session.get(City, rnd.city_id)
    rules = ballot_rules(rnd)
    rows = session.exec(select(Proposal).where(Proposal.round_id == rnd.id, Proposal.district_id == d.id,
                                               Proposal.status.in_(WAS_ON_BALLOT)).order_by(Proposal.id)).all()
    projects = [Project(id=str(p.id), cost=Fraction(ballot_cost(p.reviewed_cost, p.estimated_cost)),
                        name=p.title, categories=tuple(p.categories or ())) for p in rows]
    ids = {p.id for p in projects}
    ballots = session.exec(select(Ballot.content).where(Ballot.round_id == rnd.id, Ballot.district_id == d.id)
                           .order_by(Ballot.voter_key)).all()
    profile = Profile(rules.vote_type, [from_content(rules.kind, c).only(ids) for c in ballots])
    meta: dict[str, str] = {
        "description": f"{rnd.title}, district {d.name}",
        "country": city.country,
        "unit": city.name,
        "instance": f"{city.slug}/{rnd.slug}",
        "district": d.slug,
        "num_projects": str(len(projects)),
        "num_votes": str(len(profile)),
        "currency": city.currency,
        "vote_type": rules.vote_type.value,
        "ballot_kind": rules.kind,
    }
    if rnd.rule and rnd.rule.get("id"):
        meta["rule"] = str(rnd.rule["id"])
    return Instance(budget=Fraction(int(d.budget)), projects=projects, meta=meta), profile
