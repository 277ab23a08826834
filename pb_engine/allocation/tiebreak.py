"""Deterministic tie-breaking.

A rule that has to choose between equally good projects asks the tie-breaking
order, a total order on project ids that is part of the outcome record. The
default orders ids as numbers when they all are numbers (so "9" comes before
"10"), else as strings. Note pabutools compares ids as strings by default
("10" < "9"): tests that compare with it pass the same order explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

TIE_BREAKING_KINDS = ("id", "cost-asc", "cost-desc", "votes-desc", "explicit")


def natural_key(project_id: str):
    try:
        return (0, int(project_id), project_id)
    except ValueError:
        return (1, 0, project_id)


@dataclass(frozen=True)
class TieBreaking:
    """A total order on the projects of one instance; lower rank wins a tie."""

    kind: str
    order: tuple[str, ...]  # project ids, winner of a tie first

    def rank(self) -> dict[str, int]:
        return {pid: i for i, pid in enumerate(self.order)}

    def to_dict(self) -> dict:
        return {"kind": self.kind, "order": list(self.order)}


def by_id(project_ids: Iterable[str]) -> TieBreaking:
    return TieBreaking("id", tuple(sorted(project_ids, key=natural_key)))


def explicit(order: Sequence[str]) -> TieBreaking:
    return TieBreaking("explicit", tuple(order))
