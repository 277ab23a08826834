"""A city config as plain values: what `parse_city_config` returns and `apply_city` writes.

Money here is already integer minor units; dates are aware datetimes (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pb_engine.allocation.spec import RuleSpec
from pb_engine.ballots.rules import BallotRules
from pb_engine.phases import PhaseWindow


@dataclass(frozen=True)
class CategoryConfig:
    slug: str
    name: str
    taxonomy: str  # a term of pb_engine.taxonomy


@dataclass(frozen=True)
class DistrictConfig:
    slug: str
    name: str
    budget: int  # minor units
    population: int | None = None


@dataclass(frozen=True)
class RoundConfig:
    slug: str
    title: str
    budget: int  # minor units
    districts: tuple[DistrictConfig, ...]
    phases: tuple[PhaseWindow, ...]
    ballot: BallotRules
    rule: RuleSpec
    description: str = ""
    districts_must_sum: bool = False
    endorsement_threshold: int = 0
    endorsement_requires: str = "account"  # who may endorse: account | verified (pb_engine.endorsing)
    categories: tuple[str, ...] = ()  # city category slugs proposals may use; empty: all of the city's
    eligibility: dict[str, Any] = field(default_factory=dict)
    tie_breaking: str = "id"
    live_turnout: bool = False  # publish voters and turnout while voting is open (pb_engine.secrecy)


@dataclass(frozen=True)
class CityConfig:
    slug: str
    name: str
    country: str
    currency: str
    timezone: str
    locales: tuple[str, ...]
    population: int | None = None
    notes: str = ""
    categories: tuple[CategoryConfig, ...] = ()
    rounds: tuple[RoundConfig, ...] = ()
