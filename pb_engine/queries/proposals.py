"""Proposals as residents read them: a filtered list with counts, and one proposal with all around it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from math import ceil

from sqlalchemy import func
from sqlmodel import Session, select

from pb_engine import proposals as svc
from pb_engine.phases import has_started
from pb_engine.store.lookup import phases_of
from pb_engine.store.tables import District, Endorsement, Proposal, ProposalAuthor, Resident, Round

ENTERED_BY_STAFF = "entered by staff on behalf of residents"


@dataclass(frozen=True)
class ProposalItem:
    id: int
    round_slug: str
    district_slug: str
    district_name: str
    title: str
    summary: str
    description: str
    categories: tuple[str, ...]
    status: str
    endorsements: int
    estimated_cost: int | None    # minor units
    reviewed_cost: int | None
    feasible: bool | None
    author: str                    # the author's display name, or who entered it
    entered_by_staff: bool
    created_at: datetime
    updated_at: datetime
    origin: dict | None = None     # borrowed from another round's proposal: what it was (pb_engine.borrowing)

    @property
    def cost(self) -> int | None:
        """The cost residents weigh: the reviewed one once staff set it."""
        return self.reviewed_cost if self.reviewed_cost is not None else self.estimated_cost


@dataclass(frozen=True)
class ProposalList:
    items: tuple[ProposalItem, ...]
    total: int
    page: int
    per_page: int
    status_counts: dict[str, int]   # in the whole round, whatever the filters

    @property
    def pages(self) -> int:
        return ceil(self.total / self.per_page) if self.per_page else 0


@dataclass(frozen=True)
class CommentItem:
    id: int
    author: str
    body: str
    at: datetime


@dataclass(frozen=True)
class ResponseItem:
    id: int
    kind: str          # answer | review | progress
    body: str
    at: datetime


@dataclass(frozen=True)
class StatusItem:
    status: str
    reason: str
    note: str
    at: datetime


@dataclass(frozen=True)
class MergedInto:
    id: int
    title: str


@dataclass(frozen=True)
class ProposalDetail:
    item: ProposalItem
    endorsement_threshold: int
    endorsed_by_asker: bool
    can_edit: bool                 # the asker wrote it and it may still change
    endorse_open: bool
    comments_open: bool
    comments: tuple[CommentItem, ...]
    responses: tuple[ResponseItem, ...]   # public answers and review notes
    progress: tuple[ResponseItem, ...]    # implementation progress updates, once funded
    history: tuple[StatusItem, ...]
    authors: tuple[str, ...] = ()          # every author: its own, then those of duplicates merged into it
    merged_into: "MergedInto | None" = None  # a merged duplicate: the proposal it went into

    @property
    def threshold_share(self) -> float | None:
        if not self.endorsement_threshold:
            return None
        return min(1.0, self.item.endorsements / self.endorsement_threshold)


def _authors(session: Session, rows) -> dict[int, str]:
    ids = {p.author_resident_id for p in rows if p.author_resident_id is not None}
    if not ids:
        return {}
    return dict(session.exec(select(Resident.id, Resident.display_name).where(Resident.id.in_(ids))).all())


def _item(p: Proposal, rnd: Round, districts: dict[int, District], authors: dict[int, str]) -> ProposalItem:
    if p.author_resident_id is not None:
        author = authors.get(p.author_resident_id, "resident")
    elif p.entered_by_staff_id is not None:
        author = ENTERED_BY_STAFF
    else:
        author = "voter"
    d = districts.get(p.district_id)
    return ProposalItem(
        id=p.id, round_slug=rnd.slug, district_slug=d.slug if d else "", district_name=d.name if d else "",
        title=p.title, summary=p.summary, description=p.description, categories=tuple(p.categories or ()),
        status=p.status, endorsements=p.endorsement_count, estimated_cost=p.estimated_cost,
        reviewed_cost=p.reviewed_cost, feasible=p.feasible, author=author,
        entered_by_staff=p.entered_by_staff_id is not None, created_at=p.created_at, updated_at=p.updated_at,
        origin=_origin(p),
    )


def _origin(p: Proposal) -> dict | None:
    if not p.origin:
        return None
    # The copy keeps the words; the id only while the original is still there (the FK is SET NULL).
    return {**p.origin, "proposal_id": p.borrowed_from_id}


def authors_of(session: Session, p: Proposal, main: str) -> tuple[str, ...]:
    """The proposal's author (`main`, as ProposalItem.author says it) and its co-authors, each once."""
    rows = session.exec(select(ProposalAuthor.resident_id, ProposalAuthor.voter_key)
                        .where(ProposalAuthor.proposal_id == p.id).order_by(ProposalAuthor.id)).all()
    ids = {r for r, _v in rows if r is not None}
    names = dict(session.exec(select(Resident.id, Resident.display_name).where(Resident.id.in_(ids))).all()) if ids else {}
    out = [main]
    for resident_id, _voter in rows:
        out.append(names.get(resident_id, "resident") if resident_id is not None else "voter")
    return tuple(out)


