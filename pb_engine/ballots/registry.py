"""The ballot kinds residents vote with, one entry each: adding a kind touches this module and its tests.

An entry holds everything the engine knows about its kind:
- `field` and `shape`: the JSON content a voter sends (`{"projects": [...]}` ...);
- `limits`: the BallotRules fields that apply (the others are refused in the settings),
  `required`: those a round must set;
- `parse`: the content's field -> a domain ballot (pb_engine.ballots.kinds), refusing a bad shape;
- `check`: the limits a parsed ballot breaks, each a code with its figures (ballots.refusals);
- `vote_type`: the Pabulib vote type its ballots are counted and exported as, which also fixes the
  satisfaction the rules read from them (pb_engine.allocation.satisfaction works per vote type);
- `pabulib_meta`: its limits in Pabulib's META keys; `reads` and `from_pabulib_meta`: the Pabulib
  vote types a file's ballots are imported as this kind from, and the round settings read from the
  file's META (`settings_from_pabulib` picks the entry);
- `to_content` / `from_content`: the stored form and back;
- `description`: one plain line for pages ("how to vote").

Checks common to every kind (content is an object with the one field; every project named is on
this district's ballot) live in pb_engine.ballots.validation, which dispatches here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Mapping

from pb_engine.ballots.kinds import ApprovalBallot, Ballot, CumulativeBallot, OrdinalBallot, VoteType
from pb_engine.ballots.refusals import Refusals

if TYPE_CHECKING:  # annotations only: rules.py and validation.py import this module
    from pb_engine.ballots.rules import BallotRules
    from pb_engine.ballots.validation import Catalog

# Every BallotRules limit, in the order BallotRules declares them.
LIMITS = ("min_projects", "max_projects", "min_spend_share", "max_points", "max_points_per_project",
          "min_rank", "max_rank")


@dataclass(frozen=True)
class BallotKind:
    id: str
    noun: str                                   # "an approval ballot", for messages
    field: str                                  # the one key of the content
    shape: str                                  # the content's shape, for messages
    description: str                            # one plain line for pages
    limits: tuple[str, ...]                     # BallotRules fields that apply
    required: tuple[str, ...]                   # ... and those a round must set
    ballot: type                                # the domain ballot class
    vote_type: Callable[["BallotRules"], VoteType]
    parse: Callable[[Any, Refusals], Ballot]    # the field's value -> ballot; problems go to the Refusals
    check: Callable[["BallotRules", Ballot, "Catalog", bool, Refusals], None]  # bool: every project known
    pabulib_meta: Callable[["BallotRules", int, Callable[[int], str]], dict[str, str]]
    to_content: Callable[[Ballot], dict]
    from_content: Callable[[Mapping[str, Any]], Ballot]
    reads: tuple[VoteType, ...] = ()            # Pabulib vote types imported as this kind
    # (META number reader, vote type, ballots) -> (settings that always hold, limits read from META or None)
    from_pabulib_meta: Callable[..., tuple[dict, dict]] | None = None

    def named(self, ballot: Ballot) -> list[str]:
        """The projects a ballot names, in its order (ranking order; sorted ids for a set)."""
        if isinstance(ballot, OrdinalBallot):
            return list(ballot.ranking)
        if isinstance(ballot, CumulativeBallot):
            return [p for p, _ in ballot.points]
        return sorted(ballot.projects)


# --- shared pieces ----------------------------------------------------------------

def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def percent(share: Fraction) -> str:
    pct = share * 100
    if pct.denominator == 1:
        return f"{pct.numerator} %"
    return f"{float(pct):.2f}".rstrip("0").rstrip(".") + " %"


def project_id(raw: Any) -> str | None:
    """A project id as the domain spells it (str), from an int or a short non-blank string; else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, str) and raw.strip() and len(raw) <= 100:
        return raw.strip()
    return None


def _stored_id(pid: str):
    # Numeric ids are stored as ints (our project ids are proposal ids).
    return int(pid) if pid.isdigit() and str(int(pid)) == pid else pid


def _id_list(key: str, value: Any, out: Refusals, ranked: bool) -> list[str]:
    """A list of project ids, each once (the voter meant something by a repeat: we do not guess)."""
    if not isinstance(value, (list, tuple)):
        out.add(key, "not_a_list", f"{key} must be a list of project ids, got {type(value).__name__}",
                field=key, got=type(value).__name__)
        return []
    ids: list[str] = []
    first_at: dict[str, int] = {}
    for pos, raw in enumerate(value, start=1):
        pid = project_id(raw)
        if pid is None:
            out.add(key, "not_a_project_id", f"{key}[{pos - 1}]: {raw!r} is not a project id",
                    field=key, index=pos - 1, value=repr(raw))
            continue
        if pid in first_at:
            if ranked:
                out.add(key, "ranked_twice",
                        f"project {pid} is ranked more than once (positions {first_at[pid]} and {pos})",
                        project=pid, first=first_at[pid], second=pos)
            else:
                out.add(key, "chosen_twice", f"project {pid} is chosen more than once", project=pid)
            continue
        first_at[pid] = pos
        ids.append(pid)
    return ids


