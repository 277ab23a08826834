"""The staff's review queue of a round and one proposal as a reviewer sees it.

The queue filters, sorts and pages in SQL: district, status, category, feasibility (unknown, yes, no),
"needs review" (no reviewed cost or no feasibility yet, among proposals still in play), "unanswered"
(no staff response yet), text search as the public search reads it (pb_engine.store.search); sorted
by relevance (with a query), oldest, newest, endorsements, cost (the reviewed one, else the author's;
highest first, unknown last) or title. Merged duplicates leave the queue unless asked for by status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from math import ceil

from sqlalchemy import case, func
from sqlmodel import Session, select

from pb_engine import proposals as svc
from pb_engine.phases import has_started
from pb_engine.queries import proposals as public
from pb_engine.store import search as search_store
from pb_engine.store.lookup import district_by_slug, phases_of
from pb_engine.store.tables import Comment, Proposal, Round, StaffResponse, StaffUser

SORTS = ("relevance", "oldest", "newest", "endorsements", "cost", "title")
FEASIBILITY = ("unknown", "yes", "no")
NO_REVIEW_NEEDED = ("merged", "withdrawn", "rejected", "funded", "not_funded")
PER_PAGE = 25


@dataclass(frozen=True)
class QueueFilters:
    district: str | None = None
    status: str | None = None
    category: str | None = None
    feasibility: str | None = None   # unknown | yes | no
    needs_review: bool = False
    unanswered: bool = False
    q: str | None = None
    sort: str | None = None          # one of SORTS; default: relevance with q, else oldest
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def order(self) -> str:
        if self.sort in SORTS and (self.sort != "relevance" or self.q):
            return self.sort
        return "relevance" if search_store.parse(self.q) else "oldest"


@dataclass(frozen=True)
class QueueItem:
    item: public.ProposalItem
    responses: int         # staff responses so far
    comments: int          # visible comments
    hidden_comments: int

    @property
    def needs_review(self) -> bool:
        return self.item.status not in NO_REVIEW_NEEDED and (self.item.reviewed_cost is None
                                                              or self.item.feasible is None)


@dataclass(frozen=True)
class ReviewQueue:
    items: tuple[QueueItem, ...]
    total: int
    page: int
    per_page: int
    status_counts: dict[str, int]   # the whole round, whatever the filters
    filters: QueueFilters = field(default_factory=QueueFilters)

    @property
    def pages(self) -> int:
        return ceil(self.total / self.per_page) if self.per_page else 0


def _cost():
    return func.coalesce(Proposal.reviewed_cost, Proposal.estimated_cost)


def review_queue(session: Session, rnd: Round, filters: QueueFilters = QueueFilters()) -> ReviewQueue:
    """A page of the round's queue (see the module docstring). An unknown district slug raises NotFound."""
    dialect = session.get_bind().dialect.name
    query = select(Proposal).where(Proposal.round_id == rnd.id)
    if filters.district:
        query = query.where(Proposal.district_id == district_by_slug(session, rnd, filters.district).id)
    if filters.status:
        query = query.where(Proposal.status == filters.status)
    else:
        query = query.where(Proposal.status != "merged")
    if filters.category:
        query = query.where(search_store._in_category(filters.category, dialect))
    if filters.feasibility == "unknown":
        query = query.where(Proposal.feasible.is_(None))
    elif filters.feasibility in ("yes", "no"):
        query = query.where(Proposal.feasible == (filters.feasibility == "yes"))
    if filters.needs_review:
        query = query.where(Proposal.status.not_in(NO_REVIEW_NEEDED),
                            (Proposal.reviewed_cost.is_(None)) | (Proposal.feasible.is_(None)))
    if filters.unanswered:
        answered = select(StaffResponse.id).where(StaffResponse.proposal_id == Proposal.id).exists()
        query = query.where(~answered)
    terms = search_store.parse(filters.q)
    score = None
    if terms:
        query, score = search_store._match(query, terms, dialect)
    order = {
        "oldest": [Proposal.created_at, Proposal.id],
        "newest": [Proposal.created_at.desc(), Proposal.id.desc()],
        "endorsements": [Proposal.endorsement_count.desc(), Proposal.id],
        "cost": [case((_cost().is_(None), 1), else_=0), _cost().desc(), Proposal.id],
        "title": [func.lower(Proposal.title), Proposal.id],
        "relevance": [score.desc(), Proposal.id] if score is not None else [Proposal.id],
    }[filters.order]
    page, per_page = max(filters.page, 1), max(filters.per_page, 1)
    total = int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    rows = list(session.execute(query.order_by(*order).offset((page - 1) * per_page).limit(per_page)).scalars())
    ids = [p.id for p in rows]
    responses = dict(session.exec(select(StaffResponse.proposal_id, func.count(StaffResponse.id))
                                  .where(StaffResponse.proposal_id.in_(ids)).group_by(StaffResponse.proposal_id)).all()) \
        if ids else {}
    comment_counts: dict[tuple[int, bool], int] = {}
    if ids:
        hidden = Comment.hidden_at.is_not(None)
        for pid, is_hidden, n in session.exec(select(Comment.proposal_id, hidden, func.count(Comment.id))
                                              .where(Comment.proposal_id.in_(ids))
                                              .group_by(Comment.proposal_id, hidden)).all():
            comment_counts[(pid, bool(is_hidden))] = int(n)
    districts = public._districts(session, rnd)
    authors = public._authors(session, rows)
    items = tuple(QueueItem(public._item(p, rnd, districts, authors), int(responses.get(p.id, 0)),
                            comment_counts.get((p.id, False), 0), comment_counts.get((p.id, True), 0)) for p in rows)
    counts = dict(session.exec(select(Proposal.status, func.count(Proposal.id)).where(Proposal.round_id == rnd.id)
                               .group_by(Proposal.status)).all())
    return ReviewQueue(items, total, page, per_page, {k: int(v) for k, v in counts.items()}, filters)


