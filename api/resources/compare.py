"""GET /api/v1/compare?rounds=taipei/2026,warszawa/2026[&currency=EUR]: rounds side by side (JSON, or CSV with
format=csv). While a heavy rule run is counted by a background job (api/long_work.py) the answer is 202 with
`Location` on the first job's status, the jobs in `jobs`, and each such rule marked
`{"skipped": "pending", "job": id, "status_url", "state", "percent"}`; the other figures are all there."""

import os

from flask import Response, current_app, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from api.auth import access
from api.context import uow
from api.long_work import background, job_json, pending
from api.resources import _scope
from api.schemas.common import NoNul
from api.schemas.jobs import JobSchema
from pb_engine import compare as svc
from pb_engine.analysis.currency import Rates, load_rates

blp = Blueprint("compare", __name__, url_prefix="/api/v1", description="Cross-city comparison")


class CompareArgs(Schema):
    rounds = fields.String(required=True, validate=[NoNul(), validate.Length(min=1, max=4000)],
                           metadata={"description": "comma-separated city/round refs, e.g. taipei/2026,warszawa/2026"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))
    currency = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Z]{3}$", error="a currency code such as EUR"),
                             metadata={"description": "also show money in this currency (rates: the dated rates file)"})


class CompareEntrySchema(Schema):
    city = fields.String()
    round = fields.String()
    ref = fields.String()
    title = fields.String()
    city_name = fields.String()
    country = fields.String()
    currency = fields.String()
    current_phase = fields.String()
    figures = fields.Dict()


class CompareSchema(Schema):
    currency = fields.String(allow_none=True)
    rates = fields.Dict(allow_none=True)
    rounds = fields.List(fields.Nested(CompareEntrySchema))
    jobs = fields.List(fields.Nested(JobSchema), metadata={"description": "the background jobs still counting "
                                                                          "rules of these rounds (202)"})


def rates() -> Rates:
    """The analyst's rates file (PB_CURRENCY_RATES, else data/currency_rates.toml), read on each request so
    that an edit shows at once; a broken file is a 503 naming the file and the key."""
    return load_rates(current_app.config.get("PB_CURRENCY_RATES") or os.environ.get("PB_CURRENCY_RATES"))


def comparison(refs, currency):
    return svc.compare(uow(), refs, _scope.now(), rates=rates(), currency=currency, background=background())


def with_jobs(result: dict) -> tuple[dict, list[dict]]:
    """The result with each pending rule's job state and status URL, and the jobs as JSON (none: as it was).
    A copy: the figures themselves are shared by the process memo."""
    infos = pending(result)
    if not infos:
        return result, []
    listed = [job_json(info, None) for info in infos.values()]
    by_id = {j["id"]: j for j in listed}
    rounds = []
    for e in result["rounds"]:
        rules = (e.get("figures") or {}).get("rules") or {}
        if any(run.get("job") in by_id for run in rules.values()):
            rules = {rid: ({**run, "status_url": by_id[run["job"]]["status_url"], "state": by_id[run["job"]]["state"],
                            "percent": by_id[run["job"]]["percent"]} if run.get("job") in by_id else run)
                     for rid, run in rules.items()}
            e = {**e, "figures": {**e["figures"], "rules": rules}}
        rounds.append(e)
    return {**result, "rounds": rounds, "jobs": listed}, listed


@blp.route("/compare")
class Compare(MethodView):
    @access(blp, "public")
    @blp.arguments(CompareArgs, location="query")
    @blp.response(200, CompareSchema, content_type="application/json")
    @blp.alt_response(200, success=True, content_type="text/csv", description="format=csv",
                      schema={"type": "string"})
    @blp.alt_response(202, schema=CompareSchema, description="rules still counted by background jobs (`jobs`): "
                      "the same figures with those rules pending; poll `Location`, then ask again")
    def get(self, args):
        """Budget (also in one chosen currency), proposals, voters and turnout, ballot length, project costs,
        categories, and each rule's outcome with fairness figures on the same ballots."""
        refs = svc.parse_refs(args["rounds"])
        result, waiting = with_jobs(comparison(refs, args["currency"]))
        if args["format"] == "csv":
            response = Response(svc.to_csv(result), mimetype="text/csv",
                                headers={"Content-Disposition": 'attachment; filename="compare.csv"'})
        elif waiting:
            response = jsonify(CompareSchema().dump(result))
        else:
            return result
        if waiting:  # accepted, not complete: poll the job, then ask again
            response.status_code, response.headers["Location"] = 202, waiting[0]["status_url"]
        return response
