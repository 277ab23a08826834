"""Ideas that travel: a resident starts a proposal in their own round from another round's proposal.

The new proposal keeps a link to the original (`borrowed_from_id`) and a copy of what it was
(`origin`: city, round, title), shown on its page and in its JSON. The copy is the attribution:
the link is cleared if the original goes (a Pabulib re-import with --replace deletes its proposals),
the words stay.
"""

from __future__ import annotations

from sqlmodel import Session

from pb_engine.errors import ValidationFailed
from pb_engine.proposals import PUBLIC_STATUSES
from pb_engine.store.tables import City, Proposal, Round

MAX_ID = 2**31 - 1


def source(session: Session, proposal_id) -> tuple[Proposal, Round, City]:
    """The proposal to borrow from, with its round and city; ValidationFailed on `borrowed_from` otherwise."""
    p = None
    if isinstance(proposal_id, int) and not isinstance(proposal_id, bool) and 0 < proposal_id <= MAX_ID:
        p = session.get(Proposal, proposal_id)
    if p is None or p.status not in PUBLIC_STATUSES:
        raise ValidationFailed.field("borrowed_from", f"no public proposal {proposal_id!r} to start from",
                                     "borrow_unknown", proposal=proposal_id)
    rnd = session.get(Round, p.round_id)
    return p, rnd, session.get(City, rnd.city_id)


def origin(session: Session, proposal_id, into: Round) -> tuple[int, dict]:
    """(borrowed_from_id, origin) for a proposal of `into` started from proposal `proposal_id`.

    Any other round may lend an idea (another city's, or this city's earlier year); the round itself
    may not: that would be a duplicate, which staff merge instead."""
    p, rnd, city = source(session, proposal_id)
    if rnd.id == into.id:
        raise ValidationFailed.field("borrowed_from", f"proposal {p.id} is in this round already; "
                                     "an idea can be started from another round's proposal only",
                                     "borrow_same_round", proposal=p.id)
    return p.id, {"proposal_id": p.id, "city": city.slug, "city_name": city.name, "round": rnd.slug,
                  "round_title": rnd.title, "title": p.title}


__all__ = ["origin", "source"]
