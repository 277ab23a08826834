"""Every rule, described once, and the one entry point `allocate(instance, profile, rule, **options)`.

How to add a rule (one module plus its tests):

    from pb_engine.allocation.registry import Option, Rule, RuleOptions, register

    EES = Rule(
        id="ees", name="Exact Equal Shares",
        description="Voters get equal shares of the budget; each project's payers split its cost exactly equally.",
        ballot_kinds=("approval", "choose-1", "cumulative", "scoring", "ordinal"),   # Pabulib vote types
        exhaustive=False,                       # with its default options
        options=(
            SATISFACTION,                       # the shared cost | cardinality option below
            Option("completion", "choice", "how to spend what the rule leaves", choices=("add-opt", "add-opt-skip")),
        ),
        refusals={"solver": "ees solves no integer program"},  # optional: why an option does not apply
    )

    @register(EES)
    def ees(instance, profile, options: RuleOptions, tie) -> Outcome: ...

then add the module's name to RULE_MODULES in `pb_engine/allocation/__init__.py`. From
the descriptor alone come: `pb-engine allocate --rule ees --completion add-opt` (one
flag per option name), `pb-engine rules [--json]`, `GET /api/v1/rules`, the `rule`
table of a city config and of the API (`RuleSpec.from_dict`, the marshmallow rule
schema), and the refusal of any option the rule does not take.

`allocate` checks each option against the descriptor (type, allowed values, range;
an option of another rule is refused naming it) before the rule runs, so a rule
function only checks what ties its options together (e.g. `then_greedy` needs
`completion="add1"`). It receives the options the caller gave, converted
(numbers as Fraction), in a `RuleOptions`; an option not given is absent (the
rule applies its default, the one its descriptor states), so that the outcome
records only what was asked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Callable, Mapping

from pb_engine import __version__
from pb_engine.allocation.instance import Instance
from pb_engine.allocation.outcome import Outcome, number_json
from pb_engine.allocation.satisfaction import COST, SATISFACTIONS
from pb_engine.allocation.tiebreak import TieBreaking, by_id
from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, OrdinalBallot, Profile, VoteType
from pb_engine.errors import ValidationFailed

ALL_KINDS = tuple(v.value for v in VoteType)   # ballot kinds, as Pabulib vote types
OPTION_TYPES = ("choice", "number", "integer", "boolean")


# --------------------------------------------------------------------------- descriptors


@dataclass(frozen=True)
class Option:
    """One option of a rule. `default` None: the rule's behaviour without it is what `help` says."""

    name: str
    type: str                        # choice | number (exact: Fraction) | integer | boolean
    help: str                        # one line
    default: Any = None
    choices: tuple[str, ...] = ()    # type "choice": the allowed values
    minimum: Fraction | int | None = None
    maximum: Fraction | int | None = None
    exclusive_minimum: bool = False  # True: the value must be above `minimum`

    def __post_init__(self):
        if self.type not in OPTION_TYPES:
            raise ValueError(f"option {self.name!r}: type must be one of {', '.join(OPTION_TYPES)}")
        if (self.type == "choice") != bool(self.choices):
            raise ValueError(f"option {self.name!r}: choices go with type 'choice', and only with it")

    def convert(self, value: Any) -> Any:
        """The value as the rule receives it; ValueError with the rule broken (message names no option)."""
        if self.type == "choice":
            if value not in self.choices:
                raise ValueError(f"must be one of {', '.join(self.choices)}, got {value!r}")
            return value
        if self.type == "boolean":
            if not isinstance(value, bool):
                raise ValueError(f"must be true or false, got {value!r}")
            return value
        if isinstance(value, bool):
            raise ValueError(f"must be a {'whole number' if self.type == 'integer' else 'number'}, got {value!r}")
        if self.type == "integer":
            if not isinstance(value, int):
                raise ValueError(f"must be a whole number, got {value!r}")
            v: Any = value
        else:
            try:
                # a float is read as the decimal it prints as: 0.1 means 1/10, not the nearest binary fraction
                v = Fraction(repr(value) if isinstance(value, float) else value)
            except (TypeError, ValueError, ZeroDivisionError):
                raise ValueError(f"must be a number, got {value!r}") from None
        low, high = self.minimum, self.maximum
        if (low is not None and (v < low or (self.exclusive_minimum and v == low))) or (high is not None and v > high):
            raise ValueError(self.range_text())
        return v

    def range_text(self) -> str:
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f"must be between {_num(low)} and {_num(high)}"
        if low is not None:
            if self.exclusive_minimum:
                return "must be a positive number" if low == 0 else f"must be more than {_num(low)}"
            return "must be zero or more" if low == 0 else f"must be {_num(low)} or more"
        return f"must be {_num(high)} or less"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "default": _json(self.default), "help": self.help}
        if self.choices:
            out["choices"] = list(self.choices)
        if self.minimum is not None:
            out["exclusive_minimum" if self.exclusive_minimum else "minimum"] = _json(self.minimum)
        if self.maximum is not None:
            out["maximum"] = _json(self.maximum)
        return out


