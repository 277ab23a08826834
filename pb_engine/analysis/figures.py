"""Figures of a round, as pure functions over elections and funded sets (no database, no web).

The same functions serve the comparison of rounds in the database (pb_engine/queries/comparison.py)
and `pb-engine analyse FOLDER` on Pabulib files, so a figure means the same thing everywhere.

Inputs
- `elections`: one district as a `(Instance, Profile)` pair (a .pb file is one), or a sequence of
  them (a round's districts). Money is in whatever unit the instances use; every share below is
  unit-free. A round's figures pool its districts' ballots and projects, but a share of a budget
  or a majority is always taken within a project's own district.
- `funded`: the ids funded in one district (any collection of str, e.g. `Outcome.selected`), or
  a sequence of them aligned with `elections`.
- A voter *supports* a project when their ballot gives it positive utility (`Ballot.supported()`:
  approved, given points, ranked). Satisfaction, majorities and ballot length use support, for
  every ballot kind. One ballot counts as one voter (a resident voting in two districts counts twice).

Exact arithmetic: results hold `Fraction`s (or ints); `as_json(figure)` turns any result into
JSON-ready numbers (shares as floats rounded to 6 places, money exact: int or decimal text).

Functions (signatures kept stable; callers outside this package rely on them):
- `ballot_length(elections) -> BallotLength`: projects supported per ballot: mean, median,
  distribution {length: ballots}.
- `ballot_spend(elections) -> BallotSpend`: the cost of a ballot's supported projects as a share of
  its district's budget (what a knapsack ballot uses of the budget): mean, median.
- `cost_distribution(elections) -> CostDistribution`: project costs: count, min, quartiles
  (inclusive method, as numpy's default linear percentiles), max, total, and the largest project's
  cost as a share of its district's budget.
- `spending(elections, funded) -> Spending`: funded count, spend, spend as share of the budget.
- `category_shares(elections, funded, term_of=None) -> {term: CategoryShare}`: per category
  (mapped to a shared term by `term_of`, e.g. {city category slug: taxonomy term}; unmapped
  categories stay as they are, projects with none are "uncategorised"): projects, funded projects,
  share of the funded projects, spend and share of the budget. A project with two terms counts
  in both, so shares may add up to more than 1.
- `fairness(elections, funded) -> Fairness`: share of voters with at least one supported project
  funded; mean satisfaction by cost (money spent on a voter's supported projects, as a share of
  their district's budget) and by count (funded supported projects); the Gini coefficient of each
  (0: everyone equally satisfied; 0 also when nobody is); the share of the budget spent on funded
  projects that no strict majority of their district's voters supports.
- `fairness_many(elections, {name: funded}) -> {name: Fairness}`: the same for several funded sets
  (one per rule) of the same elections, reading the ballots once.
- `changes(funded_by_rule) -> tuple[ProjectChange, ...]`: given {rule: funded (one district or a
  sequence aligned over districts)}, the projects funded under some rules and not others, with the
  rules that fund each.
- `gini(values)`: the Gini coefficient of non-negative numbers (exact when they are).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, fields, is_dataclass
from fractions import Fraction
from typing import Any, ClassVar, Collection, Iterable, Mapping, Sequence, Union

import numpy as np

from pb_engine.allocation.instance import Instance
from pb_engine.allocation.outcome import number_json
from pb_engine.ballots.kinds import Profile

Election = tuple[Instance, Profile]
Elections = Union[Election, Sequence[Election]]
Funded = Union[Collection[str], Sequence[Collection[str]]]
UNCATEGORISED = "uncategorised"
SHARE_PLACES = 6


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BallotLength:
    averages: ClassVar[tuple[str, ...]] = ("mean", "median")  # shown as rounded floats in JSON
    ballots: int
    mean: Fraction | None
    median: Fraction | None
    distribution: Mapping[int, int]       # length -> number of ballots, by length


@dataclass(frozen=True)
class BallotSpend:
    ballots: int
    mean_share: Fraction | None           # mean over ballots of cost(supported) / district budget
    median_share: Fraction | None


@dataclass(frozen=True)
class CostDistribution:
    projects: int
    min: Fraction | None
    q1: Fraction | None
    median: Fraction | None
    q3: Fraction | None
    max: Fraction | None
    total: Fraction
    largest_share: Fraction | None        # max over projects of cost / its district's budget


@dataclass(frozen=True)
class Spending:
    funded: int
    spend: Fraction
    budget: Fraction
    spend_share: Fraction | None


@dataclass(frozen=True)
class CategoryShare:
    projects: int
    funded: int
    funded_share: Fraction | None         # of all funded projects
    spend: Fraction
    spend_share: Fraction | None          # of the budget


@dataclass(frozen=True)
class Fairness:
    voters: int
    with_funded: int
    share_with_funded: Fraction | None
    mean_satisfaction_cost: Fraction | None   # share of the district budget, averaged over voters
    mean_satisfaction_count: Fraction | None  # funded projects a voter supports, averaged
    gini_cost: Fraction | None
    gini_count: Fraction | None
    unapproved_spend: Fraction                # spend on funded projects without a strict majority
    unapproved_spend_share: Fraction | None   # ... as a share of the budget


@dataclass(frozen=True)
class ProjectChange:
    id: str
    funded_by: tuple[str, ...]            # the rules that fund it, in the order given
    not_funded_by: tuple[str, ...]


# --------------------------------------------------------------------------- inputs


def _elections(elections: Elections) -> list[Election]:
    if isinstance(elections, tuple) and len(elections) == 2 and isinstance(elections[0], Instance):
        return [elections]  # one district
    return list(elections)


def _funded(funded: Funded, n: int) -> list[frozenset[str]]:
    items = list(funded)
    if n == 1 and (not items or isinstance(items[0], str)):
        return [frozenset(items)]  # one district's ids
    if items and isinstance(items[0], str):
        raise ValueError("funded: give one collection of ids per district when there are several districts")
    if len(items) != n:
        raise ValueError(f"funded: {len(items)} collections of ids for {n} districts")
    return [frozenset(str(x) for x in f) for f in items]


def _ratio(a, b) -> Fraction | None:
    return Fraction(a) / Fraction(b) if b else None


def _median(values: list) -> Fraction | None:
    return Fraction(statistics.median(values)) if values else None


def _mean(values: list) -> Fraction | None:
    return Fraction(sum(values)) / len(values) if values else None


def _supported(instance: Instance, profile: Profile) -> list[frozenset[str]]:
    ids = frozenset(p.id for p in instance.projects)
    return [b.supported() & ids for b in profile.ballots]


# --------------------------------------------------------------------------- figures


def gini(values: Iterable) -> Fraction | None:
    """Gini coefficient: mean absolute difference over twice the mean (sorted-sum form); None for no values."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        return None
    if xs[0] < 0:
        raise ValueError("gini: values must not be negative")
    total = sum(xs)
    if total == 0:
        return Fraction(0)  # everyone equally (un)satisfied
    weighted = sum((n - i) * x for i, x in enumerate(xs))
    return (n + 1 - 2 * Fraction(weighted) / Fraction(total)) / n