def _count(key: str, n: int, lo: int, hi: int | None, what: str, word: str, few: str, many: str,
           param: str, out: Refusals) -> None:
    """`n` projects against [lo, hi]; `what` says how they were named ("chosen", "ranked", ...)."""
    if n < lo:
        out.add(key, few, f"{plural(n, word)} {what}, at least {lo} required", **{param: n, "min": lo})
    if hi is not None and n > hi:
        out.add(key, many, f"{plural(n, word)} {what}, at most {hi} allowed", **{param: n, "max": hi})


def _min_one(value: int | None) -> int:
    # An empty ballot is more often a mistake than an abstention: at least one unless the round says 0.
    return 1 if value is None else value


# --- approval and knapsack: a set of projects --------------------------------------------

def _parse_set(value: Any, out: Refusals) -> Ballot:
    return ApprovalBallot(frozenset(_id_list("projects", value, out, ranked=False)))


def _set_to_content(ballot: Ballot) -> dict:
    from pb_engine.allocation.tiebreak import natural_key

    return {"projects": [_stored_id(p) for p in sorted(ballot.projects, key=natural_key)]}


def _set_from_content(content: Mapping[str, Any]) -> Ballot:
    return ApprovalBallot(frozenset(str(p) for p in content.get("projects", [])))


def _check_count_chosen(rules: "BallotRules", ballot: Ballot, out: Refusals) -> None:
    _count("projects", len(ballot.projects), _min_one(rules.min_projects), rules.max_projects, "chosen", "project",
           "too_few_projects", "too_many_projects", "chosen", out)


def _check_approval(rules: "BallotRules", ballot: Ballot, catalog: "Catalog", known: bool, out: Refusals) -> None:
    _check_count_chosen(rules, ballot, out)


def _check_knapsack(rules: "BallotRules", ballot: Ballot, catalog: "Catalog", known: bool, out: Refusals) -> None:
    _check_count_chosen(rules, ballot, out)
    if not known:
        return  # the cost of a project not on this ballot is not ours to add up
    m, budget = catalog.money, catalog.budget
    total = sum(catalog.costs[p] for p in ballot.projects)
    if total > budget:
        out.add("projects", "over_budget",
                f"total {m(total)} exceeds the district budget {m(budget)} by {m(total - budget)}",
                total=total, budget=budget, excess=total - budget)
    share = rules.min_spend_share
    if share is not None and total < share * budget:
        need = math.ceil(share * budget)
        out.add("projects", "under_min_spend",
                f"total {m(total)} is below the minimum spend {m(need)} ({percent(share)} of the "
                f"district budget {m(budget)}) by {m(need - total)}",
                total=total, minimum=need, share=share, budget=budget, shortfall=need - total)


def _length_meta(lo: int | None, hi: int | None) -> dict[str, str]:
    out = {}
    if lo is not None:
        out["min_length"] = str(lo)
    if hi is not None:
        out["max_length"] = str(hi)
    return out


def _approval_meta(rules: "BallotRules", budget: int, money: Callable[[int], str]) -> dict[str, str]:
    return _length_meta(rules.min_projects, rules.max_projects)


def _knapsack_meta(rules: "BallotRules", budget: int, money: Callable[[int], str]) -> dict[str, str]:
    meta = {**_length_meta(rules.min_projects, rules.max_projects), "max_sum_cost": money(budget)}
    if rules.min_spend_share:
        meta["min_sum_cost"] = money(math.ceil(rules.min_spend_share * budget))
    return meta


# --- cumulative: points per project --------------------------------------------------

