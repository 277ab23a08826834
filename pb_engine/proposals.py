"""Proposals: residents submit, edit, endorse and discuss; staff review, answer and put them on the ballot.

Phase rules (a round's dates decide, see pb_engine.phases):
- residents submit and edit their own while `submission` is current;
- endorsing is open during `submission` and `endorsement`; reaching the round's
  endorsement threshold moves a proposal to `under_review`;
- staff enter proposals on behalf of residents (marked) and review them until
  voting starts; `on_ballot` needs a reviewed cost within the district budget,
  `feasible = true` and, with a threshold, enough endorsements;
- once voting has started the ballot is frozen: no proposal joins or leaves it.
Comments are open from submission until voting ends; staff responses any time.
Every staff change is written to the audit log with before and after.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pb_engine import audit, endorsing
from pb_engine.errors import Conflict, PhaseClosed, ValidationFailed
from pb_engine.phases import current_phase, has_started
from pb_engine.store.lookup import district_by_slug, phases_of
from pb_engine.store import search as search_store
from pb_engine.store.tables import (Category, Comment, District, Endorsement, Proposal, ProposalStatusChange, Round,
                                    StaffResponse, StaffUser)

STATUSES = ("submitted", "endorsed", "under_review", "on_ballot", "rejected", "withdrawn", "funded", "not_funded",
            "merged")
# A merged duplicate keeps its page (it says where it went) but leaves the lists and the cross-city search.
PUBLIC_STATUSES = tuple(s for s in STATUSES if s != "merged")
LISTED_STATUSES = PUBLIC_STATUSES
STAFF_SETS = ("submitted", "under_review", "on_ballot", "rejected", "withdrawn")  # funded/not_funded: by publishing
ON_BALLOT = ("on_ballot", "funded", "not_funded")
TEXT_FIELDS = ("title", "summary", "description", "categories", "estimated_cost", "district")
REVIEW_FIELDS = ("reviewed_cost", "feasible", "status")
RESPONSE_KINDS = ("answer", "review", "progress")


def phase_now(session: Session, rnd: Round, now: datetime) -> str:
    return current_phase(phases_of(session, rnd), now)


def voting_started(session: Session, rnd: Round, now: datetime) -> bool:
    return has_started(phases_of(session, rnd), "voting", now)


def snapshot(p: Proposal) -> dict:
    return {
        "title": p.title, "summary": p.summary, "description": p.description, "district_id": p.district_id,
        "categories": list(p.categories), "estimated_cost": p.estimated_cost, "reviewed_cost": p.reviewed_cost,
        "feasible": p.feasible, "status": p.status,
    }


def _check_categories(session: Session, rnd: Round, categories: list[str]) -> list[str]:
    if not categories:
        return []
    known = set(session.exec(select(Category.slug).where(Category.city_id == rnd.city_id)))
    if getattr(rnd, "categories", None):  # a round may offer only some of the city's categories
        known &= set(rnd.categories)
    unknown = [c for c in categories if c not in known]
    if unknown:
        allowed = ", ".join(sorted(known)) or "none defined"
        raise ValidationFailed.field("categories", f"unknown categories {', '.join(unknown)}; this city has: {allowed}")
    return list(dict.fromkeys(categories))


def _check_cost(field: str, cost: int | None, district: District) -> None:
    if cost is not None and district.budget and cost > district.budget:
        raise ValidationFailed.field(field, f"is more than the district budget ({district.budget} minor units)")


def submit(session: Session, rnd: Round, data: dict, *, now: datetime, resident_id: int | None = None,
           voter_key: str | None = None, staff: StaffUser | None = None) -> Proposal:
    """`data`: title, summary, description, district (slug), categories, estimated_cost (minor units),
    borrowed_from (optional: the id of another round's proposal the idea starts from)."""
    if staff is not None:
        if voting_started(session, rnd, now):
            raise PhaseClosed("voting has started: the ballot is frozen and no proposal can be added")
    else:
        phase = phase_now(session, rnd, now)
        if phase != "submission":
            raise PhaseClosed(f"submission is not open (the round is in {phase!r})")
    district = district_by_slug(session, rnd, data["district"])
    _check_cost("estimated_cost", data.get("estimated_cost"), district)
    p = Proposal(
        round_id=rnd.id, district_id=district.id, title=data["title"], summary=data.get("summary", ""),
        description=data.get("description", ""), categories=_check_categories(session, rnd, data.get("categories") or []),
        estimated_cost=data.get("estimated_cost"), author_resident_id=resident_id, author_voter_key=voter_key,
        entered_by_staff_id=staff.id if staff else None, created_at=now, updated_at=now,
    )
    if data.get("borrowed_from") is not None:  # started from another round's proposal: attribution kept
        from pb_engine import borrowing

        p.borrowed_from_id, p.origin = borrowing.origin(session, data["borrowed_from"], rnd)
    session.add(p)
    session.flush()
    record_status(session, p, reason="entered_by_staff" if staff is not None else "submitted", now=now)
    if staff is not None:
        audit.record(session, actor=f"staff:{staff.id}", action="proposal.enter_on_behalf", city_id=rnd.city_id,
                     round_id=rnd.id, target=f"proposal:{p.id}", after=snapshot(p))
    return p


def record_status(session: Session, p: Proposal, *, reason: str, now: datetime, note: str = "") -> None:
    """Write the proposal's new status to its public history (call after setting p.status)."""
    session.add(ProposalStatusChange(proposal_id=p.id, status=p.status, reason=reason, note=note, at=now))


def status_history(session: Session, p: Proposal) -> list[ProposalStatusChange]:
    return list(session.exec(select(ProposalStatusChange).where(ProposalStatusChange.proposal_id == p.id)
                             .order_by(ProposalStatusChange.at, ProposalStatusChange.id)))


def is_author(p: Proposal, participant_key: str) -> bool:
    if p.author_resident_id is not None and participant_key == f"resident:{p.author_resident_id}":
        return True
    return p.author_voter_key is not None and participant_key == p.author_voter_key


def _apply_text(session: Session, rnd: Round, p: Proposal, changes: dict) -> None:
    if "district" in changes:
        p.district_id = district_by_slug(session, rnd, changes["district"]).id
    for key in ("title", "summary", "description", "estimated_cost"):
        if key in changes:
            setattr(p, key, changes[key])
    if "categories" in changes:
        p.categories = _check_categories(session, rnd, changes["categories"] or [])
    district = session.get(District, p.district_id)
    if "estimated_cost" in changes or "district" in changes:
        _check_cost("estimated_cost", p.estimated_cost, district)


def edit_by_author(session: Session, rnd: Round, p: Proposal, changes: dict, *, participant_key: str, now: datetime) -> Proposal:
    from pb_engine.errors import Forbidden

    if not is_author(p, participant_key):
        raise Forbidden("only the author may edit this proposal")
    extra = [k for k in changes if k not in TEXT_FIELDS]
    if extra:
        raise Forbidden(f"only staff may set {', '.join(extra)}", {k: ["staff only"] for k in extra})
    phase = phase_now(session, rnd, now)
    if phase != "submission":
        raise PhaseClosed(f"proposals can be edited while submission is open (the round is in {phase!r})")
    if p.status not in ("submitted", "endorsed"):
        raise Conflict(f"a proposal in status {p.status!r} can no longer be edited")
    _apply_text(session, rnd, p, changes)
    p.updated_at = now
    session.add(p)
    return p


def review(session: Session, rnd: Round, p: Proposal, changes: dict, *, staff: StaffUser, now: datetime) -> Proposal:
    """Staff edit: text corrections and review fields; audited."""
    if not changes:
        return p
    if p.status == "merged":
        raise Conflict(f"proposal {p.id} was merged into proposal {p.merged_into_id}; review that one instead",
                       {"status": ["merged"]}, reason="proposal_merged", params={"into": p.merged_into_id})
    before = snapshot(p)
    frozen = voting_started(session, rnd, now)
    if frozen and any(k in changes for k in ("reviewed_cost", "status", "district")):
        raise PhaseClosed("voting has started: the ballot, its costs and districts are frozen",
                          {k: ["frozen once voting started"] for k in changes if k in ("reviewed_cost", "status", "district")})
    _apply_text(session, rnd, p, {k: v for k, v in changes.items() if k in TEXT_FIELDS})
    district = session.get(District, p.district_id)
    if "reviewed_cost" in changes:
        if changes["reviewed_cost"] is not None and changes["reviewed_cost"] <= 0:
            raise ValidationFailed.field("reviewed_cost", "must be more than zero")
        _check_cost("reviewed_cost", changes["reviewed_cost"], district)
        p.reviewed_cost = changes["reviewed_cost"]
    if "feasible" in changes:
        p.feasible = changes["feasible"]
    status = changes.get("status")
    if status is not None:
        if status not in STAFF_SETS:
            raise ValidationFailed.field("status", f"staff may set one of {', '.join(STAFF_SETS)}; funded and not_funded come from a published outcome")
        if status == "on_ballot":
            problems = {}
            if p.reviewed_cost is None:
                problems["reviewed_cost"] = ["a project on the ballot needs a reviewed cost"]
            if p.feasible is not True:
                problems["feasible"] = ["a project on the ballot must be declared feasible"]
            if rnd.endorsement_threshold and p.endorsement_count < rnd.endorsement_threshold and p.entered_by_staff_id is None:
                problems["status"] = [f"needs {rnd.endorsement_threshold} endorsements, has {p.endorsement_count}"]
            if problems:
                raise Conflict("the proposal cannot go on the ballot yet", problems)
        if status != p.status:
            p.status = status
            record_status(session, p, reason="review", now=now, note=changes.get("status_note") or "")
    elif p.status == "on_ballot" and (p.feasible is not True or p.reviewed_cost is None):
        raise Conflict("a project on the ballot needs a reviewed cost and feasible = true; take it off the ballot first",
                       {"feasible": ["required for on_ballot"]})
    p.updated_at = now
    session.add(p)
    after = snapshot(p)
    if after != before:
        audit.record(session, actor=f"staff:{staff.id}", action="proposal.review", city_id=rnd.city_id, round_id=rnd.id,
                     target=f"proposal:{p.id}", before={k: v for k, v in before.items() if after[k] != v},
                     after={k: v for k, v in after.items() if before[k] != v})
    return p


def endorse(session: Session, rnd: Round, p: Proposal, *, participant_key: str, now: datetime) -> Proposal:
    phase = phase_now(session, rnd, now)
    if phase not in ("submission", "endorsement"):
        raise PhaseClosed(f"endorsing is open during submission and endorsement (the round is in {phase!r})")
    if p.status in ("rejected", "withdrawn", "merged"):
        raise Conflict(f"a {p.status} proposal cannot be endorsed")
    endorsing.check(session, rnd, participant_key)  # the round may take verified residents only
    try:
        with session.begin_nested():
            session.add(Endorsement(proposal_id=p.id, endorser_key=participant_key, created_at=now))
    except IntegrityError:
        raise Conflict("you have already endorsed this proposal", {"proposal": ["already endorsed"]}) from None
    # Count in SQL, not in Python: two endorsements at once must both be counted.
    session.execute(update(Proposal).where(Proposal.id == p.id).values(endorsement_count=Proposal.endorsement_count + 1))
    session.refresh(p)
    if rnd.endorsement_threshold and p.endorsement_count >= rnd.endorsement_threshold and p.status in ("submitted", "endorsed"):
        p.status = "under_review"
        session.add(p)
        record_status(session, p, reason="threshold_reached", now=now)
    return p


def comment(session: Session, rnd: Round, p: Proposal, *, body: str, resident_id: int | None, author_name: str,
            now: datetime) -> Comment:
    phase = phase_now(session, rnd, now)
    if phase in ("upcoming", "closed") or has_started(phases_of(session, rnd), "tally", now):
        raise PhaseClosed(f"comments are open from submission until voting ends (the round is in {phase!r})")
    if p.status == "merged":
        raise Conflict(f"proposal {p.id} was merged into proposal {p.merged_into_id}; comment there",
                       {"body": ["merged"]}, reason="proposal_merged", params={"into": p.merged_into_id})
    c = Comment(proposal_id=p.id, author_resident_id=resident_id, author_name=author_name, body=body, created_at=now)
    session.add(c)
    session.flush()
    return c


def comments_of(session: Session, p: Proposal, *, include_hidden: bool = False) -> list[Comment]:
    """The proposal's comments, oldest first; hidden (moderated) ones only for staff (`include_hidden`)."""
    query = select(Comment).where(Comment.proposal_id == p.id)
    if not include_hidden:
        query = query.where(Comment.hidden_at.is_(None))
    return list(session.exec(query.order_by(Comment.created_at, Comment.id)))


MAX_HIDE_REASON = 1000


def hide_comment(session: Session, rnd: Round, p: Proposal, c: Comment, *, staff: StaffUser, reason: str,
                 now: datetime) -> Comment:
    """Moderation: the comment is shown to nobody but staff; its body stays, the reason is audited."""
    reason = (reason or "").strip()
    if c.proposal_id != p.id:
        raise ValidationFailed.field("comment", f"comment {c.id} is not on proposal {p.id}")
    if not reason:
        raise ValidationFailed.field("reason", "give the reason for hiding the comment", code="hide_reason_missing")
    if len(reason) > MAX_HIDE_REASON:
        raise ValidationFailed.field("reason", f"at most {MAX_HIDE_REASON} characters", code="text_too_long",
                                     max=MAX_HIDE_REASON)
    if c.hidden_at is not None:
        raise Conflict(f"comment {c.id} is already hidden", {"comment": ["already hidden"]},
                       reason="comment_already_hidden")
    c.hidden_at, c.hidden_reason, c.hidden_by = now, reason, staff.id
    session.add(c)
    audit.record(session, actor=f"staff:{staff.id}", action="comment.hide", city_id=rnd.city_id, round_id=rnd.id,
                 target=f"comment:{c.id}", before={"hidden": False},
                 after={"hidden": True, "reason": reason, "proposal": p.id})
    return c


def unhide_comment(session: Session, rnd: Round, p: Proposal, c: Comment, *, staff: StaffUser,
                   now: datetime) -> Comment:
    if c.proposal_id != p.id:
        raise ValidationFailed.field("comment", f"comment {c.id} is not on proposal {p.id}")
    if c.hidden_at is None:
        raise Conflict(f"comment {c.id} is not hidden", {"comment": ["not hidden"]}, reason="comment_not_hidden")
    before = {"hidden": True, "reason": c.hidden_reason, "hidden_by": c.hidden_by}
    c.hidden_at, c.hidden_reason, c.hidden_by = None, "", None
    session.add(c)
    audit.record(session, actor=f"staff:{staff.id}", action="comment.unhide", city_id=rnd.city_id, round_id=rnd.id,
                 target=f"comment:{c.id}", before=before, after={"hidden": False, "proposal": p.id})
    return c


def respond(session: Session, rnd: Round, p: Proposal, *, staff: StaffUser, kind: str, body: str, now: datetime) -> StaffResponse:
    if kind not in RESPONSE_KINDS:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(RESPONSE_KINDS)}")
    r = StaffResponse(proposal_id=p.id, staff_id=staff.id, kind=kind, body=body, created_at=now)
    session.add(r)
    session.flush()
    audit.record(session, actor=f"staff:{staff.id}", action="proposal.respond", city_id=rnd.city_id, round_id=rnd.id,
                 target=f"proposal:{p.id}", after={"response": r.id, "kind": kind, "body": body})
    return r


def responses_of(session: Session, p: Proposal) -> list[StaffResponse]:
    return list(session.exec(select(StaffResponse).where(StaffResponse.proposal_id == p.id).order_by(StaffResponse.id)))


def search(session: Session, rnd: Round, *, district: str | None = None, category: str | None = None,
           status: str | None = None, q: str | None = None, page: int = 1, per_page: int = 20) -> tuple[list[Proposal], int]:
    """A page of the round's proposals and the number matching in all; filters, search and pages run in SQL.

    `q` is read as pb_engine.store.search describes: every word must match a word start in the title,
    summary or description; Chinese (and other scripts written without spaces) match as substrings.
    Best match first when `q` is given, else by id. An unknown district slug raises NotFound.
    """
    district_id = district_by_slug(session, rnd, district).id if district else None
    return search_store.proposal_page(session, round_id=rnd.id, district_id=district_id, category=category,
                                      status=status, q=q, page=page, per_page=per_page,
                                      statuses=None if status else LISTED_STATUSES)
