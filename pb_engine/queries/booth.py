"""The voting booth: one district's ballot for a voter, with what the voter already cast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from pb_engine import secrecy, voting
from pb_engine.ballots.rules import BallotRules
from pb_engine.store.lookup import phases_of
from pb_engine.store.tables import District, Proposal, Round
from pb_engine.store.types import utcnow
from pb_engine.voting import CastBallot, Voter


@dataclass(frozen=True)
class BallotProject:
    id: int
    title: str
    summary: str
    categories: tuple[str, ...]
    cost: int              # minor units: the reviewed cost, else the estimate


@dataclass(frozen=True)
class Booth:
    district_slug: str
    district_name: str
    budget: int            # minor units
    rules: BallotRules
    projects: tuple[BallotProject, ...]
    own: CastBallot | None       # None too once voting has closed (choices_hidden)
    voter_district: str | None   # the district an access code is bound to (None: the voter may choose)
    choices_hidden: bool = False  # voting has closed: the voter's choices are shown to no session any more

    def chosen(self) -> dict[str, int]:
        """The voter's current choices as {project id: value}: 1 for a set, points, or rank (1 = best)."""
        if self.own is None:
            return {}
        content = self.own.content
        if "points" in content:
            return {str(k): int(v) for k, v in content["points"].items()}
        if "ranking" in content:
            return {str(pid): i for i, pid in enumerate(content["ranking"], 1)}
        return {str(pid): 1 for pid in content.get("projects", [])}


def projects_on_ballot(session: Session, rnd: Round, district: District) -> tuple[BallotProject, ...]:
    rows = session.exec(select(Proposal).where(Proposal.round_id == rnd.id, Proposal.district_id == district.id,
                                               Proposal.status == voting.ON_BALLOT).order_by(Proposal.id))
    return tuple(BallotProject(p.id, p.title, p.summary, tuple(p.categories or ()),
                               voting.ballot_cost(p.reviewed_cost, p.estimated_cost)) for p in rows)


def booth(session: Session, rnd: Round, district: District, voter: Voter, now: datetime | None = None) -> Booth:
    """The booth; once voting has closed without the voter's own ballot (a session opened before the close
    shows no choices after it: pb_engine.secrecy)."""
    bound = session.get(District, voter.district_id).slug if voter.district_id else None
    shown = secrecy.choices_shown(phases_of(session, rnd), now or utcnow())
    own = voting.get_ballot(session, rnd, district, voter) if shown else None
    return Booth(district.slug, district.name, int(district.budget), voting.ballot_rules(rnd),
                 projects_on_ballot(session, rnd, district), own, bound, choices_hidden=not shown)


def my_ballots(session: Session, rnd: Round, voter: Voter, now: datetime | None = None) -> list[CastBallot]:
    """The voter's ballots (receipts and choices) while voting has not closed; none after."""
    if not secrecy.choices_shown(phases_of(session, rnd), now or utcnow()):
        return []
    return voting.voter_ballots(session, rnd, voter)