def _parse_points(value: Any, out: Refusals) -> Ballot:
    key = "points"
    if not isinstance(value, Mapping):
        out.add(key, "points_not_object", f"points must be an object {{project id: points}}, got {type(value).__name__}",
                got=type(value).__name__)
        return CumulativeBallot(())
    points: dict[str, int] = {}
    for raw_id, raw_n in value.items():
        pid = project_id(raw_id)
        if pid is None:
            out.add(key, "points_key_not_a_project_id", f"{raw_id!r} is not a project id", value=repr(raw_id))
            continue
        if pid in points:
            out.add(key, "points_given_twice", f"project {pid} is given points twice", project=pid)
            continue
        if isinstance(raw_n, bool) or not isinstance(raw_n, (int, float)) or (
            isinstance(raw_n, float) and not (math.isfinite(raw_n) and raw_n.is_integer())
        ):
            out.add(key, "points_not_whole", f"project {pid}: {raw_n!r} is not a whole number of points",
                    project=pid, value=repr(raw_n))
            points[pid] = 1  # placeholder so later checks still run; the ballot is refused anyway
            continue
        n = int(raw_n)  # a float like 3.0 is taken as 3
        if n <= 0:
            out.add(key, "points_not_positive", f"project {pid}: {n} points; points must be positive whole numbers "
                                                f"(leave a project out to give it none)", project=pid, points=n)
        points[pid] = n
    return CumulativeBallot.of(points)


def _check_cumulative(rules: "BallotRules", ballot: Ballot, catalog: "Catalog", known: bool, out: Refusals) -> None:
    key = "points"
    _count(key, len(ballot.points), _min_one(rules.min_projects), rules.max_projects, "given points", "project",
           "too_few_projects_with_points", "too_many_projects_with_points", "projects", out)
    total = sum(v for _, v in ballot.points)
    if rules.max_points is not None and total > rules.max_points:
        out.add(key, "too_many_points", f"{plural(total, 'point')} given, at most {rules.max_points} allowed",
                given=total, max=rules.max_points)
    cap = rules.max_points_per_project
    for pid, v in ballot.points:
        if v <= 0:
            out.add(key, "points_not_positive", f"project {pid}: {v} points; points must be positive whole numbers",
                    project=pid, points=v)
        elif cap is not None and v > cap:
            out.add(key, "too_many_points_on_project",
                    f"project {pid}: {plural(v, 'point')}, at most {cap} allowed on one project",
                    project=pid, points=v, max=cap)


def _cumulative_meta(rules: "BallotRules", budget: int, money: Callable[[int], str]) -> dict[str, str]:
    meta = {**_length_meta(rules.min_projects, rules.max_projects), "max_sum_points": str(rules.max_points)}
    if rules.max_points_per_project is not None:
        meta["max_points"] = str(rules.max_points_per_project)
    return meta


def _points_from_content(content: Mapping[str, Any]) -> Ballot:
    return CumulativeBallot.of({str(k): int(v) for k, v in content.get("points", {}).items()})


# --- ranked: an order, best first ---------------------------------------------------

def _parse_ranking(value: Any, out: Refusals) -> Ballot:
    return OrdinalBallot(tuple(_id_list("ranking", value, out, ranked=True)))


def _check_ranked(rules: "BallotRules", ballot: Ballot, catalog: "Catalog", known: bool, out: Refusals) -> None:
    n = len(ballot.ranking)
    _count("ranking", n, _min_one(rules.min_rank), rules.max_rank, "ranked", "project",
           "ranking_too_short", "ranking_too_long", "ranked", out)
    if len(set(ballot.ranking)) != n:  # parse never builds one; a ballot made elsewhere might
        out.add("ranking", "ranking_has_duplicates", "a project is ranked more than once")


# --- reading a Pabulib file's META into round settings ---------------------------------


def _approval_from_meta(num, vote_type: VoteType, ballots) -> tuple[dict, dict]:
    most = 1 if vote_type is VoteType.CHOOSE_1 else num("max_length")
    return {"kind": "approval"}, {"min_projects": num("min_length"), "max_projects": most}


def _cumulative_from_meta(num, vote_type: VoteType, ballots) -> tuple[dict, dict]:
    # max_points must hold every ballot the file has, whatever its META says
    most = max((sum(n for _, n in b.points) for b in ballots), default=1)
    return ({"kind": "cumulative", "max_points": max(num("max_sum_points") or 0, most, 1)},
            {"min_projects": num("min_length"), "max_projects": num("max_length")})


def _ranked_from_meta(num, vote_type: VoteType, ballots) -> tuple[dict, dict]:
    return {"kind": "ranked"}, {"min_rank": num("min_length"), "max_rank": num("max_length")}


# --- the registry --------------------------------------------------------------------

