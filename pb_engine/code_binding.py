"""One person, one ballot: how a round binds access codes to resident accounts (`eligibility.code_binding`).

    binding(rnd) -> "claim" | "separate"
    code_voter_key(session, rnd, code_row, claimant=None, now=None) -> str
        the voter key a code votes with: its own, or the account's once the code is claimed.

Settings (city config `[rounds.eligibility] code_binding`, the API's round, the console's round editor):

- `claim` (the default): a resident signed in (page) or sending their resident token (API) who opens
  the ballot with an access code claims it: the code is bound to the account for good
  (AccessCode.claimed_by). From then on the code and the account are one voter: both vote with the
  account's voter key, so the unique constraint (one ballot per voter and district) and the one-district
  rule hold across them. A ballot cast through the account and one cast with the claimed code are the
  same ballot (the later replaces the earlier), online or on paper. A claimed code still opens the
  ballot without the account (the slip is the credential), but never for another account. A code that
  has already voted without an account cannot be claimed (its ballot would be a second one).
  Limit: a code that is never used while signed in stays a voter of its own; a city that hands codes to
  people who may also vote with a verified account and needs the guarantee without exception uses
  `separate`.
- `separate`: a round takes either access codes or resident accounts (eligibility.methods lists one),
  so no person holds both kinds of credential in it. The config refuses `separate` with both methods.

Claiming spends the code (it has been used: its ballot is now the account's) and ends the code's
sessions opened without the account, so a session opened before the claim cannot add a second ballot.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Session

from pb_engine import voter_keys
from pb_engine.ballots.refusals import refusal
from pb_engine.errors import Conflict
from pb_engine.store.tables import AccessCode, Resident, Round, VoterSession
from pb_engine.store.types import utcnow

CLAIM, SEPARATE = "claim", "separate"
BINDINGS = (CLAIM, SEPARATE)
DEFAULT = CLAIM


def binding(rnd: Round) -> str:
    value = (rnd.eligibility or {}).get("code_binding") or DEFAULT
    return value if value in BINDINGS else DEFAULT


def _claimed_elsewhere() -> Conflict:
    return refusal(Conflict, "access_code", "access_code_claimed",
                   "this access code is bound to another resident account: it votes with that account only")


def code_voter_key(session: Session, rnd: Round, code: AccessCode, claimant: Resident | None = None,
                   now: datetime | None = None) -> str:
    """The key `code` votes with; with a `claimant` (a resident of the round's city) the code is claimed first."""
    if code.claimed_by is not None:
        if claimant is not None and claimant.id != code.claimed_by:
            raise _claimed_elsewhere()
        return voter_keys.resident_voter_key(voter_keys.round_secret(session, rnd), code.claimed_by)
    if claimant is None or binding(rnd) != CLAIM:
        return code.voter_key
    if code.spent_at is not None:
        raise refusal(Conflict, "access_code", "access_code_voted_unbound",
                      "this access code has already voted without a resident account, so it cannot be bound to "
                      "yours; sign out to see or change that ballot with the code alone")
    now = now or utcnow()
    # Conditional: of two accounts claiming one code at once, only the first binds it.
    won = session.exec(update(AccessCode).where(AccessCode.id == code.id, AccessCode.claimed_by.is_(None),
                                                AccessCode.spent_at.is_(None))
                       .values(claimed_by=claimant.id, spent_at=now)).rowcount
    session.refresh(code)
    if not won:
        return code_voter_key(session, rnd, code, claimant, now)  # claimed or spent meanwhile: decide again
    session.exec(delete(VoterSession).where(VoterSession.round_id == rnd.id, VoterSession.voter_key == code.voter_key))
    session.flush()
    return voter_keys.resident_voter_key(voter_keys.round_secret(session, rnd), claimant.id)


__all__ = ["BINDINGS", "CLAIM", "DEFAULT", "SEPARATE", "binding", "code_voter_key"]
