"""Outcomes of one round side by side (staff): per district, each project funded or not under each
selected outcome, spend and share of the budget, the projects that change between them, and fairness
figures computed on the district's ballots.

Fairness figures, per outcome and district (and over the round, weighting districts by ballots):
- `share_with_funded`: the share of voters with at least one project they supported funded;
- `average_funded_share`: on average, the share of a voter's supported projects that are funded.
Shares are rounded as the cross-round figures of pb_engine/compare.py are (6 decimals).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlmodel import Session, select

from pb_engine import voting
from pb_engine.compare import _share
from pb_engine.errors import NotFound, ValidationFailed
from pb_engine.queries.outcomes import OutcomeInfo, outcome_info
from pb_engine.store.lookup import districts_of
from pb_engine.store.tables import OutcomeRecord, Proposal, Round

MAX_COMPARED = 6


@dataclass(frozen=True)
class Fairness:
    voters: int
    with_funded: int                 # voters with at least one supported project funded
    share_with_funded: float | None
    average_funded_share: float | None


@dataclass(frozen=True)
class ProjectRow:
    id: int
    title: str
    cost: Any                        # major units, as recorded
    funded: tuple[bool, ...]         # one per compared outcome, in order
    supporters: int

    @property
    def changes(self) -> bool:
        """Funded under some outcomes and not under others."""
        return len(set(self.funded)) > 1


@dataclass(frozen=True)
class DistrictComparison:
    slug: str
    name: str
    budget: Any                      # major units
    ballots: int
    projects: tuple[ProjectRow, ...]
    spend: tuple[Any, ...]           # per outcome, major units
    spend_share: tuple[float | None, ...]
    funded_count: tuple[int, ...]
    fairness: tuple[Fairness, ...]

    @property
    def changed(self) -> tuple[ProjectRow, ...]:
        return tuple(p for p in self.projects if p.changes)


@dataclass(frozen=True)
class Comparison:
    outcomes: tuple[OutcomeInfo, ...]
    districts: tuple[DistrictComparison, ...]
    spend: tuple[Any, ...]           # per outcome, over all districts (major units)
    spend_share: tuple[float | None, ...]
    fairness: tuple[Fairness, ...]   # over all districts
    same_ballots: bool               # every compared outcome has the same ballots digest

    @property
    def funded_count(self) -> tuple[int, ...]:
        return tuple(sum(d.funded_count[i] for d in self.districts) for i in range(len(self.outcomes)))

    @property
    def changed_count(self) -> int:
        return sum(len(d.changed) for d in self.districts)


def parse_ids(text: Any) -> list[int]:
    """Outcome ids from "1,2" or a list of strings; ValidationFailed naming `ids`."""
    parts = text if isinstance(text, (list, tuple)) else re.split(r"[,\s]+", str(text or ""))
    ids: list[int] = []
    for part in parts:
        part = str(part).strip()
        if not part:
            continue
        if not part.isdigit() or len(part) > 9:
            raise ValidationFailed.field("ids", f"{part[:20]!r} is not an outcome id", "compare_bad_id", value=part[:20])
        if int(part) not in ids:
            ids.append(int(part))
    if not ids:
        raise ValidationFailed.field("ids", "name at least one outcome, e.g. ids=1,2", "compare_no_ids")
    if len(ids) > MAX_COMPARED:
        raise ValidationFailed.field("ids", f"at most {MAX_COMPARED} outcomes at once", "compare_too_many",
                                     max=MAX_COMPARED)
    return ids


def _ratio(a, b) -> float | None:
    """compare.py's share (6 decimals), as a float for exact Fraction inputs too."""
    share = _share(a, b)
    return None if share is None else float(share)


def project_titles(session: Session, rnd: Round) -> dict[int, str]:
    return dict(session.exec(select(Proposal.id, Proposal.title).where(Proposal.round_id == rnd.id)).all())


def _fairness(ballots: list[frozenset[str]], funded: set[str]) -> Fairness:
    voters = len(ballots)
    with_funded = sum(1 for b in ballots if b & funded)
    shares = [Fraction(len(b & funded), len(b)) for b in ballots if b]
    avg = float(sum(shares) / len(shares)) if shares else None
    return Fairness(voters, with_funded, _ratio(with_funded, voters), round(avg, 6) if avg is not None else None)


def _sum(values) -> Any:
    total = sum(Fraction(str(v)) for v in values if v is not None)
    return int(total) if total.denominator == 1 else float(total)


def compare_outcomes(session: Session, rnd: Round, ids: list[int]) -> Comparison:
    """NotFound (naming `ids`) when an id is not an outcome of this round."""
    records = []
    for oid in ids:
        o = session.get(OutcomeRecord, oid) if 0 < oid <= 2**31 - 1 else None
        if o is None or o.round_id != rnd.id:
            raise NotFound(f"no outcome {oid} in round {rnd.slug!r}", {"ids": [f"no outcome {oid} in this round"]})
        records.append(o)
    infos = tuple(outcome_info(o, rnd) for o in records)
    titles = project_titles(session, rnd)
    districts = []
    totals_spend: list[list[Any]] = [[] for _ in infos]
    all_ballots: list[tuple[list[frozenset[str]], list[set[str]]]] = []
    for district in districts_of(session, rnd):
        per = [next((d for d in o.districts if d.get("district") == district.slug), None) for o in infos]
        if all(d is None for d in per):
            continue
        _instance, profile = voting.district_election(session, rnd, district)
        ballots = [frozenset(str(x) for x in b.supported()) for b in profile.ballots]
        funded_sets = [{str(x) for x in (d or {}).get("selected", [])} for d in per]
        costs: dict[int, Any] = {}
        for d in per:
            for p in (d or {}).get("projects", []):
                costs.setdefault(int(p["id"]), p.get("cost"))
        rows = []
        for pid in sorted(costs):
            rows.append(ProjectRow(pid, titles.get(pid, ""), costs[pid],
                                   tuple(str(pid) in s for s in funded_sets),
                                   sum(1 for b in ballots if str(pid) in b)))
        rows.sort(key=lambda r: (-sum(r.funded), -r.supporters, r.id))
        budget = next((d["budget"] for d in per if d is not None), 0)
        spend = tuple((d or {}).get("total_cost", 0) for d in per)
        for i, s in enumerate(spend):
            totals_spend[i].append(s)
        districts.append(DistrictComparison(
            district.slug, district.name, budget, len(ballots), tuple(rows), spend,
            tuple(_ratio(Fraction(str(s)), Fraction(str(budget))) for s in spend),
            tuple(len(s) for s in funded_sets), tuple(_fairness(ballots, s) for s in funded_sets)))
        all_ballots.append((ballots, funded_sets))
    fairness = []
    for i in range(len(infos)):
        voters = sum(len(b) for b, _f in all_ballots)
        with_funded = sum(sum(1 for x in b if x & f[i]) for b, f in all_ballots)
        shares = [Fraction(len(x & f[i]), len(x)) for b, f in all_ballots for x in b if x]
        avg = round(float(sum(shares) / len(shares)), 6) if shares else None
        fairness.append(Fairness(voters, with_funded, _ratio(with_funded, voters), avg))
    budget_total = sum(Fraction(str(d.budget)) for d in districts)
    spend_total = tuple(_sum(s) for s in totals_spend)
    return Comparison(infos, tuple(districts), spend_total,
                      tuple(_ratio(Fraction(str(s)), budget_total) for s in spend_total), tuple(fairness),
                      len({o.input_hash for o in infos}) <= 1)


__all__ = ["Comparison", "DistrictComparison", "Fairness", "ProjectRow", "compare_outcomes", "parse_ids"]
