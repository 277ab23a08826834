"""pabutools 1.2.3 as a test oracle for the allocation rules.

Convert our `Instance`/`Profile` to pabutools objects and back, run a pabutools
rule under a tie-breaking order of our choosing, get the funded project ids:

    from oracle import read, run, tie_rule, sat_class, greedy, phragmen, max_welfare
    instance, profile = read("Poland_Warszawa_2017_Plac_Wojska_Polskiego.pb")
    order = by_id(p.id for p in instance.projects).order
    greedy(instance, profile, order)                                 # frozenset of ids
    run(method_of_equal_shares, instance, profile, order=order,      # any pabutools rule
        sat=sat_class(profile.vote_type, "cost"), voter_budget_increment=1)

Conventions (they make pabutools answer the question our rules answer):
- pabutools' default tie-breaking compares names as strings ("10" < "9");
  `tie_rule(order)` breaks ties by our order instead, so always pass one;
- pabutools funds projects nobody supports (score 0) when money is left; ours
  never do, so the wrappers below drop them from pabutools' answer
  (`supported_only`); `run` leaves answers as they are;
- satisfaction: `sat_class(vote_type, "cost" | "cardinality")` is pabutools'
  class for utility x cost resp. utility (votes, points, pabutools' Borda), with
  two small classes for points x cost and Borda x cost, which pabutools lacks.

Speed: identical ballots are merged into a pabutools multiprofile; conversions
are cached per (instance, profile) object pair. pabutools spends ~20 s per rule on
the 61 668 ballots of Poland_Warszawa_2026.pb, so for rules that only see each
project's total (greedy, max-welfare) an approval or points profile of more
than COMPRESS_ABOVE ballots is *compressed*: one single-project ballot per
project, its multiplicity the project's total (votes or points), which gives
every pabutools satisfaction above the same per-project totals (checked in
test_satisfaction.py). Smaller files, and all ordinal ones, go to pabutools
whole. Phragmén cannot be compressed: its answers on Poland_Warszawa_2026.pb
are recorded (`record_pabutools.py`, `pabutools_answers.json`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence

from gmpy2 import mpq
from pabutools.election import (
    Additive_Borda_Sat, Additive_Cardinal_Sat, AdditiveSatisfaction, ApprovalBallot, ApprovalProfile,
    CardinalBallot, CardinalProfile, Cardinality_Sat, Cost_Sat, CumulativeBallot, CumulativeProfile,
    OrdinalBallot, OrdinalProfile, PositionalSatisfaction, parse_pabulib,
    ApprovalMultiProfile, CardinalMultiProfile, CumulativeMultiProfile,
    FrozenApprovalBallot, FrozenCardinalBallot, FrozenCumulativeBallot,
)
from pabutools.election import Instance as PbInstance
from pabutools.election import Project as PbProject
from pabutools.election.satisfaction.additivesatisfaction import additive_card_sat_func
from pabutools.election.satisfaction.positionalsatisfaction import borda_sat_func
from pabutools.rules import BudgetAllocation, greedy_utilitarian_welfare, max_additive_utilitarian_welfare, sequential_phragmen
from pabutools.tiebreaking import TieBreakingRule

from pb_engine.allocation.instance import Instance, Project
from pb_engine.ballots import kinds
from pb_engine.ballots.kinds import Profile, VoteType

PABULIB_DIR = Path(__file__).resolve().parents[1] / "data" / "pabulib"
APPROVAL_SHAPED = (VoteType.APPROVAL, VoteType.CHOOSE_1)


# --------------------------------------------------------------------------- files


def pabulib_files() -> list[Path]:
    return sorted(PABULIB_DIR.glob("*.pb"))


@lru_cache(maxsize=None)
def read(name: str | Path) -> tuple[Instance, Profile]:
    """A test file (by file name or path) as our domain objects, through pb_engine.pabulib; cached."""
    from pb_engine.pabulib import parse

    path = Path(name) if Path(name).is_absolute() else PABULIB_DIR / name
    pb = parse(path)
    return pb.instance, pb.profile


def ballots_in(name: str | Path) -> int:
    """Number of ballots in a test file, without parsing it (lines after VOTES and its header)."""
    path = Path(name) if Path(name).is_absolute() else PABULIB_DIR / name
    lines = [line for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    return len(lines) - lines.index("VOTES") - 2


def read_with_pabutools(path: str | Path) -> tuple[Instance, Profile]:
    """Same, through pabutools' own parser (slower; for checking our parser against it)."""
    return from_pabutools(*parse_pabulib(str(path)))


# --------------------------------------------------------------------------- conversion