def merged_into(session: Session, p: Proposal) -> MergedInto | None:
    if p.merged_into_id is None:
        return None
    target = session.get(Proposal, p.merged_into_id)
    return MergedInto(target.id, target.title) if target is not None else None


def _districts(session: Session, rnd: Round) -> dict[int, District]:
    return {d.id: d for d in session.exec(select(District).where(District.round_id == rnd.id))}


def item(session: Session, rnd: Round, p: Proposal) -> ProposalItem:
    return _item(p, rnd, _districts(session, rnd), _authors(session, [p]))


def proposal_list(session: Session, rnd: Round, *, district: str | None = None, category: str | None = None,
                  status: str | None = None, q: str | None = None, page: int = 1, per_page: int = 20) -> ProposalList:
    rows, total = svc.search(session, rnd, district=district, category=category, status=status, q=q, page=page,
                             per_page=per_page)
    districts = _districts(session, rnd)
    authors = _authors(session, rows)
    counts = dict(session.exec(select(Proposal.status, func.count(Proposal.id)).where(Proposal.round_id == rnd.id)
                               .group_by(Proposal.status)).all())
    return ProposalList(tuple(_item(p, rnd, districts, authors) for p in rows), total, page, per_page,
                        {k: int(v) for k, v in counts.items()})


def by_district(session: Session, rnd: Round) -> dict[str, list[ProposalItem]]:
    """Every proposal of the round under its district's slug, most endorsed first (the round page)."""
    rows = session.exec(select(Proposal).where(Proposal.round_id == rnd.id, Proposal.status != "merged")
                        .order_by(Proposal.endorsement_count.desc(), Proposal.id)).all()
    districts = _districts(session, rnd)
    authors = _authors(session, rows)
    out: dict[str, list[ProposalItem]] = {}
    for p in rows:
        it = _item(p, rnd, districts, authors)
        out.setdefault(it.district_slug, []).append(it)
    return out


def detail(session: Session, rnd: Round, p: Proposal, *, now: datetime,
           participant_key: str | None = None) -> ProposalDetail:
    phases = phases_of(session, rnd)
    from pb_engine.phases import current_phase

    phase = current_phase(phases, now)
    endorsed = False
    if participant_key is not None:
        endorsed = session.exec(select(Endorsement.id).where(Endorsement.proposal_id == p.id,
                                                             Endorsement.endorser_key == participant_key)).first() is not None
    responses = svc.responses_of(session, p)
    comments_open = (phase not in ("upcoming", "closed") and not has_started(phases, "tally", now)
                     and p.status != "merged")
    it = item(session, rnd, p)
    return ProposalDetail(
        item=it, authors=authors_of(session, p, it.author), merged_into=merged_into(session, p), endorsement_threshold=rnd.endorsement_threshold, endorsed_by_asker=endorsed,
        can_edit=(participant_key is not None and svc.is_author(p, participant_key) and phase == "submission"
                  and p.status in ("submitted", "endorsed")),
        endorse_open=phase in ("submission", "endorsement") and p.status not in ("rejected", "withdrawn", "merged"),
        comments_open=comments_open,
        comments=tuple(CommentItem(c.id, c.author_name, c.body, c.created_at) for c in svc.comments_of(session, p)),
        responses=tuple(ResponseItem(r.id, r.kind, r.body, r.created_at) for r in responses if r.kind != "progress"),
        progress=tuple(ResponseItem(r.id, r.kind, r.body, r.created_at) for r in responses if r.kind == "progress"),
        history=tuple(StatusItem(h.status, h.reason, h.note, h.at) for h in svc.status_history(session, p)),
    )


@dataclass(frozen=True)
class SearchHit:
    city_slug: str
    city_name: str
    round_slug: str
    round_title: str
    proposal_id: int
    title: str
    summary: str
    status: str


def search_everywhere(session: Session, q: str, limit: int = 20) -> list[SearchHit]:
    """Proposals of every city's rounds matching `q` (the home page's search box), best first."""
    from pb_engine.store.search import search_all
    from pb_engine.store.tables import City

    rows = list(search_all(session, q, limit=limit))
    if not rows:
        return []
    rounds = {r.id: r for r in session.exec(select(Round).where(Round.id.in_({p.round_id for p in rows})))}
    cities = {c.id: c for c in session.exec(select(City).where(City.id.in_({r.city_id for r in rounds.values()})))}
    hits = []
    for p in rows:
        r = rounds[p.round_id]
        c = cities[r.city_id]
        hits.append(SearchHit(c.slug, c.name, r.slug, r.title, p.id, p.title, p.summary, p.status))
    return hits
