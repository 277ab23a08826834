"""Outcomes of a round as staff read them: every run (drafts, what-ifs, published, superseded) with its
rule, inputs hash and per-district figures as recorded when the rule ran."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from pb_engine.store.tables import OutcomeRecord, Round

STATUSES = ("draft", "published", "superseded")


@dataclass(frozen=True)
class OutcomeInfo:
    id: int
    round_slug: str
    status: str                  # draft | published | superseded
    what_if: bool                # run with a rule other than the round's
    rule: dict                   # {id, options...} as run
    input_hash: str
    engine_version: str
    created_at: datetime
    published_at: datetime | None
    supersedes: int | None       # the outcome this one replaced when published
    # Per district as recorded when the rule ran (figures in major units, exact decimal text where needed):
    # a published outcome never changes, so it is shown exactly as stored.
    districts: tuple[dict, ...]


def outcome_info(record: OutcomeRecord, rnd: Round) -> OutcomeInfo:
    return OutcomeInfo(
        id=record.id, round_slug=rnd.slug, status=record.status, what_if=record.what_if, rule=dict(record.rule or {}),
        input_hash=record.input_hash, engine_version=record.engine_version, created_at=record.created_at,
        published_at=record.published_at, supersedes=record.supersedes_id,
        districts=tuple((record.result or {}).get("districts", [])),
    )


def outcomes_of(session: Session, rnd: Round, *, status: str | None = None) -> list[OutcomeInfo]:
    """The round's outcomes, oldest first; `status` keeps one kind (one query)."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    query = select(OutcomeRecord).where(OutcomeRecord.round_id == rnd.id)
    if status:
        query = query.where(OutcomeRecord.status == status)
    return [outcome_info(o, rnd) for o in session.exec(query.order_by(OutcomeRecord.id)).all()]


__all__ = ["OutcomeInfo", "STATUSES", "outcome_info", "outcomes_of"]
