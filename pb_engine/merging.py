"""Merging a duplicate proposal into another of the same round.

Residents often send the same idea twice. Staff merge the duplicate into the proposal that stays:
- the duplicate's endorsements go over, one per person (an endorser of both counts once), and the
  target's endorsement_count is recounted in SQL; reaching the round's threshold sends the target
  to review as an endorsement would;
- the duplicate's comments move to the target (hidden ones stay hidden);
- the duplicate's author, and its own co-authors, become co-authors of the target (ProposalAuthor,
  from_proposal_id = the duplicate), so both authors keep their credit;
- the duplicate gets status "merged" and merged_into_id; both proposals get a row in their public
  status history (with the staff's note), and the audit log gets one event with before and after.

Refused, changing nothing: a proposal merged into itself or into one of another round, a duplicate
already merged, a target that is itself merged, a duplicate on the ballot, and any merge once voting
has started (the ballot is frozen).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, select

from pb_engine import audit
from pb_engine.errors import Conflict, PBError, PhaseClosed, Problem, ValidationFailed
from pb_engine.proposals import ON_BALLOT, record_status, voting_started
from pb_engine.store.tables import Comment, Endorsement, Proposal, ProposalAuthor, Round, StaffUser

MAX_NOTE = 1000


def _refuse(cls: type[PBError], field: str, code: str, message: str, **params) -> PBError:
    return cls(message, {field: [message]}, problems=[Problem(field, code, message, params)], reason=code,
               params=params)


def check(session: Session, rnd: Round, dup: Proposal, target: Proposal | None, *, now: datetime) -> None:
    """Raise the refusal a merge of `dup` into `target` meets, if any (nothing is written)."""
    if target is None:
        raise _refuse(ValidationFailed, "into", "merge_target_missing", "choose the proposal to merge this one into")
    if dup.round_id != rnd.id:
        raise _refuse(ValidationFailed, "proposal", "merge_other_round",
                      f"proposal {dup.id} is not in round {rnd.slug!r}", id=dup.id)
    if target.id == dup.id:
        raise _refuse(ValidationFailed, "into", "merge_into_itself", "a proposal cannot be merged into itself")
    if target.round_id != dup.round_id:
        raise _refuse(ValidationFailed, "into", "merge_other_round",
                      f"proposal {target.id} is not in round {rnd.slug!r}; merge within one round", id=target.id)
    if voting_started(session, rnd, now):
        raise _refuse(PhaseClosed, "into", "merge_after_voting",
                      "voting has started: the ballot is frozen and proposals can no longer be merged")
    if dup.merged_into_id is not None or dup.status == "merged":
        raise _refuse(Conflict, "proposal", "merge_already_merged",
                      f"proposal {dup.id} is already merged into proposal {dup.merged_into_id}",
                      id=dup.id, into=dup.merged_into_id)
    if target.merged_into_id is not None or target.status == "merged":
        raise _refuse(Conflict, "into", "merge_target_merged",
                      f"proposal {target.id} is itself merged into proposal {target.merged_into_id}; "
                      f"merge into that one", id=target.id, into=target.merged_into_id)
    if dup.status in ON_BALLOT:
        raise _refuse(Conflict, "proposal", "merge_on_ballot",
                      f"proposal {dup.id} is on the ballot; take it off the ballot before merging it", id=dup.id)


def _authors_of(session: Session, p: Proposal) -> list[tuple[int | None, str | None]]:
    """(resident id, voter key) of every author of `p`: its own, then its co-authors."""
    out = []
    if p.author_resident_id is not None or p.author_voter_key is not None:
        out.append((p.author_resident_id, p.author_voter_key if p.author_resident_id is None else None))
    for a in session.exec(select(ProposalAuthor).where(ProposalAuthor.proposal_id == p.id)
                          .order_by(ProposalAuthor.id)):
        out.append((a.resident_id, a.voter_key if a.resident_id is None else None))
    return out


def merge(session: Session, rnd: Round, dup: Proposal, target: Proposal | None, *, staff: StaffUser, now: datetime,
          note: str = "") -> Proposal:
    """Merge `dup` into `target` (see the module docstring); returns the target."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise _refuse(ValidationFailed, "note", "text_too_long", f"at most {MAX_NOTE} characters", max=MAX_NOTE)
    check(session, rnd, dup, target, now=now)
    before = {"duplicate": {"status": dup.status, "endorsements": dup.endorsement_count, "merged_into": None},
              "target": {"status": target.status, "endorsements": target.endorsement_count}}

    # Endorsements: one per person on the target; the duplicate's rows of people who endorsed both go.
    already = select(Endorsement.endorser_key).where(Endorsement.proposal_id == target.id)
    both = session.execute(delete(Endorsement).where(Endorsement.proposal_id == dup.id,
                                                     Endorsement.endorser_key.in_(already))
                           .execution_options(synchronize_session=False)).rowcount
    moved = session.execute(update(Endorsement).where(Endorsement.proposal_id == dup.id)
                            .values(proposal_id=target.id).execution_options(synchronize_session=False)).rowcount
    comments = session.execute(update(Comment).where(Comment.proposal_id == dup.id)
                               .values(proposal_id=target.id).execution_options(synchronize_session=False)).rowcount
    count = session.exec(select(func.count(Endorsement.id)).where(Endorsement.proposal_id == target.id)).one()
    session.execute(update(Proposal).where(Proposal.id == target.id).values(endorsement_count=int(count)))
    session.execute(update(Proposal).where(Proposal.id == dup.id).values(endorsement_count=0))
    session.refresh(target)
    session.refresh(dup)

    # Authors: the duplicate's author(s) join the target's, each once.
    have = set(_authors_of(session, target))
    added = []
    for resident_id, voter_key in _authors_of(session, dup):
        if (resident_id, voter_key) in have:
            continue
        have.add((resident_id, voter_key))
        session.add(ProposalAuthor(proposal_id=target.id, resident_id=resident_id, voter_key=voter_key,
                                   from_proposal_id=dup.id, added_at=now))
        added.append(f"resident:{resident_id}" if resident_id is not None else "voter")

    dup.status, dup.merged_into_id, dup.updated_at = "merged", target.id, now
    session.add(dup)
    record_status(session, dup, reason="merged", now=now, note=note)
    if (rnd.endorsement_threshold and target.endorsement_count >= rnd.endorsement_threshold
            and target.status in ("submitted", "endorsed")):
        target.status = "under_review"
        record_status(session, target, reason="threshold_reached", now=now)
    target.updated_at = now
    session.add(target)
    record_status(session, target, reason="merge_received", now=now, note=note)
    session.flush()
    audit.record(session, actor=f"staff:{staff.id}", action="proposal.merge", city_id=rnd.city_id, round_id=rnd.id,
                 target=f"proposal:{dup.id}", before=before,
                 after={"duplicate": {"status": dup.status, "endorsements": 0, "merged_into": target.id},
                        "target": {"id": target.id, "status": target.status,
                                   "endorsements": target.endorsement_count},
                        "endorsements_moved": int(moved), "endorsers_of_both": int(both),
                        "comments_moved": int(comments), "authors_added": added, "note": note})
    return target
