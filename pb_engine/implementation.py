"""Implementation: progress reports on the funded projects of a round's published outcome.

`post_update` checks a report (status, percent done, spend so far in minor units, the date it
speaks for, a note, an optional photo recognised by its first bytes) and stores it with an audit
row. Only a project funded by the published outcome takes reports; every refusal names its field
and carries a code (pages word it), and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from pb_engine import audit
from pb_engine.errors import Conflict, Problem, ValidationFailed
from pb_engine.store.tables import City, ImplementationUpdate, OutcomeRecord, Proposal, Round, StaffUser

STATUSES = ("planned", "in_progress", "done", "delayed", "cancelled")
MAX_PHOTO = 1536 * 1024        # 1.5 MiB
MAX_NOTE = 2000
MAX_SPENT = 10**15             # minor units: beyond any city's budget


def photo_type(data: bytes) -> str | None:
    """The image type by magic bytes (never by the name or the type the browser claims), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def funded_ids(session: Session, rnd: Round) -> set[int] | None:
    """Project ids funded by the round's published outcome; None while nothing is published."""
    record = session.exec(select(OutcomeRecord).where(OutcomeRecord.round_id == rnd.id,
                                                      OutcomeRecord.status == "published")).first()
    if record is None:
        return None
    return {int(pid) for d in (record.result or {}).get("districts", []) for pid in d.get("selected", [])}


def _problem(problems: list[Problem], field: str, code: str, message: str, **params: Any) -> None:
    problems.append(Problem(field, code, message, params))


def check(data: dict) -> dict:
    """The report's values, checked; ValidationFailed naming every bad field (with codes)."""
    problems: list[Problem] = []
    status = data.get("status")
    if status not in STATUSES:
        _problem(problems, "status", "impl_status", f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    percent = data.get("percent_done")
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        _problem(problems, "percent_done", "impl_percent", f"percent_done must be a whole number from 0 to 100, "
                                                           f"got {percent!r}")
    spent = data.get("spent")
    if spent is not None and (isinstance(spent, bool) or not isinstance(spent, int) or not 0 <= spent <= MAX_SPENT):
        _problem(problems, "spent", "impl_spent", f"spent must be an amount of zero or more, got {spent!r}")
    on_date = data.get("on_date")
    if not isinstance(on_date, datetime):
        _problem(problems, "on_date", "impl_date", "on_date must be a date (YYYY-MM-DD)")
    note = data.get("note") or ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        _problem(problems, "note", "impl_note", f"note must be text of at most {MAX_NOTE} characters", max=MAX_NOTE)
    photo = data.get("photo")
    kind = None
    if photo is not None:
        if not isinstance(photo, (bytes, bytearray)) or not photo:
            _problem(problems, "photo", "impl_photo_type", "photo must be a JPEG, PNG or WebP image")
        elif len(photo) > MAX_PHOTO:
            _problem(problems, "photo", "impl_photo_size", f"photo is {len(photo)} bytes; at most {MAX_PHOTO} "
                                                           "(1.5 MiB)", size=len(photo), max=MAX_PHOTO)
        else:
            kind = photo_type(bytes(photo))
            if kind is None:
                _problem(problems, "photo", "impl_photo_type", "photo must be a JPEG, PNG or WebP image "
                                                               "(its content is none of them)")
    if problems:
        errors: dict[str, list[str]] = {}
        for p in problems:
            errors.setdefault(p.field, []).append(p.message)
        raise ValidationFailed("the progress update is not valid: " + "; ".join(p.message for p in problems),
                               errors, problems=problems)
    return {"status": status, "percent_done": percent, "spent": spent, "on_date": on_date, "note": note.strip(),
            "photo": bytes(photo) if photo is not None else None, "photo_type": kind}


def post_update(session: Session, city: City, rnd: Round, proposal: Proposal, data: dict, *, staff: StaffUser,
                now: datetime) -> ImplementationUpdate:
    funded = funded_ids(session, rnd)
    if funded is None:
        raise Conflict("the round has no published outcome: only funded projects take progress updates",
                       {"proposal": ["no published outcome"]}, reason="impl_no_outcome")
    if proposal.id not in funded:
        raise Conflict(f"proposal {proposal.id} was not funded by the published outcome: only funded projects "
                       "take progress updates", {"proposal": ["not funded"]}, reason="impl_not_funded")
    values = check(data)
    row = ImplementationUpdate(proposal_id=proposal.id, status=values["status"], percent_done=values["percent_done"],
                               spent=values["spent"], on_date=values["on_date"], note=values["note"],
                               photo=values["photo"], photo_type=values["photo_type"], created_by=staff.id,
                               created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor=f"staff:{staff.id}", action="implementation.update", city_id=city.id,
                 round_id=rnd.id, target=f"proposal:{proposal.id}",
                 after={"update": row.id, "status": row.status, "percent_done": row.percent_done, "spent": row.spent,
                        "on_date": row.on_date.isoformat(), "note": row.note,
                        "photo": {"type": row.photo_type, "bytes": len(row.photo)} if row.photo else None})
    return row


def local_day(day, timezone: str) -> datetime:
    """A calendar day in the city's time zone as the aware datetime of its start (stored in UTC)."""
    from zoneinfo import ZoneInfo

    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))
