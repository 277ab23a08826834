"""Reading a city config (the TOML file, or the same shape as JSON from the API) into plain values.

Pure: no database. Every problem of a file is collected, then one ConfigError is
raised that lists them all (its `file`/`key`/`problem` are the first one, its
message has one line per problem, each naming file and key).

Keys are named as a path: `city.currency`, `categories.parks.taxonomy`,
`rounds.2026.districts.north.budget`, `rounds.2026.phases.voting` (a list item
is named by its slug, or by its index in brackets when it has none).

Dates: an ISO 8601 date-time with offset is taken as is; a local date-time is
in the city's time zone; a bare date means the start of that day for
`starts_at` and the end of that day (midnight after it) for `ends_at`, so
"voting 2025-06-01 to 2025-06-15" includes the 15th.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pb_engine.allocation.spec import RuleSpec
from pb_engine.allocation.tiebreak import ROUND_KINDS
from pb_engine.ballots.rules import BallotRules
from pb_engine.config.model import CategoryConfig, CityConfig, DistrictConfig, RoundConfig
from pb_engine.errors import ConfigError
from pb_engine.money import MINOR_DIGITS, MoneyError, format_money, to_minor
from pb_engine.phases import PhaseWindow, check_phases
from pb_engine.taxonomy import TAXONOMY

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
TOP_KEYS = ("city", "categories", "rounds")
CITY_KEYS = ("name", "slug", "country", "population", "currency", "locales", "timezone", "notes")
CATEGORY_KEYS = ("slug", "name", "taxonomy")
ROUND_KEYS = ("slug", "title", "description", "budget", "districts_must_sum", "endorsement_threshold", "endorsement", "categories",
              "districts", "phases", "ballot", "rule", "eligibility", "tie_breaking", "live_turnout")
# Keys round_to_dict adds that are not settings; parse_round skips them when asked to (API round trips).
READ_ONLY_ROUND_KEYS = ("city", "currency", "timezone", "current_phase", "version", "frozen")
DISTRICT_KEYS = ("slug", "name", "budget", "population")
PHASE_KEYS = ("name", "starts_at", "ends_at")
ELIGIBILITY_KEYS = ("methods", "multi_district", "min_age", "code_binding")
ELIGIBILITY_METHODS = ("access_code", "resident")
TIE_BREAKING = ROUND_KINDS  # pb_engine.allocation.tiebreak builds the order from it
DEFAULT_ELIGIBILITY = {"methods": ["access_code"], "multi_district": False}


class Problems(list):
    """(key, message) pairs, in file order."""

    def add(self, key: str, message: str) -> None:
        self.append((key, message))

    def raise_if_any(self, file: str) -> None:
        if self:
            raise config_error(file, list(self))


def config_error(file: str, problems: list[tuple[str, str]]) -> ConfigError:
    """One ConfigError for all problems of a file: first in file/key/problem, all in the message and errors."""
    key, problem = problems[0]
    err = ConfigError(file, key, problem)
    err.problems = list(problems)
    if len(problems) > 1:
        err.message = "\n".join(f"{file}: {k}: {p}" for k, p in problems)
        err.args = (err.message,)
        errors: dict[str, list[str]] = {}
        for k, p in problems:
            errors.setdefault(k, []).append(p)
        err.errors = errors
    return err


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _unknown_keys(data: Mapping, allowed: Iterable[str], prefix: str, problems: Problems, skip: Iterable[str] = ()) -> None:
    allowed = tuple(allowed)
    for key in data:
        if key not in allowed and key not in skip:
            problems.add(_join(prefix, str(key)), f"unknown key; allowed here: {', '.join(allowed)}")


def _type_name(v: Any) -> str:
    return {bool: "a boolean", int: "a whole number", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(v), type(v).__name__)


def _str(data: Mapping, key: str, prefix: str, problems: Problems, *, required: bool = True, default: str = "") -> str | None:
    if key not in data or data[key] is None:
        if required:
            problems.add(_join(prefix, key), "is missing")
            return None
        return default
    v = data[key]
    if not isinstance(v, str):
        problems.add(_join(prefix, key), f"must be a string, got {_type_name(v)} {v!r}")
        return None
    if required and not v.strip():
        problems.add(_join(prefix, key), "must not be empty")
        return None
    return v


def _slug(data: Mapping, key: str, prefix: str, problems: Problems) -> str | None:
    v = _str(data, key, prefix, problems)
    if v is not None and not SLUG.match(v):
        problems.add(_join(prefix, key), f"{v!r} is not a slug: lowercase letters, digits and '-', at most 63")
        return None
    return v


def _int(data: Mapping, key: str, prefix: str, problems: Problems, *, required: bool = False, minimum: int = 0,
         default: int | None = None) -> int | None:
    if key not in data or data[key] is None:
        if required:
            problems.add(_join(prefix, key), "is missing")
        return default
    v = data[key]
    if isinstance(v, bool) or not isinstance(v, int):
        problems.add(_join(prefix, key), f"must be a whole number, got {_type_name(v)} {v!r}")
        return None
    if v < minimum:
        problems.add(_join(prefix, key), f"must be at least {minimum}, got {v}")
        return None
    return v


def _bool(data: Mapping, key: str, prefix: str, problems: Problems, default: bool = False) -> bool:
    if key not in data or data[key] is None:
        return default
    v = data[key]
    if not isinstance(v, bool):
        problems.add(_join(prefix, key), f"must be true or false, got {_type_name(v)} {v!r}")
        return default
    return v


def _table(data: Mapping, key: str, prefix: str, problems: Problems, *, required: bool = False) -> Mapping | None:
    if key not in data or data[key] is None:
        if required:
            problems.add(_join(prefix, key), "is missing")
        return None
    v = data[key]
    if not isinstance(v, Mapping):
        problems.add(_join(prefix, key), f"must be a table, got {_type_name(v)} {v!r}")
        return None
    return v


def _tables(data: Mapping, key: str, prefix: str, problems: Problems) -> list[Mapping]:
    """An array of tables ([[key]]); items that are not tables are reported and skipped."""
    if key not in data or data[key] is None:
        return []
    v = data[key]
    if not isinstance(v, list):
        problems.add(_join(prefix, key), f"must be a list of tables ([[{key}]]), got {_type_name(v)}")
        return []
    out = []
    for i, item in enumerate(v):
        if not isinstance(item, Mapping):
            problems.add(f"{_join(prefix, key)}[{i}]", f"must be a table, got {_type_name(item)} {item!r}")
        else:
            out.append(item)
    return out


def _item_prefix(prefix: str, key: str, item: Mapping, index: int, slug_key: str = "slug") -> str:
    slug = item.get(slug_key)
    if isinstance(slug, str) and SLUG.match(slug):
        return f"{_join(prefix, key)}.{slug}"
    return f"{_join(prefix, key)}[{index}]"


def _money(data: Mapping, key: str, prefix: str, currency: str | None, problems: Problems, *, required: bool = True) -> int | None:
    if key not in data or data[key] is None:
        if required:
            problems.add(_join(prefix, key), "is missing")
        return None
    if currency is None:
        return None  # the currency itself is wrong; that problem is already reported
    raw = data[key]
    if isinstance(raw, (list, dict)):
        problems.add(_join(prefix, key), f"must be an amount in {currency}, got {_type_name(raw)}")
        return None
    try:
        minor = to_minor(raw, currency)
    except MoneyError as exc:
        problems.add(_join(prefix, key), str(exc))
        return None
    if minor <= 0:
        problems.add(_join(prefix, key), f"must be more than 0, got {raw}")
        return None
    return minor


YEARS = (1900, 9000)


def _instant(raw: Any, zone: ZoneInfo | None, end: bool, key: str, problems: Problems) -> datetime | None:
    if isinstance(raw, str):
        text = raw.strip()
        try:
            raw = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            problems.add(key, f"{raw!r} is not an ISO 8601 date or date-time")
            return None
    if isinstance(raw, date) and not YEARS[0] <= raw.year <= YEARS[1]:
        # Time-zone arithmetic overflows near year 9999; no PB round lives outside these years.
        problems.add(key, f"{raw.isoformat()} is outside the years {YEARS[0]} to {YEARS[1]}")
        return None
    if isinstance(raw, datetime):
        if raw.tzinfo is None:
            if zone is None:
                return None  # reported with the time zone
            raw = raw.replace(tzinfo=zone)
        return raw.astimezone(dt_timezone.utc)
    if isinstance(raw, date):
        if zone is None:
            return None
        day = raw + timedelta(days=1) if end else raw
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(dt_timezone.utc)
    problems.add(key, f"must be a date or date-time (ISO 8601), got {_type_name(raw)} {raw!r}")
    return None


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _category_slug(c: Any) -> str:
    return c if isinstance(c, str) else c.slug


# --- rounds ------------------------------------------------------------------

def parse_round(data: Mapping[str, Any], *, timezone: str, currency: str, categories: Iterable[Any] = (),
                file: str = "<round>", prefix: str = "", read_only_ok: bool = False) -> RoundConfig:
    """One round (a [[rounds]] table, or the API's round JSON). Raises ConfigError listing every problem.

    `categories`: the city's category slugs (or objects with `.slug`). With
    `read_only_ok`, keys that round_to_dict adds (current_phase, city, ...) are skipped.
    """
    problems = Problems()
    rnd = _parse_round(data, timezone=timezone, currency=currency, categories=categories, prefix=prefix,
                       problems=problems, read_only_ok=read_only_ok)
    problems.raise_if_any(file)
    assert rnd is not None
    return rnd


def _parse_round(data: Mapping[str, Any], *, timezone: str | None, currency: str | None, categories: Iterable[Any],
                 prefix: str, problems: Problems, read_only_ok: bool = False) -> RoundConfig | None:
    if not isinstance(data, Mapping):
        problems.add(prefix or "round", f"must be a table, got {_type_name(data)}")
        return None
    before = len(problems)
    city_categories = {_category_slug(c) for c in categories}
    zone = _zone(timezone)
    if currency is not None and currency not in MINOR_DIGITS:
        currency = None
    _unknown_keys(data, ROUND_KEYS, prefix, problems, skip=READ_ONLY_ROUND_KEYS if read_only_ok else ())
    slug = _slug(data, "slug", prefix, problems)
    title = _str(data, "title", prefix, problems)
    description = _str(data, "description", prefix, problems, required=False) or ""
    budget = _money(data, "budget", prefix, currency, problems)
    must_sum = _bool(data, "districts_must_sum", prefix, problems)
    threshold = _int(data, "endorsement_threshold", prefix, problems, default=0)
    endorsement_requires = _endorsement(data, prefix, problems)

    round_categories: list[str] = []
    if data.get("categories") is not None:
        raw = data["categories"]
        key = _join(prefix, "categories")
        if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
            problems.add(key, f"must be a list of the city's category slugs, got {raw!r}")
        else:
            for c in raw:
                if c not in city_categories:
                    known = ", ".join(sorted(city_categories)) or "none defined"
                    problems.add(key, f"unknown category {c!r}: not a category of this city (city categories: {known})")
                elif c in round_categories:
                    problems.add(key, f"category {c!r} given twice")
                else:
                    round_categories.append(c)

    districts: list[DistrictConfig] = []
    items = _tables(data, "districts", prefix, problems)
    if "districts" not in data or (isinstance(data.get("districts"), list) and not data["districts"]):
        problems.add(_join(prefix, "districts"), "a round needs at least one district ([[rounds.districts]]); "
                                                  "use one district for a citywide budget")
    seen: set[str] = set()
    for i, item in enumerate(items):
        p = _item_prefix(prefix, "districts", item, i)
        _unknown_keys(item, DISTRICT_KEYS, p, problems)
        d_slug = _slug(item, "slug", p, problems)
        d_name = _str(item, "name", p, problems)
        d_budget = _money(item, "budget", p, currency, problems)
        d_pop = _int(item, "population", p, problems, minimum=0)
        if d_slug is not None and d_slug in seen:
            problems.add(_join(p, "slug"), f"district {d_slug!r} given twice")
            continue
        if d_slug is not None:
            seen.add(d_slug)
        if None not in (d_slug, d_name, d_budget):
            districts.append(DistrictConfig(d_slug, d_name, d_budget, d_pop))
    if budget is not None and districts and len(districts) == len(items):
        total = sum(d.budget for d in districts)
        if must_sum and total != budget:
            problems.add(_join(prefix, "districts"),
                         f"district budgets add up to {format_money(total, currency, symbol=False)}, not the round's "
                         f"budget {format_money(budget, currency, symbol=False)} (districts_must_sum = true)")
        if not must_sum:
            for d in districts:
                if d.budget > budget:
                    problems.add(_join(prefix, f"districts.{d.slug}.budget"),
                                 f"{format_money(d.budget, currency, symbol=False)} is more than the round's budget "
                                 f"{format_money(budget, currency, symbol=False)}")

    phases: list[PhaseWindow] = []
    phase_ok = True
    for i, item in enumerate(_tables(data, "phases", prefix, problems)):
        p = _item_prefix(prefix, "phases", item, i, slug_key="name")
        _unknown_keys(item, PHASE_KEYS, p, problems)
        name = _str(item, "name", p, problems)
        starts = _instant(item["starts_at"], zone, False, _join(p, "starts_at"), problems) if "starts_at" in item else None
        ends = _instant(item["ends_at"], zone, True, _join(p, "ends_at"), problems) if "ends_at" in item else None
        for k, v in (("starts_at", starts), ("ends_at", ends)):
            if k not in item:
                problems.add(_join(p, k), "is missing")
        if name is None or starts is None or ends is None:
            phase_ok = False
            continue
        phases.append(PhaseWindow(name, starts, ends))
    if "phases" not in data:
        problems.add(_join(prefix, "phases"), "is missing: a round needs its dated phases ([[rounds.phases]])")
    if phase_ok:
        for key, message in check_phases(phases):
            problems.add(_join(prefix, key), message)

    ballot = None
    table = _table(data, "ballot", prefix, problems, required=True)
    if table is not None:
        ballot, found = BallotRules.from_dict(table, prefix=_join(prefix, "ballot"))
        for key, message in found:
            problems.add(key, message)

    rule = None
    table = _table(data, "rule", prefix, problems, required=True)
    if table is not None:
        rule, found = RuleSpec.from_dict(table, prefix=_join(prefix, "rule"))
        for key, message in found:
            problems.add(key, message)

    eligibility = dict(DEFAULT_ELIGIBILITY)
    table = _table(data, "eligibility", prefix, problems)
    if table is not None:
        p = _join(prefix, "eligibility")
        _unknown_keys(table, ELIGIBILITY_KEYS, p, problems)
        if "methods" in table:
            methods = table["methods"]
            if (not isinstance(methods, list) or not methods
                    or not all(isinstance(m, str) and m in ELIGIBILITY_METHODS for m in methods)):
                problems.add(_join(p, "methods"), f"must be a non-empty list of {', '.join(ELIGIBILITY_METHODS)}, got {methods!r}")
            else:
                eligibility["methods"] = list(dict.fromkeys(methods))
        eligibility["multi_district"] = _bool(table, "multi_district", p, problems)
        min_age = _int(table, "min_age", p, problems, minimum=0)
        if min_age is not None:
            eligibility["min_age"] = min_age
        _code_binding(table, p, eligibility, problems)

    live_turnout = _bool(data, "live_turnout", prefix, problems)

    tie = data.get("tie_breaking", "id")
    if tie not in TIE_BREAKING:
        problems.add(_join(prefix, "tie_breaking"), f"must be one of {', '.join(TIE_BREAKING)}, got {tie!r}")

    if len(problems) > before:
        return None
    return RoundConfig(slug=slug, title=title, description=description, budget=budget, districts=tuple(districts),
                       phases=tuple(phases), ballot=ballot, rule=rule, districts_must_sum=must_sum,
                       endorsement_threshold=threshold, endorsement_requires=endorsement_requires,
                       categories=tuple(round_categories),
                       eligibility=eligibility, tie_breaking=tie, live_turnout=live_turnout)


def _endorsement(data: Mapping, prefix: str, problems: Problems) -> str:
    """[rounds.endorsement] require = account | verified (pb_engine.endorsing): who may endorse."""
    from pb_engine import endorsing

    table = _table(data, "endorsement", prefix, problems) or {}
    p = _join(prefix, "endorsement")
    _unknown_keys(table, ("require",), p, problems)
    require = table.get("require", endorsing.DEFAULT)
    if require not in endorsing.REQUIREMENTS:
        problems.add(_join(p, "require"), f"must be one of {', '.join(endorsing.REQUIREMENTS)}, got {require!r}")
        return endorsing.DEFAULT
    return require


def _code_binding(table: Mapping, prefix: str, eligibility: dict, problems: Problems) -> None:
    """eligibility.code_binding (pb_engine.code_binding): stored only when it is not the default `claim`, so a
    round's settings, frozen once voting starts, read the same with the default written out or left out."""
    from pb_engine.code_binding import BINDINGS, CLAIM, SEPARATE

    if table.get("code_binding") is None:
        return
    value, key = table["code_binding"], _join(prefix, "code_binding")
    if value not in BINDINGS:
        problems.add(key, f"must be one of {', '.join(BINDINGS)}, got {value!r}")
    elif value == SEPARATE and len(eligibility.get("methods") or ()) != 1:
        problems.add(key, "separate keeps access codes and resident accounts apart: list one method only in "
                          "eligibility.methods (access_code or resident), or use claim")
    elif value != CLAIM:
        eligibility["code_binding"] = value


# --- cities ------------------------------------------------------------------

def parse_city_config(data: Mapping[str, Any], file: str = "<config>") -> CityConfig:
    """A whole city config (the parsed TOML). Raises one ConfigError listing every problem of the file."""
    problems = Problems()
    if not isinstance(data, Mapping):
        raise config_error(file, [("", "a city config must be a table")])
    _unknown_keys(data, TOP_KEYS, "", problems)
    city = _table(data, "city", "", problems, required=True) or {}
    _unknown_keys(city, CITY_KEYS, "city", problems)
    name = _str(city, "name", "city", problems)
    slug = _slug(city, "slug", "city", problems)
    country = _str(city, "country", "city", problems)
    population = _int(city, "population", "city", problems, minimum=0)
    notes = _str(city, "notes", "city", problems, required=False) or ""
    currency = _str(city, "currency", "city", problems)
    if currency is not None and currency not in MINOR_DIGITS:
        problems.add("city.currency", f"unknown currency {currency!r}; known: {', '.join(sorted(MINOR_DIGITS))}")
        currency = None
    timezone = _str(city, "timezone", "city", problems)
    if timezone is not None and _zone(timezone) is None:
        problems.add("city.timezone", f"unknown time zone {timezone!r} (use an IANA name such as Asia/Taipei)")
        timezone = None
    locales: tuple[str, ...] = ()
    raw = city.get("locales")
    if raw is None:
        problems.add("city.locales", "is missing (e.g. [\"zh-TW\", \"en\"])")
    elif (not isinstance(raw, list) or not raw
          or not all(isinstance(x, str) and re.match(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", x) for x in raw)):
        problems.add("city.locales", f"must be a non-empty list of language tags such as \"zh-TW\", got {raw!r}")
    else:
        locales = tuple(raw)

    categories: list[CategoryConfig] = []
    seen: set[str] = set()
    for i, item in enumerate(_tables(data, "categories", "", problems)):
        p = _item_prefix("", "categories", item, i)
        _unknown_keys(item, CATEGORY_KEYS, p, problems)
        c_slug = _slug(item, "slug", p, problems)
        c_name = _str(item, "name", p, problems)
        term = _str(item, "taxonomy", p, problems)
        if term is not None and term not in TAXONOMY:
            problems.add(_join(p, "taxonomy"), f"unknown category {term!r}: not a term of the shared taxonomy "
                                               f"({', '.join(TAXONOMY)})")
            term = None
        if c_slug is not None and c_slug in seen:
            problems.add(_join(p, "slug"), f"category {c_slug!r} given twice")
            continue
        if c_slug is not None:
            seen.add(c_slug)
        if None not in (c_slug, c_name, term):
            categories.append(CategoryConfig(c_slug, c_name, term))

    rounds: list[RoundConfig] = []
    round_slugs: set[str] = set()
    for i, item in enumerate(_tables(data, "rounds", "", problems)):
        p = _item_prefix("", "rounds", item, i)
        r_slug = item.get("slug")
        if isinstance(r_slug, str) and r_slug in round_slugs:
            problems.add(_join(p, "slug"), f"round {r_slug!r} given twice")
            continue
        round_slugs.add(r_slug)
        rnd = _parse_round(item, timezone=timezone, currency=currency, categories=seen, prefix=p, problems=problems)
        if rnd is not None:
            rounds.append(rnd)

    problems.raise_if_any(file)
    return CityConfig(slug=slug, name=name, country=country, currency=currency, timezone=timezone, locales=locales,
                      population=population, notes=notes, categories=tuple(categories), rounds=tuple(rounds))
