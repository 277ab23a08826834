"""Published Pabulib rounds into the database: `import_file(db, path, city=None, replace=False)`.

One `.pb` file is one district of a round: the city is META `unit`, the round META
`instance` (Warszawa 2026), the district META `subunit`/`district` ("citywide" when the
file names neither). City, round and district are created when they do not exist
(slugs: lower-case ASCII words joined by '-', e.g. `krakow`, `2021`, `wzgorza-krzeslawickie`).

Where each part of the file goes (existing tables only: no migration, see below):
- projects -> Proposal rows (title = name, description = the `description` column,
  estimated = reviewed cost in minor units, categories = city Category slugs);
  status `funded`/`not_funded` when the file has `selected`, else `on_ballot`.
- categories -> one Category per distinct file category, `taxonomy` = the shared term
  (pb_engine.taxonomy) when the name is known in TERM_NAMES, else "unmapped": kept, never dropped.
- votes -> Ballot rows, content in the kind's stored form with proposal ids
  (`{"projects": [...]}`, `{"points": {...}}`, `{"ranking": [...]}`) plus `"voter"`: the
  voter's other columns (voter_id, age, sex, voting_method ...), which `from_content` ignores.
  voter_key = "pabulib:<position>" (zero-padded), so the export (ordered by voter key)
  writes the ballots in the file's order. Inserted in chunks: one Core executemany each (SQLite), COPY on PostgreSQL with psycopg.
- the official outcome (`selected`) -> an OutcomeRecord, status "published", rule
  `{"id": "official", "source": "pabulib", "pabulib_rule": META rule}`, one per round with
  one entry per district (a later district's import supersedes it with a new record, as
  `outcomes.publish` does). Rules an analyst runs are other OutcomeRecords beside it.
- everything else (file name and sha256, META, the Pabulib id -> proposal id map, the other
  project columns such as target/beneficiaries/votes/score/latitude, the parser's warnings,
  a summary used to name a difference) -> the AuditEvent `pabulib.import` of the round with
  target `district:<slug>`: the record of what was imported, the latest one per district counts.
  0006 was not committed when this was written, so no new column (an `imported` table would be
  the cleaner home once migrations can be added freely).

Re-importing a file whose sha256 matches the district's last import changes nothing;
a different file for an imported district is refused naming what differs, unless
`replace=True` (its proposals, ballots and entry in the official outcome are replaced).
A file that does not parse, or whose costs do not fit the currency's minor units, is
refused whole (PabulibError names the line); nothing of it is written.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Callable

from sqlalchemy import delete, insert, select as sa_select
from sqlmodel import Session, select

from pb_engine import __version__, audit, pabulib
from pb_engine.allocation.outcome import number_json
from pb_engine.allocation.spec import RuleSpec
from pb_engine.ballots.kinds import CumulativeBallot, OrdinalBallot, VoteType
from pb_engine.ballots.registry import kind as ballot_kind, settings_from_pabulib
from pb_engine.ballots.rules import BallotRules
from pb_engine.errors import PabulibError, PBError
from pb_engine.money import MoneyError, minor_digits
from pb_engine.store.tables import (AuditEvent, Ballot, Category, City, District, OutcomeRecord, Phase, Proposal,
                                    ProposalStatusChange, Round)
from pb_engine.access_codes import ALPHABET

ACTION = "pabulib.import"
CHUNK = 5000
UNMAPPED = "unmapped"

# Category names of published files -> the shared taxonomy (lower-cased). Unknown names stay "unmapped".
TERM_NAMES: dict[str, str] = {
    "education": "education", "culture": "culture", "sport": "sport", "health": "health",
    "health and welfare": "health", "welfare": "health", "public health": "health",
    "environmental protection": "environment", "urban greenery": "environment", "environment": "environment",
    "nature and greenery": "environment", "nature en ville": "environment", "greenery": "environment",
    "public space": "public-space", "public transit and roads": "transport", "transport": "transport",
    "mobility": "transport", "safety": "safety", "social": "social", "digital": "digital",
    "infrastructure": "infrastructure", "greenery/recreation": "sport", "recreation": "sport",
    "meer groen in de buurt": "environment", "klimaat en duurzaamheid": "environment",
}
CURRENCY_OF = {"poland": "PLN", "france": "EUR", "netherlands": "EUR", "us": "USD", "usa": "USD"}
TIMEZONE_OF = {"poland": "Europe/Warsaw", "france": "Europe/Paris", "netherlands": "Europe/Amsterdam",
               "us": "America/New_York"}
LOCALE_OF = {"poland": "pl", "france": "fr", "netherlands": "nl", "us": "en", "polish": "pl"}
RULE_OF = {"greedy": "greedy", "equalshares": "mes", "phragmen": "phragmen", "maxwelfare": "max-welfare",
           "greedy-threshold": "greedy-threshold", "greedy-no-skip": "greedy-no-skip"}


class ImportRefused(PBError):
    status = 409
    code = "import_refused"


@dataclass
class ImportResult:
    path: str
    status: str                      # imported | unchanged | replaced
    city: str
    round: str
    district: str
    projects: int
    ballots: int
    warnings: list = field(default_factory=list)  # PabulibWarning

    def line(self) -> str:
        return (f"{self.status}: {self.path} -> {self.city}/{self.round}/{self.district}: "
                f"{self.projects} projects, {self.ballots} ballots")


def slugify(text: str, fallback: str = "x") -> str:
    ascii_ = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L")).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")
    return slug[:60].strip("-") or fallback


def _digits(currency: str) -> int:
    try:
        return minor_digits(currency)
    except MoneyError:
        return 2


def _date(text: str | None, end: bool) -> datetime | None:
    t = (text or "").strip()
    for fmt in ("%d.%m.%Y", "%Y-%m-%d", "%Y"):
        try:
            d = datetime.strptime(t, fmt)
        except ValueError:
            continue
        if fmt == "%Y":
            d = d.replace(month=12, day=31) if end else d
        if end:
            d = d.replace(hour=23, minute=59)
        return d.replace(tzinfo=timezone.utc)
    return None


def _line_of(text: str, raw_line: str) -> int | None:
    for i, line in enumerate(text.split("\n"), 1):
        if line == raw_line:
            return i
    return None


def ballot_settings(pb: pabulib.PabulibFile) -> dict:
    """Round.ballot for the file's vote type, with the META limits that form valid BallotRules."""
    vt = pb.vote_type
    base, limits = settings_from_pabulib(vt, pb.meta, pb.profile.ballots)   # the kind's registry entry
    full = {**base, **{k: v for k, v in limits.items() if v is not None}}
    if vt is VoteType.CHOOSE_1 and BallotRules.from_dict(full)[0] is None:
        full = {**base, "max_projects": 1}
    return full if BallotRules.from_dict(full)[0] is not None else base