RuleFn = Callable[[Instance, Profile, "RuleOptions", TieBreaking], Outcome]


@dataclass(frozen=True)
class Rule:
    """A rule's descriptor: what people, the CLI, the API and config files know of it."""

    id: str
    name: str
    description: str                       # one plain line, for pages and `pb-engine rules`
    ballot_kinds: tuple[str, ...] = ALL_KINDS
    options: tuple[Option, ...] = ()
    exhaustive: bool = False               # with its default options: stops only when no supported project fits
    refusals: Mapping[str, str] = field(default_factory=dict)  # option name -> why this rule does not take it
    # options that go together: values -> [(option, message)], e.g. "then_greedy goes with completion='add1'"
    check: Callable[[Mapping[str, Any]], list[tuple[str, str]]] | None = field(default=None, compare=False, repr=False)
    run: RuleFn | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        unknown = set(self.ballot_kinds) - set(ALL_KINDS)
        if unknown:
            raise ValueError(f"rule {self.id!r}: unknown ballot kinds {sorted(unknown)}; known: {', '.join(ALL_KINDS)}")
        names = [o.name for o in self.options]
        if len(set(names)) != len(names):
            raise ValueError(f"rule {self.id!r}: an option is described twice")

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    def problems(self, options: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """(converted values, [(option, message)]) for the options given (None counts as not given)."""
        values: dict[str, Any] = {}
        found: list[tuple[str, str]] = []
        for name, raw in options.items():
            if raw is None:
                continue
            opt = self.option(name)
            if opt is None:
                found.append((name, self.refusal(name)))
                continue
            try:
                values[name] = opt.convert(raw)
            except ValueError as e:
                found.append((name, f"{self.id}: {name} {e}"))
        if not found and self.check is not None:
            found.extend(self.check(values))
        return values, found

    def refusal(self, name: str) -> str:
        why = self.refusals.get(name)
        if why:
            return f"{self.id} takes no {name}: {why}"
        takes = ", ".join(o.name for o in self.options) or "no options"
        elsewhere = sorted(r.id for r in RULES.values() if r.option(name) is not None)
        hint = f" (it is an option of {', '.join(elsewhere)})" if elsewhere else ""
        return f"{self.id} takes no {name}{hint}; it takes {takes}"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "description": self.description,
                "ballot_kinds": list(self.ballot_kinds), "exhaustive": self.exhaustive,
                "options": [o.to_json() for o in self.options]}


# Shared option descriptors, so that the same name means the same thing in every rule.
SATISFACTION = Option(
    "satisfaction", "choice", "what a funded project is worth to a supporter: its cost, or 1 (times the "
    "ballot's units: votes, points or Borda points)", default=COST, choices=SATISFACTIONS)


@dataclass(frozen=True)
class RuleOptions:
    """The options a rule was given, checked and converted; what was not given is None / absent."""

    # the options several rules share, as attributes (their meaning: each rule's descriptor)
    satisfaction: str | None = None
    completion: str | None = None
    threshold: Fraction | None = None
    threshold_share: Fraction | None = None
    solver: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)   # every other option, by name; `get` reads both

    def get(self, name: str, default: Any = None) -> Any:
        if name in _FIELDS:
            value = getattr(self, name)
            return default if value is None else value
        return self.extra.get(name, default)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {}
        for k in _FIELDS:
            v = getattr(self, k)
            if v is not None:
                out[k] = str(v) if isinstance(v, Fraction) else v
        out.update({k: str(v) if isinstance(v, Fraction) else v for k, v in self.extra.items()})
        return out

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> "RuleOptions":
        return cls(**{k: v for k, v in values.items() if k in _FIELDS},
                   extra={k: v for k, v in values.items() if k not in _FIELDS})


