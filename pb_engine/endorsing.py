"""Who may endorse in a round (round config `[rounds.endorsement] require = ...`).

- `account` (the default, as before): anyone signed in, a resident account or a voter session.
- `verified`: residents the city has verified (`Resident.verified`: at a service desk, PATCH /residents/<name>
  or the console). An e-mail address costs nothing, so one person with five addresses would still be five
  endorsers; a threshold that must mean "N people" asks for verified residents.
"""

from __future__ import annotations

from sqlmodel import Session

from pb_engine.errors import Forbidden
from pb_engine.store.tables import Resident, Round

ACCOUNT, VERIFIED = "account", "verified"
REQUIREMENTS = (ACCOUNT, VERIFIED)
DEFAULT = ACCOUNT


def check(session: Session, rnd: Round, participant_key: str) -> None:
    """Refuse an endorser the round's requirement does not admit (403, before anything is written)."""
    if (rnd.endorsement_requires or DEFAULT) != VERIFIED:
        return
    kind, _, rid = participant_key.partition(":")
    resident = session.get(Resident, int(rid)) if kind == "resident" and rid.isdigit() else None
    if resident is not None and resident.verified and resident.city_id == rnd.city_id:
        return
    raise Forbidden("only verified residents may endorse in this round: ask city staff to verify your account",
                    {"endorsement": ["needs a verified resident"]})