def rule_settings(meta) -> dict:
    """Round.rule from META `rule` (the rule an analyst's run starts from; the official outcome is kept
    apart): greedy-threshold with its min_project_score_threshold, equalshares/X as mes with completion X,
    each only when RuleSpec accepts it, else the bare rule, else greedy (META `unknown`)."""
    name, _, completion = (meta.get("rule") or "").strip().lower().partition("/")
    rid = RULE_OF.get(name, "greedy")
    candidates = [{"id": rid}]
    if rid == "greedy-threshold":
        try:
            candidates.insert(0, {"id": rid, "threshold": int(Fraction(meta["min_project_score_threshold"].strip()))})
        except (KeyError, ValueError, ZeroDivisionError):
            pass
    if rid == "mes" and completion:
        candidates.insert(0, {"id": rid, "completion": completion})
    return next((c for c in candidates if RuleSpec.from_dict(c)[0] is not None), {"id": "greedy"})


def summary(pb: pabulib.PabulibFile, budget_text: str) -> dict:
    """What a difference between two imports of a district is named by."""
    h = hashlib.sha256()
    for b in pb.profile.ballots:
        h.update(repr(sorted(b.points) if isinstance(b, CumulativeBallot) else
                      (b.ranking if isinstance(b, OrdinalBallot) else sorted(b.projects))).encode())
    return {"projects": len(pb.instance.projects), "votes": len(pb.profile), "budget": budget_text,
            "vote_type": pb.vote_type.value,
            "costs": {p.id: pabulib.format_number(p.cost) for p in pb.instance.projects},
            "selected": sorted(k for k, v in (pb.published("selected") or {}).items() if v.strip() == "1"),
            "ballots_sha256": h.hexdigest()}


