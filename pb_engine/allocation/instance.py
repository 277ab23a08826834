"""What a rule allocates: a district's budget and the projects on its ballot."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Mapping, Sequence


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    cost: Fraction  # exact; integers and decimal costs from .pb files become Fractions
    name: str = ""
    categories: tuple[str, ...] = ()
    # Figures the city published for the project (Pabulib `votes`, `score`, ...),
    # kept as given so that `official` rules can use the city's own count.
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Instance:
    budget: Fraction
    projects: Sequence[Project]
    # Pabulib META (or the round's settings) as strings; rules never need it,
    # the `official` mapping and exports do.
    meta: Mapping[str, str] = field(default_factory=dict)

    def project(self, project_id: str) -> Project:
        for p in self.projects:
            if p.id == project_id:
                return p
        raise KeyError(project_id)

    @property
    def by_id(self) -> dict[str, Project]:
        return {p.id: p for p in self.projects}
