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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Mapping

from pb_engine.ballots.kinds import ApprovalBallot, Ballot, CumulativeBallot, OrdinalBallot
from pb_engine.ballots.rules import BallotRules
from pb_engine.errors import ValidationFailed

FIELD_OF_KIND = {"approval": "projects", "knapsack": "projects", "cumulative": "points", "ranked": "ranking"}
SHAPE_OF_KIND = {
    "approval": '{"projects": [project ids]}',
    "knapsack": '{"projects": [project ids]}',
    "cumulative": '{"points": {project id: points}}',
    "ranked": '{"ranking": [project ids, best first]}',
}


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


class _Problems:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            message = "; ".join(m for ms in self.errors.values() for m in ms)
            raise ValidationFailed(message, {k: list(v) for k, v in self.errors.items()})


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _project_id(raw: Any) -> str | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, str) and raw.strip() and len(raw) <= 100:
        return raw.strip()
    return None


def _percent(share: Fraction) -> str:
    pct = share * 100
    if pct.denominator == 1:
        return f"{pct.numerator} %"
    return f"{float(pct):.2f}".rstrip("0").rstrip(".") + " %"


def parse(rules: BallotRules, content: Any) -> Ballot:
    """The shape check: JSON content -> a domain ballot (ids as str). Limits are not checked here."""
    problems = _Problems()
    key = FIELD_OF_KIND[rules.kind]
    if not isinstance(content, Mapping):
        problems.add(key, f"{_a(rules.kind)} ballot is {SHAPE_OF_KIND[rules.kind]}, got {type(content).__name__}")
        problems.raise_if_any()
    for other in content:
        if other != key:
            problems.add(str(other), f"{_a(rules.kind)} ballot is {SHAPE_OF_KIND[rules.kind]}; {other!r} does not belong in it")
    if key not in content:
        problems.add(key, f"{_a(rules.kind)} ballot is {SHAPE_OF_KIND[rules.kind]}; {key!r} is missing")
    problems.raise_if_any()
    value = content[key]

    if rules.kind == "cumulative":
        if not isinstance(value, Mapping):
            problems.add(key, f"points must be an object {{project id: points}}, got {type(value).__name__}")
            problems.raise_if_any()
        points: dict[str, int] = {}
        for raw_id, raw_n in value.items():
            pid = _project_id(raw_id)
            if pid is None:
                problems.add(key, f"{raw_id!r} is not a project id")
                continue
            if pid in points:
                problems.add(key, f"project {pid} is given points twice")
                continue
            if isinstance(raw_n, bool) or not isinstance(raw_n, (int, float)) or (
                isinstance(raw_n, float) and not (math.isfinite(raw_n) and raw_n.is_integer())
            ):
                problems.add(key, f"project {pid}: {raw_n!r} is not a whole number of points")
                points[pid] = 1  # placeholder so later checks still run; the ballot is refused anyway
                continue
            n = int(raw_n)
            if n <= 0:
                problems.add(key, f"project {pid}: {n} points; points must be positive whole numbers "
                                  f"(leave a project out to give it none)")
            points[pid] = n
        problems.raise_if_any()
        return CumulativeBallot.of(points)

    if not isinstance(value, (list, tuple)):
        problems.add(key, f"{key} must be a list of project ids, got {type(value).__name__}")
        problems.raise_if_any()
    ids: list[str] = []
    first_at: dict[str, int] = {}
    for pos, raw in enumerate(value, start=1):
        pid = _project_id(raw)
        if pid is None:
            problems.add(key, f"{key}[{pos - 1}]: {raw!r} is not a project id")
            continue
        if pid in first_at:
            if rules.kind == "ranked":
                problems.add(key, f"project {pid} is ranked more than once (positions {first_at[pid]} and {pos})")
            else:
                problems.add(key, f"project {pid} is chosen more than once")
            continue
        first_at[pid] = pos
        ids.append(pid)
    problems.raise_if_any()
    if rules.kind == "ranked":
        return OrdinalBallot(tuple(ids))
    return ApprovalBallot(frozenset(ids))


