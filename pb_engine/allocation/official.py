"""`official`: run the rule a Pabulib file names in its META, the way that city ran it.

Pabulib's `rule` values and what they mean here (https://pabulib.org/format and
the Pabulib checker's reading of them):

- `greedy`: rank projects by the city's count, fund each that still fits.
- `greedy-no-skip`: the same, but stop at the first project that does not fit.
- `greedy-threshold`: greedy among projects whose count reaches
  `min_project_score_threshold` (a threshold given with plain `greedy` is applied
  too, and said).
- `greedy-custom` in Poznań (its "GreedySort", described in the file's comment):
  greedy-no-skip, then the first project that did not fit is funded anyway
  when the money left covers at least 80% of it (marked `selected` = 2).
- `greedy-exclusive`, other `greedy-custom`: greedy, with a note that the
  city's extra constraints are not in the file.
- `equalshares`, `equalshares/add1`, `equalshares-comparison`,
  `equalshares/add1-comparison`: the method of equal shares with cost
  utilities (the equalshares.net convention), via the `mes` rule. add1 as
  Pabulib reads it: raise every voter's money by one unit and rerun, until the
  next outcome would cost more than the budget, with no early stop at an
  exhaustive outcome. (Pabulib's checker raises from floor(budget/n) per voter,
  the `mes` rule from budget/n: the two can differ only when an outcome changes
  within that fraction of a unit.) "-comparison": the final outcome is compared
  once with greedy by votes; greedy replaces it only if strictly more voters
  fund more of their projects under it.
- `unknown` or anything else: nothing is run; the outcome says why.

The city's count ("score" below) is the file's published figure: the `score`
column when the file has one (points: cumulative, scoring, and ordinal files
such as Kraków's where ranks earn 3/2/1 points), else `votes`; when neither is
published it is computed from the ballots the same way (ordinal ballots
without points count Borda points, n for the first of n ranked projects).
The threshold applies to that same figure. Ties in the count keep the order in
which the file lists the projects (the published ranking); MES ties go to the
cheaper project, then the one with more supporters, then file order.

`selected` = 1 is the rule's published outcome; projects marked 2 or 3 were
funded outside the plain rule (80% rule, reserve funds, a counting error, ...
as the file's comment explains): they are reported in the notes and, except
for Poznań's 2 (which its rule produces), left out of the comparison.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from itertools import chain
from fractions import Fraction
from typing import Any, Mapping

from pb_engine import __version__
from pb_engine.allocation import outcome as oc
from pb_engine.allocation.instance import Instance
from pb_engine.allocation.outcome import Outcome, ProjectResult
from pb_engine.allocation.registry import input_hash
from pb_engine.allocation.tiebreak import TieBreaking
from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, OrdinalBallot, Profile

GREEDY_RULES = ("greedy", "greedy-no-skip", "greedy-threshold", "greedy-exclusive", "greedy-custom")
MES_RULES = {
    "equalshares": (None, False),
    "equalshares-comparison": (None, True),
    "equalshares/add1": ("add1", False),
    "equalshares/add1-comparison": ("add1", True),
}
KNOWN_RULES = GREEDY_RULES + tuple(MES_RULES) + ("unknown",)
# Pabulib gives a project withdrawn after the vote this cost, so that no rule funds it.
SENTINEL_COST = 999_999_999


# --------------------------------------------------------------------------- the city's count


def ballot_counts(instance: Instance, profile: Profile) -> tuple[Counter, Counter]:
    """(votes, score) per project from the ballots: supporters, and points (approval: 1 each)."""
    if profile.vote_type.shape is ApprovalBallot:  # the common large case, counted in C
        votes = Counter(chain.from_iterable(b.projects for b in profile.ballots))
        return votes, Counter(votes)
    votes: Counter = Counter()
    score: Counter = Counter()
    if profile.vote_type.shape is OrdinalBallot and profile.voters:
        groups = Counter(zip(profile.ballots, map(_ordinal_points, profile.voters)))
    else:
        groups = Counter((b, None) for b in profile.ballots)
    for (b, pts), n in groups.items():
        if isinstance(b, ApprovalBallot):
            for p in b.projects:
                votes[p] += n
                score[p] += n
        elif isinstance(b, CumulativeBallot):
            for p, k in b.points:  # every listed project is a vote, whatever its points (as Pabulib counts)
                votes[p] += n
                score[p] += n * k
        else:
            ranking = b.ranking
            if pts is None or len(pts) != len(ranking):
                pts = tuple(range(len(ranking), 0, -1))  # Borda: n points for the first of n
            for p, k in zip(ranking, pts):
                votes[p] += n
                score[p] += n * k
    return votes, score


def _ordinal_points(voter: Mapping[str, str]) -> tuple[int, ...] | None:
    text = voter.get("points", "") if voter else ""
    if not text:
        return None
    return tuple(int(Fraction(x)) for x in text.split(",") if x.strip())


def _published_numbers(instance: Instance, column: str) -> dict[str, Fraction] | None:
    out = {}
    for p in instance.projects:
        text = p.extra.get(column, "").strip()
        try:
            out[p.id] = Fraction(text)
        except (ValueError, ZeroDivisionError):
            return None
    return out


def city_count(instance: Instance, profile: Profile) -> tuple[str, dict[str, Fraction], list[str]]:
    """(name of the figure, its value per project, notes)."""
    notes: list[str] = []
    votes, score = ballot_counts(instance, profile)
    uses_points = profile.vote_type.value not in ("approval", "choose-1")
    for column, counted in (("score", score), ("votes", votes)):
        published = _published_numbers(instance, column)
        if published is None:
            continue
        differs = [pid for pid, v in published.items() if v != counted.get(pid, 0)]
        if differs:
            shown = ", ".join(f"{pid} ({published[pid]} vs {counted.get(pid, 0)})" for pid in differs[:5])
            notes.append(
                f"the published {column!r} differs from the count of the ballots in the file for "
                f"{len(differs)} project(s): {shown}{' …' if len(differs) > 5 else ''}; the published figure is used"
            )
        return column, published, notes
    column = "score" if uses_points else "votes"
    counted = score if uses_points else votes
    notes.append(f"the file publishes no count; {column} computed from the ballots")
    return column, {p.id: Fraction(counted.get(p.id, 0)) for p in instance.projects}, notes


# --------------------------------------------------------------------------- entry point


def official(instance: Instance, profile: Profile, *, solver: str | None = None) -> Outcome:
    """The outcome of the file's own rule, with notes on how it was read and whether it matches."""
    meta = instance.meta
    rule = (meta.get("rule") or "").strip().lower()
    notes: list[str] = []
    if rule in GREEDY_RULES:
        outcome = _greedy_family(instance, profile, rule, notes)
    elif rule in MES_RULES:
        outcome = _equal_shares(instance, profile, rule, notes)
    else:
        why = ("the file says the rule is unknown" if rule == "unknown" else
               "the file names no rule" if not rule else
               f"the file's rule {rule!r} is not one this engine knows ({', '.join(KNOWN_RULES)})")
        comment = meta.get("comment", "")
        hint = re.search(r"rule is unknown[^#]*", comment, re.I)
        if hint:
            why += f" (its comment: {hint.group(0).strip()})"
        notes.append(f"official outcome not computed: {why}; run a named rule instead (e.g. --rule greedy)")
        outcome = _empty(instance, profile, rule or "unknown")
    notes.extend(published_selection_notes(instance, rule))
    match = compare_with_published(outcome, instance) if outcome.options.get("computed", True) else None
    if match is not None:
        ok, extra, missing = match
        if ok:
            notes.append("reproduces the published selection")
        else:
            notes.append(
                "differs from the published selection: "
                + "; ".join(x for x in (
                    f"funded here but not published: {', '.join(extra)}" if extra else "",
                    f"published but not funded here: {', '.join(missing)}" if missing else "",
                ) if x)
            )
    return replace(outcome, notes=tuple(outcome.notes) + tuple(notes))


