"""Refusing options a rule does not use, so that a typo or a misplaced setting is an error, not a no-op."""

from __future__ import annotations

from typing import Iterable

from pb_engine.allocation.registry import RuleOptions
from pb_engine.errors import ValidationFailed


def refuse_unused(options: RuleOptions, rule: str, fields: Iterable[str] = (), extra: Iterable[str] = ()) -> None:
    """Refuse the named RuleOptions `fields` when set, and any extra option not in `extra`."""
    for name in fields:
        if getattr(options, name) is not None:
            hint = "; use greedy-threshold" if name.startswith("threshold") else ""
            raise ValidationFailed.field(name, f"{rule} takes no {name}{hint}")
    allowed = set(extra)
    for name in options.extra:
        if name not in allowed:
            known = f"; it takes {', '.join(sorted(allowed))}" if allowed else ""
            raise ValidationFailed.field(name, f"{rule} has no option {name!r}{known}")
