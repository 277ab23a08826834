"""`official`: the rule a Pabulib file names in its META, as a configuration of the registered rules.

`official_rule(instance, profile)` reads the file into an `OfficialRule`: a
registered rule id with its options (what `allocate` takes), the tie-breaking
order, the figure projects are ranked by, and the few quirks of the archive
that no registered rule has; `official(instance, profile)` runs it. Every
outcome is computed by the registered rules' own code (greedy.run, the `mes`
rule); the quirks act only around it. Pabulib's `rule` values
(https://pabulib.org/format, and the Pabulib checker's reading of them):

| META rule | registered rule and options | quirks |
|---|---|---|
| greedy | greedy (greedy-threshold when the file gives `min_project_score_threshold`) | |
| greedy-no-skip | greedy-no-skip | |
| greedy-threshold | greedy-threshold, threshold = `min_project_score_threshold` | |
| greedy-exclusive, greedy-custom | greedy (the city's extra constraints are not in the file: said in a note) | |
| greedy-custom in Poznań | greedy-no-skip | `eighty_percent` |
| equalshares | mes | |
| equalshares/add1 | mes, completion add1, exhaustive_stop false | |
| equalshares/add1-comparison | mes, completion add1-comparison | |
| equalshares-comparison | mes | `compare_with_greedy` |
| unknown, none, anything else | nothing is run; the outcome says why | |

Greedy family, always: projects are ranked by the city's count (`count`
below), ties in the order the file lists them (its published ranking), and
the archive's two conventions hold: `fund_unsupported` (Pabulib's greedy funds
a project nobody voted for when it fits, where the registered greedy never
does) and `withdrawn` (a project with Pabulib's cost 999 999 999 was withdrawn
after the vote: the rule runs without it, so it neither is funded nor stops
anything).

- `eighty_percent`, Poznań's GreedySort (its file's comment): greedy-no-skip,
  then the project that stopped it is funded anyway when the money left
  covers at least 80% of its cost (published as `selected` = 2).
- `threshold_without_skip`: a threshold given with greedy-no-skip, which has
  no threshold option; greedy.run applies it all the same.
- `compare_with_greedy`: plain MES is compared once with the greedy outcome by
  votes, as `completion="add1-comparison"` does after add1 (mes_compare.py, the
  same function); greedy replaces it only if strictly more voters fund more of
  their projects under it.

The city's count is the file's published figure: the `score` column when the
file has one (points: cumulative, scoring, and ordinal files such as Kraków's
where ranks earn 3/2/1 points), else `votes`; when neither is published it is
computed from the ballots the same way (ordinal ballots without points count
Borda points, n for the first of n ranked projects). The threshold applies to
that same figure. MES (cost utilities, the equalshares.net convention) breaks
ties for the cheaper project, then the one with more supporters, then file order.

Notes are codes with values (`OfficialRule.notes`, also in the outcome's
options under `notes`); `Outcome.notes` holds them worded in English. The
comparison with the file's `selected` column is not part of the outcome:
`selected.compare_with_selected` computes it for the CLI and the figures alike.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from itertools import chain
from typing import Any, Mapping

from pb_engine import __version__
from pb_engine.allocation import greedy as greedy_rules
from pb_engine.allocation import outcome as oc
from pb_engine.allocation.instance import Instance
from pb_engine.allocation.outcome import Outcome, ProjectResult
from pb_engine.allocation.registry import allocate, check_options, input_hash
from pb_engine.allocation.selected import poznan_greedy_sort
from pb_engine.allocation.tiebreak import TieBreaking
from pb_engine.ballots.kinds import ApprovalBallot, CumulativeBallot, OrdinalBallot, Profile

GREEDY_RULES = ("greedy", "greedy-no-skip", "greedy-threshold", "greedy-exclusive", "greedy-custom")
MES_RULES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {   # options of `mes`, quirks
    "equalshares": ({}, ()),
    "equalshares-comparison": ({}, ("compare_with_greedy",)),
    "equalshares/add1": ({"completion": "add1", "exhaustive_stop": False}, ()),
    "equalshares/add1-comparison": ({"completion": "add1-comparison"}, ()),
}
KNOWN_RULES = GREEDY_RULES + tuple(MES_RULES) + ("unknown",)
QUIRKS = ("fund_unsupported", "withdrawn", "eighty_percent", "compare_with_greedy", "threshold_without_skip")
# Pabulib gives a project withdrawn after the vote this cost, so that no rule funds it.
SENTINEL_COST = 999_999_999


# --------------------------------------------------------------------------- the reading


@dataclass(frozen=True)
class OfficialRule:
    """A file's official rule as a registered rule with options, plus the archive's quirks."""

    pabulib_rule: str                      # META `rule`, lower case
    rule: str | None                       # registered rule id; None: not computed (see notes)
    options: Mapping[str, Any]             # its options, as `allocate` / `check_options` take them
    tie_breaking: TieBreaking
    quirks: tuple[str, ...] = ()           # codes from QUIRKS
    count_column: str | None = None        # greedy: 'votes' or 'score', the figure projects are ranked by
    count: Mapping[str, Fraction] = field(default_factory=dict)  # its value per project
    threshold: Fraction | None = None      # greedy: the minimum count
    notes: tuple[Mapping[str, Any], ...] = ()  # {"code": ..., figures}

    def to_dict(self) -> dict[str, Any]:
        return {"pabulib_rule": self.pabulib_rule, "rule": self.rule, "options": _json(dict(self.options)),
                "quirks": list(self.quirks), "count_column": self.count_column,
                "threshold": None if self.threshold is None else oc.number_json(self.threshold),
                "tie_breaking": self.tie_breaking.kind, "notes": [_json(dict(n)) for n in self.notes]}


def official_rule(instance: Instance, profile: Profile) -> OfficialRule:
    """How the file's rule is run here (nothing is computed but the city's count)."""
    meta = instance.meta
    rule = (meta.get("rule") or "").strip().lower()
    withdrawn = ("withdrawn",) if any(p.cost == SENTINEL_COST for p in instance.projects) else ()
    if rule in GREEDY_RULES:
        return _greedy_reading(instance, profile, rule, withdrawn)
    if rule in MES_RULES:
        options, quirks = MES_RULES[rule]
        votes, _ = ballot_counts(instance, profile)
        position = {p.id: i for i, p in enumerate(instance.projects)}
        order = sorted(instance.projects, key=lambda p: (p.cost, -votes.get(p.id, 0), position[p.id]))
        notes = []
        if profile.vote_type.value not in ("approval", "choose-1"):
            notes.append({"code": "mes_on_points", "vote_type": profile.vote_type.value})
        notes.append({"code": "mes_cost_utilities"})
        return OfficialRule(rule, "mes", {"satisfaction": "cost", **options},
                            TieBreaking("explicit", tuple(p.id for p in order)), quirks + withdrawn, notes=tuple(notes))
    hint = re.search(r"rule is unknown[^#]*", meta.get("comment", ""), re.I)
    why = "rule_unknown" if rule == "unknown" else "no_rule" if not rule else "rule_not_known"
    note = {"code": "not_computed", "why": why, "rule": rule, "comment": hint.group(0).strip() if hint else None}
    return OfficialRule(rule or "unknown", None, {}, TieBreaking("none", ()), notes=(note,))


def _greedy_reading(instance: Instance, profile: Profile, rule: str, withdrawn: tuple[str, ...]) -> OfficialRule:
    meta = instance.meta
    column, count, notes = city_count(instance, profile)
    threshold = None
    raw = meta.get("min_project_score_threshold")
    if raw is not None:
        try:
            threshold = Fraction(raw.strip())
        except (ValueError, ZeroDivisionError):
            notes.append({"code": "threshold_not_a_number", "value": raw})
        if threshold is not None and rule != "greedy-threshold":
            notes.append({"code": "threshold_with_rule", "value": raw.strip(), "rule": rule})
    elif rule == "greedy-threshold":
        notes.append({"code": "no_threshold_given"})
    quirks = ["fund_unsupported", *withdrawn]
    registered = "greedy-no-skip" if rule == "greedy-no-skip" else "greedy"
    if poznan_greedy_sort(meta):
        registered = "greedy-no-skip"
        quirks.append("eighty_percent")
        notes.append({"code": "poznan_greedy_sort"})
    elif rule == "greedy-exclusive":
        notes.append({"code": "exclusive_constraints_not_in_file"})
    elif rule == "greedy-custom":
        notes.append({"code": "custom_rule_not_implemented"})
    options: dict[str, Any] = {}
    if threshold is not None:
        notes.append({"code": "threshold_applied", "threshold": threshold, "column": column})
        other = "votes" if column == "score" else "score"
        other_count = _published_numbers(instance, other)
        if other_count is not None:
            flips = [p.id for p in instance.projects if (count[p.id] >= threshold) != (other_count[p.id] >= threshold)]
            if flips:
                notes.append({"code": "threshold_on_other_column", "column": other, "projects": flips})
        if registered == "greedy":
            registered, options = "greedy-threshold", {"threshold": threshold}
        else:
            quirks.append("threshold_without_skip")  # greedy-no-skip has no threshold option; greedy.run takes it
    ties = _ties(instance, count)
    if ties:
        notes.append({"code": "ties_by_file_order", "column": column, "groups": ties})
    return OfficialRule(rule, registered, options, TieBreaking("file-order", tuple(p.id for p in instance.projects)),
                        tuple(quirks), column, count, threshold, tuple(notes))


def _ties(instance: Instance, count: Mapping[str, Fraction]) -> list[dict[str, Any]]:
    groups: dict[Fraction, list[str]] = {}
    for p in sorted(instance.projects, key=lambda p: -count[p.id]):
        groups.setdefault(count[p.id], []).append(p.id)
    return [{"projects": ids, "count": c} for c, ids in groups.items() if len(ids) > 1]


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


def city_count(instance: Instance, profile: Profile) -> tuple[str, dict[str, Fraction], list[dict[str, Any]]]:
    """(name of the figure, its value per project, notes as codes with values)."""
    votes, score = ballot_counts(instance, profile)
    uses_points = profile.vote_type.value not in ("approval", "choose-1")
    for column, counted in (("score", score), ("votes", votes)):
        published = _published_numbers(instance, column)
        if published is None:
            continue
        differs = [{"project": pid, "published": v, "counted": Fraction(counted.get(pid, 0))}
                   for pid, v in published.items() if v != counted.get(pid, 0)]
        notes = [{"code": "published_count_differs", "column": column, "projects": differs}] if differs else []
        return column, published, notes
    column = "score" if uses_points else "votes"
    counted = score if uses_points else votes
    return (column, {p.id: Fraction(counted.get(p.id, 0)) for p in instance.projects},
            [{"code": "count_computed", "column": column}])


# --------------------------------------------------------------------------- running it


def official(instance: Instance, profile: Profile, *, solver: str | None = None) -> Outcome:
    """The outcome of the file's own rule (see the module docstring); `solver` is unused (no rule here solves)."""
    return run_official(instance, profile, official_rule(instance, profile))