_FIELDS = ("satisfaction", "completion", "threshold", "threshold_share", "solver")


# --------------------------------------------------------------------------- the registry


RULES: dict[str, Rule] = {}


def register(rule: Rule):
    """Decorator: `@register(DESCRIPTOR)` on the rule function."""
    if not isinstance(rule, Rule):
        raise TypeError("register takes a Rule descriptor (see the registry module's docstring)")

    def deco(fn: RuleFn) -> RuleFn:
        if rule.id in RULES and RULES[rule.id].run is not fn:
            raise ValueError(f"rule {rule.id!r} is registered twice")
        for o in rule.options:  # one CLI flag and one schema field per name: the same kind of value everywhere
            for other in RULES.values():
                theirs = other.option(o.name)
                if other.id != rule.id and theirs is not None and theirs.type != o.type:
                    raise ValueError(f"rule {rule.id!r}: option {o.name!r} is a {o.type}, "
                                     f"but a {theirs.type} in {other.id!r}")
        RULES[rule.id] = replace(rule, run=fn)
        return fn
    return deco


def unregister(rule_id: str) -> None:
    """Remove a rule (for tests that register a rule of their own)."""
    RULES.pop(rule_id, None)


def rule_ids() -> list[str]:
    return sorted(RULES)


def rules() -> list[Rule]:
    return [RULES[k] for k in rule_ids()]


def describe(rule_id: str) -> Rule:
    """The descriptor of `rule_id`; ValidationFailed naming `rule` when unknown."""
    rule = RULES.get(rule_id)  # type: ignore[arg-type]
    if rule is None:
        raise ValidationFailed.field("rule", f"unknown rule {rule_id!r}; known rules: {', '.join(rule_ids())}")
    return rule


def descriptors_json() -> list[dict[str, Any]]:
    """Every rule's descriptor as JSON: what `pb-engine rules --json` and GET /api/v1/rules serve."""
    return [r.to_json() for r in rules()]


def all_options() -> dict[str, list[tuple[Rule, Option]]]:
    """Option name -> the rules that take it, with their descriptor of it (for CLI flags and schemas)."""
    out: dict[str, list[tuple[Rule, Option]]] = {}
    for r in rules():
        for o in r.options:
            out.setdefault(o.name, []).append((r, o))
    return out


def check_options(rule_id: str, options: Mapping[str, Any]) -> RuleOptions:
    """The options checked against the rule's descriptor; the first problem raised naming its option."""
    values, problems = describe(rule_id).problems(options)
    if problems:
        name, message = problems[0]
        raise ValidationFailed.field(name, message)
    return RuleOptions.of(values)


def allocate(
    instance: Instance,
    profile: Profile,
    rule: str = "greedy",
    *,
    tie_breaking: TieBreaking | None = None,
    **options: Any,
) -> Outcome:
    """Run `rule` on one district. Options: the rule's descriptor (`pb-engine rules`)."""
    desc = describe(rule)
    opts = check_options(rule, options)
    if profile.vote_type.value not in desc.ballot_kinds:
        raise ValidationFailed.field("rule", f"{rule} does not take {profile.vote_type.value} ballots; "
                                     f"it takes {', '.join(desc.ballot_kinds)}")
    tie = tie_breaking or by_id(p.id for p in instance.projects)
    outcome = desc.run(instance, profile, opts, tie)
    return replace(
        outcome,
        rule=rule,
        options=opts.to_dict(),
        tie_breaking=tie.to_dict(),
        engine_version=__version__,
        input_hash=input_hash(instance, profile),
    )


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


def _num(x) -> str:
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else str(float(x)) if (10**6 * x).denominator == 1 else str(x)


def _json(x):
    return number_json(x) if isinstance(x, Fraction) else x