def difference(old: dict, new: dict) -> list[str]:
    out = []
    for key, word in (("projects", "projects"), ("votes", "votes"), ("budget", "budget"), ("vote_type", "vote type")):
        if str(old.get(key)) != str(new.get(key)):
            out.append(f"{word} {old.get(key)} -> {new.get(key)}")
    oc, nc = old.get("costs", {}), new.get("costs", {})
    if set(oc) != set(nc):
        out.append(f"project ids: {len(set(nc) - set(oc))} added, {len(set(oc) - set(nc))} removed")
    changed = [p for p in nc if p in oc and oc[p] != nc[p]]
    if changed:
        out.append(f"cost of {len(changed)} project(s) (first {changed[0]}: {oc[changed[0]]} -> {nc[changed[0]]})")
    if old.get("selected") != new.get("selected"):
        out.append("selected projects")
    if old.get("ballots_sha256") != new.get("ballots_sha256") and str(old.get("votes")) == str(new.get("votes")):
        out.append("ballot contents")
    return out or ["file bytes (same projects, votes and budget)"]


def last_import(session: Session, rnd: Round, district_slug: str) -> AuditEvent | None:
    return session.exec(select(AuditEvent).where(AuditEvent.round_id == rnd.id, AuditEvent.action == ACTION,
                                                 AuditEvent.target == f"district:{district_slug}")
                        .order_by(AuditEvent.id.desc())).first()