def run_official(instance: Instance, profile: Profile, reading: OfficialRule) -> Outcome:
    notes = list(reading.notes)
    if reading.rule is None:
        return _empty(instance, profile, reading, notes)
    kept, prof = instance, profile
    if "withdrawn" in reading.quirks:  # the rule runs without them: they are neither funded nor stop anything
        kept = replace(instance, projects=tuple(p for p in instance.projects if p.cost != SENTINEL_COST))
        ids = frozenset(p.id for p in kept.projects)
        prof = Profile(profile.vote_type, tuple(b.only(ids) for b in profile.ballots), profile.voters)
    tie = TieBreaking(reading.tie_breaking.kind, tuple(p for p in reading.tie_breaking.order
                                                       if p in {q.id for q in kept.projects}))
    if reading.rule == "mes":
        out = allocate(kept, prof, "mes", tie_breaking=tie, **reading.options)
        if "compare_with_greedy" in reading.quirks:
            out = _compare_with_greedy(kept, prof, out, tie, notes)
    else:
        opts = check_options(reading.rule, reading.options)  # a configuration the registered rule takes
        column = reading.count_column
        out = greedy_rules.run(
            kept, prof, opts, tie, skip=reading.rule != "greedy-no-skip", threshold=reading.threshold,
            score={p.id: reading.count[p.id] for p in kept.projects},
            unit=lambda n: _unit(column, n), fund_unsupported="fund_unsupported" in reading.quirks)
        if "eighty_percent" in reading.quirks:
            out = _eighty_percent(kept, out, notes)
    results = {r.id: r for r in out.projects}
    for p in instance.projects:
        if p.id not in results:
            notes.append({"code": "withdrawn", "project": p.id})
            results[p.id] = ProjectResult(p.id, False, oc.DID_NOT_FIT, "withdrawn: Pabulib's cost 999999999 marks "
                                          "a project excluded after the vote", p.cost,
                                          score=reading.count.get(p.id), details={"withdrawn": True})
    for r in out.projects:
        if r.funded and r.score is not None and r.score <= 0 and reading.rule != "mes":
            notes.append({"code": "unsupported_funded", "project": r.id, "column": reading.count_column,
                          "count": r.score})
    options: dict[str, Any] = {"official_rule": reading.pabulib_rule, "rule": reading.rule,
                               "rule_options": _json(dict(reading.options)), "quirks": list(reading.quirks)}
    if reading.count_column is not None:
        options["score_column"] = reading.count_column
    if reading.threshold is not None:
        options["threshold"] = str(reading.threshold)
    options["notes"] = [_json(dict(n)) for n in notes]
    by_id = instance.by_id
    return Outcome(
        rule="official",
        options=options,
        budget=instance.budget,
        selected=out.selected,
        total_cost=sum((by_id[pid].cost for pid in out.selected), Fraction(0)),
        projects=tuple(results[p.id] for p in instance.projects),
        tie_breaking=reading.tie_breaking.to_dict(),
        engine_version=__version__,
        input_hash=input_hash(instance, profile),
        notes=tuple(out.notes) + tuple(note_text(n) for n in notes),
    )


