"""What a city's staff see first in the console: each round's phase and what comes next, its
counts (proposals by status, endorsements, voters, ballots online and on paper, turnout) and
what needs attention (proposals waiting for review, proposals no staff member has answered).

A handful of grouped queries per round, whatever the number of proposals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from pb_engine.outcomes import turnout
from pb_engine.queries.rounds import PhaseInfo, directory
from pb_engine.store.tables import City, Endorsement, Proposal, Round, StaffResponse

# Proposals no longer in play need no answer from staff.
ANSWER_NOT_NEEDED = ("withdrawn",)


@dataclass(frozen=True)
class AttentionItem:
    proposal_id: int
    title: str
    status: str


@dataclass(frozen=True)
class RoundDashboard:
    slug: str
    title: str
    current_phase: str
    next_phase: PhaseInfo | None
    proposals: int
    by_status: dict[str, int]
    endorsements: int
    voters: int
    ballots_online: int
    ballots_paper: int
    population: int | None
    turnout: float | None           # share of the population, None where it is unknown
    under_review: tuple[AttentionItem, ...]
    unanswered: tuple[AttentionItem, ...]


def round_dashboard(session: Session, rnd: Round, summary) -> RoundDashboard:
    by_status = {status: int(n) for status, n in session.exec(
        select(Proposal.status, func.count(Proposal.id)).where(Proposal.round_id == rnd.id)
        .group_by(Proposal.status).order_by(Proposal.status)).all()}
    endorsements = session.exec(select(func.count(Endorsement.id)).join(Proposal, Proposal.id == Endorsement.proposal_id)
                                .where(Proposal.round_id == rnd.id)).one()
    answered = select(StaffResponse.proposal_id).where(StaffResponse.proposal_id == Proposal.id).exists()
    rows = session.exec(select(Proposal.id, Proposal.title, Proposal.status, answered)
                        .where(Proposal.round_id == rnd.id).order_by(Proposal.id)).all()
    under_review = tuple(AttentionItem(i, t, st) for i, t, st, _a in rows if st == "under_review")
    unanswered = tuple(AttentionItem(i, t, st) for i, t, st, a in rows if not a and st not in ANSWER_NOT_NEEDED)
    t = turnout(session, rnd)
    return RoundDashboard(
        slug=rnd.slug, title=rnd.title, current_phase=summary.current_phase, next_phase=summary.next_phase,
        proposals=sum(by_status.values()), by_status=by_status, endorsements=int(endorsements),
        voters=t["voters"], ballots_online=int(t["by_channel"].get("online", 0)),
        ballots_paper=int(t["by_channel"].get("paper", 0)), population=t["population"], turnout=t["turnout"],
        under_review=under_review, unanswered=unanswered)


def city_dashboard(session: Session, city: City, now: datetime) -> list[RoundDashboard]:
    """The city's rounds, newest first, each with its figures and what needs attention."""
    summaries = next((cr.rounds for cr in directory(session, now) if cr.city.slug == city.slug), ())
    rounds = {r.slug: r for r in session.exec(select(Round).where(Round.city_id == city.id)).all()}
    return [round_dashboard(session, rounds[s.slug], s) for s in summaries if s.slug in rounds]