@dataclass
class PbElection:
    instance: PbInstance
    profile: object                 # a pabutools (multi)profile of the matching ballot type
    project: dict[str, PbProject]   # our id -> pabutools project (its name is our id)

    def restricted(self, ids: Iterable[str]) -> PbInstance:
        """The pabutools instance with only these projects (ballots keep mentioning the others)."""
        ids = set(ids)
        return PbInstance([p for p in self.instance if p.name in ids], budget_limit=self.instance.budget_limit,
                          meta=dict(self.instance.meta))


def _q(x: Fraction | int) -> mpq:
    x = Fraction(x)
    return mpq(x.numerator, x.denominator)


def _fraction(x) -> Fraction:
    x = mpq(x)
    return Fraction(int(x.numerator), int(x.denominator))


_cache: dict[tuple, tuple[Instance, Profile, PbElection]] = {}
COMPRESS_ABOVE = 2_500  # ballots


def compressible(profile: Profile) -> bool:
    """Whether the additive wrappers below hand pabutools a compressed profile."""
    return len(profile) > COMPRESS_ABOVE and profile.vote_type is not VoteType.ORDINAL


def to_pabutools(instance: Instance, profile: Profile, *, multi: bool = True, approval: bool = False,
                 compress: bool = False) -> PbElection:
    """pabutools objects for our instance and profile.

    multi: merge identical ballots (a multiprofile); approval: turn every ballot into the
    approval set of the projects it gives positive utility (pabutools' Borda for rankings),
    for approval-only rules such as sequential Phragmén; compress: see the module doc
    (approval and points ballots only; for rules that only use per-project totals).
    """
    key = (id(instance), id(profile), multi, approval, compress)
    hit = _cache.get(key)
    if hit is not None and hit[0] is instance and hit[1] is profile:
        return hit[2]
    projects = {p.id: PbProject(p.id, _q(p.cost)) for p in instance.projects}
    pb_instance = PbInstance(projects.values(), budget_limit=_q(instance.budget), meta=dict(instance.meta))
    vt = profile.vote_type
    if compress:
        pb_profile = _compressed(instance, profile, projects, pb_instance)
        election = PbElection(pb_instance, pb_profile, projects)
        _cache[key] = (instance, profile, election)
        return election
    if approval or vt in APPROVAL_SHAPED:
        ballots = [ApprovalBallot(projects[pid] for pid in _positive(b) if pid in projects) for b in profile.ballots]
        pb_profile = ApprovalProfile(ballots, instance=pb_instance)
    elif vt in (VoteType.CUMULATIVE, VoteType.SCORING):
        cls, prof_cls = (CumulativeBallot, CumulativeProfile) if vt is VoteType.CUMULATIVE else (CardinalBallot, CardinalProfile)
        ballots = [cls({projects[pid]: mpq(n) for pid, n in b.points if pid in projects}) for b in profile.ballots]
        pb_profile = prof_cls(ballots, instance=pb_instance)
    elif vt is VoteType.ORDINAL:
        ballots = [OrdinalBallot([projects[pid] for pid in b.ranking if pid in projects]) for b in profile.ballots]
        pb_profile = OrdinalProfile(ballots, instance=pb_instance)
    else:
        raise ValueError(vt)
    election = PbElection(pb_instance, pb_profile.as_multiprofile() if multi else pb_profile, projects)
    _cache[key] = (instance, profile, election)
    return election


def _compressed(instance: Instance, profile: Profile, projects: dict[str, PbProject], pb_instance: PbInstance):
    total = dict.fromkeys(projects, 0)
    for b in profile.ballots:
        for pid, n in (dict.fromkeys(b.projects, 1).items() if isinstance(b, kinds.ApprovalBallot) else b.points):
            if pid in total:
                total[pid] += n
    vt = profile.vote_type
    if vt in APPROVAL_SHAPED:
        out = ApprovalMultiProfile(instance=pb_instance)
        make = lambda p: FrozenApprovalBallot([p])  # noqa: E731
    elif vt is VoteType.CUMULATIVE:
        out = CumulativeMultiProfile(instance=pb_instance)
        make = lambda p: FrozenCumulativeBallot({p: mpq(1)})  # noqa: E731
    elif vt is VoteType.SCORING:
        out = CardinalMultiProfile(instance=pb_instance)
        make = lambda p: FrozenCardinalBallot({p: mpq(1)})  # noqa: E731
    else:
        raise ValueError(f"cannot compress {vt.value} ballots")
    for pid, n in total.items():
        if n < 0:
            raise ValueError("cannot compress negative totals")
        if n:
            out[make(projects[pid])] = n
    return out


