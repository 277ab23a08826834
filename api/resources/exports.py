"""Exports of a round: a district as a Pabulib .pb file (anonymous), every proposal as CSV."""

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import access
from api.context import uow
from api.resources import _scope
from api.schemas.outcomes import ExportArgs
from pb_engine import export
from pb_engine import outcomes as svc
from pb_engine.errors import Conflict
from pb_engine.phases import window
from pb_engine.store.lookup import districts_of, phases_of

blp = Blueprint("exports", __name__, url_prefix="/api/v1/cities/<string:city>/rounds/<string:round>",
                description="Exports: Pabulib .pb and CSV")


@blp.route("/export.pb")
class ExportPb(MethodView):
    @access(blp, "public")
    @blp.arguments(ExportArgs, location="query")
    @blp.response(200, {"type": "string"}, content_type="text/plain")
    def get(self, args, city, round):
        """One district's election as a Pabulib file: projects, costs and anonymous ballots (after voting ends)."""
        now = _scope.now()
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        w = window(phases_of(s, rnd), "voting")
        if w is None or now < w.ends_at:
            raise Conflict("ballots are exported once voting has ended")
        d = _scope.district(s, rnd, args["district"]) if args.get("district") else districts_of(s, rnd)[0]
        text = export.export_district(s, rnd, d)
        name = f"{c.slug}_{rnd.slug}_{d.slug}.pb"
        return Response(text, mimetype="text/plain", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blp.route("/export.csv")
class ExportCsv(MethodView):
    @access(blp, "public")
    @blp.response(200, {"type": "string"}, content_type="text/csv")
    def get(self, city, round):
        """Every proposal: district, status, costs, endorsements, votes (after voting) and funding (once published)."""
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        text = svc.round_csv(s, c, rnd, _scope.now())
        name = f"{c.slug}_{rnd.slug}.csv"
        return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})
