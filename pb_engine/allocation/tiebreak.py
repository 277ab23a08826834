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

# What a round may choose (the `tie_breaking` key of a city config); "explicit" orders come from code or files.
ROUND_KINDS = ("id", "cost-asc", "cost-desc", "votes-desc")


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


def for_round(kind: str, instance, profile) -> TieBreaking:
    """A round's tie-breaking setting as an order on one district's projects; the project id settles the rest."""
    ids = [p.id for p in instance.projects]
    if kind in ("cost-asc", "cost-desc"):
        sign = 1 if kind == "cost-asc" else -1
        cost = {p.id: p.cost for p in instance.projects}
        return TieBreaking(kind, tuple(sorted(ids, key=lambda i: (sign * cost[i], natural_key(i)))))
    if kind == "votes-desc":
        support = dict.fromkeys(ids, 0)
        for b in profile.ballots:
            for pid in b.supported():
                if pid in support:
                    support[pid] += 1
        return TieBreaking(kind, tuple(sorted(ids, key=lambda i: (-support[i], natural_key(i)))))
    if kind != "id":
        raise ValueError(f"unknown tie-breaking {kind!r}; one of {', '.join(ROUND_KINDS)}")
    return by_id(ids)