# --- one proposal --------------------------------------------------------------------------

@dataclass(frozen=True)
class StaffComment:
    id: int
    author: str
    body: str
    at: datetime
    hidden: bool
    hidden_reason: str
    hidden_by: str           # the staff member's name, "" when shown
    hidden_at: datetime | None


@dataclass(frozen=True)
class StaffResponseItem:
    id: int
    kind: str
    body: str
    at: datetime
    by: str


@dataclass(frozen=True)
class MergeChoice:
    id: int
    title: str
    status: str


@dataclass(frozen=True)
class ReviewDetail:
    item: public.ProposalItem
    authors: tuple[str, ...]
    endorsement_threshold: int
    frozen: bool                                # voting has started: the ballot, its costs and districts are fixed
    comments: tuple[StaffComment, ...]          # hidden ones too, marked
    responses: tuple[StaffResponseItem, ...]
    history: tuple[public.StatusItem, ...]
    merged_into: public.MergedInto | None
    merged_from: tuple[MergeChoice, ...]        # duplicates merged into this one
    merge_targets: tuple[MergeChoice, ...]      # where this one could go: the round's other unmerged proposals


def review_detail(session: Session, rnd: Round, p: Proposal, *, now: datetime) -> ReviewDetail:
    it = public.item(session, rnd, p)
    staff_names = dict(session.exec(select(StaffUser.id, StaffUser.name).where(StaffUser.city_id == rnd.city_id)).all())
    comments = tuple(StaffComment(c.id, c.author_name, c.body, c.created_at, c.hidden_at is not None, c.hidden_reason,
                                  staff_names.get(c.hidden_by, "") if c.hidden_by else "", c.hidden_at)
                     for c in svc.comments_of(session, p, include_hidden=True))
    responses = tuple(StaffResponseItem(r.id, r.kind, r.body, r.created_at, staff_names.get(r.staff_id, ""))
                      for r in svc.responses_of(session, p))
    others = session.exec(select(Proposal.id, Proposal.title, Proposal.status)
                          .where(Proposal.round_id == rnd.id, Proposal.id != p.id, Proposal.status != "merged")
                          .order_by(Proposal.title, Proposal.id)).all()
    merged_from = session.exec(select(Proposal.id, Proposal.title, Proposal.status)
                               .where(Proposal.merged_into_id == p.id).order_by(Proposal.id)).all()
    return ReviewDetail(
        item=it, authors=public.authors_of(session, p, it.author), endorsement_threshold=rnd.endorsement_threshold,
        frozen=has_started(phases_of(session, rnd), "voting", now), comments=comments, responses=responses,
        history=tuple(public.StatusItem(h.status, h.reason, h.note, h.at) for h in svc.status_history(session, p)),
        merged_into=public.merged_into(session, p),
        merged_from=tuple(MergeChoice(*row) for row in merged_from),
        merge_targets=tuple(MergeChoice(*row) for row in others),
    )
