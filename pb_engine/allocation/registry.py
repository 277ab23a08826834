"""One entry point for every rule: `allocate(instance, profile, rule, **options)`.

Rules register themselves by id with `@register("greedy")`. A rule function
takes `(instance, profile, options: RuleOptions, tie: TieBreaking)` and returns
an `Outcome` with `rule`, `options`, `tie_breaking`, `engine_version` and
`input_hash` left for `allocate` to fill in via `finish()`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Callable, Mapping

from pb_engine import __version__
from pb_engine.allocation.instance import Instance
from pb_engine.allocation.outcome import Outcome
from pb_engine.allocation.satisfaction import SATISFACTIONS
from pb_engine.allocation.tiebreak import TieBreaking, by_id
from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, OrdinalBallot, Profile
from pb_engine.errors import ValidationFailed

COMPLETIONS = ("add1", "add1-comparison", "greedy")
SOLVERS = ("cbc", "highs")  # max-welfare's ILP solvers (knapsack.py); here so that checking a spec needs no PuLP


@dataclass(frozen=True)
class RuleOptions:
    satisfaction: str | None = None        # cost | cardinality (None: the rule's default)
    completion: str | None = None          # MES only: add1 | add1-comparison | greedy
    threshold: Fraction | None = None      # greedy-threshold: absolute minimum score
    threshold_share: Fraction | None = None  # greedy-threshold: minimum share of ballots (e.g. 1/10)
    solver: str | None = None              # max-welfare: cbc (default) | highs
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {}
        for k in ("satisfaction", "completion", "threshold", "threshold_share", "solver"):
            v = getattr(self, k)
            if v is not None:
                out[k] = str(v) if isinstance(v, Fraction) else v
        out.update(self.extra)
        return out


RuleFn = Callable[[Instance, Profile, RuleOptions, TieBreaking], Outcome]
RULES: dict[str, RuleFn] = {}


def register(rule_id: str):
    def deco(fn: RuleFn) -> RuleFn:
        RULES[rule_id] = fn
        return fn
    return deco


def _load_rules() -> None:
    # Importing the rule modules fills RULES; done lazily to avoid import cycles.
    from pb_engine.allocation import greedy, mes, phragmen, welfare  # noqa: F401


def rule_ids() -> list[str]:
    _load_rules()
    return sorted(RULES)


def allocate(
    instance: Instance,
    profile: Profile,
    rule: str = "greedy",
    *,
    tie_breaking: TieBreaking | None = None,
    **options: Any,
) -> Outcome:
    """Run `rule` on one district. Options: see RuleOptions."""
    _load_rules()
    if rule not in RULES:
        raise ValidationFailed.field("rule", f"unknown rule {rule!r}; known rules: {', '.join(sorted(RULES))}")
    opts = make_options(**options)
    tie = tie_breaking or by_id(p.id for p in instance.projects)
    outcome = RULES[rule](instance, profile, opts, tie)
    return replace(
        outcome,
        rule=rule,
        options=opts.to_dict(),
        tie_breaking=tie.to_dict(),
        engine_version=__version__,
        input_hash=input_hash(instance, profile),
    )


def make_options(**options: Any) -> RuleOptions:
    known = {k: options.pop(k) for k in list(options) if k in RuleOptions.__dataclass_fields__ and k != "extra"}
    if known.get("satisfaction") not in (None, *SATISFACTIONS):
        raise ValidationFailed.field("satisfaction", f"must be one of {', '.join(SATISFACTIONS)}")
    if known.get("completion") not in (None, *COMPLETIONS):
        raise ValidationFailed.field("completion", f"must be one of {', '.join(COMPLETIONS)}")
    for k in ("threshold", "threshold_share"):
        if known.get(k) is not None:
            known[k] = Fraction(known[k])
    return RuleOptions(**known, extra=options)


def input_hash(instance: Instance, profile: Profile) -> str:
    """sha256 over a canonical text of budget, projects and ballots (order-independent for ballots)."""
    h = hashlib.sha256()
    h.update(f"budget={instance.budget}\n".encode())
    for p in sorted(instance.projects, key=lambda p: p.id):
        h.update(f"project={p.id};{p.cost}\n".encode())
    h.update(f"vote_type={profile.vote_type.value}\n".encode())
    # Order-independent: the ballots' texts sorted, hashed in one call (cheap on 60 000-ballot rounds).
    h.update("\n".join(sorted(map(_ballot_text, profile.ballots))).encode())
    return "sha256:" + h.hexdigest()


def _ballot_text(b) -> str:
    if isinstance(b, ApprovalBallot):
        return "A:" + ",".join(sorted(b.projects))
    if isinstance(b, CumulativeBallot):
        return "C:" + ",".join(f"{p}={n}" for p, n in b.points)
    if isinstance(b, OrdinalBallot):
        return "O:" + ",".join(b.ranking)
    raise TypeError(type(b))
