"""Every rule on the same ballots: `outcomes_for(elections, ...)`, the one place comparisons get rule outcomes.

Runs each registered rule that takes the elections' ballot kind, with its default options, on
every district, and says why a rule was left out (it needs an option, e.g. greedy-threshold's
threshold; the rule refused the ballots). Callers (the comparison read model, proposals across
cities, `pb-engine analyse`) go through this function only.

Heavy work is never counted in a web request: with `later` and `later_from`, a rule whose outcome is
not in the rule-result cache (`cache.get`) on elections whose work (ballots x projects, summed over the
districts) reaches `later_from` is handed to `later(rules, key)`, which starts or joins a background
job (pb_engine.queries.comparison) and answers a RuleRun per rule: "pending" with the job's id, or
"failed". `key` names those rules on these exact inputs, so requests for the same ballots join one job.

Outcomes are also memoised in this process by (rule, tie-breaking kind, input hash of each district),
so a page and its charts, CSV and JSON share one count.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from pb_engine.allocation import registry, tiebreak
from pb_engine.allocation.instance import Instance
from pb_engine.allocation.outcome import Outcome
from pb_engine.analysis.figures import Elections, _elections
from pb_engine.ballots.kinds import Profile
from pb_engine.errors import PBError

TieFor = Callable[[Instance, Profile], tiebreak.TieBreaking]
Later = Callable[[Sequence[str], str], Mapping[str, "RuleRun"]]
MEMO_SIZE = 256
_memo: OrderedDict[tuple, tuple[Outcome, ...]] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class RuleRun:
    rule: str
    outcomes: tuple[Outcome, ...] | None  # one per district, in the elections' order; None when not run
    skipped: str | None = None            # why not: "needs_options", "too_large", "failed", "pending"
    message: str = ""                     # the rule's own words when it refused
    job: str | None = None                # "pending": the background job counting it

    @property
    def funded(self) -> tuple[frozenset[str], ...]:
        return tuple(frozenset(o.selected) for o in self.outcomes or ())


def rules_for(vote_type: str) -> list[str]:
    """Registered rules that take this ballot kind (a Pabulib vote type), by id."""
    return [r.id for r in registry.rules() if vote_type in r.ballot_kinds]


def work_of(elections: Elections) -> int:
    """What counting costs: ballots x projects, summed over the districts (as outcomes.work_size)."""
    return sum(len(p.ballots) * len(i.projects) for i, p in _elections(elections))


def job_key(rules: Sequence[str], tie_kind: str, hashes: Sequence[str]) -> str:
    """The name of "these rules on these exact inputs" (a background job's, so that requests join it)."""
    from pb_engine import __version__

    text = json.dumps({"rules": list(rules), "tie": tie_kind, "inputs": list(hashes), "engine": __version__},
                      sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def outcomes_for(elections: Elections, rules: Sequence[str] | None = None, *,
                 tie_breaking: TieFor | None = None, tie_kind: str = "id",
                 max_ballots: int | None = None, cache=None, later: Later | None = None,
                 later_from: int | None = None) -> dict[str, RuleRun]:
    """{rule id: RuleRun} for each rule (default: every rule taking the ballot kind), in that order.

    `tie_breaking(instance, profile)` gives each district's order (default: by project id);
    `tie_kind` names it in the memo key. Over `max_ballots` ballots in all, nothing runs
    (skipped "too_large"). `cache`: a `pb_engine.rule_cache.Store` (the database's rule-result cache):
    outcomes counted before, by any process or host, are read from it, new ones written to it.
    `later`, `later_from`: see the module's doc (a missing outcome of heavy work goes to a job).
    """
    es = _elections(elections)
    if not es:
        return {}
    vote_type = es[0][1].vote_type.value
    wanted = list(rules) if rules is not None else rules_for(vote_type)
    total = sum(len(p.ballots) for _, p in es)
    if max_ballots is not None and total > max_ballots:
        return {r: RuleRun(r, None, "too_large", f"{total} ballots: more than {max_ballots} to count here")
                for r in wanted}
    hashes = tuple(registry.input_hash(i, p) for i, p in es)
    defer = later is not None and cache is not None and later_from is not None and work_of(es) >= later_from
    out: dict[str, RuleRun] = {}
    pending: list[str] = []
    for rule in wanted:
        key = (rule, tie_kind, hashes)
        with _lock:
            cached = _memo.get(key)
            if cached is not None:
                _memo.move_to_end(key)
        if cached is None:
            try:
                ties = [(tie_breaking or _by_id)(i, p) for i, p in es]
                if defer:
                    registry.check_options(rule, {})  # a rule needing options is said so, never queued
                    found = [cache.get(i, p, rule, tie_breaking=t, digest=h) for (i, p), t, h in zip(es, ties, hashes)]
                    if any(o is None for o in found):
                        pending.append(rule)
                        continue
                    cached = tuple(found)
                elif cache is not None:
                    cached = tuple(cache.allocate(i, p, rule, tie_breaking=t, digest=h)
                                   for (i, p), t, h in zip(es, ties, hashes))
                else:
                    cached = tuple(registry.allocate(i, p, rule, tie_breaking=t) for (i, p), t in zip(es, ties))
            except PBError as exc:
                reason = "needs_options" if getattr(exc, "code", "") == "validation_failed" else "failed"
                out[rule] = RuleRun(rule, None, reason, exc.message)
                continue
            with _lock:
                _memo[key] = cached
                while len(_memo) > MEMO_SIZE:
                    _memo.popitem(last=False)
        out[rule] = RuleRun(rule, cached)
    if pending:
        handed = later(pending, job_key(pending, tie_kind, hashes))
        out.update({r: handed.get(r) or RuleRun(r, None, "failed", "no job") for r in pending})
    return {r: out[r] for r in wanted}


def _by_id(instance: Instance, profile: Profile) -> tiebreak.TieBreaking:
    return tiebreak.by_id(p.id for p in instance.projects)


__all__ = ["Later", "RuleRun", "job_key", "outcomes_for", "rules_for", "work_of"]
