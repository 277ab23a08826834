"""GET /api/v1/compare?rounds=taipei/2026,warszawa/2026[&currency=EUR]: rounds side by side (JSON, or CSV with
format=csv)."""

import os

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from api.auth import access
from api.context import uow
from api.resources import _scope
from api.schemas.common import NoNul
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


def rates() -> Rates:
    """The analyst's rates file (PB_CURRENCY_RATES, else data/currency_rates.toml), read on each request so
    that an edit shows at once; a broken file is a 503 naming the file and the key."""
    return load_rates(current_app.config.get("PB_CURRENCY_RATES") or os.environ.get("PB_CURRENCY_RATES"))


def max_ballots() -> int:
    """Above this many ballots in a round, rules are not run inside a request (PB_COMPARE_MAX_BALLOTS)."""
    return int(current_app.config.get("PB_COMPARE_MAX_BALLOTS") or os.environ.get("PB_COMPARE_MAX_BALLOTS") or 100_000)


def comparison(refs, currency):
    return svc.compare(uow(), refs, _scope.now(), rates=rates(), currency=currency, max_ballots=max_ballots())


@blp.route("/compare")
class Compare(MethodView):
    @access(blp, "public")
    @blp.arguments(CompareArgs, location="query")
    @blp.response(200, CompareSchema, content_type="application/json")
    @blp.alt_response(200, success=True, content_type="text/csv", description="format=csv",
                      schema={"type": "string"})
    def get(self, args):
        """Budget (also in one chosen currency), proposals, voters and turnout, ballot length, project costs,
        categories, and each rule's outcome with fairness figures on the same ballots."""
        refs = svc.parse_refs(args["rounds"])
        result = comparison(refs, args["currency"])
        if args["format"] == "csv":
            return Response(svc.to_csv(result), mimetype="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="compare.csv"'})
        return result
