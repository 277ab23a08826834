"""The comparison's figures of one round in the database: its districts' elections through the pure
functions of pb_engine.analysis.figures, under the official outcome and under every rule.

`ballot_figures(session, city, rnd, now, ...)` returns the parts of a round's `figures` that need its
projects and ballots (pb_engine/compare.py merges them with the counts it reads itself):
- `cost_distribution` of the projects on the ballot (major units) — always public;
- `ballot_length`, `ballot_spend` — when voters and turnout are (pb_engine.secrecy.counts_public: once
  voting has ended, or during voting when the round sets live_turnout);
- `rules`: {"official": the published outcome, then each rule outcomes_for ran on the same ballots}
  with funded count, spend, spend share and the fairness figures, or why it did not run;
  `changes`: the projects funded under some of them and not others; `category_shares` under the
  official outcome — all only once voting has ended (nobody sees a partial count).
Money is in the city's currency, major units (elections are scaled as outcomes.run scales them).

A counted round's ballots no longer change, so its figures are memoised per process by the round,
its version, its published outcome and a fingerprint of its ballots (count, last id, versions).

Heavy rule runs (`Background`: work from `threshold`, ballots x projects) are looked up in the rule-result
cache and, when missing, counted by the background job `rules.run` (`rules_job`, started or joined by
`_start_or_join`: one job per rules-and-inputs key); until it is done those rules are
`{"skipped": "pending", "job": <id>}` and the figures memoised with them are recomputed once the job
has finished (then from the cache). Proposals across cities get their rule runs from `round_rule_runs`
too, so either page's job fills the other's figures.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from pb_engine import outcomes, voting
from pb_engine.allocation import tiebreak
from pb_engine.analysis import figures as fig
from pb_engine import rule_cache
from pb_engine.analysis.rule_runs import RuleRun, outcomes_for
from pb_engine.ballots.kinds import Profile
from pb_engine.phases import PhaseWindow, current_phase, has_started, sort_phases, window
from pb_engine.secrecy import counts_public
from pb_engine.store.lookup import districts_of, phases_of
from pb_engine.store.tables import Ballot, Category, City, Job, OutcomeRecord, Phase, Round
from pb_engine.store.types import utcnow

OFFICIAL = "official"
MEMO_SIZE = 64
_memo: OrderedDict[tuple, dict] = OrderedDict()
_lock = threading.Lock()


def _fingerprint(session: Session, rnd: Round) -> tuple:
    row = session.exec(select(func.count(Ballot.id), func.max(Ballot.id), func.sum(Ballot.version))
                       .where(Ballot.round_id == rnd.id)).one()
    return tuple(int(x or 0) for x in row)


def _elections(session: Session, city: City, rnd: Round, with_ballots: bool):
    out = []
    for d in districts_of(session, rnd):
        instance, profile = voting.district_election(session, rnd, d)
        if not with_ballots:
            profile = Profile(profile.vote_type, [])
        out.append((d, outcomes.in_major_units(instance, city.currency), profile))
    return out


def _official_funded(record: OutcomeRecord | None, districts) -> list[frozenset[str]] | None:
    if record is None:
        return None
    by_slug = {x.get("district"): x for x in record.result.get("districts", [])}
    return [frozenset(str(i) for i in (by_slug.get(d.slug) or {}).get("selected", [])) for d in districts]


def _rule_figures(elections, funded, fairness: fig.Fairness) -> dict[str, Any]:
    return {**fig.as_json(fig.spending(elections, funded)), "fairness": fig.as_json(fairness),
            "selected": sorted((i for f in funded for i in f), key=_natural)}


def _natural(pid: str):
    return (0, int(pid), "") if pid.isdigit() else (1, 0, pid)


@dataclass(frozen=True)
class Background:
    """Where rule runs too heavy for a request go: a job recorded in `db` (a pb_engine.store.db.Database)
    for elections whose work (ballots x projects on the ballot, over the districts) reaches `threshold`."""
    db: Any
    threshold: int
    backend: Any = None     # a pb_engine.jobs.Backend; None: the configured one (RQ with Redis, else inline)


JOB_KIND = "rules.run"
RETRY_AFTER = 600.0  # seconds a failed job's verdict stands before a page may start another


def _start_or_join(session: Session, background: Background, rnd: Round, rules, key: str) -> dict[str, RuleRun]:
    """RuleRuns of `rules` on the inputs named `key`: "pending" on the job counting them (the running one
    for this key if there is one, else a new one), or "failed" with the reason when the last job for them
    failed a moment ago or ran without leaving them in the cache (the rule refused the ballots). Jobs are
    read in the caller's session, the one whose cache lookups missed, so both see the same moment. A job
    whose process went away (no heartbeat) is replaced at once: that failure says nothing of the rule."""
    from pb_engine import jobs

    latest = _latest_job(session, rnd.id, key)
    if latest is not None and not latest.finished:
        return {r: RuleRun(r, None, "pending", job=latest.id) for r in rules}
    if latest is not None:  # finished
        failed = ((latest.result or {}).get("failed") or {}) if latest.state == "done" else {}
        age = (utcnow() - _aware(latest.finished_at or latest.created_at)).total_seconds()
        lost = latest.error.startswith(("no_heartbeat", "not_submitted"))  # its process went, not the rule
        if latest.state == "failed" and age < RETRY_AFTER and not lost:
            return {r: RuleRun(r, None, "failed", latest.error, job=latest.id) for r in rules}
        if failed and all(r in failed for r in rules):
            return {r: RuleRun(r, None, "failed", failed[r], job=latest.id) for r in rules}
    def running(s: Session) -> str | None:
        # Asked again inside the insert's transaction, in turn with every other request for this key:
        # another request may have started the job since this one looked (it then joins that job).
        again = _latest_job(s, rnd.id, key)
        return again.id if again is not None and not again.finished else None

    job_id = jobs.enqueue(background.db, JOB_KIND, {"round_id": rnd.id, "rules": list(rules), "key": key},
                          round_id=rnd.id, backend=background.backend, unless=running, claim=f"{JOB_KIND}:{key}")
    return {r: RuleRun(r, None, "pending", job=job_id) for r in rules}


def _latest_job(session: Session, round_id: int, key: str):
    """The newest `rules.run` job of the round for the inputs named `key` (a jobs.JobInfo), or None."""
    from pb_engine import jobs

    for row in session.exec(select(Job).where(Job.kind == JOB_KIND, Job.round_id == round_id)
                            .order_by(Job.created_at.desc()).limit(50)):
        if (row.args or {}).get("key") == key:
            return jobs.status(session, row.id)
    return None


def _aware(when: datetime) -> datetime:
    from datetime import timezone

    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def round_rule_runs(session: Session, rnd: Round, elections, background: Background | None = None,
                    max_ballots: int | None = None) -> dict[str, RuleRun]:
    """Every rule taking the round's ballots on its elections (major units, the round's tie-breaking),
    through the rule-result cache; heavy ones missing from it handed to a job (see Background)."""
    later = None
    if background is not None:
        def later(rules, key):
            return _start_or_join(session, background, rnd, rules, key)
    return outcomes_for(elections, tie_breaking=lambda i, p: tiebreak.for_round(rnd.tie_breaking, i, p),
                        tie_kind=rnd.tie_breaking, max_ballots=max_ballots, cache=rule_cache.Store(session),
                        later=later, later_from=background.threshold if background else None)


def rules_job(db, args: dict, progress) -> dict:
    """The job `rules.run`: the rules on the round's elections, each district's outcome into the rule-result
    cache (read transactions only; a miss is written in a short transaction of its own). A rule that
    refuses the ballots is named in `failed` and the others still run."""
    from pb_engine.errors import PBError

    with db.session() as s:
        rnd = s.get(Round, args["round_id"])
        city = s.get(City, rnd.city_id)
        city_slug, round_slug, tie_kind = city.slug, rnd.slug, rnd.tie_breaking
        elections = [(i, p) for _, i, p in _elections(s, city, rnd, with_ballots=True)]
    rules = list(args["rules"])
    total, done, failed = len(rules) * len(elections), 0, {}
    from pb_engine.allocation.registry import input_hash

    digests = [input_hash(i, p) for i, p in elections]
    for rule in rules:
        for (instance, profile), digest in zip(elections, digests):
            progress(done, total, f"rule:{rule}", force=True)
            done += 1
            if rule in failed:
                continue
            with db.session() as s:
                try:
                    rule_cache.Store(s).allocate(instance, profile, rule, digest=digest,
                                                 tie_breaking=tiebreak.for_round(tie_kind, instance, profile))
                except PBError as exc:
                    failed[rule] = exc.message
    return {"city": city_slug, "round": round_slug, "rules": rules, "failed": failed}


def pending_jobs(result: dict) -> list[str]:
    """The ids of the jobs a comparison (pb_engine.compare's result, or one round's figures) waits on."""
    rounds = result.get("rounds") if "rounds" in result else [{"figures": result}]
    out: list[str] = []
    for e in rounds:
        for run in ((e.get("figures") or {}).get("rules") or {}).values():
            if run.get("skipped") == "pending" and run.get("job") and run["job"] not in out:
                out.append(run["job"])
    return out


def _counted(session: Session, city: City, rnd: Round, record, max_ballots: int | None,
             background: Background | None = None) -> dict:
    rows = _elections(session, city, rnd, with_ballots=True)
    districts = [d for d, _, _ in rows]
    elections = [(i, p) for _, i, p in rows]
    out: dict[str, Any] = {"ballot_length": fig.as_json(fig.ballot_length(elections)),
                           "ballot_spend": fig.as_json(fig.ballot_spend(elections)),
                           "cost_distribution": fig.as_json(fig.cost_distribution(elections))}
    funded_by: dict[str, list[frozenset[str]]] = {}
    rules: dict[str, Any] = {}
    official = _official_funded(record, districts)
    if official is not None:
        funded_by[OFFICIAL] = official
        rules[OFFICIAL] = {"rule": dict(record.rule)}
        taxonomy = {c.slug: c.taxonomy for c in session.exec(select(Category).where(Category.city_id == city.id))}
        term_of = {c: taxonomy.get(c, "other") for i, _ in elections for p in i.projects for c in p.categories}
        out["category_shares"] = fig.as_json(fig.category_shares(elections, official, term_of))
    runs = round_rule_runs(session, rnd, elections, background, max_ballots)
    for rule_id, run in runs.items():
        if run.outcomes is None:
            rules[rule_id] = {"skipped": run.skipped, "message": run.message}
            if run.job:
                rules[rule_id]["job"] = run.job
            continue
        funded_by[rule_id] = list(run.funded)
        rules[rule_id] = {}
    fairness = fig.fairness_many(elections, funded_by)  # the ballots read once for every rule
    for rule_id, funded in funded_by.items():
        rules[rule_id].update(_rule_figures(elections, funded, fairness[rule_id]))
    out.setdefault("category_shares", None)
    out["rules"] = rules
    names = {p.id: (p.name, d.slug) for d, i, _ in rows for p in i.projects}
    out["changes"] = [{"id": int(c.id) if c.id.isdigit() else c.id, "title": names.get(c.id, ("", ""))[0],
                       "district": names.get(c.id, ("", ""))[1], "funded_by": list(c.funded_by),
                       "not_funded_by": list(c.not_funded_by)} for c in fig.changes(funded_by)]
    return out


def _memoised(key: tuple, compute, fresh=None) -> dict:
    """The memo's value for `key`, or `compute()`'s; `fresh(value)` False: computed again (a figure that
    waited on a job whose job has finished)."""
    with _lock:
        hit = _memo.get(key)
        if hit is not None:
            _memo.move_to_end(key)
    if hit is not None and (fresh is None or fresh(hit)):
        return hit
    value = compute()
    with _lock:
        _memo[key] = value
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return value


def _open(session: Session, city: City, rnd: Round, visible: bool) -> dict[str, Any]:
    elections = [(i, p) for _, i, p in _elections(session, city, rnd, with_ballots=visible)]
    out: dict[str, Any] = {"cost_distribution": fig.as_json(fig.cost_distribution(elections)),
                           "ballot_length": None, "ballot_spend": None, "rules": None, "changes": None,
                           "category_shares": None}
    if visible:
        out["ballot_length"] = fig.as_json(fig.ballot_length(elections))
        out["ballot_spend"] = fig.as_json(fig.ballot_spend(elections))
    return out


def _no_finished_job(background: Background | None):
    """For the memo: figures waiting on jobs stay while none of their jobs has finished (read in a session
    of its own: the request's may be older than a job that was started in it)."""
    def fresh(value: dict) -> bool:
        waiting = pending_jobs(value)
        if not waiting or background is None:
            return True
        from pb_engine import jobs
        from pb_engine.errors import NotFound

        with background.db.session() as s:
            for job_id in waiting:
                try:
                    if jobs.status(s, job_id).finished:
                        return False
                except NotFound:
                    return False
        return True
    return fresh


def ballot_figures(session: Session, city: City, rnd: Round, now: datetime, *,
                   max_ballots: int | None = None, background: Background | None = None) -> dict[str, Any]:
    """The figures above; with `background`, heavy rule runs missing from the cache are counted by a job
    and show as pending meanwhile (see the module's doc)."""
    phases = phases_of(session, rnd)
    if outcomes.voting_ended(session, rnd, now):
        record = outcomes.published(session, rnd)
        key = (rnd.id, rnd.version, record.id if record else None, _fingerprint(session, rnd), max_ballots,
               background.threshold if background else None)
        return _memoised(key, lambda: _counted(session, city, rnd, record, max_ballots, background),
                         _no_finished_job(background))
    visible = counts_public(rnd, phases, now)  # as voters and turnout: hidden while voting unless live_turnout
    if not has_started(phases, "voting", now):
        return _open(session, city, rnd, visible)  # no ballots yet; costs may still change in review
    # Voting: the ballot (projects, costs) is frozen, so the figures change only with the ballots; a page
    # and its seven charts then read them once, not eight times.
    key = ("voting", rnd.id, rnd.version, visible, _fingerprint(session, rnd))
    return _memoised(key, lambda: _open(session, city, rnd, visible))


# --- the picker of the comparison page -------------------------------------------------------------

@dataclass(frozen=True)
class RoundChoice:
    ref: str            # city/round
    city: str
    city_name: str
    round: str
    title: str
    year: int | None
    phase: str


@dataclass(frozen=True)
class Choices:
    cities: tuple[tuple[str, str], ...]   # (slug, name) of every city, by slug
    years: tuple[int, ...]                # every round's year, newest first
    rounds: tuple[RoundChoice, ...]       # the rounds matching the filters, by city then year


YEAR = re.compile(r"(?<!\d)(19|20)\d\d(?!\d)")


def _year(rnd: Round, windows: list[PhaseWindow]) -> int | None:
    """A round's year: the year in its slug or title (Pabulib's `instance`, "2026"), else its voting's."""
    m = YEAR.search(rnd.slug) or YEAR.search(rnd.title or "")
    if m:
        return int(m.group(0))
    w = window(windows, "voting") or (sort_phases(windows)[0] if windows else None)
    return w.starts_at.year if w else None


def round_choices(session: Session, now: datetime, *, city: str | None = None, year: int | None = None,
                  q: str | None = None) -> Choices:
    """Every round matching city (slug), year and words of `q` (in the city's name or slug, the
    round's title or slug; case-insensitive, every word must match): three queries."""
    cities = session.exec(select(City).order_by(City.slug)).all()
    by_id = {c.id: c for c in cities}
    windows: dict[int, list[PhaseWindow]] = {}
    for p in session.exec(select(Phase)).all():
        windows.setdefault(p.round_id, []).append(PhaseWindow(p.name, p.starts_at, p.ends_at))
    words = [w.casefold() for w in (q or "").split() if w]
    found, years = [], set()
    for r in session.exec(select(Round).order_by(Round.city_id, Round.slug)).all():
        c = by_id[r.city_id]
        ws = windows.get(r.id, [])
        y = _year(r, ws)
        if y is not None:
            years.add(y)
        if city and c.slug != city or year and y != year:
            continue
        text = f"{c.slug} {c.name} {r.slug} {r.title}".casefold()
        if any(w not in text for w in words):
            continue
        found.append(RoundChoice(f"{c.slug}/{r.slug}", c.slug, c.name, r.slug, r.title, y, current_phase(ws, now)))
    found.sort(key=lambda x: (x.city, -(x.year or 0), x.round))
    return Choices(tuple((c.slug, c.name) for c in cities), tuple(sorted(years, reverse=True)), tuple(found))


__all__ = ["OFFICIAL", "Background", "Choices", "RoundChoice", "ballot_figures", "pending_jobs", "round_choices",
           "round_rule_runs", "rules_job"]
