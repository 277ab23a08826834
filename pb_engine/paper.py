"""Paper ballots by double entry: a ballot typed in by a clerk counts only when a second entry of
the same paper (the same clerk again, or another) says the same.

API:

    enter(db, round_id, district_slug, content, *, staff, access_code=None, resident=None, now=None)
        -> EntryResult(status="pending" | "counted" | "mismatch", ...)     (own write transactions)
    discard(session, rnd, entry_id, staff, *, now=None) -> PaperEntry      (pending or mismatch only)

Decisions:
- Every entry is checked in full before anything is stored (pb_engine.voting.check_paper_ballot:
  phase, the code valid and not revoked, its district, not used online, the ballot's rules); a
  refused entry stores nothing.
- The first entry of a voter waits (`pending`) with its content; staff never see that content
  (neither the page nor the JSON list shows it), so the second entry is typed from the paper.
- A second entry naming the same voter: the same district and content -> the ballot is cast
  (channel paper) and the entry marked confirmed in the same transaction (confirmed_by, the
  receipt); different -> both entries are marked `mismatch`, nothing counts, and the next entry of
  that voter starts over as a first entry.
- `voter_ref` is the sha256 of the voter key (itself a keyed hash of the code or resident): the
  entry is matched to its voter without keeping a code in clear.
- Audit rows say who entered, confirmed, found a mismatch or discarded which entry, never its content.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from pb_engine import audit, voting
from pb_engine.ballots.refusals import refusal
from pb_engine.errors import Conflict, Forbidden, NotFound
from pb_engine.store.lookup import district_by_slug
from pb_engine.store.tables import District, PaperEntry, Resident, Round, StaffUser
from pb_engine.store.types import utcnow

PENDING, CONFIRMED, MISMATCH, DISCARDED = "pending", "confirmed", "mismatch", "discarded"
OPEN = (PENDING, MISMATCH)


@dataclass(frozen=True)
class EntryResult:
    status: str                  # pending | counted | mismatch
    entry_id: int
    district: str
    receipt: str | None = None   # when counted
    replaced: bool = False       # when counted: it replaced the voter's earlier paper ballot

    def to_dict(self) -> dict:
        return {"status": self.status, "entry": self.entry_id, "district": self.district, "receipt": self.receipt,
                "replaced": self.replaced}


def voter_ref(voter: voting.Voter) -> str:
    return hashlib.sha256(f"paper:{voter.key}".encode()).hexdigest()


def _staff_id(staff: StaffUser | int) -> int:
    return staff.id if isinstance(staff, StaffUser) else int(staff)


def check_voter(session: Session, rnd: Round, district_slug: str, access_code: str) -> voting.Voter:
    """The first step of an entry: the code is known, not revoked, for this district and not used online."""
    voter = voting.paper_voter(session, rnd, access_code=access_code)
    d = district_by_slug(session, rnd, district_slug)
    if voter.district_id != d.id:
        own = session.get(District, voter.district_id).slug
        raise refusal(Forbidden, "district", "code_for_other_district",
                      f"this access code is for district {own}; it cannot vote in district {d.slug}",
                      district=d.slug, code_district=own)
    used = voting._channel_of(session, rnd.id, voter.key)
    if used is not None and used != voting.PAPER:
        raise voting._channel_conflict(used, voting.PAPER)
    return voter


def enter(db, round_id: int, district_slug: str, content: Any, *, staff: StaffUser | int,
          access_code: str | None = None, resident: Resident | int | None = None,
          now: datetime | None = None) -> EntryResult:
    """One entry of a paper ballot: the first waits, a matching second counts, a differing one is a mismatch."""
    now = now or utcnow()
    staff_id = _staff_id(staff)
    with db.write_session() as session:  # naming the voter may create the round's voter secret
        rnd = session.get(Round, round_id)
        if rnd is None:
            raise NotFound(f"no round with id {round_id}")
        voter = voting.paper_voter(session, rnd, access_code=access_code, resident=resident)
    stored = voting.check_paper_ballot(db, round_id, district_slug, voter, content, staff=staff_id, now=now)
    ref = voter_ref(voter)
    with db.write_session() as session:
        rnd = session.get(Round, round_id)
        district = district_by_slug(session, rnd, district_slug)
        first = session.exec(select(PaperEntry).where(PaperEntry.round_id == round_id, PaperEntry.voter_ref == ref,
                                                      PaperEntry.status == PENDING).order_by(PaperEntry.id)).first()
        if first is None:
            row = PaperEntry(round_id=round_id, district_id=district.id, voter_ref=ref, content=stored,
                             status=PENDING, entered_by=staff_id, entered_at=now)
            session.add(row)
            session.flush()
            audit.record(session, actor=f"staff:{staff_id}", action="paper_entry.enter", city_id=rnd.city_id,
                         round_id=round_id, target=f"district:{district.slug}",
                         after={"entry": row.id, "district": district.slug, "status": PENDING})
            return EntryResult(PENDING, row.id, district.slug)
        if first.district_id != district.id or first.content != stored:
            second = PaperEntry(round_id=round_id, district_id=district.id, voter_ref=ref, content=stored,
                                status=MISMATCH, entered_by=staff_id, entered_at=now)
            first.status = MISMATCH
            session.add_all([first, second])
            session.flush()
            audit.record(session, actor=f"staff:{staff_id}", action="paper_entry.mismatch", city_id=rnd.city_id,
                         round_id=round_id, target=f"district:{district.slug}",
                         after={"entry": second.id, "first_entry": first.id, "district": district.slug})
            return EntryResult(MISMATCH, second.id, district.slug)
        first_id, city_id = first.id, rnd.city_id

    def confirm(s: Session, receipt: voting.Receipt) -> None:
        row = s.exec(select(PaperEntry).where(PaperEntry.id == first_id).with_for_update()).one()
        if row.status != PENDING:  # another clerk confirmed or discarded it meanwhile: the cast is undone
            raise refusal(Conflict, "entry", "paper_entry_closed", "this paper ballot entry is no longer waiting")
        row.status, row.confirmed_by, row.confirmed_at, row.ballot_receipt = CONFIRMED, staff_id, now, receipt.receipt
        s.add(row)
        audit.record(s, actor=f"staff:{staff_id}", action="paper_entry.confirm", city_id=city_id, round_id=round_id,
                     target=f"district:{receipt.district}",
                     after={"entry": first_id, "district": receipt.district, "receipt": receipt.receipt})
        s.flush()

    receipt = voting.cast_ballot(db, round_id, district_slug, voter, stored, channel=voting.PAPER, now=now,
                                 entered_by=staff_id, then=confirm)
    return EntryResult("counted", first_id, receipt.district, receipt.receipt, receipt.replaced)


def discard(session: Session, rnd: Round, entry_id: int, staff: StaffUser, *, now: datetime | None = None) -> PaperEntry:
    row = session.get(PaperEntry, entry_id)
    if row is None or row.round_id != rnd.id:
        raise refusal(NotFound, "entry", "paper_entry_unknown", "no such paper ballot entry in this round")
    if row.status not in OPEN:
        raise refusal(Conflict, "entry", "paper_entry_closed", "this paper ballot entry is no longer waiting "
                      "(counted or discarded)")
    before = row.status
    row.status = DISCARDED
    session.add(row)
    audit.record(session, actor=f"staff:{staff.id}", action="paper_entry.discard", city_id=rnd.city_id,
                 round_id=rnd.id, target=f"entry:{row.id}",
                 after={"entry": row.id, "was": before, "at": (now or utcnow()).isoformat()})
    session.flush()
    return row