def _eighty_percent(instance: Instance, out: Outcome, notes: list) -> Outcome:
    """Poznań: the project that stopped greedy-no-skip is funded when the money left covers 80% of its cost."""
    misfits = [r for r in out.projects if r.reason == oc.DID_NOT_FIT and r.cost <= instance.budget]
    if not misfits:
        return out
    blocker = min(misfits, key=lambda r: r.details.get("position", 0))
    left = blocker.details["money_left"]
    if left < blocker.cost * Fraction(4, 5):
        return out
    step = len(out.selected) + 1
    funded = replace(blocker, funded=True, reason=oc.FUNDED, step=step,
                     message=f"funded under the 80% rule: {oc.money_json(left)} left covers at least 80% of its cost",
                     details={**blocker.details, "eighty_percent_rule": True})
    notes.append({"code": "eighty_percent_funded", "project": blocker.id, "money_left": left, "cost": blocker.cost})
    return replace(out, selected=out.selected + (blocker.id,), total_cost=out.total_cost + blocker.cost,
                   projects=tuple(funded if r.id == blocker.id else r for r in out.projects))


def _compare_with_greedy(instance: Instance, profile: Profile, mes: Outcome, tie: TieBreaking, notes: list) -> Outcome:
    """equalshares-comparison: the comparison step of add1-comparison (mes_compare.py), on plain MES."""
    from pb_engine.allocation.mes import prepare
    from pb_engine.allocation.mes_compare import compare_with_greedy

    prep = prepare(instance, profile, "cost", tie)
    index = {pid: c for c, pid in enumerate(prep.ids)}
    verdict = compare_with_greedy(prep, [index[pid] for pid in mes.selected], prep.problem.rank)
    notes.append({"code": "comparison_with_greedy", "prefer_mes": verdict.prefer_mes,
                  "prefer_greedy": verdict.prefer_greedy, "kept": "greedy" if verdict.greedy_wins else "mes"})
    if not verdict.greedy_wins:
        return mes
    out = allocate(instance, profile, "greedy", tie_breaking=tie)
    assert out.selected == tuple(prep.ids[c] for c in verdict.greedy)  # one greedy, two callers
    return out


