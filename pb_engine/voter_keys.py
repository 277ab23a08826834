"""Pseudonymous voter keys: who voted is kept apart from what was voted.

A ballot row carries `voter_key = HMAC-SHA256(round secret, identity)` where
identity is the normalised access code (e.g. "K7QM4TXR9PWC") or
"resident:<id>". The round secret (`Round.voter_secret`, 32 random bytes as
hex) is made on first need and never exported, so a dump or export of ballots
names no person, and keys of different rounds cannot be joined.

Access codes are stored only as `code_hash = HMAC(secret, "access-code:" + code)`:
a code of another round hashes to nothing here, and a leaked table without the
secret cannot be brute-forced code by code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import update
from sqlmodel import Session, select

from pb_engine.store.tables import Round


def round_secret(session: Session, rnd: Round) -> bytes:
    """The round's voter secret, generated once even when two transactions race for it."""
    if not rnd.voter_secret:
        fresh = secrets.token_hex(32)
        # Conditional update: of two racing writers only the first sets it; both then read the winner.
        session.exec(update(Round).where(Round.id == rnd.id, Round.voter_secret == "").values(voter_secret=fresh))
        session.flush()
        value = session.exec(select(Round.voter_secret).where(Round.id == rnd.id)).one()
        # Keep the loaded object in step without marking it dirty (set_committed_value).
        from sqlalchemy.orm.attributes import set_committed_value

        set_committed_value(rnd, "voter_secret", value)
    return bytes.fromhex(rnd.voter_secret)


def _mac(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


def code_voter_key(secret: bytes, code: str) -> str:
    return _mac(secret, code)


def resident_voter_key(secret: bytes, resident_id: int) -> str:
    return _mac(secret, f"resident:{resident_id}")


def code_hash(secret: bytes, code: str) -> str:
    return _mac(secret, "access-code:" + code)


def token_hash(token: str) -> str:
    """Voter session tokens are random; a plain SHA-256 suffices to store them."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