def published_selected(instance: Instance, rule: str | None = None) -> set[str] | None:
    """The project ids the file marks as selected by its rule, or None without a `selected` column."""
    values = {p.id: p.extra.get("selected") for p in instance.projects}
    if all(v is None for v in values.values()):
        return None
    rule = rule if rule is not None else (instance.meta.get("rule") or "").strip().lower()
    marks = {"1", "2"} if _poznan_greedy_sort(instance, rule) else {"1"}
    return {pid for pid, v in values.items() if (v or "").strip() in marks}


def compare_with_published(outcome: Outcome, instance: Instance) -> tuple[bool, list[str], list[str]] | None:
    """(matches, funded-but-not-published, published-but-not-funded), or None when the file has no `selected`."""
    pub = published_selected(instance)
    if pub is None:
        return None
    ours = set(outcome.selected)
    order = [p.id for p in instance.projects]
    extra = [pid for pid in order if pid in ours - pub]
    missing = [pid for pid in order if pid in pub - ours]
    return (not extra and not missing), extra, missing


def published_selection_notes(instance: Instance, rule: str) -> list[str]:
    values = {p.id: (p.extra.get("selected") or "").strip() for p in instance.projects}
    if all(p.extra.get("selected") is None for p in instance.projects):
        return ["the file has no 'selected' column: nothing to compare with"]
    notes = []
    odd = Counter(v for v in values.values() if v not in ("0", "1"))
    poznan = _poznan_greedy_sort(instance, rule)
    for mark, n in sorted(odd.items()):
        ids = [pid for pid, v in values.items() if v == mark]
        if mark == "2" and poznan:
            continue
        meaning = {
            "2": "funded outside the plain rule (e.g. the 80% rule or a counting error; see the file's comment)",
            "3": "funded from additional funds (e.g. money left in other districts), whose amount the file does not give",
        }.get(mark, "a mark the Pabulib format does not define")
        notes.append(f"{n} project(s) marked selected={mark!r}: {', '.join(ids)} — {meaning}; not counted as the rule's outcome")
    return notes


