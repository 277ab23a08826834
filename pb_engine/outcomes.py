"""Outcomes: run a rule over every district's ballots, keep the record, publish it, show the results.

- `run` builds each district's election from the stored ballots
  (voting.district_election), runs the round's rule (or a what-if rule) and
  stores one OutcomeRecord draft holding every district's result, the rule,
  the engine version and a hash over all districts' inputs. Running needs
  voting to have ended, so nobody sees a partial count.
- `publish` makes a draft the round's official outcome. A published outcome is
  never changed: publishing another one supersedes it (and it stays readable).
  What-if outcomes (a rule other than the round's frozen one) cannot be published.
- `results` is the public view of the published outcome, with turnout and
  the list of ballot receipts so that each voter can check theirs was counted.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from dataclasses import replace
from fractions import Fraction

from sqlalchemy import func
from sqlmodel import Session, select

from pb_engine import __version__, audit, voting
from pb_engine.allocation.instance import Instance
from pb_engine.allocation.registry import allocate
from pb_engine.allocation.spec import RuleSpec
from pb_engine.allocation import tiebreak
from pb_engine.errors import Conflict, NotFound, ValidationFailed
from pb_engine.allocation.outcome import number_json
from pb_engine.money import major_json, minor_digits
from pb_engine.phases import window
from pb_engine.proposals import ON_BALLOT, record_status
from pb_engine.store.lookup import districts_of, phases_of
from pb_engine.store.tables import Ballot, City, District, OutcomeRecord, Proposal, Round, StaffUser


def rule_of(rnd: Round) -> RuleSpec:
    spec, problems = RuleSpec.from_dict(rnd.rule or {})
    if spec is None:
        raise Conflict("the round's rule is not valid: " + "; ".join(m for _k, m in problems))
    return spec


def parse_rule(data: dict) -> RuleSpec:
    spec, problems = RuleSpec.from_dict(data, prefix="rule")
    if spec is None:
        errors: dict[str, list[str]] = {}
        for key, message in problems:
            errors.setdefault(key, []).append(message)
        raise ValidationFailed("the rule is not valid: " + "; ".join(m for _k, m in problems), errors)
    return spec


def in_major_units(instance: Instance, currency: str) -> Instance:
    """The election with money in major units (exact Fractions), as in its .pb export.

    Rules then explain themselves in the currency people read ("costs 10 000",
    not "costs 1 000 000" cents), and steps that depend on the unit of money
    (MES add1 raises each voter's share by one unit per step) behave as on
    equalshares.net and on the exported file: the round's outcome is the file's.
    """
    scale = 10 ** minor_digits(currency)
    return Instance(budget=Fraction(instance.budget) / scale,
                    projects=[replace(p, cost=Fraction(p.cost) / scale) for p in instance.projects],
                    meta=instance.meta)


def _voting_ended(session: Session, rnd: Round, now: datetime) -> bool:
    w = window(phases_of(session, rnd), "voting")
    return w is not None and now >= w.ends_at


voting_ended = _voting_ended  # public name for the pages: whether outcomes may be run and published now


def _pid(project_id: str):
    return int(project_id) if project_id.isdigit() else project_id


def _money(x, currency: str):
    return number_json(Fraction(x))  # already in major units (see in_major_units)


def district_result(district: District, outcome, currency: str, ballots: int) -> dict:
    d = outcome.to_dict()
    projects = []
    for r, pr in zip(outcome.projects, d["projects"]):
        projects.append({**pr, "id": _pid(r.id), "cost": _money(r.cost, currency)})
    return {
        "district": district.slug, "name": district.name, "budget": _money(outcome.budget, currency),
        "ballots": ballots, "selected": [_pid(i) for i in outcome.selected],
        "total_cost": _money(outcome.total_cost, currency), "projects": projects,
        "rule": d["rule"], "options": d["options"], "tie_breaking": d["tie_breaking"],
        "input_hash": d["input_hash"], "notes": d["notes"],
    }


def checked_rule(session: Session, rnd: Round, now: datetime, rule: dict | None = None) -> tuple[RuleSpec, bool]:
    """The rule a run would use and whether it is a what-if, refusing as `run` does (voting not ended,
    a rule that is not valid): a background job is refused before it is queued, not after."""
    if not _voting_ended(session, rnd, now):
        raise Conflict("voting has not ended: outcomes are run on the final ballots only", reason="voting_not_ended")
    what_if = rule is not None
    spec = parse_rule(rule) if what_if else rule_of(rnd)
    if what_if and spec.to_dict() == rule_of(rnd).to_dict():
        what_if = False  # the round's own rule, spelt out
    return spec, what_if


def work_size(session: Session, rnd: Round) -> int:
    """Ballots x projects on the ballot, summed over districts: what a count costs, read without loading a
    ballot (two grouped counts), so a request can decide to hand a large count to a job."""
    ballots = dict(session.exec(select(Ballot.district_id, func.count(Ballot.id)).where(Ballot.round_id == rnd.id)
                                .group_by(Ballot.district_id)).all())
    projects = dict(session.exec(select(Proposal.district_id, func.count(Proposal.id))
                                 .where(Proposal.round_id == rnd.id, Proposal.status.in_(voting.WAS_ON_BALLOT))
                                 .group_by(Proposal.district_id)).all())
    return sum(int(n) * int(projects.get(d, 0)) for d, n in ballots.items())


def run(session: Session, city: City, rnd: Round, *, staff: StaffUser | None, now: datetime,
        rule: dict | None = None, progress=None) -> OutcomeRecord:
    """Count every district with the rule (through the rule-result cache: ballots counted before with the
    same rule, options and engine are not counted again) and store the draft. `progress(done, total,
    message)` is told after each district."""
    from pb_engine import rule_cache

    spec, what_if = checked_rule(session, rnd, now, rule)
    districts = []
    hashes = []
    todo = districts_of(session, rnd)
    for n, district in enumerate(todo):
        instance, profile = voting.district_election(session, rnd, district)
        instance = in_major_units(instance, city.currency)
        tie = tiebreak.for_round(rnd.tie_breaking, instance, profile)
        outcome, _hit = rule_cache.allocate(session, instance, profile, spec.id, tie_breaking=tie, **spec.options())
        hashes.append(f"{district.slug}={outcome.input_hash}")
        districts.append(district_result(district, outcome, city.currency, len(profile.ballots)))
        if progress:
            progress(n + 1, len(todo), f"district:{district.slug}")
    return _record(session, city, rnd, spec, what_if, districts, hashes, staff, now)


def _record(session: Session, city: City, rnd: Round, spec: RuleSpec, what_if: bool, districts: list[dict],
            hashes: list[str], staff: StaffUser | None, now: datetime) -> OutcomeRecord:
    record = OutcomeRecord(
        round_id=rnd.id, rule=spec.to_dict(), what_if=what_if, status="draft",
        result={"districts": districts, "tie_breaking_kind": rnd.tie_breaking, "round_version": rnd.version},
        input_hash="sha256:" + hashlib.sha256("\n".join(hashes).encode()).hexdigest(),
        engine_version=__version__, created_by=staff.id if staff else None, created_at=now,
    )
    session.add(record)
    session.flush()
    audit.record(session, actor=f"staff:{staff.id}" if staff else "system", action="outcome.run", city_id=city.id,
                 round_id=rnd.id, target=f"outcome:{record.id}",
                 after={"rule": record.rule, "what_if": what_if, "input_hash": record.input_hash,
                        "selected": {d["district"]: d["selected"] for d in districts}})
    return record


def run_job(db, args: dict, progress) -> dict:
    """The job `outcome.run` (pb_engine.jobs): each district counted in a read transaction of its own
    (through the rule-result cache, whose misses are written in short transactions of their own), then
    the draft stored in one short write transaction. So a long count never holds SQLite's write lock,
    and voting elsewhere goes on meanwhile. The draft records the ballots it counted (their digest)."""
    from datetime import datetime as _dt

    from pb_engine import rule_cache

    now = _dt.fromisoformat(args["now"])
    with db.session() as s:
        rnd = s.get(Round, args["round_id"])
        city = s.get(City, rnd.city_id)
        spec, what_if = checked_rule(s, rnd, now, args.get("rule"))
        slugs = [d.slug for d in districts_of(s, rnd)]
    districts, hashes = [], []
    for n, slug in enumerate(slugs):
        progress(n, len(slugs), f"district:{slug}", force=True)
        with db.session() as s:
            rnd = s.get(Round, args["round_id"])
            district = next(d for d in districts_of(s, rnd) if d.slug == slug)
            instance, profile = voting.district_election(s, rnd, district)
            instance = in_major_units(instance, city.currency)
            tie = tiebreak.for_round(rnd.tie_breaking, instance, profile)
            outcome = rule_cache.Store(s).allocate(instance, profile, spec.id, tie_breaking=tie, **spec.options())
            hashes.append(f"{district.slug}={outcome.input_hash}")
            districts.append(district_result(district, outcome, city.currency, len(profile.ballots)))
    with db.write_session() as s:
        rnd = s.get(Round, args["round_id"])
        city = s.get(City, rnd.city_id)
        checked_rule(s, rnd, now, args.get("rule"))
        staff = s.get(StaffUser, args["staff_id"]) if args.get("staff_id") else None
        record = _record(s, city, rnd, spec, what_if, districts, hashes, staff, now)
        return {"outcome": record.id, "city": city.slug, "round": rnd.slug}


def published(session: Session, rnd: Round) -> OutcomeRecord | None:
    return session.exec(select(OutcomeRecord).where(OutcomeRecord.round_id == rnd.id,
                                                    OutcomeRecord.status == "published")).first()


def publish(session: Session, city: City, rnd: Round, record: OutcomeRecord, *, staff: StaffUser,
            now: datetime) -> OutcomeRecord:
    if record.status != "draft":
        raise Conflict(f"outcome {record.id} is {record.status}: a published outcome is never changed; "
                       "publish a new one to supersede it", reason="outcome_frozen", params={"status": record.status})
    if not _voting_ended(session, rnd, now):
        raise Conflict("voting has not ended: results are published on the final ballots only",
                       reason="voting_not_ended")
    if record.what_if:
        raise Conflict("a what-if outcome (a rule other than the round's) cannot be published",
                       {"rule": ["differs from the round's frozen rule"]}, reason="outcome_what_if")
    if record.rule != rule_of(rnd).to_dict():
        raise Conflict("the round's rule changed since this outcome was run; run it again", reason="rule_changed")
    old = session.exec(select(OutcomeRecord).where(OutcomeRecord.round_id == rnd.id,
                                                   OutcomeRecord.status == "published").with_for_update()).first()
    if old is not None:
        old.status = "superseded"
        session.add(old)
        record.supersedes_id = old.id
    record.status = "published"
    record.published_at = now
    session.add(record)
    funded = {pid for d in record.result.get("districts", []) for pid in d["selected"]}
    for p in session.exec(select(Proposal).where(Proposal.round_id == rnd.id,
                                                 Proposal.status.in_(ON_BALLOT))):
        status = "funded" if p.id in funded else "not_funded"
        if status != p.status:
            p.status = status
            session.add(p)
            record_status(session, p, reason="outcome_published", now=now)
    session.flush()
    audit.record(session, actor=f"staff:{staff.id}", action="outcome.publish", city_id=city.id, round_id=rnd.id,
                 target=f"outcome:{record.id}", before={"published": old.id if old else None},
                 after={"published": record.id, "supersedes": old.id if old else None})
    return record


def turnout(session: Session, rnd: Round) -> dict:
    """Voters per district and in the round; turnout as a share of the population where it is known."""
    per = dict(session.exec(select(Ballot.district_id, func.count(Ballot.id)).where(Ballot.round_id == rnd.id)
                            .group_by(Ballot.district_id)).all())
    by_channel = dict(session.exec(select(Ballot.channel, func.count(Ballot.id)).where(Ballot.round_id == rnd.id)
                                   .group_by(Ballot.channel)).all())
    voters = session.exec(select(func.count(func.distinct(Ballot.voter_key))).where(Ballot.round_id == rnd.id)).one()
    districts = []
    pop_total = 0
    for d in districts_of(session, rnd):
        n = int(per.get(d.id, 0))
        pop_total += d.population or 0
        districts.append({"district": d.slug, "ballots": n, "population": d.population,
                          "turnout": round(n / d.population, 6) if d.population else None})
    city = session.get(City, rnd.city_id)
    population = pop_total or (city.population if city else None)
    return {"voters": int(voters), "ballots": int(sum(per.values())), "by_channel": {k: int(v) for k, v in by_channel.items()},
            "population": population, "turnout": round(voters / population, 6) if population else None,
            "districts": districts}


def results(session: Session, city: City, rnd: Round) -> dict:
    record = published(session, rnd)
    if record is None:
        raise NotFound(f"round {rnd.slug!r} has no published outcome yet")
    titles = dict(session.exec(select(Proposal.id, Proposal.title).where(Proposal.round_id == rnd.id)).all())
    districts = []
    for d in record.result.get("districts", []):
        projects = [{**p, "title": titles.get(p["id"], "")} for p in d["projects"]]
        districts.append({
            "district": d["district"], "name": d.get("name", d["district"]), "budget": d["budget"],
            "spend": d["total_cost"], "ballots": d.get("ballots"), "ballots_digest": d.get("input_hash", ""),
            "funded": [p for p in projects if p["funded"]], "projects": projects,
        })
    from pb_engine.integrity import check_published

    return {
        "round": rnd.slug, "city": city.slug, "currency": city.currency, "outcome": record.id,
        "published_at": record.published_at, "rule": record.rule, "input_hash": record.input_hash,
        "engine_version": record.engine_version, "supersedes": record.supersedes_id,
        "districts": districts, "turnout": turnout(session, rnd), "receipts": voting.receipts(session, rnd),
        # the published digest against the ballots stored now: a ballot changed after publication shows here
        "ballots_check": check_published(session, city, rnd, record).to_dict(),
    }


def outcome_dict(record: OutcomeRecord, rnd: Round) -> dict:
    return {
        "id": record.id, "round": rnd.slug, "status": record.status, "what_if": record.what_if, "rule": record.rule,
        "input_hash": record.input_hash, "engine_version": record.engine_version, "created_at": record.created_at,
        "published_at": record.published_at, "supersedes": record.supersedes_id,
        "districts": record.result.get("districts", []),
    }


CSV_FIELDS = ("district", "id", "title", "categories", "status", "estimated_cost", "reviewed_cost", "endorsements",
              "votes", "funded", "reason")


def round_csv(session: Session, city: City, rnd: Round, now: datetime) -> str:
    """Every proposal of the round as CSV (major units). Votes only once voting has ended, funded and reason
    only from the published outcome: the file never shows what the public may not see yet."""
    import io

    from pb_engine import csv_cells

    districts = districts_of(session, rnd)
    slugs = {d.id: d.slug for d in districts}
    votes: dict[int, int] = {}
    if _voting_ended(session, rnd, now):
        for d in districts:
            instance, profile = voting.district_election(session, rnd, d)
            for project in instance.projects:  # on the ballot: a count, 0 when nobody chose it
                votes.setdefault(int(project.id), 0)
            for b in profile.ballots:
                for pid in b.supported():
                    votes[int(pid)] = votes.get(int(pid), 0) + 1
    record = published(session, rnd)
    reasons = {}
    if record is not None:
        for d in record.result.get("districts", []):
            for p in d["projects"]:
                reasons[p["id"]] = (p["funded"], p["reason"])
    money = lambda m: "" if m is None else major_json(m, city.currency)  # noqa: E731
    out = io.StringIO()
    w = csv_cells.writer(out, lineterminator="\n")  # a title like =HYPERLINK(...) stays text in a spreadsheet
    w.writerow(CSV_FIELDS)
    rows = session.exec(select(Proposal).where(Proposal.round_id == rnd.id).order_by(Proposal.id))
    for p in rows:
        funded, reason = reasons.get(p.id, ("", ""))
        w.writerow([slugs.get(p.district_id, ""), p.id, p.title, ";".join(p.categories or []), p.status,
                    money(p.estimated_cost), money(p.reviewed_cost), p.endorsement_count,
                    votes.get(p.id, ""),
                    "" if funded == "" else str(funded).lower(), reason])
    return out.getvalue()
