"""The audit log page: every change of the city, filtered by person, action, round, dates (the city's
days) and words; one page at a time, or all of it as CSV (the export is itself logged). Managers only,
like GET /api/v1/cities/<city>/audit, whose filters and CSV these are."""

from __future__ import annotations

from datetime import date

from flask import request, url_for

from api.auth import MANAGER, actor
from api.console import bp, nav
from api.console.helpers import city_and_staff, staff_view
from api.context import uow
from api.i18n import _
from api.pages.helpers import render
from api.resources.audit import csv_export, filters_of
from pb_engine.queries.audit import actor_names, audit_actions, audit_actors, audit_page
from pb_engine.store import lookup

nav(90, "console.audit", lambda: _("Audit log"), MANAGER)
PER_PAGE = 50
KEYS = ("actor", "action", "round", "since", "until", "q")


def _args(c):
    """The filter form's values, and the same as filters; a value that cannot apply is dropped."""
    s = uow()
    args = {k: (request.args.get(k) or "").strip()[:200] for k in KEYS}
    parsed: dict = {}
    for k in ("since", "until"):
        try:
            parsed[k] = date.fromisoformat(args[k]) if args[k] else None
        except ValueError:
            args[k], parsed[k] = "", None
    if args["round"] and not lookup.round_exists(s, c, args["round"]):
        args["round"] = ""
    parsed.update({k: args[k] or None for k in ("actor", "action", "round", "q")})
    return args, parsed


def who(name_of: dict, actor_id: str) -> str:
    if actor_id in name_of:
        return name_of[actor_id]
    return {"cli": _("command line"), "system": _("the system")}.get(actor_id, actor_id)


def diff(before, after) -> list[tuple[str, str, str]]:
    """(key, before, after) of what changed, for a row of the log; values as compact JSON."""
    import json

    def text(v):
        return "" if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)

    b = before if isinstance(before, dict) else ({} if before is None else {"": before})
    a = after if isinstance(after, dict) else ({} if after is None else {"": after})
    return [(k, text(b.get(k)), text(a.get(k))) for k in dict.fromkeys([*b, *a]) if b.get(k) != a.get(k)]


@bp.route("/<city>/audit")
@staff_view(MANAGER)
def audit(city: str):
    c, me = city_and_staff(city, MANAGER)
    s = uow()
    args, parsed = _args(c)
    try:
        page = max(1, min(100_000, int(request.args.get("page", 1))))
    except ValueError:
        page = 1
    found = audit_page(s, c, filters=filters_of(parsed, c.timezone), page=page, per_page=PER_PAGE)
    names = actor_names(s, c)
    actors = [(a, who(names, a)) for a in audit_actors(s, c)]
    query = {k: v for k, v in args.items() if v}
    return render("console/audit.html", city=c, me=me, found=found, args=args, actions=audit_actions(s, c),
                  actors=actors, rounds=[r.slug for r in lookup.rounds_of(s, c)], who=lambda a: who(names, a),
                  diff=diff, csv_url=url_for("console.audit_csv", city=c.slug, **query),
                  page_url=lambda n: url_for("console.audit", city=c.slug, page=n, **query))


@bp.route("/<city>/audit.csv")
@staff_view(MANAGER)
def audit_csv(city: str):
    c, me = city_and_staff(city, MANAGER, write=True)  # the export is written to the log
    _args_shown, parsed = _args(c)
    return csv_export(uow(), c, filters_of(parsed, c.timezone), parsed, actor(me), f"audit-{c.slug}.csv")
