"""A round's allocation rule as settings (the `rule` section of a city config) and running it.

The keys are `id` and the options of that rule's descriptor (registry.py): nothing
about a rule's options is written here, so a newly registered rule is read, checked
and refused key by key like the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

from pb_engine.allocation.registry import RULES, all_options, allocate, rule_ids


@dataclass(frozen=True)
class RuleSpec:
    id: str
    values: tuple[tuple[str, Any], ...] = ()   # (option, checked value), in the rule's option order

    def __getattr__(self, name: str) -> Any:
        # spec.threshold, spec.completion: an option not set reads None (dataclass fields are found before this)
        if name.startswith("__"):
            raise AttributeError(name)
        return dict(self.values).get(name)

    def options(self) -> dict[str, Any]:
        return dict(self.values)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        for k, v in self.values:
            out[k] = (int(v) if v.denominator == 1 else float(v)) if isinstance(v, Fraction) else v
        return out

    def run(self, instance, profile, tie_breaking=None):
        return allocate(instance, profile, self.id, tie_breaking=tie_breaking, **self.options())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], prefix: str = "rule") -> tuple["RuleSpec | None", list[tuple[str, str]]]:
        """(spec, []) or (None, [(key path, message)]), every bad key named."""
        problems: list[tuple[str, str]] = []
        known_options = all_options()
        allowed = ("id", *known_options)
        for key in data:
            if key not in allowed:
                problems.append((f"{prefix}.{key}", f"unknown key; allowed: {', '.join(allowed)}"))
        rid = data.get("id")
        rule = RULES.get(rid) if isinstance(rid, str) else None
        if rule is None:
            problems.append((f"{prefix}.id", f"unknown rule {rid!r}; known rules: {', '.join(rule_ids())}"))
            return None, problems
        given = {k: v for k, v in data.items() if k != "id" and k in known_options}
        values, found = rule.problems(given)
        problems.extend((f"{prefix}.{k}", m) for k, m in found)
        if problems:
            return None, problems
        order = [o.name for o in rule.options]
        return cls(id=rid, values=tuple(sorted(values.items(), key=lambda kv: order.index(kv[0])))), []
