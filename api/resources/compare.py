"""GET /api/v1/compare?rounds=taipei/2026,warszawa/2026: rounds side by side (JSON, or CSV with format=csv)."""

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from api.auth import access
from api.context import uow
from api.resources import _scope
from api.schemas.common import NoNul
from pb_engine import compare as svc

blp = Blueprint("compare", __name__, url_prefix="/api/v1", description="Cross-city comparison")


class CompareArgs(Schema):
    rounds = fields.String(required=True, validate=[NoNul(), validate.Length(min=1, max=4000)],
                           metadata={"description": "comma-separated city/round refs, e.g. taipei/2026,warszawa/2026"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


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
    rounds = fields.List(fields.Nested(CompareEntrySchema))


@blp.route("/compare")
class Compare(MethodView):
    @access(blp, "public")
    @blp.arguments(CompareArgs, location="query")
    @blp.response(200, CompareSchema, content_type="application/json")
    @blp.alt_response(200, success=True, content_type="text/csv", description="format=csv",
                      schema={"type": "string"})
    def get(self, args):
        """Budget, districts, proposals submitted and on the ballot, voters and turnout, funded projects and spend."""
        refs = svc.parse_refs(args["rounds"])
        s = uow()
        result = svc.compare(s, refs, _scope.now())
        if args["format"] == "csv":
            return Response(svc.to_csv(result), mimetype="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="compare.csv"'})
        return result