def _positive(ballot) -> Iterable[str]:
    """Projects with positive utility, computed the pabutools way (points > 0, Borda > 0)."""
    if isinstance(ballot, kinds.ApprovalBallot):
        return ballot.projects
    if isinstance(ballot, kinds.CumulativeBallot):
        return [pid for pid, n in ballot.points if n > 0]
    ranking = OrdinalBallot([PbProject(pid) for pid in ballot.ranking])
    return [pid for pid in ballot.ranking if borda_sat_func(ranking, PbProject(pid)) > 0]


def from_pabutools(pb_instance: PbInstance, pb_profile) -> tuple[Instance, Profile]:
    """Our objects for a pabutools instance and (non-multi) profile, e.g. from `parse_pabulib`."""
    vt = VoteType(pb_instance.meta.get("vote_type", "approval"))
    projects = []
    for p in sorted(pb_instance, key=lambda p: p.name):
        meta = dict(pb_instance.project_meta.get(p, {}))
        meta.pop("cost", None)
        meta.pop("project_id", None)
        name = meta.pop("name", "")
        cats = tuple(sorted(meta.pop("categories", ()) or ()))
        projects.append(Project(p.name, _fraction(p.cost), name, cats,
                                {k: str(v) for k, v in meta.items() if not isinstance(v, set)}))
    ballots = []
    for b in pb_profile:
        if vt in APPROVAL_SHAPED:
            ballots.append(kinds.ApprovalBallot(frozenset(p.name for p in b)))
        elif vt is VoteType.ORDINAL:
            ballots.append(kinds.OrdinalBallot(tuple(p.name for p in b)))
        else:
            points = {p.name: _fraction(n) for p, n in b.items()}
            assert all(x.denominator == 1 for x in points.values()), "points must be whole numbers"
            ballots.append(kinds.CumulativeBallot.of({k: int(v) for k, v in points.items()}))
    voters = tuple(dict(getattr(b, "meta", {}) or {}) for b in pb_profile)
    meta = {k: str(v) for k, v in pb_instance.meta.items()}
    return Instance(_fraction(pb_instance.budget_limit), tuple(projects), meta), Profile(vt, tuple(ballots), voters)


# --------------------------------------------------------------------------- tie-breaking, satisfaction


def tie_rule(order: Sequence[str]) -> TieBreakingRule:
    """pabutools tie-breaking by our order (first wins); unknown names go last, by name."""
    rank = {pid: i for i, pid in enumerate(order)}
    return TieBreakingRule(lambda inst, prof, proj: (rank.get(proj.name, len(rank)), proj.name))


class Points_Cost_Sat(AdditiveSatisfaction):
    """points x cost: pabutools' Additive_Cardinal_Sat weighted by cost, as Cost_Sat weighs approvals."""

    def __init__(self, instance, profile, ballot):
        super().__init__(instance, profile, ballot,
                         lambda i, pr, b, p, pre: additive_card_sat_func(i, pr, b, p, pre) * p.cost)


class Borda_Cost_Sat(PositionalSatisfaction):
    """Borda x cost: pabutools' Additive_Borda_Sat weighted by cost."""

    def __init__(self, instance, profile, ballot):
        super().__init__(instance, profile, ballot, lambda b, p: borda_sat_func(b, p) * p.cost, sum)


def sat_class(vote_type: VoteType, satisfaction: str) -> type:
    """pabutools satisfaction: utility x cost ("cost") or utility ("cardinality")."""
    if vote_type in APPROVAL_SHAPED:
        return {"cost": Cost_Sat, "cardinality": Cardinality_Sat}[satisfaction]
    if vote_type is VoteType.ORDINAL:
        return {"cost": Borda_Cost_Sat, "cardinality": Additive_Borda_Sat}[satisfaction]
    return {"cost": Points_Cost_Sat, "cardinality": Additive_Cardinal_Sat}[satisfaction]


def scores(instance: Instance, profile: Profile) -> dict[str, Fraction]:
    """Votes, points or Borda points per project, as pabutools computes them."""
    e = to_pabutools(instance, profile, compress=compressible(profile))
    sats = e.profile.as_sat_profile(sat_class(profile.vote_type, "cardinality"))
    return {pid: _fraction(sats.total_satisfaction_project(p)) for pid, p in e.project.items()}


def welfare(instance: Instance, profile: Profile, satisfaction: str, funded: Iterable[str]) -> Fraction:
    """Total satisfaction of a set of projects, as pabutools computes it."""
    e = to_pabutools(instance, profile, compress=compressible(profile))
    sats = e.profile.as_sat_profile(sat_class(profile.vote_type, satisfaction))
    return _fraction(sats.total_satisfaction([e.project[pid] for pid in funded]))


# --------------------------------------------------------------------------- rules


