"""A district's ballots as an anonymous Pabulib `.pb` file.

    pb_file(session, rnd, district, *, selected=None) -> pabulib.PabulibFile
    export_district(session, rnd, district, *, selected=None) -> str   (the .pb text)

Anonymous by construction: the file is built from `voting.district_election`,
whose ballots carry no voter key, code or resident, no time and no receipt (a
receipt next to a ballot would let a voter prove their vote to someone else).
The ballots are written sorted by their content and `voter_id` is 1..n in that
order, so the file says nothing about who voted or in which order: two rounds
with the same ballots cast in any order, by any voters, export the same VOTES.

Money is written in major units of the city's currency (Pabulib files hold
zł, not grosze), exactly. PROJECTS has cost, votes (ballots supporting the
project), score (points, cumulative only), name, category, and `selected`
(1/0) when the round has a published outcome or `selected` is given.
META has the budget, vote_type, rule, the ballot limits in Pabulib's keys
(min_length/max_length, min_sum_cost/max_sum_cost, max_sum_points, max_points)
and the voting dates.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable

from sqlmodel import Session

from pb_engine import pabulib
from pb_engine.allocation.instance import Instance, Project
from pb_engine.ballots.kinds import CumulativeBallot, OrdinalBallot, Profile
from pb_engine.ballots.registry import kind as ballot_kind
from pb_engine.money import MoneyError, minor_digits
from pb_engine.outcomes import published
from pb_engine.phases import window
from pb_engine.store.lookup import phases_of
from pb_engine.store.tables import City, District, Round
from pb_engine.voting import _district, ballot_rules, district_election

# Our rule ids -> the names Pabulib files use in META `rule`.
PABULIB_RULES = {"greedy": "greedy", "mes": "equalshares", "phragmen": "phragmen", "max-welfare": "maxwelfare",
                 "greedy-threshold": "greedy-threshold", "greedy-no-skip": "greedy-no-skip"}


def _minor_digits(currency: str) -> int:
    try:
        return minor_digits(currency)
    except MoneyError:
        return 2


def _published_selection(session: Session, rnd: Round, slug: str) -> list[str] | None:
    record = published(session, rnd)
    if record is None:
        return None
    for d in (record.result or {}).get("districts", []):
        if d.get("district") == slug:
            return [str(p) for p in d.get("selected", [])]
    return None


def _rule_name(rule: dict) -> str:
    rid = str((rule or {}).get("id", "unknown"))
    name = PABULIB_RULES.get(rid, rid)
    if rid == "mes" and rule.get("completion"):
        name += "/" + str(rule["completion"])
    return name


def pb_file(session: Session, rnd: Round, district: District | str, *,
            selected: Iterable[str] | None = None) -> pabulib.PabulibFile:
    d = _district(session, rnd, district)
    city = session.get(City, rnd.city_id)
    rules = ballot_rules(rnd)
    instance, profile = district_election(session, rnd, d)
    scale = 10 ** _minor_digits(city.currency)

    if selected is not None:
        chosen: set[str] | None = set(map(str, selected))
    else:
        published = _published_selection(session, rnd, d.slug)
        chosen = set(published) if published is not None else None
    votes = {p.id: 0 for p in instance.projects}
    score = {p.id: 0 for p in instance.projects}
    for b in profile.ballots:
        for pid in b.supported():
            votes[pid] += 1
        if isinstance(b, CumulativeBallot):
            for pid, n in b.points:
                score[pid] += n
    projects = []
    for p in instance.projects:
        extra = {"votes": str(votes[p.id])}
        if profile.vote_type.shape is CumulativeBallot:
            extra["score"] = str(score[p.id])
        if chosen is not None:
            extra["selected"] = "1" if p.id in chosen else "0"
        projects.append(Project(id=p.id, cost=Fraction(p.cost) / scale, name=p.name, categories=p.categories,
                                extra=extra))

    budget = Fraction(d.budget, scale)
    meta: dict[str, str] = {
        "description": f"{rnd.title}, district {d.name}",
        "country": city.country,
        "unit": city.name,
        "district": d.name,
        "instance": rnd.slug,
        "num_projects": str(len(projects)),
        "num_votes": str(len(profile)),
        "budget": pabulib.format_number(budget),
        "vote_type": profile.vote_type.value,
        "rule": _rule_name(rnd.rule),
        "currency": city.currency,
    }
    if city.locales:
        meta["language"] = str(city.locales[0])
    voting = window(phases_of(session, rnd), "voting")
    if voting is not None:
        from zoneinfo import ZoneInfo
        tz = ZoneInfo(city.timezone)
        meta["date_begin"] = voting.starts_at.astimezone(tz).strftime("%d.%m.%Y")
        meta["date_end"] = voting.ends_at.astimezone(tz).strftime("%d.%m.%Y")
    # The ballot limits in Pabulib's keys, as the kind's registry entry names them (money in major units).
    meta.update(ballot_kind(rules.kind).pabulib_meta(
        rules, d.budget, lambda minor: pabulib.format_number(Fraction(minor, scale))))
    # The digest of the ballots in this file (README: Backup and integrity) and, once published, the one the
    # results were counted from: `pb-engine verify` recomputes the first from the file and compares both.
    from pb_engine.integrity import district_digest
    from pb_engine.outcomes import published as published_outcome

    meta["district_slug"] = d.slug
    meta["tie_breaking"] = rnd.tie_breaking
    meta["ballots_digest"] = district_digest(Instance(budget=budget, projects=projects), profile)
    record = published_outcome(session, rnd)
    if record is not None:
        for pd in (record.result or {}).get("districts", []):
            if pd.get("district") == d.slug and pd.get("input_hash"):
                meta["published_outcome"] = str(record.id)
                meta["published_ballots_digest"] = pd["input_hash"]

    anonymous = Profile(profile.vote_type, sorted(profile.ballots, key=_content_order),
                        voters=[{"voter_id": str(i)} for i in range(1, len(profile) + 1)])
    return pabulib.PabulibFile.from_election(Instance(budget=budget, projects=projects, meta=meta), anonymous)


def _content_order(ballot) -> tuple:
    """A ballot's place in the file: its content alone (never the voter, their key or the casting time)."""
    if isinstance(ballot, CumulativeBallot):
        return tuple((pid, -n) for pid, n in sorted(ballot.points))
    if isinstance(ballot, OrdinalBallot):
        return tuple(ballot.ranking)
    return tuple(sorted(ballot.supported()))


def export_district(session: Session, rnd: Round, district: District | str, *,
                    selected: Iterable[str] | None = None) -> str:
    """The district's counting ballots as .pb text."""
    return pabulib.dumps(pb_file(session, rnd, district, selected=selected), preserve=False)
