"""The audit log: who changed what, when, with the before and after state.

Written in the same transaction as the change it records, so a change and
its audit event land together or not at all.
"""

from __future__ import annotations

from typing import Any

from pb_engine.store.tables import AuditEvent


def record(session, *, actor: str, action: str, city_id: int | None = None, round_id: int | None = None,
           target: str = "", before: Any = None, after: Any = None) -> AuditEvent:
    event = AuditEvent(city_id=city_id, round_id=round_id, actor=actor, action=action, target=target,
                       before=before, after=after)
    session.add(event)
    return event