def _poznan_greedy_sort(instance: Instance, rule: str) -> bool:
    comment = instance.meta.get("comment", "")
    return rule == "greedy-custom" and (instance.meta.get("unit", "").strip() == "Poznań" or "80%" in comment)


# --------------------------------------------------------------------------- greedy family


def _greedy_family(instance: Instance, profile: Profile, rule: str, notes: list[str]) -> Outcome:
    meta = instance.meta
    column, count, count_notes = city_count(instance, profile)
    notes.extend(count_notes)
    threshold = None
    if "min_project_score_threshold" in meta:
        try:
            threshold = Fraction(meta["min_project_score_threshold"].strip())
        except (ValueError, ZeroDivisionError):
            notes.append(f"min_project_score_threshold {meta['min_project_score_threshold']!r} is not a number: ignored")
        if threshold is not None and rule != "greedy-threshold":
            notes.append(f"the file gives min_project_score_threshold={meta['min_project_score_threshold']} "
                         f"with rule {rule!r}: the threshold is applied")
    elif rule == "greedy-threshold":
        notes.append("rule greedy-threshold but the file gives no min_project_score_threshold: no threshold applied")
    if threshold is not None:
        notes.append(f"threshold {threshold} applied to {column!r} (the figure projects are ranked by)")
        other = "votes" if column == "score" else "score"
        other_count = _published_numbers(instance, other)
        if other_count is not None:
            flips = [p.id for p in instance.projects if (count[p.id] >= threshold) != (other_count[p.id] >= threshold)]
            if flips:
                notes.append(f"on {other!r} instead the threshold would change the eligibility of: {', '.join(flips)}")
    no_skip = rule == "greedy-no-skip"
    poznan = _poznan_greedy_sort(instance, rule)
    if poznan:
        notes.append("Poznań GreedySort: greedy until a project does not fit, which is funded anyway when the "
                     "money left covers at least 80% of its cost (published as selected=2)")
        no_skip = True
    elif rule == "greedy-exclusive":
        notes.append("greedy-exclusive: the city's rules on mutually exclusive projects are not in the file; plain greedy used")
    elif rule == "greedy-custom":
        notes.append("greedy-custom: the city's special logic (see the file's comment) is not implemented; plain greedy used")

    position = {p.id: i for i, p in enumerate(instance.projects)}
    ranked = sorted(instance.projects, key=lambda p: (-count[p.id], position[p.id]))
    tie_notes = _tie_notes(ranked, count, column)
    money = instance.budget
    results: dict[str, ProjectResult] = {}
    selected: list[str] = []
    stopped_at: str | None = None
    for p in ranked:
        s = count[p.id]
        base = dict(cost=p.cost, score=s)
        if threshold is not None and s < threshold:
            results[p.id] = ProjectResult(p.id, False, oc.BELOW_THRESHOLD,
                                          f"{column} {_fmt(s)} is below the threshold {_fmt(threshold)}",
                                          details={"threshold": threshold}, **base)
            continue
        if p.cost == SENTINEL_COST:
            results[p.id] = ProjectResult(p.id, False, oc.DID_NOT_FIT,
                                          "withdrawn: Pabulib's cost 999999999 marks a project excluded after the vote",
                                          details={"withdrawn": True}, **base)
            notes.append(f"project {p.id} has Pabulib's withdrawn-project cost 999999999: skipped, it stops nothing")
            continue
        if stopped_at is not None:
            results[p.id] = ProjectResult(p.id, False, oc.STOPPED,
                                          f"not considered: allocation stopped at project {stopped_at}",
                                          details={"stopped_at": stopped_at}, **base)
            continue
        if p.cost <= money:
            money -= p.cost
            selected.append(p.id)
            if s <= 0:
                notes.append(f"project {p.id} has {column} {_fmt(s)} and is funded because it fits the money left, "
                             "as Pabulib's greedy does")
            results[p.id] = ProjectResult(p.id, True, oc.FUNDED,
                                          f"funded at step {len(selected)} with {column} {_fmt(s)}",
                                          step=len(selected), details={"money_left": money}, **base)
            continue
        if poznan and money >= p.cost * Fraction(4, 5):
            selected.append(p.id)
            results[p.id] = ProjectResult(
                p.id, True, oc.FUNDED,
                f"funded under the 80% rule: {oc.money_json(money)} left covers at least 80% of its cost",
                step=len(selected), details={"money_left": money, "eighty_percent_rule": True}, **base)
            stopped_at = p.id
            continue
        results[p.id] = ProjectResult(p.id, False, oc.DID_NOT_FIT,
                                      f"cost {oc.money_json(p.cost)} exceeds the {oc.money_json(money)} left",
                                      details={"money_left": money}, **base)
        if no_skip:
            stopped_at = p.id
    notes.extend(tie_notes)
    options: dict[str, Any] = {"official_rule": rule, "score_column": column}
    if threshold is not None:
        options["threshold"] = str(threshold)
    tie = TieBreaking("file-order", tuple(p.id for p in instance.projects))
    return _outcome(instance, profile, selected, [results[p.id] for p in instance.projects], options, tie)


