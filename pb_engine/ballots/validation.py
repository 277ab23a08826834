"""Checking a ballot against a round's ballot rules and a district's ballot. Pure domain.

`validate(rules, content, catalog)` turns the JSON a voter sends into a domain
ballot, or raises `ValidationFailed` naming every rule broken, with figures:

- approval / knapsack: `{"projects": [ids]}`; cumulative: `{"points": {id: n}}`;
  ranked: `{"ranking": [ids]}` (best first). Any other shape is refused.
- ids are project ids as int or str; they become str (the domain's ids).
- every named project must be on this district's ballot (`catalog.costs`);
  a project named twice is refused (the voter meant something, we do not guess).
- a ballot chooses at least one project unless the rules allow fewer
  (`min_projects: 0`): an empty ballot is more often a mistake than an abstention.
- knapsack: total cost <= district budget, and >= min_spend_share of it.
- cumulative: points are positive whole numbers (a float like 3.0 is taken as 3),
  at most max_points in all and max_points_per_project on one project;
  min_projects / max_projects count the projects given points.
- ranked: between min_rank (default 1) and max_rank projects, none twice.

Money in messages goes through `catalog.money` (the city's currency format).
Each problem also carries a code and its figures (`ValidationFailed.problems`, codes listed in
pb_engine.ballots.refusals) for pages that word it in the visitor's language. What is particular
to a kind lives in its entry in pb_engine.ballots.registry; this module does what all kinds share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Mapping

from pb_engine.ballots.kinds import Ballot
from pb_engine.ballots.refusals import Refusals
from pb_engine.ballots.registry import kind, kind_of_ballot
from pb_engine.ballots.rules import BallotRules


def plain_money(minor: int, digits: int = 2) -> str:
    """Minor units shown as major units with space-grouped thousands: 125000000 -> '1 250 000'."""
    value = Fraction(minor, 10**digits)
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole = int(value)
    text = f"{whole:,}".replace(",", " ")
    if value != whole:
        cents = int((value - whole) * 10**digits)
        text += "." + str(cents).rjust(digits, "0")
    return sign + text


@dataclass(frozen=True)
class Catalog:
    """What a ballot of one district is checked against."""

    district: str                              # the district's slug, for messages
    budget: int                                # the district's budget, minor units
    costs: Mapping[str, int]                   # project id -> cost (minor units), projects on this ballot
    elsewhere: Mapping[str, str] = field(default_factory=dict)  # project id -> district slug, other ballots
    money: Callable[[int], str] = plain_money  # formats minor units for messages


def _parse(rules: BallotRules, content: Any, out: Refusals) -> Ballot | None:
    entry = kind(rules.kind)
    key = entry.field
    if not isinstance(content, Mapping):
        got = type(content).__name__
        out.add(key, "ballot_not_object", f"{entry.noun} is {entry.shape}, got {got}", kind=entry.id, got=got)
        return None
    for other in content:
        if other != key:
            out.add(str(other), "field_not_allowed", f"{entry.noun} is {entry.shape}; {other!r} does not belong in it",
                    kind=entry.id, name=str(other))
    if key not in content:
        out.add(key, "field_missing", f"{entry.noun} is {entry.shape}; {key!r} is missing", kind=entry.id, name=key)
    if out:
        return None
    return entry.parse(content[key], out)


def parse(rules: BallotRules, content: Any) -> Ballot:
    """The shape check: JSON content -> a domain ballot (ids as str). Limits are not checked here."""
    out = Refusals()
    ballot = _parse(rules, content, out)
    out.raise_if_any()
    return ballot


def _check(rules: BallotRules, ballot: Ballot, catalog: Catalog, out: Refusals) -> None:
    entry = kind(rules.kind)
    unknown = [p for p in entry.named(ballot) if p not in catalog.costs]
    for pid in unknown:
        where = catalog.elsewhere.get(pid)
        if where:
            out.add(entry.field, "on_other_ballot", f"project {pid} is not on the ballot of district "
                    f"{catalog.district} (it is on the ballot of district {where})",
                    project=pid, district=catalog.district, other_district=where)
        else:
            out.add(entry.field, "not_on_ballot", f"project {pid} is not on the ballot of district {catalog.district}",
                    project=pid, district=catalog.district)
    entry.check(rules, ballot, catalog, not unknown, out)


def refusals(rules: BallotRules, ballot: Ballot, catalog: Catalog) -> Refusals:
    """Every limit `ballot` breaks, as codes with figures (and messages); empty when it may be cast."""
    out = Refusals()
    _check(rules, ballot, catalog, out)
    return out


def problems(rules: BallotRules, ballot: Ballot, catalog: Catalog) -> dict[str, list[str]]:
    """Every limit `ballot` breaks, as {field: [messages]}; empty when it may be cast."""
    return refusals(rules, ballot, catalog).errors


def validate(rules: BallotRules, content: Any, catalog: Catalog) -> Ballot:
    """`content` as a domain ballot if it may be cast in this district; else ValidationFailed with every problem."""
    ballot = parse(rules, content)
    refusals(rules, ballot, catalog).raise_if_any()
    return ballot


def to_content(ballot: Ballot) -> dict:
    """The stored/JSON form of a domain ballot; numeric ids become ints (our project ids are proposal ids)."""
    return kind_of_ballot(ballot).to_content(ballot)


def from_content(kind_id: str, content: Mapping[str, Any]) -> Ballot:
    """A stored ballot back to the domain (no checks: it was validated when cast)."""
    return kind(kind_id).from_content(content)
