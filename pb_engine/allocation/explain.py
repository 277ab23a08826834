"""Per-project results and their sentences, shared by greedy, max-welfare and Phragmén.

Every builder returns a `ProjectResult` whose `details` hold the figures the
sentence quotes, so that a page or an API client can show them in its own words.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Iterable, Mapping

from pb_engine.allocation.instance import Instance, Project
from pb_engine.allocation.outcome import (
    BELOW_THRESHOLD, DID_NOT_FIT, FUNDED, NO_SUPPORT, NOT_SELECTED, STOPPED, Outcome, ProjectResult,
)
from pb_engine.allocation.tiebreak import TieBreaking
from pb_engine.errors import ValidationFailed


def number(x: int | Fraction) -> str:
    """120000 -> '120 000'; 1234.5 -> '1 234.5'; a fraction without finite decimals -> '≈ 33.33'."""
    x = Fraction(x)
    sign = "-" if x < 0 else ""
    x = abs(x)
    whole, rest = divmod(x, 1)
    grouped = f"{int(whole):,}".replace(",", " ")
    if rest == 0:
        return sign + grouped
    d = rest.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d == 1:
        digits = 0
        while (rest * 10**digits).denominator != 1:
            digits += 1
        return f"{sign}{grouped}.{int(rest * 10**digits):0{digits}d}"
    cents = round(x * 100)
    return f"≈ {sign}{int(cents // 100):,}.{int(cents % 100):02d}".replace(",", " ")


def tie_ranks(tie: TieBreaking, instance: Instance) -> dict[str, int]:
    """Rank of every project in the tie-breaking order (lower wins); refuses an order that misses one."""
    rank = tie.rank()
    missing = [p.id for p in instance.projects if p.id not in rank]
    if missing:
        raise ValidationFailed.field(
            "tie_breaking", f"the tie-breaking order does not rank project(s) {', '.join(missing[:5])}"
        )
    return rank


def funded(p: Project, step: int | None, score, message: str, **details: Any) -> ProjectResult:
    return ProjectResult(p.id, True, FUNDED, message, p.cost, score=score, step=step, details=details)


def did_not_fit(p: Project, score, money_left: Fraction, step: int | None = None, *,
                budget: Fraction | None = None, **details: Any) -> ProjectResult:
    """`step`: the last selection step before its turn came (0: none yet); `budget`: given when the
    project costs more than the whole budget, which the sentence then says."""
    if budget is not None and p.cost > budget:
        message = f"not funded: costs {number(p.cost)}, more than the whole budget of {number(budget)}"
    else:
        message = f"not funded: costs {number(p.cost)}, only {number(money_left)} left when its turn came"
    return ProjectResult(p.id, False, DID_NOT_FIT, message, p.cost, score=score,
                         details={"money_left": money_left, "after_step": step, **details})


def below_threshold(p: Project, score, threshold: Fraction, unit: str, **details: Any) -> ProjectResult:
    message = f"not funded: {number(score)} {unit}, under the threshold of {number(threshold)}"
    return ProjectResult(p.id, False, BELOW_THRESHOLD, message, p.cost, score=score,
                         details={"threshold": threshold, **details})


def stopped(p: Project, score, blocker: str, money_left: Fraction, **details: Any) -> ProjectResult:
    message = (f"not funded: allocation stopped when project {blocker} did not fit "
               f"({number(money_left)} left)")
    return ProjectResult(p.id, False, STOPPED, message, p.cost, score=score,
                         details={"stopped_by": blocker, "money_left": money_left, **details})


def no_support(p: Project, score) -> ProjectResult:
    return ProjectResult(p.id, False, NO_SUPPORT, "not funded: no voter supported it", p.cost, score=score,
                         details={})


def not_selected(p: Project, score, message: str, **details: Any) -> ProjectResult:
    return ProjectResult(p.id, False, NOT_SELECTED, message, p.cost, score=score, details=details)


def outcome(instance: Instance, results: Mapping[str, ProjectResult], selected: Iterable[str],
            tie: TieBreaking, notes: Iterable[str] = ()) -> Outcome:
    """Assemble an Outcome; `allocate` fills in rule, options, version and hash."""
    selected = tuple(selected)
    by_id = instance.by_id
    return Outcome(
        rule="",
        options={},
        budget=instance.budget,
        selected=selected,
        total_cost=sum((by_id[pid].cost for pid in selected), Fraction(0)),
        projects=tuple(results[p.id] for p in instance.projects),
        tie_breaking=tie.to_dict(),
        engine_version="",
        input_hash="",
        notes=tuple(notes),
    )
