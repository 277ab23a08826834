"""The round editor's form and the round's config section (pb_engine.config) in both directions.

The form's values are turned into the same dict a city config file holds, and parse_round checks it:
the editor has no rules of its own. Problems come back keyed by config path
(`districts.north.budget`, `phases.voting.starts_at`, `rule.threshold`) and are mapped to the form's
field names here, so each message is shown beside its field.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from api.i18n import _, current
from pb_engine.allocation.registry import RULES
from pb_engine.ballots.registry import BALLOT_KINDS, LIMITS
from pb_engine.phases import PHASES

EXTRA_DISTRICT_ROWS = 2
METHODS = ("access_code", "resident")
FROZEN_FIELDS = {"budget": "budget", "districts_must_sum": "districts_must_sum", "districts": "districts",
                 "ballot": "ballot-kind", "rule": "rule-id", "tie_breaking": "tie_breaking",
                 "eligibility": "eligibility-methods", "phases.voting.starts_at": "phase-voting-starts_at"}


def _local(iso: str, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _text(v) -> str:
    return "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)


def values_of(rnd: dict, tz: str, extra_rows: int = EXTRA_DISTRICT_ROWS) -> dict:
    """The form's values for a round in config JSON shape (round_to_dict or a new round's defaults)."""
    zone = ZoneInfo(tz)
    v = {"slug": rnd.get("slug", ""), "title": rnd.get("title", ""), "description": rnd.get("description", ""),
         "budget": _text(rnd.get("budget")), "districts_must_sum": "1" if rnd.get("districts_must_sum") else "",
         "endorsement_threshold": _text(rnd.get("endorsement_threshold", 0)),
         "endorsement-require": (rnd.get("endorsement") or {}).get("require", "account"),
         "tie_breaking": rnd.get("tie_breaking", "id"), "categories": list(rnd.get("categories") or []),
         "live_turnout": "1" if rnd.get("live_turnout") else ""}
    districts = list(rnd.get("districts") or [])
    for i, d in enumerate(districts):
        for k in ("slug", "name", "budget", "population"):
            v[f"district-{i}-{k}"] = _text(d.get(k))
    v["district_rows"] = str(len(districts) + extra_rows)
    for p in rnd.get("phases") or []:
        v[f"phase-{p['name']}-starts_at"] = _local(p["starts_at"], zone)
        v[f"phase-{p['name']}-ends_at"] = _local(p["ends_at"], zone)
    ballot = rnd.get("ballot") or {"kind": "approval"}
    v["ballot-kind"] = ballot.get("kind", "approval")
    for k in LIMITS:
        v[f"ballot-{k}"] = _text(ballot.get(k))
    rule = rnd.get("rule") or {"id": "greedy"}
    v["rule-id"] = rule.get("id", "greedy")
    for k, val in rule.items():
        if k != "id":
            v[f"rule-{v['rule-id']}-{k}"] = _text(val)
    elig = rnd.get("eligibility") or {"methods": ["access_code"]}
    v["eligibility-methods"] = list(elig.get("methods") or [])
    v["eligibility-multi_district"] = "1" if elig.get("multi_district") else ""
    v["eligibility-min_age"] = _text(elig.get("min_age"))
    v["eligibility-code_binding"] = elig.get("code_binding") or "claim"  # pb_engine.code_binding's default
    return v


def _list(values: dict, name: str) -> list[str]:
    raw = values.get(name)
    return [] if raw in (None, "") else raw if isinstance(raw, list) else [raw]


def _s(values: dict, name: str) -> str:
    raw = values.get(name, "")
    return (raw[0] if isinstance(raw, list) else raw or "").strip()


def _whole(text: str):
    """A whole number as int; any other text stays text, so parse_round names what is wrong with it."""
    return int(text) if re.fullmatch(r"-?\d{1,15}", text) else text


def _amount(text: str) -> str:
    return re.sub(r"[\s,_]", "", text)


def config_of(values: dict, stored: dict | None, tz: str) -> tuple[dict, list[int]]:
    """(round config dict, form row index of each district passed) from the posted form."""
    zone = ZoneInfo(tz)
    data: dict = {"slug": _s(values, "slug") or (stored or {}).get("slug", ""), "title": _s(values, "title"),
                  "description": _s(values, "description"), "tie_breaking": _s(values, "tie_breaking") or "id",
                  "districts_must_sum": bool(_s(values, "districts_must_sum")),
                  "categories": _list(values, "categories"), "live_turnout": bool(_s(values, "live_turnout"))}
    if _s(values, "budget"):
        data["budget"] = _amount(_s(values, "budget"))
    if _s(values, "endorsement_threshold"):
        data["endorsement_threshold"] = _whole(_s(values, "endorsement_threshold"))
    if _s(values, "endorsement-require"):
        data["endorsement"] = {"require": _s(values, "endorsement-require")}
    elif (stored or {}).get("endorsement"):
        data["endorsement"] = dict(stored["endorsement"])  # a form of before the field: kept as configured
    try:
        rows = min(200, int(_s(values, "district_rows") or 0))
    except ValueError:
        rows = 0
    districts, index = [], []
    for i in range(rows):
        cells = {k: _s(values, f"district-{i}-{k}") for k in ("slug", "name", "budget", "population")}
        if _s(values, f"district-{i}-remove") or not any(cells.values()):
            continue
        d = {"slug": cells["slug"], "name": cells["name"]}
        if cells["budget"]:
            d["budget"] = _amount(cells["budget"])
        if cells["population"]:
            d["population"] = _whole(cells["population"])
        districts.append(d)
        index.append(i)
    data["districts"] = districts
    shown = {}
    for p in (stored or {}).get("phases") or []:
        for k in ("starts_at", "ends_at"):
            shown[(p["name"], k)] = (_local(p[k], zone), p[k])
    phases = []
    for name in PHASES:
        item = {"name": name}
        for k in ("starts_at", "ends_at"):
            text = _s(values, f"phase-{name}-{k}")
            if text:
                was = shown.get((name, k))
                # a date left as shown keeps its exact stored instant (seconds the form does not show)
                item[k] = was[1] if was and was[0] == text else text
        if len(item) > 1:
            phases.append(item)
    data["phases"] = phases
    kind = _s(values, "ballot-kind")
    ballot = {"kind": kind}
    for k in LIMITS:
        text = _s(values, f"ballot-{k}")
        if text:
            ballot[k] = text if k == "min_spend_share" else _whole(text)
    data["ballot"] = ballot
    rid = _s(values, "rule-id")
    rule: dict = {"id": rid}
    if rid in RULES:
        for opt in RULES[rid].options:
            text = _s(values, f"rule-{rid}-{opt.name}")
            if not text:
                continue
            if opt.type == "integer":
                rule[opt.name] = _whole(text)
            elif opt.type == "boolean":
                rule[opt.name] = {"true": True, "false": False}.get(text, text)
            else:
                rule[opt.name] = text
    data["rule"] = rule
    elig: dict = {"methods": _list(values, "eligibility-methods"),
                  "multi_district": bool(_s(values, "eligibility-multi_district"))}
    if _s(values, "eligibility-min_age"):
        elig["min_age"] = _whole(_s(values, "eligibility-min_age"))
    if _s(values, "eligibility-code_binding"):
        elig["code_binding"] = _s(values, "eligibility-code_binding")
    data["eligibility"] = elig
    return data, index


def field_of(key: str, data: dict, index: list[int]) -> str:
    """The form field that shows a problem of config key `key`."""
    if key in FROZEN_FIELDS and key not in ("budget", "districts_must_sum", "districts", "tie_breaking"):
        return FROZEN_FIELDS[key]
    m = re.fullmatch(r"districts(?:\.([a-z0-9-]+)|\[(\d+)\])\.(\w+)", key)
    if m:
        slug, pos, part = m.groups()
        slugs = [d.get("slug") for d in data.get("districts", [])]
        if pos is not None:
            j = int(pos)
        elif slug in slugs:
            # a slug given twice is reported on its second row
            j = len(slugs) - 1 - slugs[::-1].index(slug) if part == "slug" else slugs.index(slug)
        else:
            return "districts"
        return f"district-{index[j]}-{part}" if j < len(index) else "districts"
    m = re.fullmatch(r"phases\.(\w+)(?:\.(starts_at|ends_at))?", key)
    if m:
        return f"phase-{m.group(1)}-{m.group(2) or 'starts_at'}"
    if key.startswith("endorsement."):
        return "endorsement-require"
    m = re.fullmatch(r"ballot\.(\w+)", key)
    if m:
        return f"ballot-{m.group(1)}"
    m = re.fullmatch(r"rule\.(\w+)", key)
    if m:
        return "rule-id" if m.group(1) == "id" else f"rule-{data.get('rule', {}).get('id')}-{m.group(1)}"
    m = re.fullmatch(r"eligibility\.(\w+)", key)
    if m:
        return f"eligibility-{m.group(1)}"
    return key


_WORDS = [(re.compile(p), f) for p, f in [
    (r"is missing.*|must not be empty", lambda m: _("This is required.")),
    (r"must be a whole number, got .*", lambda m: _("Enter a whole number.")),
    (r"must be at least (?P<n>\d+), got .*", lambda m: _("Enter at least %(n)s.", n=m["n"])),
    (r"must be (?:more than 0|a positive number), got .*", lambda m: _("Enter an amount more than zero.")),
    (r"'.*' is not a slug.*", lambda m: _("Use lowercase letters, digits and “-” only (at most 63).")),
    (r"must be an amount .*|must be a finite amount.*", lambda m: _("Enter an amount in figures, e.g. 1500.")),
    (r".* has more than (?P<digits>\d+) decimal digit\(s\), the minor unit of (?P<currency>\w+)",
     lambda m: _("An amount in %(currency)s has at most %(digits)s decimals.", currency=m["currency"],
                 digits=m["digits"])),
    (r"district budgets add up to (?P<total>.+), not the round's budget (?P<budget>.+) \(districts_must_sum.*",
     lambda m: _("The district budgets add up to %(total)s, not the round's budget of %(budget)s.",
                 total=m["total"], budget=m["budget"])),
    (r"(?P<amount>.+) is more than the round's budget (?P<budget>.+)",
     lambda m: _("%(amount)s is more than the round's budget of %(budget)s.", amount=m["amount"],
                 budget=m["budget"])),
    (r".* is not an ISO 8601 date or date-time|must be a date or date-time.*|.* is outside the years .*",
     lambda m: _("Enter a date and time.")),
    (r"ends_at .* is not after starts_at .*", lambda m: _("The phase must end after it starts.")),
    (r"phase '(?P<b>\w+)' starts at .*, before '(?P<a>\w+)' ends at .*",
     lambda m: _("This phase starts before the previous phase ends.")),
    (r"a round needs at least one district.*", lambda m: _("A round needs at least one district.")),
    (r"district '.*' given twice", lambda m: _("This district is given twice.")),
    (r"district '.*' has \d+ proposal\(s\).*|.*district '.*' has \d+ proposal\(s\) and cannot be removed",
     lambda m: _("A district with proposals cannot be removed.")),
    (r"must be one of .*|unknown rule .*", lambda m: _("Choose one of the list.")),
    (r"must be a non-empty list of .*", lambda m: _("Choose at least one.")),
    (r"separate keeps access codes and resident accounts apart.*",
     lambda m: _("“Separate” takes one way of voting only: tick access codes or resident accounts, not both.")),
    (r"unknown category .*", lambda m: _("Not a category of this city.")),
    (r"\w+ \d+ is more than \w+ \d+", lambda m: _("The minimum is more than the maximum.")),
    (r"an? .* ballot needs \w+", lambda m: _("This kind of ballot needs this limit.")),
    (r"does not apply to .*", lambda m: _("This limit does not apply to this kind of ballot; leave it empty.")),
    (r"must be (?:at least 1|zero or more), got .*|is more than max_points",
     lambda m: _("This limit is out of range.")),
    (r"must be (?:a number )?between 0 and 1.*", lambda m: _("Enter a number between 0 and 1.")),
    (r"\S+ takes no \S+.*", lambda m: _("This rule takes no such option.")),
    (r"\S+: \S+ must .*", lambda m: _("This option's value is out of range.")),
]]


def problem_words(message: str) -> str:
    """A config problem for a page: the parser's own sentence in English, worded in other languages."""
    if current() == "en":
        return message
    for pattern, words in _WORDS:
        m = pattern.fullmatch(message)
        if m:
            return words(m.groupdict())
    return _("Not accepted: %(detail)s", detail=message)


def ballot_kinds():
    return list(BALLOT_KINDS.values())


def rules():
    return list(RULES.values())
