"""A round's allocation rule as settings (the `rule` section of a city config) and running it."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

from pb_engine.allocation.registry import COMPLETIONS, SATISFACTIONS, SOLVERS, allocate, rule_ids

FIELDS = ("id", "satisfaction", "completion", "threshold", "threshold_share", "solver")


@dataclass(frozen=True)
class RuleSpec:
    id: str
    satisfaction: str | None = None
    completion: str | None = None
    threshold: Fraction | None = None        # greedy-threshold: minimum score (votes or points)
    threshold_share: Fraction | None = None  # greedy-threshold: minimum share of the district's ballots
    solver: str | None = None

    def options(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in FIELDS[1:] if getattr(self, k) is not None}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        for k, v in self.options().items():
            out[k] = (int(v) if v.denominator == 1 else float(v)) if isinstance(v, Fraction) else v
        return out

    def run(self, instance, profile, tie_breaking=None):
        return allocate(instance, profile, self.id, tie_breaking=tie_breaking, **self.options())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], prefix: str = "rule") -> tuple["RuleSpec | None", list[tuple[str, str]]]:
        problems: list[tuple[str, str]] = []
        for key in data:
            if key not in FIELDS:
                problems.append((f"{prefix}.{key}", f"unknown key; allowed: {', '.join(FIELDS)}"))
        rid = data.get("id")
        known = rule_ids()
        if rid not in known:
            problems.append((f"{prefix}.id", f"unknown rule {rid!r}; known rules: {', '.join(known)}"))
        values: dict[str, Any] = {}
        if data.get("satisfaction") is not None:
            if data["satisfaction"] not in SATISFACTIONS:
                problems.append((f"{prefix}.satisfaction", f"must be one of {', '.join(SATISFACTIONS)}"))
            values["satisfaction"] = data["satisfaction"]
        if data.get("completion") is not None:
            if data["completion"] not in COMPLETIONS:
                problems.append((f"{prefix}.completion", f"must be one of {', '.join(COMPLETIONS)}"))
            elif rid != "mes":
                problems.append((f"{prefix}.completion", "only the rule 'mes' takes a completion"))
            values["completion"] = data["completion"]
        if data.get("solver") is not None:
            if data["solver"] not in SOLVERS:
                problems.append((f"{prefix}.solver", f"must be one of {', '.join(SOLVERS)}"))
            values["solver"] = data["solver"]
        for key, upper in (("threshold", None), ("threshold_share", 1)):
            raw = data.get(key)
            if raw is None:
                continue
            try:
                if isinstance(raw, bool):
                    raise ValueError
                v = Fraction(str(raw))
            except (ValueError, TypeError):
                problems.append((f"{prefix}.{key}", f"must be a number, got {raw!r}"))
                continue
            if v < 0 or (upper is not None and v > upper):
                problems.append((f"{prefix}.{key}", f"must be between 0 and {upper}" if upper else "must be zero or more"))
            values[key] = v
        if rid == "greedy-threshold" and "threshold" not in values and "threshold_share" not in values:
            problems.append((f"{prefix}.threshold", "greedy-threshold needs threshold or threshold_share"))
        if problems:
            return None, problems
        return cls(id=rid, **values), []