def _scaled(instance: Instance) -> tuple[dict[str, int], int]:
    """Costs and budget as integers on one scale (exact; sums of ints are fast on 100 000 ballots)."""
    money = [Fraction(p.cost) for p in instance.projects] + [Fraction(instance.budget)]
    scale = math.lcm(*(m.denominator for m in money))
    return {p.id: int(Fraction(p.cost) * scale) for p in instance.projects}, int(Fraction(instance.budget) * scale)


def _budget_shares(es: list[Election], sets: list[list[frozenset[str]]]) -> tuple[list[int], int]:
    """Per ballot, the cost of its ids in `sets` (one list per district) as a share of the district's
    budget: integer numerators over one denominator common to all districts (pooled means, medians
    and Ginis stay exact and fast). Districts without a budget are left out."""
    per: list[tuple[list[int], int]] = []
    for (inst, _prof), district_sets in zip(es, sets):
        if not inst.budget:
            continue
        cost, budget = _scaled(inst)
        per.append(([sum(cost[i] for i in s) for s in district_sets], budget))
    common = math.lcm(*(b for _, b in per)) if per else 1
    return [v * (common // b) for vals, b in per for v in vals], common


def ballot_length(elections: Elections) -> BallotLength:
    lengths = [len(s) for inst, prof in _elections(elections) for s in _supported(inst, prof)]
    dist = Counter(lengths)
    return BallotLength(len(lengths), _mean(lengths), _median(lengths), dict(sorted(dist.items())))


def ballot_spend(elections: Elections) -> BallotSpend:
    es = _elections(elections)
    values, denominator = _budget_shares(es, [_supported(inst, prof) for inst, prof in es])
    return BallotSpend(len(values), _over(_mean(values), denominator), _over(_median(values), denominator))


def _over(x: Fraction | None, denominator: int) -> Fraction | None:
    return None if x is None else x / denominator


def _quartiles(xs: list[Fraction]) -> tuple[Fraction, Fraction, Fraction]:
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q1, q2, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return Fraction(q1), Fraction(q2), Fraction(q3)


def cost_distribution(elections: Elections) -> CostDistribution:
    es = _elections(elections)
    costs = sorted(Fraction(p.cost) for inst, _ in es for p in inst.projects)
    shares = [Fraction(p.cost) / inst.budget for inst, _ in es if inst.budget for p in inst.projects]
    if not costs:
        return CostDistribution(0, None, None, None, None, None, Fraction(0), None)
    q1, q2, q3 = _quartiles(costs)
    return CostDistribution(len(costs), costs[0], q1, q2, q3, costs[-1], sum(costs, Fraction(0)),
                            max(shares) if shares else None)


def spending(elections: Elections, funded: Funded) -> Spending:
    es = _elections(elections)
    fs = _funded(funded, len(es))
    spend = sum((Fraction(p.cost) for (inst, _), f in zip(es, fs) for p in inst.projects if p.id in f), Fraction(0))
    budget = sum((Fraction(inst.budget) for inst, _ in es), Fraction(0))
    count = sum(1 for (inst, _), f in zip(es, fs) for p in inst.projects if p.id in f)
    return Spending(count, spend, budget, _ratio(spend, budget))


def category_shares(elections: Elections, funded: Funded, term_of: Mapping[str, str] | None = None
                    ) -> dict[str, CategoryShare]:
    es = _elections(elections)
    fs = _funded(funded, len(es))
    budget = sum((Fraction(inst.budget) for inst, _ in es), Fraction(0))
    funded_total = sum(1 for (inst, _), f in zip(es, fs) for p in inst.projects if p.id in f)
    acc: dict[str, list] = {}
    for (inst, _), f in zip(es, fs):
        for p in inst.projects:
            terms = {(term_of or {}).get(c, c) for c in p.categories} or {UNCATEGORISED}
            for t in terms:
                a = acc.setdefault(t, [0, 0, Fraction(0)])
                a[0] += 1
                if p.id in f:
                    a[1] += 1
                    a[2] += Fraction(p.cost)
    return {t: CategoryShare(n, k, _ratio(k, funded_total), spend, _ratio(spend, budget))
            for t, (n, k, spend) in sorted(acc.items())}


def fairness(elections: Elections, funded: Funded) -> Fairness:
    return fairness_many(elections, {"": funded})[""]


def fairness_many(elections: Elections, funded_by: Mapping[str, Funded]) -> dict[str, Fairness]:
    """`fairness` for several funded sets of the same elections (e.g. one per rule): each district's
    ballots are read into a ballots x projects 0/1 matrix once, and every figure is a matrix product
    on integers (exact: money is scaled to integers; numpy's int64 is used only where no sum can
    overflow it, else Python's integers take over)."""
    es = _elections(elections)
    prepared = [_Incidence(inst, prof) for inst, prof in es]
    budget = sum((Fraction(inst.budget) for inst, _ in es), Fraction(0))
    common = math.lcm(*(x.budget for x in prepared if x.budget)) if any(x.budget for x in prepared) else 1
    out: dict[str, Fairness] = {}
    for name, funded in funded_by.items():
        by_count, by_cost = [], []
        unapproved = Fraction(0)
        for x, f in zip(prepared, _funded(funded, len(es))):
            counts, costs, spend_unapproved = x.figures(f)
            by_count.append(counts)
            if x.budget:
                by_cost.append(_times(costs, common // x.budget))
            unapproved += spend_unapproved
        count_values = _concat(by_count)
        cost_values = _concat(by_cost)
        voters = len(count_values)
        with_funded = int(np.count_nonzero(count_values)) if voters else 0
        out[name] = Fairness(voters, with_funded, _ratio(with_funded, voters),
                             _over(_int_mean(cost_values), common), _int_mean(count_values),
                             _int_gini(cost_values), _int_gini(count_values), unapproved, _ratio(unapproved, budget))
    return out


SAFE = 2 ** 62  # below this, sums and products of int64 cannot overflow


class _Incidence:
    """One district's ballots as a 0/1 matrix (ballots x projects), costs and budget as integers."""

    def __init__(self, instance: Instance, profile: Profile):
        self.ids = [p.id for p in instance.projects]
        col = {pid: j for j, pid in enumerate(self.ids)}
        rows, cols = [], []
        for r, b in enumerate(profile.ballots):
            for pid in b.supported():
                j = col.get(pid)
                if j is not None:
                    rows.append(r)
                    cols.append(j)
        self.matrix = np.zeros((len(profile.ballots), len(self.ids)), dtype=np.int8)
        self.matrix[rows, cols] = 1
        self.support = self.matrix.sum(axis=0, dtype=np.int64)
        self.voters = len(profile.ballots)
        self.money = {p.id: Fraction(p.cost) for p in instance.projects}
        cost, self.budget = _scaled(instance) if instance.budget else ({p.id: 0 for p in instance.projects}, 0)
        self.cost = [cost[pid] for pid in self.ids]

    def figures(self, funded: frozenset[str]):
        """(funded projects per ballot, scaled cost of them per ballot, spend without a majority)."""
        chosen = np.array([pid in funded for pid in self.ids], dtype=np.int64)
        counts = self.matrix @ chosen if self.ids else np.zeros(self.voters, dtype=np.int64)
        picked = [c if pid in funded else 0 for pid, c in zip(self.ids, self.cost)]
        if sum(picked) < SAFE:
            costs = self.matrix @ np.array(picked, dtype=np.int64) if self.ids else counts * 0
        else:  # costs too large for int64 sums: Python integers, row by row
            costs = [sum(c for c, m in zip(picked, row) if m) for row in self.matrix.tolist()]
        unapproved = sum((self.money[pid] for j, pid in enumerate(self.ids)
                          if pid in funded and 2 * int(self.support[j]) <= self.voters), Fraction(0))
        return counts, costs, unapproved


def _times(values, k: int):
    if isinstance(values, np.ndarray) and (not len(values) or int(values.max()) * k < SAFE // max(len(values), 1)):
        return values * k
    return [int(v) * k for v in values]


def _concat(parts: list):
    if all(isinstance(p, np.ndarray) for p in parts):
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return [int(v) for p in parts for v in p]


def _int_mean(values) -> Fraction | None:
    if not len(values):
        return None
    total = int(values.sum()) if isinstance(values, np.ndarray) else sum(values)
    return Fraction(total, len(values))


def _int_gini(values) -> Fraction | None:
    """gini() on integers, with numpy when n x total cannot overflow int64."""
    n = len(values)
    if isinstance(values, np.ndarray) and n and int(values.sum()) * (n + 1) < SAFE:
        xs = np.sort(values)
        total = int(xs.sum())
        if total == 0:
            return Fraction(0)
        weighted = int(((n - np.arange(n, dtype=np.int64)) * xs).sum())
        return (n + 1 - 2 * Fraction(weighted, total)) / n
    return gini([int(v) for v in values])


def changes(funded_by_rule: Mapping[str, Funded]) -> tuple[ProjectChange, ...]:
    rules = list(funded_by_rule)
    if not rules:
        return ()
    sets: dict[str, frozenset[str]] = {}
    for r in rules:
        value = list(funded_by_rule[r])
        flat = value if not value or isinstance(value[0], str) else [x for f in value for x in f]
        sets[r] = frozenset(str(x) for x in flat)
    every = sorted(set().union(*sets.values()), key=_natural)
    out = []
    for pid in every:
        yes = tuple(r for r in rules if pid in sets[r])
        if len(yes) != len(rules):
            out.append(ProjectChange(pid, yes, tuple(r for r in rules if pid not in sets[r])))
    return tuple(out)


def _natural(pid: str):
    return (0, int(pid), pid) if pid.isdigit() else (1, 0, pid)


# --------------------------------------------------------------------------- JSON


def as_json(value: Any, *, share_places: int = SHARE_PLACES) -> Any:
    """Any result above as JSON-ready data: ratios and averages (fields named *share*, mean*, gini*, and
    BallotLength's median) as floats rounded to 6 places, other Fractions (money) exact (number_json:
    int or decimal text)."""
    if is_dataclass(value) and not isinstance(value, type):
        averages = getattr(value, "averages", ())
        return {f.name: _field_json(f.name, getattr(value, f.name), share_places, f.name in averages)
                for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): as_json(v, share_places=share_places) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(v, share_places=share_places) for v in value]
    if isinstance(value, Fraction):
        return number_json(value)
    return value


def _field_json(name: str, value: Any, places: int, average: bool) -> Any:
    if isinstance(value, Fraction) and ("share" in name or name.startswith(("mean", "gini")) or average):
        return round(float(value), places)
    return as_json(value, share_places=places)


__all__ = ["BallotLength", "BallotSpend", "CategoryShare", "CostDistribution", "Election", "Fairness",
           "ProjectChange", "Spending", "as_json", "ballot_length", "ballot_spend", "category_shares", "changes",
           "cost_distribution", "fairness", "fairness_many", "gini", "spending"]