def _tie_notes(ranked, count, column) -> list[str]:
    groups: dict[Fraction, list[str]] = {}
    for p in ranked:
        groups.setdefault(count[p.id], []).append(p.id)
    tied = [ids for ids in groups.values() if len(ids) > 1]
    if not tied:
        return []
    shown = "; ".join(f"{', '.join(ids)} ({column} {_fmt(count[ids[0]])})" for ids in tied[:5])
    return [f"ties in {column} broken by the order of the file's PROJECTS section: {shown}{' …' if len(tied) > 5 else ''}"]


# --------------------------------------------------------------------------- equal shares


def _equal_shares(instance: Instance, profile: Profile, rule: str, notes: list[str]) -> Outcome:
    from pb_engine.allocation.registry import allocate

    completion, comparison = MES_RULES[rule]
    votes, _ = ballot_counts(instance, profile)
    position = {p.id: i for i, p in enumerate(instance.projects)}
    order = sorted(instance.projects, key=lambda p: (p.cost, -votes.get(p.id, 0), position[p.id]))
    tie = TieBreaking("explicit", tuple(p.id for p in order))
    options: dict[str, Any] = {"satisfaction": "cost"}
    if completion == "add1":
        # Pabulib's reading of add1 (and the equalshares.net tool's default): raise every voter's money by
        # one unit until the next outcome would cost more than the budget, with no early stop when an
        # outcome is exhaustive.
        options["completion"] = "add1-comparison" if comparison else "add1"
        options["exhaustive_stop"] = False
    if profile.vote_type.value not in ("approval", "choose-1"):
        notes.append(f"equal shares on {profile.vote_type.value} ballots: Pabulib defines the rule for approval "
                     "ballots; the ballots' points are taken as utilities")
    notes.append("MES with cost utilities; ties go to the cheaper project, then the one with more supporters, then file order")
    try:
        out = allocate(instance, profile, "mes", tie_breaking=tie, **options)
    except (NotImplementedError, ImportError) as e:
        notes.append(f"official outcome not computed: the equal shares rule is not available ({e})")
        return _empty(instance, profile, rule)
    if comparison and completion is None:
        out = _compare_with_greedy(instance, profile, out, votes, position, notes)
    return replace(
        out,
        rule="official",
        options={"official_rule": rule, **dict(out.options)},
        tie_breaking=tie.to_dict(),
    )


