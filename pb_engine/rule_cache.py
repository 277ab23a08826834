"""The rule-result cache: a rule's outcome on one district, stored under a hash of its exact inputs.

    outcome, hit = allocate(session, instance, profile, "mes", tie_breaking=tie, completion="add1")

The key is sha256 over the ballots digest (`registry.input_hash`: budget, project ids and costs, vote
type, every ballot), the instance's META, the rule id, its checked options as given (an option
spelt out at its default is another entry: a second count, never a wrong one), the tie-breaking order
and the engine version. A new
engine version is a new key: an outcome is never served from code that did not compute it. The
same ballots are therefore counted once, whoever asks (a staff run, a background job, the
comparison's figures), on any host sharing the database.

The outcome is stored whole and exactly (Fractions as "p/q" text), so a hit returns the same
`Outcome` the rule returned, explanations included.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from pb_engine import __version__
from pb_engine.allocation.instance import Instance
from pb_engine.allocation.outcome import Outcome, ProjectResult
from pb_engine.allocation.registry import allocate as run_rule, check_options, input_hash
from pb_engine.allocation.tiebreak import TieBreaking, by_id
from pb_engine.ballots.kinds import Profile
from pb_engine.store.tables import RuleResult

_FRACTION = "$fraction"


def key(instance: Instance, profile: Profile, rule: str, tie_breaking: TieBreaking | None = None,
        digest: str | None = None, **options: Any) -> str:
    """The cache key of one run. `digest`: the ballots digest when the caller already has it."""
    tie = tie_breaking or by_id(p.id for p in instance.projects)
    parts = {"input": digest or input_hash(instance, profile), "meta": sorted(dict(instance.meta).items()),
             "rule": rule, "options": check_options(rule, options).to_dict(), "tie": tie.to_dict(),
             "engine": __version__}
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def allocate(session: Session, instance: Instance, profile: Profile, rule: str, *,
             tie_breaking: TieBreaking | None = None, **options: Any) -> tuple[Outcome, bool]:
    """The rule's outcome, from the cache when these exact inputs were counted before; (outcome, hit).

    A miss computes it and adds the entry to `session` (committed with the caller's unit of work; a
    concurrent writer of the same key is ignored: both computed the same outcome)."""
    digest = input_hash(instance, profile)
    k = key(instance, profile, rule, tie_breaking, digest=digest, **options)
    row = session.execute(select(RuleResult.result).where(RuleResult.key == k)).first()
    if row is not None:
        return decode(row[0]), True
    started = time.perf_counter()
    outcome = run_rule(instance, profile, rule, tie_breaking=tie_breaking, **options)
    store(session, k, outcome, time.perf_counter() - started)
    return outcome, False


def store(session: Session, k: str, outcome: Outcome, seconds: float) -> None:
    values = {"key": k, "rule": outcome.rule, "input_hash": outcome.input_hash,
              "engine_version": outcome.engine_version, "result": encode(outcome), "seconds": round(seconds, 4)}
    from pb_engine.store.types import utcnow

    values["created_at"] = utcnow()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(RuleResult.__table__).values(**values).on_conflict_do_nothing(index_elements=["key"]))


def encode(outcome: Outcome) -> dict:
    return _enc(asdict(outcome))


def decode(data: dict) -> Outcome:
    d = _dec(data)
    projects = tuple(ProjectResult(**p) for p in d.pop("projects"))
    return Outcome(**{**d, "projects": projects, "selected": tuple(d["selected"]), "notes": tuple(d["notes"])})


def _enc(x):
    if isinstance(x, Fraction):
        return {_FRACTION: f"{x.numerator}/{x.denominator}"}
    if isinstance(x, dict):
        return {str(k): _enc(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_enc(v) for v in x]
    return x


def _dec(x):
    if isinstance(x, dict):
        if set(x) == {_FRACTION}:
            return Fraction(x[_FRACTION])
        return {k: _dec(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_dec(v) for v in x]
    return x


class Store:
    """The cache for callers that only read (the comparison of rounds, a GET request): hits are read in
    the caller's session; a miss is written in a short transaction of its own, so a read request never
    turns into a writer (on SQLite a read transaction that starts writing can be refused outright), and
    a write that fails costs only a recount later.

        outcomes_for(elections, cache=Store(session))     # pb_engine/analysis/rule_runs.py
    """

    def __init__(self, session: Session):
        self.session = session

    def get(self, instance: Instance, profile: Profile, rule: str, *, tie_breaking: TieBreaking | None = None,
            digest: str | None = None, **options: Any) -> Outcome | None:
        """The cached outcome of these exact inputs, or None: never counts (a page deciding whether to
        hand the count to a background job). `digest`: the ballots digest when the caller has it."""
        k = key(instance, profile, rule, tie_breaking, digest=digest or input_hash(instance, profile), **options)
        row = self.session.execute(select(RuleResult.result).where(RuleResult.key == k)).first()
        return decode(row[0]) if row is not None else None

    def allocate(self, instance: Instance, profile: Profile, rule: str, *, tie_breaking: TieBreaking | None = None,
                 digest: str | None = None, **options: Any) -> Outcome:
        from sqlalchemy.exc import SQLAlchemyError

        digest = digest or input_hash(instance, profile)
        k = key(instance, profile, rule, tie_breaking, digest=digest, **options)
        row = self.session.execute(select(RuleResult.result).where(RuleResult.key == k)).first()
        if row is not None:
            return decode(row[0])
        started = time.perf_counter()
        outcome = run_rule(instance, profile, rule, tie_breaking=tie_breaking, **options)
        seconds = time.perf_counter() - started
        try:
            engine = self.session.get_bind().execution_options(pb_write_lock=True)
            with Session(engine) as w:
                store(w, k, outcome, seconds)
                w.commit()
        except SQLAlchemyError:
            pass  # only a cache: the outcome is right either way
        return outcome
