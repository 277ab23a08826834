"""A round's ballot settings: the kind and its limits (the `ballot` section of a city config).

Which limits a kind takes, which it needs, and the Pabulib vote type its ballots are exported as
are the kind's entry in pb_engine.ballots.registry (approval -> approval, or choose-1 with
max_projects = 1; knapsack -> approval; cumulative -> cumulative; ranked -> ordinal).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any, Mapping

from pb_engine.ballots.kinds import VoteType
from pb_engine.ballots.registry import BALLOT_KINDS, KINDS, LIMITS, kind as kind_entry

_INT_FIELDS = ("min_projects", "max_projects", "max_points", "max_points_per_project", "min_rank", "max_rank")
FIELDS = ("kind", *_INT_FIELDS, "min_spend_share")


@dataclass(frozen=True)
class BallotRules:
    kind: str
    min_projects: int | None = None
    max_projects: int | None = None
    min_spend_share: Fraction | None = None   # knapsack: chosen cost >= share * district budget
    max_points: int | None = None             # cumulative: points to spread
    max_points_per_project: int | None = None
    min_rank: int | None = None               # ranked: at least this many ranked
    max_rank: int | None = None               # ranked: at most this many ranked

    @property
    def vote_type(self) -> VoteType:
        return kind_entry(self.kind).vote_type(self)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v is not None}
        if self.min_spend_share is not None:
            share = self.min_spend_share
            out["min_spend_share"] = int(share) if share.denominator == 1 else float(share)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], prefix: str = "ballot") -> tuple["BallotRules | None", list[tuple[str, str]]]:
        """Parse and check; returns (rules, problems) where problems are (key, message)."""
        problems: list[tuple[str, str]] = []
        for key in data:
            if key not in FIELDS:
                problems.append((f"{prefix}.{key}", f"unknown key; allowed: {', '.join(FIELDS)}"))
        kind = data.get("kind")
        if kind not in KINDS:
            problems.append((f"{prefix}.kind", f"must be one of {', '.join(KINDS)}, got {kind!r}"))
        values: dict[str, Any] = {}
        for key in _INT_FIELDS:
            if key in data and data[key] is not None:
                v = data[key]
                if isinstance(v, bool) or not isinstance(v, int):
                    problems.append((f"{prefix}.{key}", f"must be a whole number, got {v!r}"))
                elif v < 0 or (v == 0 and key.startswith("max")):
                    problems.append((f"{prefix}.{key}", f"must be {'at least 1' if key.startswith('max') else 'zero or more'}, got {v}"))
                else:
                    values[key] = v
        if data.get("min_spend_share") is not None:
            raw = data["min_spend_share"]
            try:
                if isinstance(raw, bool):
                    raise ValueError
                share = Fraction(str(raw))
            except (ValueError, TypeError):
                problems.append((f"{prefix}.min_spend_share", f"must be a number between 0 and 1, got {raw!r}"))
            else:
                if not 0 <= share <= 1:
                    problems.append((f"{prefix}.min_spend_share", f"must be between 0 and 1, got {raw}"))
                values["min_spend_share"] = share
        for lo, hi in (("min_projects", "max_projects"), ("min_rank", "max_rank")):
            if lo in values and hi in values and values[lo] > values[hi]:
                problems.append((f"{prefix}.{lo}", f"{lo} {values[lo]} is more than {hi} {values[hi]}"))
        if "max_points_per_project" in values and "max_points" in values and values["max_points_per_project"] > values["max_points"]:
            problems.append((f"{prefix}.max_points_per_project", "is more than max_points"))
        entry = BALLOT_KINDS.get(kind) if isinstance(kind, str) else None
        if entry is not None:
            for key in entry.required:
                if key not in values:
                    problems.append((f"{prefix}.{key}", f"{entry.noun} needs {key}"))
            for key in LIMITS:
                if key not in entry.limits and key in values:
                    problems.append((f"{prefix}.{key}", f"does not apply to {entry.noun}"))
        if problems:
            return None, problems
        return cls(kind=kind, **values), []