def import_file(db, path: str | Path, *, city: str | None = None, replace: bool = False,
                progress: Callable[[int, int], None] | None = None,
                into: tuple[str, str] | None = None) -> ImportResult:
    """`into=(round, district)`: fill that district of a round made by a city config (the shipped
    configs describe the demo's real rounds) instead of the round and district named by META. The
    district must hold no proposal yet and its budget must be the file's; the round keeps its own
    settings (rule, phases, ballot limits), the file brings projects, ballots and the official outcome."""
    path = Path(path)
    data, pb = read(path)
    sha = hashlib.sha256(data).hexdigest()
    text = data.decode("utf-8")
    meta = pb.meta
    country = (meta.get("country") or "").strip() or "Unknown"
    unit = (meta.get("unit") or "").strip() or path.stem
    currency = (meta.get("currency") or "").strip().upper() or CURRENCY_OF.get(country.lower(), "XXX")
    scale = 10 ** _digits(currency)

    def minor(x: Fraction, what: str, raw_line: str | None) -> int:
        v = x * scale
        if v.denominator != 1:
            raise PabulibError(_line_of(text, raw_line) if raw_line else None,
                               f"{what} {pabulib.format_number(x)} is finer than the minor unit of {currency}",
                               str(path))
        return int(v)

    budget = minor(pb.instance.budget, "budget", None)
    costs = {p.id: minor(p.cost, f"cost of project {p.id!r}", pb._memo.projects.get(p.id, (None, None))[1])
             for p in pb.instance.projects}
    city_slug = city or slugify(unit)
    round_slug = slugify(meta.get("instance", "") or (meta.get("date_begin", "")[-4:]), "round")
    district_name = (meta.get("subunit") or meta.get("district") or "").strip() or "Citywide"
    district_slug = slugify(district_name, "citywide")
    if into is not None:
        round_slug, district_slug = into
    new_summary = summary(pb, pabulib.format_number(pb.instance.budget))
    result = ImportResult(str(path), "imported", city_slug, round_slug, district_slug,
                          len(pb.instance.projects), len(pb.profile), list(pb.warnings))

    with db.write_session() as s:
        c = s.exec(select(City).where(City.slug == city_slug)).first()
        if c is None:
            lang = (meta.get("language") or "").strip().lower()
            c = City(slug=city_slug, name=unit, country=country, currency=currency[:3],
                     locales=[LOCALE_OF.get(lang, lang[:2]) or LOCALE_OF.get(country.lower(), "en")],
                     timezone=TIMEZONE_OF.get(country.lower(), "UTC"), notes="imported from Pabulib")
            s.add(c)
            s.flush()
        elif c.currency != currency[:3]:
            raise ImportRefused(f"{path}: city {city_slug!r} counts in {c.currency}, the file in {currency}")
        rnd = s.exec(select(Round).where(Round.city_id == c.id, Round.slug == round_slug)).first()
        if rnd is None:
            rnd = Round(city_id=c.id, slug=round_slug, title=f"{unit} {meta.get('instance', round_slug)}",
                        description=(meta.get("description") or "").strip(), budget=0,
                        ballot=ballot_settings(pb), rule=rule_settings(meta),
                        eligibility={"methods": ["access_code"]}, voter_secret="")
            s.add(rnd)
            s.flush()
            begin, end = _date(meta.get("date_begin"), False), _date(meta.get("date_end"), True)
            if begin and end and begin <= end:
                s.add(Phase(round_id=rnd.id, name="voting", starts_at=begin, ends_at=end))
        elif into is None and s.exec(select(AuditEvent.id).where(AuditEvent.round_id == rnd.id,
                                                                 AuditEvent.action == ACTION)).first() is None:
            raise ImportRefused(f"{path}: round {city_slug}/{round_slug} exists and was not imported from Pabulib; "
                                "give another city with --city")
        elif BallotRules.from_dict(rnd.ballot)[0] is not None and \
                ballot_kind(rnd.ballot["kind"]).vote_type(BallotRules.from_dict(rnd.ballot)[0]).shape is not pb.vote_type.shape:
            raise ImportRefused(f"{path}: round {city_slug}/{round_slug} holds {rnd.ballot['kind']} ballots, "
                                f"the file {pb.vote_type.value} votes")
        d = s.exec(select(District).where(District.round_id == rnd.id, District.slug == district_slug)).first()
        if into is not None and d is None:
            raise ImportRefused(f"{path}: round {city_slug}/{round_slug} has no district {district_slug!r}")
        if into is not None and last_import(s, rnd, district_slug) is None:
            if s.exec(select(Proposal.id).where(Proposal.district_id == d.id)).first() is not None:
                raise ImportRefused(f"{path}: {city_slug}/{round_slug}/{district_slug} already holds proposals")
            if d.budget != budget:
                raise ImportRefused(f"{path}: {city_slug}/{round_slug}/{district_slug} has budget {d.budget} "
                                    f"(minor units), the file {budget}")
            rnd.budget -= d.budget  # added back below: the district keeps its budget
        elif d is not None:
            last = last_import(s, rnd, district_slug)
            if last is not None and (last.after or {}).get("sha256") == sha:
                result.status = "unchanged"
                return result
            if not replace:
                diff = difference((last.after or {}).get("summary", {}) if last else {}, new_summary)
                raise ImportRefused(f"{path}: {city_slug}/{round_slug}/{district_slug} was imported from another "
                                    f"file; differs in: {'; '.join(diff)} (use --replace)")
            _clear_district(s, rnd, d)
            result.status = "replaced"
            rnd.budget -= d.budget
            d.budget, d.name = budget, district_name
            s.add(d)
        else:
            pos = len(s.exec(select(District.id).where(District.round_id == rnd.id)).all())
            d = District(round_id=rnd.id, slug=district_slug, name=district_name, budget=budget, position=pos)
            s.add(d)
        rnd.budget += budget
        s.add(rnd)
        s.flush()
        ids = _write_projects(s, c, rnd, d, pb, costs)
        _write_ballots(s, rnd, d, pb, ids, progress)
        _write_official(s, c, rnd, d, pb, ids, costs, currency)
        extra_cols = [k for k in pb.project_columns if k not in ("project_id", "cost", "name", "category",
                                                                    "categories", "description")]
        audit.record(s, actor="cli", action=ACTION, city_id=c.id, round_id=rnd.id, target=f"district:{district_slug}",
                     after={"file": path.name, "sha256": sha, "engine_version": __version__, "meta": dict(meta),
                            "summary": new_summary, "project_ids": ids,
                            "project_columns": {p.id: {k: p.extra.get(k, "") for k in extra_cols}
                                                for p in pb.instance.projects},
                            "voter_columns": list(pb.voter_columns),
                            "warnings": [w.to_dict() for w in pb.warnings]})
    return result