def problems(rules: BallotRules, ballot: Ballot, catalog: Catalog) -> dict[str, list[str]]:
    """Every limit `ballot` breaks, as {field: [messages]}; empty when it may be cast."""
    out = _Problems()
    key = FIELD_OF_KIND[rules.kind]
    named = list(ballot.ranking) if isinstance(ballot, OrdinalBallot) else (
        [p for p, _ in ballot.points] if isinstance(ballot, CumulativeBallot) else sorted(ballot.projects))
    unknown = [p for p in named if p not in catalog.costs]
    for pid in unknown:
        where = catalog.elsewhere.get(pid)
        tail = f" (it is on the ballot of district {where})" if where else ""
        out.add(key, f"project {pid} is not on the ballot of district {catalog.district}{tail}")
    n = len(named)

    if rules.kind in ("approval", "knapsack"):
        lo = 1 if rules.min_projects is None else rules.min_projects
        if n < lo:
            out.add(key, f"{_plural(n, 'project')} chosen, at least {lo} required")
        if rules.max_projects is not None and n > rules.max_projects:
            out.add(key, f"{_plural(n, 'project')} chosen, at most {rules.max_projects} allowed")
        if rules.kind == "knapsack" and not unknown:
            m = catalog.money
            total = sum(catalog.costs[p] for p in named)
            if total > catalog.budget:
                out.add(key, f"total {m(total)} exceeds the district budget {m(catalog.budget)} "
                             f"by {m(total - catalog.budget)}")
            share = rules.min_spend_share
            if share is not None and total < share * catalog.budget:
                need = math.ceil(share * catalog.budget)
                out.add(key, f"total {m(total)} is below the minimum spend {m(need)} ({_percent(share)} of the "
                             f"district budget {m(catalog.budget)}) by {m(need - total)}")

    elif rules.kind == "cumulative":
        assert isinstance(ballot, CumulativeBallot)
        lo = 1 if rules.min_projects is None else rules.min_projects
        if n < lo:
            out.add(key, f"{_plural(n, 'project')} given points, at least {lo} required")
        if rules.max_projects is not None and n > rules.max_projects:
            out.add(key, f"{_plural(n, 'project')} given points, at most {rules.max_projects} allowed")
        total = sum(v for _, v in ballot.points)
        if rules.max_points is not None and total > rules.max_points:
            out.add(key, f"{_plural(total, 'point')} given, at most {rules.max_points} allowed")
        cap = rules.max_points_per_project
        for pid, v in ballot.points:
            if v <= 0:
                out.add(key, f"project {pid}: {v} points; points must be positive whole numbers")
            elif cap is not None and v > cap:
                out.add(key, f"project {pid}: {_plural(v, 'point')}, at most {cap} allowed on one project")

    elif rules.kind == "ranked":
        lo = 1 if rules.min_rank is None else rules.min_rank
        if n < lo:
            out.add(key, f"{_plural(n, 'project')} ranked, at least {lo} required")
        if rules.max_rank is not None and n > rules.max_rank:
            out.add(key, f"{_plural(n, 'project')} ranked, at most {rules.max_rank} allowed")
        if len(set(named)) != n:
            out.add(key, "a project is ranked more than once")
    return out.errors


def validate(rules: BallotRules, content: Any, catalog: Catalog) -> Ballot:
    """`content` as a domain ballot if it may be cast in this district; else ValidationFailed with every problem."""
    ballot = parse(rules, content)
    found = _Problems()
    found.errors = problems(rules, ballot, catalog)
    found.raise_if_any()
    return ballot


def to_content(ballot: Ballot) -> dict:
    """The stored/JSON form of a domain ballot; numeric ids become ints (our project ids are proposal ids)."""
    def out(pid: str):
        return int(pid) if pid.isdigit() and str(int(pid)) == pid else pid

    if isinstance(ballot, ApprovalBallot):
        from pb_engine.allocation.tiebreak import natural_key

        return {"projects": [out(p) for p in sorted(ballot.projects, key=natural_key)]}
    if isinstance(ballot, CumulativeBallot):
        return {"points": {p: n for p, n in ballot.points}}
    return {"ranking": [out(p) for p in ballot.ranking]}


def from_content(kind: str, content: Mapping[str, Any]) -> Ballot:
    """A stored ballot back to the domain (no checks: it was validated when cast)."""
    if kind == "cumulative":
        return CumulativeBallot.of({str(k): int(v) for k, v in content.get("points", {}).items()})
    if kind == "ranked":
        return OrdinalBallot(tuple(str(p) for p in content.get("ranking", [])))
    return ApprovalBallot(frozenset(str(p) for p in content.get("projects", [])))
