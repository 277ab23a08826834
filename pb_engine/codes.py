"""Access codes as the city's office handles them: batches issued for a district or the whole round,
printed (sheet, CSV) while their codes are still sealed, marked printed, single codes revoked.

API (`session` a sqlmodel Session in a write transaction; `key` the seal key, pb_engine.code_seal):

    issue_batch(session, rnd, district | None, count, staff, key, *, now=None) -> IssuedBatch
        one district, or every district of the round (None: `count` codes each), in one named batch.
    batch_codes(session, rnd, batch, key) -> list[BatchCode]          (sealed codes only; refusals below)
    record_download(session, rnd, batch, staff, fmt, count) -> None   (audit: who took which batch, how)
    mark_printed(session, rnd, batch, staff, *, now=None) -> int      (sealed codes wiped)
    revoke_code(session, rnd, code_text, staff, *, now=None) -> AccessCode

Decisions:
- A batch is the AccessCode.batch name; a round-wide batch spans districts. A batch can be shown
  again while its codes are sealed; "mark printed" wipes them, and from then on only the keyed hash
  is kept: nobody, not even staff, can show those codes again.
- Revoking: the clerk types the code from the slip (codes are not stored in clear). A revoked code
  opens no voter session, and its live sessions end at once; it counts for no paper ballot. A code
  that has voted cannot be revoked (the ballot stands; say why). Its sealed copy is wiped.
- Audit rows name the batch, the district and counts, never a code.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Session, select

from pb_engine import access_codes, audit, code_seal, voting
from pb_engine.ballots.refusals import refusal
from pb_engine.errors import Conflict, NotFound
from pb_engine.store.lookup import districts_of
from pb_engine.store.tables import AccessCode, District, Round, StaffUser, VoterSession
from pb_engine.store.types import utcnow


@dataclass(frozen=True)
class IssuedBatch:
    batch: str
    codes: dict[str, list[str]]   # district slug -> printable codes

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.codes.values())


@dataclass(frozen=True)
class BatchCode:
    district: str
    district_name: str
    code: str                      # printable, K7QM-4TXR-9PWC


def _actor(staff: StaffUser) -> str:
    return f"staff:{staff.id}"


def issue_batch(session: Session, rnd: Round, district: District | str | None, count: int, staff: StaffUser,
                key: bytes, *, now: datetime | None = None) -> IssuedBatch:
    """`count` sealed codes for one district, or for each district of the round when `district` is None."""
    now = now or utcnow()
    if district is None:
        places = districts_of(session, rnd)
        name = f"all-{now.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(2)}"
    else:
        places = [voting._district(session, rnd, district)]
        name = f"{places[0].slug}-{now.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(2)}"
    codes = {}
    for d in places:
        codes[d.slug] = voting.generate_access_codes(session, rnd, d, count, staff, batch=name, now=now,
                                                     seal_key=key)
    return IssuedBatch(name, codes)


def _batch_rows(session: Session, rnd: Round, batch: str) -> list[AccessCode]:
    rows = session.exec(select(AccessCode).where(AccessCode.round_id == rnd.id, AccessCode.batch == batch)
                        .order_by(AccessCode.district_id, AccessCode.id)).all()
    if not rows:
        raise refusal(NotFound, "batch", "batch_unknown", f"round {rnd.slug!r} has no batch {batch!r}", batch=batch)
    return rows


def batch_codes(session: Session, rnd: Round, batch: str, key: bytes) -> list[BatchCode]:
    """The batch's codes still sealed (not revoked), by district, to print; refused once printed."""
    rows = _batch_rows(session, rnd, batch)
    sealed = [r for r in rows if r.sealed and r.revoked_at is None]
    if not sealed:
        raise refusal(Conflict, "batch", "batch_printed", f"batch {batch!r} was marked printed: its codes are "
                      "gone (only their keyed hashes are kept)", batch=batch)
    names = {d.id: (d.slug, d.name) for d in districts_of(session, rnd)}
    out = []
    try:
        for r in sealed:
            slug, dname = names[r.district_id]
            out.append(BatchCode(slug, dname, access_codes.pretty(code_seal.unseal(key, r.sealed))))
    except code_seal.Unsealable:
        raise refusal(Conflict, "batch", "batch_unsealable", f"the codes of batch {batch!r} do not open with the "
                      "service's key (its secret key changed since they were issued)", batch=batch) from None
    return out


def record_download(session: Session, rnd: Round, batch: str, staff: StaffUser, fmt: str, count: int) -> None:
    """Who took which batch in which form (sheet, csv, json): the codes themselves are not logged."""
    audit.record(session, actor=_actor(staff), action="access_codes.download", city_id=rnd.city_id,
                 round_id=rnd.id, target=f"batch:{batch}", after={"batch": batch, "format": fmt, "count": count})
    session.flush()


def mark_printed(session: Session, rnd: Round, batch: str, staff: StaffUser, *, now: datetime | None = None) -> int:
    """Wipe the batch's sealed codes: from now on it cannot be shown again. Refused when nothing is sealed."""
    rows = _batch_rows(session, rnd, batch)
    n = sum(1 for r in rows if r.sealed)
    if n == 0:
        raise refusal(Conflict, "batch", "batch_printed", f"batch {batch!r} is already marked printed", batch=batch)
    session.exec(update(AccessCode).where(AccessCode.round_id == rnd.id, AccessCode.batch == batch)
                 .values(sealed=None))
    audit.record(session, actor=_actor(staff), action="access_codes.printed", city_id=rnd.city_id,
                 round_id=rnd.id, target=f"batch:{batch}",
                 after={"batch": batch, "wiped": n, "at": (now or utcnow()).isoformat()})
    session.flush()
    return n


def revoke_code(session: Session, rnd: Round, code_text: str, staff: StaffUser, *,
                now: datetime | None = None) -> AccessCode:
    """Revoke the code typed from a slip; refused (with the reason) when used or already revoked."""
    row = voting._code_row(session, rnd, code_text, revoked_ok=True)
    if row.revoked_at is not None:
        raise refusal(Conflict, "access_code", "access_code_already_revoked", "this access code is already revoked")
    if row.spent_at is not None:
        raise refusal(Conflict, "access_code", "access_code_used",
                      "this access code has voted; a used code cannot be revoked (its ballot stands)")
    now = now or utcnow()
    row.revoked_at, row.revoked_by, row.sealed = now, staff.id, None
    session.add(row)
    # Its voter sessions end now: a revoked code must not keep voting through a session opened before.
    session.exec(delete(VoterSession).where(VoterSession.round_id == rnd.id, VoterSession.voter_key == row.voter_key))
    district = session.get(District, row.district_id)
    audit.record(session, actor=_actor(staff), action="access_code.revoke", city_id=rnd.city_id, round_id=rnd.id,
                 target=f"district:{district.slug}", after={"district": district.slug, "batch": row.batch})
    session.flush()
    return row
