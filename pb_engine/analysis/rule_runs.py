"""Every rule on the same ballots: `outcomes_for(elections, ...)`, the one place comparisons get rule outcomes.

Runs each registered rule that takes the elections' ballot kind, with its default options, on
every district, and says why a rule was left out (it needs an option, e.g. greedy-threshold's
threshold; or the ballots are too many to count in a web request). Callers (the comparison read
model, `pb-engine analyse`) go through this function only, so that a cached or queued version
(issue 12's result cache and job queue) replaces it in one place.

Until that cache lands, results are memoised in this process by (rule, tie-breaking kind,
input hash of each district), so a page and its charts, CSV and JSON share one count.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Sequence

from pb_engine.allocation import registry, tiebreak
from pb_engine.allocation.instance import Instance
from pb_engine.allocation.outcome import Outcome
from pb_engine.analysis.figures import Elections, _elections
from pb_engine.ballots.kinds import Profile
from pb_engine.errors import PBError

TieFor = Callable[[Instance, Profile], tiebreak.TieBreaking]
MEMO_SIZE = 256
_memo: OrderedDict[tuple, tuple[Outcome, ...]] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class RuleRun:
    rule: str
    outcomes: tuple[Outcome, ...] | None  # one per district, in the elections' order; None when not run
    skipped: str | None = None            # why not: "needs_options", "too_large", "failed"
    message: str = ""                     # the rule's own words when it refused

    @property
    def funded(self) -> tuple[frozenset[str], ...]:
        return tuple(frozenset(o.selected) for o in self.outcomes or ())


def rules_for(vote_type: str) -> list[str]:
    """Registered rules that take this ballot kind (a Pabulib vote type), by id."""
    return [r.id for r in registry.rules() if vote_type in r.ballot_kinds]


def outcomes_for(elections: Elections, rules: Sequence[str] | None = None, *,
                 tie_breaking: TieFor | None = None, tie_kind: str = "id",
                 max_ballots: int | None = None, cache=None) -> dict[str, RuleRun]:
    """{rule id: RuleRun} for each rule (default: every rule taking the ballot kind), in that order.

    `tie_breaking(instance, profile)` gives each district's order (default: by project id);
    `tie_kind` names it in the memo key. Over `max_ballots` ballots in all, nothing runs
    (skipped "too_large"): heavy counts belong to the job queue, not to a page request.
    `cache`: a `pb_engine.rule_cache.Store` (the database's rule-result cache): outcomes counted before,
    by any process or host, are read from it, new ones written to it.
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
    out: dict[str, RuleRun] = {}
    for rule in wanted:
        key = (rule, tie_kind, hashes)
        with _lock:
            cached = _memo.get(key)
            if cached is not None:
                _memo.move_to_end(key)
        if cached is None:
            try:
                count = cache.allocate if cache is not None else registry.allocate
                cached = tuple(count(i, p, rule, tie_breaking=(tie_breaking or _by_id)(i, p)) for i, p in es)
            except PBError as exc:
                reason = "needs_options" if getattr(exc, "code", "") == "validation_failed" else "failed"
                out[rule] = RuleRun(rule, None, reason, exc.message)
                continue
            with _lock:
                _memo[key] = cached
                while len(_memo) > MEMO_SIZE:
                    _memo.popitem(last=False)
        out[rule] = RuleRun(rule, cached)
    return out


def _by_id(instance: Instance, profile: Profile) -> tiebreak.TieBreaking:
    return tiebreak.by_id(p.id for p in instance.projects)


__all__ = ["RuleRun", "outcomes_for", "rules_for"]
