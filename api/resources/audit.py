"""The audit log of a city (admins of that city only): who, what, when, before/after.

Filters (the console's audit page has the same ones): round, action, actor ("staff:<id>", "cli",
"system"), since/until (dates in the city's time zone, both days included) and q (words in the
target, before or after). `/audit.csv` is the same list as CSV for a spreadsheet; every export is
itself written to the log (audit.export), with the filters it used.
"""

import io
import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from api.auth import MANAGER, access, actor as actor_of, require_staff
from api.context import uow
from api.resources import _scope
from api.schemas.cities import AuditArgs, AuditPageSchema
from api.schemas.common import Text
from pb_engine import audit, csv_cells
from pb_engine.queries.audit import AuditFilters, actor_names, audit_events, audit_page

blp = Blueprint("audit", __name__, url_prefix="/api/v1/cities/<string:city>", description="Audit log (city admins)")

CSV_COLUMNS = ("id", "at_utc", "at_local", "actor", "actor_name", "action", "round", "target", "before", "after")


class AuditFilterArgs(AuditArgs):
    actor = Text(max_len=64, metadata={"description": "staff:<id>, cli or system, as recorded"})
    since = fields.Date(metadata={"description": "first day, in the city's time zone"})
    until = fields.Date(metadata={"description": "last day (included), in the city's time zone"})
    q = Text(max_len=200, metadata={"description": "words in the target, before or after"})


def day_start(day: date | None, tz: str) -> datetime | None:
    return None if day is None else datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))


def filters_of(args: dict, tz: str) -> AuditFilters:
    until = args.get("until")
    return AuditFilters(round_slug=args.get("round") or None, action=args.get("action") or None,
                        actor=args.get("actor") or None, since=day_start(args.get("since"), tz),
                        until=day_start(until + timedelta(days=1), tz) if until else None,
                        q=(args.get("q") or "").strip() or None)


def _json_cell(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def csv_export(s, c, filters: AuditFilters, asked: dict, who: str, filename: str) -> Response:
    """Every matching event as CSV (UTF-8 with a BOM, so Excel reads the letters; formula cells
    neutralised), and an audit.export event naming the filters and the number of rows."""
    names = actor_names(s, c)
    zone = ZoneInfo(c.timezone)
    out = io.StringIO()
    out.write("\ufeff")
    w = csv_cells.writer(out)
    w.writerow(CSV_COLUMNS)
    n = 0
    for e in audit_events(s, c, filters):
        w.writerow([e.id, e.at.isoformat(), e.at.astimezone(zone).isoformat(), e.actor, names.get(e.actor, ""),
                    e.action, e.round_slug or "", e.target, _json_cell(e.before), _json_cell(e.after)])
        n += 1
    audit.record(s, actor=who, action="audit.export", city_id=c.id, target=f"city:{c.slug}",
                 after={"filters": {k: str(v) for k, v in asked.items() if v not in (None, "")}, "rows": n})
    return Response(out.getvalue().encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _event(e) -> dict:
    return {"id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "round": e.round_slug,
            "target": e.target, "before": e.before, "after": e.after}


@blp.route("/audit")
class Audit(MethodView):
    @access(blp, "admin-private", MANAGER)
    @blp.arguments(AuditFilterArgs, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, args, city):
        """Audit events, newest first; filter by round slug, action, actor, dates (city time) or words."""
        s = uow()
        c = _scope.city(s, city)
        require_staff(s, c, MANAGER, private=True)
        found = audit_page(s, c, filters=filters_of(args, c.timezone), page=args["page"], per_page=args["per_page"])
        return {"events": [_event(e) for e in found.events], "page": found.page, "per_page": found.per_page,
                "total": found.total}


@blp.route("/audit.csv")
class AuditCsv(MethodView):
    @access(blp, "admin-private", MANAGER)
    @blp.arguments(AuditFilterArgs, location="query")
    @blp.response(200, {"type": "string"}, content_type="text/csv", description="the events as CSV, UTF-8 with BOM")
    def get(self, args, city):
        """The audit events matching the same filters as CSV, every page; the export itself is logged."""
        s = uow(write=True)
        c = _scope.city(s, city)
        me = require_staff(s, c, MANAGER, private=True)
        asked = {k: args.get(k) for k in ("round", "action", "actor", "since", "until", "q")}
        return csv_export(s, c, filters_of(args, c.timezone), asked, actor_of(me), f"audit-{c.slug}.csv")