def read(path: str | Path) -> tuple[bytes, pabulib.PabulibFile]:
    """The file's bytes and its parse; PabulibError naming the line when it cannot be read."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PabulibError(None, f"cannot read file: {e.strerror or e}", str(path)) from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PabulibError(data[: e.start].count(b"\n") + 1, "not UTF-8 text", str(path)) from e
    return data, pabulib.parse_text(text, source=str(path))


def meta_unit(path: str | Path) -> str:
    """META `unit` read from the head of the file only (no parse), '' when not found: files of one
    city go to one import process, so that two processes never create the same city."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh):
                key, _, value = line.partition(";")
                if key.strip().lower() == "unit":
                    return value.strip()
                if key.strip().upper() in ("PROJECTS", "VOTES") or n > 200:
                    break
    except OSError:
        pass
    return ""


def _clear_district(s: Session, rnd: Round, d: District) -> None:
    pids = [i for i in s.exec(select(Proposal.id).where(Proposal.district_id == d.id)).all()]
    s.exec(delete(Ballot).where(Ballot.district_id == d.id))
    if pids:
        s.exec(delete(ProposalStatusChange).where(ProposalStatusChange.proposal_id.in_(pids)))
        s.exec(delete(Proposal).where(Proposal.id.in_(pids)))


def _write_projects(s: Session, c: City, rnd: Round, d: District, pb, costs: dict[str, int]) -> dict[str, int]:
    known = {cat.name: cat.slug for cat in s.exec(select(Category).where(Category.city_id == c.id)).all()}
    taken = set(known.values())
    for p in pb.instance.projects:
        for name in p.categories:
            if name not in known:
                slug = base = slugify(name, "category")
                n = 2
                while slug in taken:
                    slug, n = f"{base}-{n}", n + 1
                taken.add(slug)
                known[name] = slug
                s.add(Category(city_id=c.id, slug=slug, name=name, taxonomy=TERM_NAMES.get(name.lower(), UNMAPPED)))
    selected = pb.published("selected")
    now = datetime.now(timezone.utc)
    rows = []
    for p in pb.instance.projects:
        status = "on_ballot" if selected is None else ("funded" if selected[p.id].strip() == "1" else "not_funded")
        rows.append(Proposal(round_id=rnd.id, district_id=d.id, title=p.name or f"Project {p.id}",
                             description=p.extra.get("description", ""),
                             categories=[known[n] for n in p.categories], estimated_cost=costs[p.id],
                             reviewed_cost=costs[p.id], feasible=True, status=status, created_at=now, updated_at=now))
    s.add_all(rows)
    s.flush()
    s.add_all([ProposalStatusChange(proposal_id=r.id, status=r.status, reason="imported", at=now) for r in rows])
    cats = set(rnd.categories or [])
    if cats:  # a round limited to some categories: the imported ones join it
        rnd.categories = sorted(cats | {known[n] for p in pb.instance.projects for n in p.categories})
        s.add(rnd)
    return {p.id: r.id for p, r in zip(pb.instance.projects, rows)}


def receipts(n: int) -> list[str]:
    """n receipts in `voting.new_receipt`'s form (16 symbols of the code alphabet in groups of four).

    From one urandom call: 16 `secrets.choice` per ballot were half of a Warszawa import. 13 random
    bytes (104 bits) reduced mod 31**16 (~79 bits) leave a bias below 4e-8 per symbol string."""
    base, size, alphabet = len(ALPHABET), len(ALPHABET) ** 16, ALPHABET
    raw = os.urandom(13 * n)
    out = []
    for i in range(0, 13 * n, 13):
        x = int.from_bytes(raw[i:i + 13], "big") % size
        chars = []
        for _ in range(16):
            x, r = divmod(x, base)
            chars.append(alphabet[r])
        c = "".join(chars)
        out.append(f"{c[:4]}-{c[4:8]}-{c[8:12]}-{c[12:]}")
    return out


