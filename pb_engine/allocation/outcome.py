"""What running a rule returns: the funded projects and why, reproducibly.

One return type for every rule. Each project carries a structured reason
(code + figures) and a sentence; the outcome records the rule, its options,
the tie-breaking order, the engine version and a hash of its input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping

# Reason codes a project can get. Rules may add figures in `details`.
FUNDED = "funded"                      # selected by the rule proper
FUNDED_IN_COMPLETION = "funded_in_completion"  # selected by a completion step (MES add1 / greedy)
DID_NOT_FIT = "did_not_fit"            # cost > money left when its turn came
BELOW_THRESHOLD = "below_threshold"    # score under the rule's minimum
SUPPORTERS_COULD_NOT_PAY = "supporters_could_not_pay"  # MES: its supporters' shares could not cover it
STOPPED = "stopped"                    # greedy-no-skip: a project before it did not fit
NOT_SELECTED = "not_selected"          # max-welfare etc.: not in the optimal set
NO_SUPPORT = "no_support"              # nobody voted for it
REASONS = (FUNDED, FUNDED_IN_COMPLETION, DID_NOT_FIT, BELOW_THRESHOLD, SUPPORTERS_COULD_NOT_PAY, STOPPED,
           NOT_SELECTED, NO_SUPPORT)


@dataclass(frozen=True)
class ProjectResult:
    id: str
    funded: bool
    reason: str
    message: str
    cost: Fraction
    score: Fraction | None = None          # votes, points or Borda score the rule ranked by
    step: int | None = None                # 1-based selection step when funded
    price_per_supporter: Fraction | None = None  # MES / Phragmén: what each supporter paid (per unit of utility)
    details: Mapping[str, Any] = field(default_factory=dict)  # figures behind the reason (money_left, threshold, ...)


@dataclass(frozen=True)
class Outcome:
    rule: str
    options: Mapping[str, Any]
    budget: Fraction
    selected: tuple[str, ...]              # in the order the rule funded them
    total_cost: Fraction
    projects: tuple[ProjectResult, ...]    # every project of the instance, in instance order
    tie_breaking: Mapping[str, Any]
    engine_version: str
    input_hash: str
    notes: tuple[str, ...] = ()            # e.g. why `official` could not reproduce a file

    def result(self, project_id: str) -> ProjectResult:
        for r in self.projects:
            if r.id == project_id:
                return r
        raise KeyError(project_id)

    def to_dict(self) -> dict:
        """JSON-ready form: Fractions become int when whole, else a decimal string."""
        return {
            "rule": self.rule,
            "options": dict(self.options),
            "budget": money_json(self.budget),
            "selected": list(self.selected),
            "total_cost": money_json(self.total_cost),
            "tie_breaking": dict(self.tie_breaking),
            "engine_version": self.engine_version,
            "input_hash": self.input_hash,
            "notes": list(self.notes),
            "projects": [
                {
                    "id": r.id,
                    "funded": r.funded,
                    "reason": r.reason,
                    "message": r.message,
                    "cost": money_json(r.cost),
                    "score": None if r.score is None else number_json(r.score),
                    "step": r.step,
                    "price_per_supporter": None if r.price_per_supporter is None else number_json(r.price_per_supporter),
                    "details": {k: number_json(v) if isinstance(v, Fraction) else v for k, v in r.details.items()},
                }
                for r in self.projects
            ],
        }


def money_json(x: Fraction):
    return number_json(x)


def number_json(x) -> int | str | float:
    """Whole numbers as int; other Fractions as an exact decimal string when finite, else 'p/q'."""
    if isinstance(x, int):
        return x
    x = Fraction(x)
    if x.denominator == 1:
        return int(x.numerator)
    text = decimal_text(x)
    return text if text is not None else f"{x.numerator}/{x.denominator}"


def decimal_text(x: Fraction | int) -> str | None:
    """Exact decimal text: 4000, 12.5, -0.05, every digit kept; None when there is no finite decimal form."""
    x = Fraction(x)
    if x.denominator == 1:
        return str(x.numerator)
    d, twos, fives = x.denominator, 0, 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:
        return None
    places = max(twos, fives)
    scaled = x.numerator * 10**places // x.denominator
    sign = "-" if scaled < 0 else ""
    digits = str(abs(scaled)).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"