def ids(allocation) -> frozenset[str]:
    return frozenset(p.name for p in allocation)


def run(rule: Callable, instance: Instance, profile: Profile, *, order: Sequence[str] | None = None,
        sat: type | None = None, only: Iterable[str] | None = None, approval: bool = False,
        compress: bool = False, **kwargs):
    """Run any pabutools rule on our objects; `only`: restrict the instance to these ids.

    Returns a frozenset of ids, or a list of them for an irresolute rule.
    """
    e = to_pabutools(instance, profile, approval=approval, compress=compress)
    inst = e.instance if only is None else e.restricted(only)
    if order is not None:
        kwargs["tie_breaking"] = tie_rule(order)
    if sat is not None:
        kwargs["sat_class"] = sat
    out = rule(inst, e.profile, **kwargs)
    return ids(out) if isinstance(out, BudgetAllocation) else [ids(a) for a in out]


def supported_only(funded: frozenset[str], instance: Instance, profile: Profile) -> frozenset[str]:
    s = scores(instance, profile)
    return frozenset(pid for pid in funded if s[pid] > 0)


def greedy(instance: Instance, profile: Profile, order: Sequence[str], satisfaction: str = "cost",
           threshold: Fraction | None = None) -> frozenset[str]:
    """pabutools' greedy_utilitarian_welfare; with `threshold`, on the projects scoring at least that.

    Borda satisfactions are additive but not pabutools `AdditiveSatisfaction`s: saying so
    selects pabutools' additive greedy, much faster than its general one, same answer.
    """
    only = None
    if threshold is not None:
        only = [pid for pid, s in scores(instance, profile).items() if s >= threshold]
    funded = run(greedy_utilitarian_welfare, instance, profile, order=order,
                 sat=sat_class(profile.vote_type, satisfaction), only=only, is_sat_additive=True,
                 compress=compressible(profile))
    return supported_only(funded, instance, profile)


def greedy_no_skip(instance: Instance, profile: Profile, order: Sequence[str],
                   satisfaction: str = "cost") -> frozenset[str]:
    """The longest prefix of pabutools' greedy order that fits; projects dearer than the budget are left out.

    pabutools has no such rule: its greedy's analytics give its order (by satisfaction per cost,
    ties by the tie-breaking rule), and the walk down that order is done here.
    """
    s = scores(instance, profile)
    only = [p.id for p in instance.projects if p.cost <= instance.budget and s[p.id] > 0]
    e = to_pabutools(instance, profile, compress=compressible(profile))
    alloc = greedy_utilitarian_welfare(e.restricted(only), e.profile, sat_class=sat_class(profile.vote_type, satisfaction),
                                       tie_breaking=tie_rule(order), analytics=True, is_sat_additive=True)
    ranked = sorted(alloc.details.projects, key=lambda d: -d.score)  # stable: keeps the tie order
    left, funded = instance.budget, []
    for d in ranked:
        cost = _fraction(d.project.cost)
        if cost > left:
            break
        left -= cost
        funded.append(d.project.name)
    return frozenset(funded)


def max_welfare(instance: Instance, profile: Profile, satisfaction: str, resolute: bool = True):
    """pabutools' max_additive_utilitarian_welfare: one optimal set (exact primal-dual), or all (ILP)."""
    sat = sat_class(profile.vote_type, satisfaction)
    return run(max_additive_utilitarian_welfare, instance, profile, sat=sat, resoluteness=resolute,
               compress=compressible(profile))


def phragmen(instance: Instance, profile: Profile, order: Sequence[str], overflow: str = "stop") -> frozenset[str]:
    """pabutools' sequential_phragmen on the approval sets of positive utility.

    overflow="stop" is pabutools' own rule. overflow="skip" (go on with the projects that
    still fit) is obtained from it: when pabutools stops, every project not funded that
    costs more than the money left can never be funded later either, and was not chosen
    before; removing them all and running again replays the same steps and goes on.
    """
    supported = {pid for pid, n in _approval_counts(instance, profile).items() if n > 0}
    removed: set[str] = set()
    by_id = instance.by_id
    while True:
        funded = run(sequential_phragmen, instance, profile, order=order, approval=True,
                     only=supported - removed)
        if overflow == "stop":
            return funded
        left = instance.budget - sum(by_id[pid].cost for pid in funded)
        misfits = {pid for pid in supported - removed - funded if by_id[pid].cost > left}
        if not misfits:
            return funded
        removed |= misfits


def _approval_counts(instance: Instance, profile: Profile) -> dict[str, int]:
    e = to_pabutools(instance, profile, approval=True)
    return {pid: e.profile.approval_score(p) for pid, p in e.project.items()}