def _compare_with_greedy(instance, profile, mes: Outcome, votes, position, notes: list[str]) -> Outcome:
    """equalshares-comparison: MES (no add1) against greedy by votes; greedy replaces it only if
    strictly more voters fund more of their projects under it (Pabulib's `satisfaction` comparison)."""
    money = instance.budget
    greedy: list[str] = []
    for p in sorted(instance.projects, key=lambda p: (-votes.get(p.id, 0), position[p.id])):
        if p.cost <= money:
            greedy.append(p.id)
            money -= p.cost
    a, b = frozenset(mes.selected), frozenset(greedy)
    prefer_mes = prefer_greedy = 0
    for ballot in profile.ballots:
        supported = ballot.supported()
        k_mes, k_greedy = len(supported & a), len(supported & b)
        prefer_mes += k_mes > k_greedy
        prefer_greedy += k_greedy > k_mes
    notes.append(f"comparison (satisfaction): {prefer_mes} voter(s) prefer the MES outcome, "
                 f"{prefer_greedy} the greedy outcome by votes; {'greedy' if prefer_greedy > prefer_mes else 'MES'} kept")
    if prefer_greedy <= prefer_mes:
        return mes
    by_id = instance.by_id
    results, money = {}, instance.budget
    for step, pid in enumerate(greedy, 1):
        money -= by_id[pid].cost
        results[pid] = ProjectResult(pid, True, oc.FUNDED, f"funded by the greedy outcome, which more voters prefer",
                                     by_id[pid].cost, Fraction(votes.get(pid, 0)), step=step)
    projects = tuple(results.get(r.id) or replace(r, funded=False, reason=oc.NOT_SELECTED, step=None,
                                                  message="not in the greedy outcome, which more voters prefer")
                     for r in mes.projects)
    return replace(mes, selected=tuple(greedy), projects=projects,
                   total_cost=sum((by_id[p].cost for p in greedy), Fraction(0)))


# --------------------------------------------------------------------------- helpers


def _outcome(instance, profile, selected, results, options, tie: TieBreaking, notes=()) -> Outcome:
    by_id = instance.by_id
    return Outcome(
        rule="official",
        options=options,
        budget=instance.budget,
        selected=tuple(selected),
        total_cost=sum((by_id[pid].cost for pid in selected), Fraction(0)),
        projects=tuple(results),
        tie_breaking=tie.to_dict(),
        engine_version=__version__,
        input_hash=input_hash(instance, profile),
        notes=tuple(notes),
    )


def _empty(instance: Instance, profile: Profile, rule: str) -> Outcome:
    results = [ProjectResult(p.id, False, oc.NOT_SELECTED, "no official outcome computed", p.cost)
               for p in instance.projects]
    return _outcome(instance, profile, [], results, {"official_rule": rule, "computed": False},
                    TieBreaking("none", ()))


def _fmt(x: Fraction) -> str:
    return str(oc.number_json(x))