def _empty(instance: Instance, profile: Profile, reading: OfficialRule, notes: list) -> Outcome:
    results = [ProjectResult(p.id, False, oc.NOT_SELECTED, "no official outcome computed", p.cost)
               for p in instance.projects]
    return Outcome("official", {"official_rule": reading.pabulib_rule, "computed": False,
                                "notes": [_json(dict(n)) for n in notes]},
                   instance.budget, (), Fraction(0), tuple(results), reading.tie_breaking.to_dict(), __version__,
                   input_hash(instance, profile), tuple(note_text(n) for n in notes))


# --------------------------------------------------------------------------- words


def note_text(n: Mapping[str, Any]) -> str:
    """A note in English (the CLI's words; pages word the code and figures themselves)."""
    code = n["code"]
    if code == "published_count_differs":
        shown = ", ".join(f"{d['project']} ({_fmt(d['published'])} vs {_fmt(d['counted'])})" for d in n["projects"][:5])
        more = " …" if len(n["projects"]) > 5 else ""
        return (f"the published {n['column']!r} differs from the count of the ballots in the file for "
                f"{len(n['projects'])} project(s): {shown}{more}; the published figure is used")
    if code == "count_computed":
        return f"the file publishes no count; {n['column']} computed from the ballots"
    if code == "threshold_not_a_number":
        return f"min_project_score_threshold {n['value']!r} is not a number: ignored"
    if code == "threshold_with_rule":
        return (f"the file gives min_project_score_threshold={n['value']} with rule {n['rule']!r}: "
                "the threshold is applied")
    if code == "no_threshold_given":
        return "rule greedy-threshold but the file gives no min_project_score_threshold: no threshold applied"
    if code == "threshold_applied":
        return f"threshold {_fmt(n['threshold'])} applied to {n['column']!r} (the figure projects are ranked by)"
    if code == "threshold_on_other_column":
        return f"on {n['column']!r} instead the threshold would change the eligibility of: {', '.join(n['projects'])}"
    if code == "poznan_greedy_sort":
        return ("Poznań GreedySort: greedy until a project does not fit, which is funded anyway when the "
                "money left covers at least 80% of its cost (published as selected=2)")
    if code == "eighty_percent_funded":
        return f"project {n['project']} funded under the 80% rule ({_fmt(n['money_left'])} left of {_fmt(n['cost'])})"
    if code == "exclusive_constraints_not_in_file":
        return "greedy-exclusive: the city's rules on mutually exclusive projects are not in the file; plain greedy used"
    if code == "custom_rule_not_implemented":
        return "greedy-custom: the city's special logic (see the file's comment) is not implemented; plain greedy used"
    if code == "ties_by_file_order":
        groups = n["groups"]
        shown = "; ".join(f"{', '.join(g['projects'])} ({n['column']} {_fmt(g['count'])})" for g in groups[:5])
        return (f"ties in {n['column']} broken by the order of the file's PROJECTS section: "
                f"{shown}{' …' if len(groups) > 5 else ''}")
    if code == "withdrawn":
        return f"project {n['project']} has Pabulib's withdrawn-project cost 999999999: skipped, it stops nothing"
    if code == "unsupported_funded":
        return (f"project {n['project']} has {n['column']} {_fmt(n['count'])} and is funded because it fits the "
                "money left, as Pabulib's greedy does")
    if code == "mes_on_points":
        return (f"equal shares on {n['vote_type']} ballots: Pabulib defines the rule for approval ballots; "
                "the ballots' points are taken as utilities")
    if code == "mes_cost_utilities":
        return "MES with cost utilities; ties go to the cheaper project, then the one with more supporters, then file order"
    if code == "comparison_with_greedy":
        return (f"comparison (satisfaction): {n['prefer_mes']} voter(s) prefer the MES outcome, "
                f"{n['prefer_greedy']} the greedy outcome by votes; {'greedy' if n['kept'] == 'greedy' else 'MES'} kept")
    if code == "not_computed":
        why = {"rule_unknown": "the file says the rule is unknown", "no_rule": "the file names no rule"}.get(
            n["why"], f"the file's rule {n['rule']!r} is not one this engine knows ({', '.join(KNOWN_RULES)})")
        if n.get("comment"):
            why += f" (its comment: {n['comment']})"
        return f"official outcome not computed: {why}; run a named rule instead (e.g. --rule greedy)"
    return code


def _unit(column: str | None, n) -> str:
    word = "vote" if column == "votes" else "point"
    return word if n == 1 else word + "s"


def _fmt(x) -> str:
    return str(oc.number_json(x))


def _json(d: Mapping[str, Any]) -> Any:
    """Figures as JSON: Fractions as number_json, containers walked."""
    if isinstance(d, Mapping):
        return {k: _json(v) for k, v in d.items()}
    if isinstance(d, (list, tuple)):
        return [_json(v) for v in d]
    if isinstance(d, Fraction):
        return oc.number_json(d)
    return d