def _write_ballots(s: Session, rnd: Round, d: District, pb, ids: dict[str, int], progress) -> None:
    kind = ballot_kind(rnd.ballot["kind"])
    to_content = kind.to_content
    cache: dict[int, dict] = {}
    voters = pb.profile.voters
    cols = [k for k in voters[0]] if voters else []
    now = datetime.now(timezone.utc)
    table = Ballot.__table__
    conn = s.connection()
    stmt = insert(table)
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        write = _copy_writer(conn)
    else:
        def write(rows):  # one executemany per chunk
            conn.execute(stmt, rows)
    rows = []
    codes = receipts(len(pb.profile))
    for i, b in enumerate(pb.profile.ballots):
        content = cache.get(id(b))
        if content is None:
            if isinstance(b, CumulativeBallot):
                mapped = CumulativeBallot(tuple((str(ids[p]), n) for p, n in b.points))
            elif isinstance(b, OrdinalBallot):
                mapped = OrdinalBallot(tuple(str(ids[p]) for p in b.ranking))
            else:
                mapped = type(b)(frozenset(str(ids[p]) for p in b.projects))
            content = cache[id(b)] = to_content(mapped)
        v = voters[i]
        rows.append({"round_id": rnd.id, "district_id": d.id, "voter_key": f"pabulib:{i + 1:07d}", "channel": "paper",
                     "content": {**content, "voter": {k: v[k] for k in cols}}, "receipt": codes[i],
                     "version": 1, "cast_at": now})
        if len(rows) == CHUNK:
            write(rows)
            rows = []
            if progress:
                progress(CHUNK, len(pb.profile))
    if rows:
        write(rows)
        if progress:
            progress(len(rows), len(pb.profile))


COPY_COLUMNS = ("round_id", "district_id", "voter_key", "channel", "content", "receipt", "version", "cast_at")


def _copy_writer(conn):
    """PostgreSQL with psycopg: COPY … FROM STDIN on the session's own connection (same transaction),
    rows as psycopg formats them, JSON as text: Warszawa 2026 took 6.6 s by executemany, 4.0 s so
    (benchmarks/bench_import.py)."""
    import json

    raw = conn.connection.driver_connection
    sql = f"COPY {Ballot.__table__.name} ({', '.join(COPY_COLUMNS)}) FROM STDIN"

    def write(rows):
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for r in rows:
                copy.write_row((r["round_id"], r["district_id"], r["voter_key"], r["channel"],
                                json.dumps(r["content"], ensure_ascii=False), r["receipt"], r["version"],
                                r["cast_at"]))
    return write


def _write_official(s: Session, c: City, rnd: Round, d: District, pb, ids: dict[str, int], costs: dict[str, int],
                    currency: str) -> None:
    selected = pb.published("selected")
    if selected is None:
        return
    scale = 10 ** _digits(currency)
    chosen = [ids[p] for p, v in selected.items() if v.strip() == "1"]
    projects = [{"id": ids[p.id], "cost": number_json(Fraction(costs[p.id], scale)), "funded": ids[p.id] in chosen,
                 "votes": p.extra.get("votes")} for p in pb.instance.projects]
    entry = {"district": d.slug, "name": d.name, "budget": number_json(Fraction(d.budget, scale)),
             "ballots": len(pb.profile), "selected": chosen,
             "total_cost": number_json(Fraction(sum(costs[p] for p, v in selected.items() if v.strip() == "1"), scale)),
             "projects": projects, "rule": "official", "options": {}, "tie_breaking": "", "input_hash": "", "notes": []}
    old = s.exec(select(OutcomeRecord).where(OutcomeRecord.round_id == rnd.id,
                                             OutcomeRecord.status == "published")).first()
    districts = [x for x in (old.result.get("districts", []) if old else []) if x.get("district") != d.slug]
    now = datetime.now(timezone.utc)
    record = OutcomeRecord(round_id=rnd.id, rule={"id": "official", "source": "pabulib",
                                                  "pabulib_rule": pb.meta.get("rule", "")},
                           status="published", result={"districts": sorted(districts + [entry], key=lambda x: x["district"])},
                           engine_version=__version__, published_at=now, supersedes_id=old.id if old else None)
    if old is not None:
        old.status = "superseded"
        s.add(old)
        s.flush()
    s.add(record)