APPROVAL = BallotKind(
    id="approval", noun="an approval ballot", field="projects", shape='{"projects": [project ids]}',
    description="Choose the projects you support, up to the number allowed; each choice counts the same.",
    limits=("min_projects", "max_projects"), required=(), ballot=ApprovalBallot,
    # Pabulib calls an approval ballot of exactly one project choose-1.
    vote_type=lambda rules: VoteType.CHOOSE_1 if rules.max_projects == 1 else VoteType.APPROVAL,
    parse=_parse_set, check=_check_approval, pabulib_meta=_approval_meta,
    to_content=_set_to_content, from_content=_set_from_content,
    reads=(VoteType.APPROVAL, VoteType.CHOOSE_1), from_pabulib_meta=_approval_from_meta,
)
KNAPSACK = BallotKind(
    id="knapsack", noun="a knapsack ballot", field="projects", shape='{"projects": [project ids]}',
    description="Choose the projects you support; their costs together must fit within the district's budget.",
    limits=("min_projects", "max_projects", "min_spend_share"), required=(), ballot=ApprovalBallot,
    vote_type=lambda rules: VoteType.APPROVAL,  # the chosen set, as Pabulib files hold knapsack votes
    parse=_parse_set, check=_check_knapsack, pabulib_meta=_knapsack_meta,
    to_content=_set_to_content, from_content=_set_from_content,
)
CUMULATIVE = BallotKind(
    id="cumulative", noun="a cumulative ballot", field="points", shape='{"points": {project id: points}}',
    description="Spread your points over the projects you support; more points mean stronger support.",
    limits=("min_projects", "max_projects", "max_points", "max_points_per_project"), required=("max_points",),
    ballot=CumulativeBallot, vote_type=lambda rules: VoteType.CUMULATIVE,
    parse=_parse_points, check=_check_cumulative, pabulib_meta=_cumulative_meta,
    to_content=lambda ballot: {"points": {p: n for p, n in ballot.points}}, from_content=_points_from_content,
    reads=(VoteType.CUMULATIVE, VoteType.SCORING), from_pabulib_meta=_cumulative_from_meta,
)
RANKED = BallotKind(
    id="ranked", noun="a ranked ballot", field="ranking", shape='{"ranking": [project ids, best first]}',
    description="Put the projects you support in order, the one you want most first.",
    limits=("min_rank", "max_rank"), required=(), ballot=OrdinalBallot,
    vote_type=lambda rules: VoteType.ORDINAL,
    parse=_parse_ranking, check=_check_ranked,
    pabulib_meta=lambda rules, budget, money: _length_meta(rules.min_rank, rules.max_rank),
    to_content=lambda ballot: {"ranking": [_stored_id(p) for p in ballot.ranking]},
    from_content=lambda content: OrdinalBallot(tuple(str(p) for p in content.get("ranking", []))),
    reads=(VoteType.ORDINAL,), from_pabulib_meta=_ranked_from_meta,
)

BALLOT_KINDS: dict[str, BallotKind] = {k.id: k for k in (APPROVAL, KNAPSACK, CUMULATIVE, RANKED)}
KINDS: tuple[str, ...] = tuple(BALLOT_KINDS)


def kind(kind_id: str) -> BallotKind:
    """The entry of a kind; KeyError names the known kinds."""
    try:
        return BALLOT_KINDS[kind_id]
    except KeyError:
        raise KeyError(f"unknown ballot kind {kind_id!r}; one of {', '.join(KINDS)}") from None


def kind_of_vote_type(vote_type: VoteType) -> BallotKind:
    """The kind a Pabulib file's ballots of `vote_type` are imported as."""
    for entry in BALLOT_KINDS.values():
        if vote_type in entry.reads:
            return entry
    raise KeyError(f"no ballot kind reads Pabulib vote_type {vote_type.value!r}")


def settings_from_pabulib(vote_type: VoteType, meta: Mapping[str, str], ballots) -> tuple[dict, dict]:
    """Round ballot settings for a Pabulib file: (what always holds, the limits its META gives, None where
    absent or not a whole number). The caller keeps the limits only if they form valid BallotRules."""
    def num(key):
        try:
            return int(Fraction(meta[key].strip()))
        except (KeyError, ValueError, ZeroDivisionError):
            return None

    entry = kind_of_vote_type(vote_type)
    return entry.from_pabulib_meta(num, vote_type, ballots)


def kind_of_ballot(ballot: Ballot) -> BallotKind:
    """The first kind whose domain ballot `ballot` is (approval and knapsack share one: same content)."""
    for entry in BALLOT_KINDS.values():
        if isinstance(ballot, entry.ballot):
            return entry
    raise TypeError(f"not a ballot: {type(ballot).__name__}")


def describe() -> list[dict[str, Any]]:
    """The kinds as plain data for pages and programs: id, content field, description, limits."""
    return [{"id": k.id, "field": k.field, "description": k.description, "limits": list(k.limits),
             "required": list(k.required)} for k in BALLOT_KINDS.values()]

