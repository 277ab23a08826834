"""A Pabulib file's published outcome (`selected` column) and the one comparison of an outcome with it.

    sel = published_selection(instance)             # None when the file has no `selected` column
    cmp = compare_with_selected(outcome, sel)       # SelectedComparison: codes and values, no sentences
    cmp.matches, cmp.differences                    # ({"code": "missing_from_rule", "project": "12", ...}, ...)

`selected` = 1 marks the rule's published outcome. Other marks are projects
funded outside the plain rule (2: the 80% rule, a counting error, ...; 3: from
additional funds, as the file's comment explains): they are set aside, not
compared, except in Poznań's GreedySort, whose rule itself funds the project
marked 2 (the `official` rule reproduces it). The CLI words the comparison; the
analysts' figures count the same differences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from pb_engine.allocation.instance import Instance
from pb_engine.allocation.outcome import Outcome

# Difference codes: a project the file selects and the outcome does not fund, and the reverse.
MISSING_FROM_RULE = "missing_from_rule"
NOT_SELECTED_IN_FILE = "not_selected_in_file"
# A project marked selected with another mark than the rule's: funded outside the rule, not compared.
SELECTED_OUTSIDE_RULE = "selected_outside_rule"


def poznan_greedy_sort(meta: Mapping[str, str]) -> bool:
    """Poznań's GreedySort (rule greedy-custom, its 80% rule): its own rule funds the project marked 2."""
    rule = (meta.get("rule") or "").strip().lower()
    return rule == "greedy-custom" and (meta.get("unit", "").strip() == "Poznań" or "80%" in meta.get("comment", ""))


@dataclass(frozen=True)
class PublishedSelection:
    projects: tuple[str, ...]                 # the rule's published outcome, in file order
    outside: tuple[tuple[str, str], ...] = ()  # (project, mark) funded outside the rule, in file order

    @classmethod
    def of(cls, project_ids: Iterable[str]) -> "PublishedSelection":
        return cls(tuple(project_ids))


def published_selection(instance: Instance) -> PublishedSelection | None:
    """The file's `selected` column read as above, or None when the file has none."""
    if all(p.extra.get("selected") is None for p in instance.projects):
        return None
    rule_marks = {"1", "2"} if poznan_greedy_sort(instance.meta) else {"1"}
    marks = [(p.id, (p.extra.get("selected") or "").strip()) for p in instance.projects]
    return PublishedSelection(
        tuple(pid for pid, m in marks if m in rule_marks),
        tuple((pid, m) for pid, m in marks if m not in rule_marks and m not in ("", "0")),
    )


@dataclass(frozen=True)
class SelectedComparison:
    """How an outcome compares with a published selection. `differences` in the instance's project order."""

    published: tuple[str, ...]
    differences: tuple[Mapping[str, Any], ...] = ()
    set_aside: tuple[Mapping[str, Any], ...] = ()

    @property
    def matches(self) -> bool:
        return not self.differences

    @property
    def missing_from_rule(self) -> tuple[str, ...]:
        return tuple(d["project"] for d in self.differences if d["code"] == MISSING_FROM_RULE)

    @property
    def not_selected_in_file(self) -> tuple[str, ...]:
        return tuple(d["project"] for d in self.differences if d["code"] == NOT_SELECTED_IN_FILE)

    def to_dict(self) -> dict[str, Any]:
        return {"matches": self.matches, "published": list(self.published),
                "differences": [dict(d) for d in self.differences], "set_aside": [dict(d) for d in self.set_aside]}


def compare_with_selected(outcome: Outcome, selected: PublishedSelection | Iterable[str]) -> SelectedComparison:
    """The outcome against a published selection (or a plain set of project ids).

    A project missing from the rule's outcome carries the outcome's reason for it (e.g. did_not_fit).
    """
    if not isinstance(selected, PublishedSelection):
        selected = PublishedSelection.of(selected)
    ours, theirs = set(outcome.selected), set(selected.projects)
    differences: list[dict[str, Any]] = []
    for r in outcome.projects:  # the instance's order
        if r.id in theirs and r.id not in ours:
            differences.append({"code": MISSING_FROM_RULE, "project": r.id, "reason": r.reason})
        elif r.id in ours and r.id not in theirs:
            differences.append({"code": NOT_SELECTED_IN_FILE, "project": r.id})
    set_aside = tuple({"code": SELECTED_OUTSIDE_RULE, "project": pid, "mark": mark} for pid, mark in selected.outside)
    return SelectedComparison(selected.projects, tuple(differences), set_aside)
