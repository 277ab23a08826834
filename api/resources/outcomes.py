"""Outcomes (city admins run, read drafts, publish) and the public results of a round."""

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import MANAGER, READ, access, require_staff
from api.context import uow
from api.resources import _scope
from api.resources._links import ROUND, SAME_ROUND, links, op
from api.schemas.jobs import JobSchema
from api.schemas.outcomes import OutcomeListArgs, OutcomeRunSchema, OutcomeSchema, ResultsSchema
from pb_engine import outcomes as svc
from pb_engine.queries.outcomes import OutcomeInfo, outcome_info, outcomes_of

blp = Blueprint("outcomes", __name__, url_prefix="/api/v1/cities/<string:city>/rounds/<string:round>",
                description="Outcomes: run a rule, publish, results")


def outcome_json(o: OutcomeInfo) -> dict:
    return {
        "id": o.id, "round": o.round_slug, "status": o.status, "what_if": o.what_if, "rule": o.rule,
        "input_hash": o.input_hash, "engine_version": o.engine_version, "created_at": o.created_at,
        "published_at": o.published_at, "supersedes": o.supersedes, "districts": list(o.districts),
    }


@blp.route("/outcomes")
class Outcomes(MethodView):
    @access(blp, "staff-private", READ)
    @blp.arguments(OutcomeListArgs, location="query")
    @blp.response(200, OutcomeSchema(many=True))
    @links(200, first_outcome=op("GET", ROUND + "/outcomes/{outcome_id}", outcome_id="$response.body#/0/id",
                                 **SAME_ROUND),
           publish_first=op("POST", ROUND + "/outcomes/{outcome_id}/publish", outcome_id="$response.body#/0/id",
                            **SAME_ROUND))
    def get(self, args, city, round):
        """Every outcome of the round, drafts included (staff of the city)."""
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        require_staff(s, c, READ, private=True)
        return [outcome_json(o) for o in outcomes_of(s, rnd, status=args.get("status"))]

    @access(blp, "admin", MANAGER)
    @blp.arguments(OutcomeRunSchema)
    @blp.response(201, OutcomeSchema)
    @blp.alt_response(202, schema=JobSchema, description="a long count: queued as a job; poll its status_url")
    @links(201, outcome=op("GET", ROUND + "/outcomes/{outcome_id}", outcome_id="$response.body#/id", **SAME_ROUND),
           publish=op("POST", ROUND + "/outcomes/{outcome_id}/publish", outcome_id="$response.body#/id",
                      **SAME_ROUND))
    @links(202, job=op("GET", "/api/v1/jobs/{job_id}", job_id="$response.body#/id"))
    def post(self, data, city, round):
        """Run the round's rule (or a what-if `rule`) on every district's ballots; stores a draft.
        A long count (api/long_work.py) answers 202 with the job that runs it instead."""
        from flask import jsonify

        from api.long_work import job_json, start_outcome_run
        from pb_engine import jobs

        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round)
        me = require_staff(s, c, MANAGER)
        rule = data.get("rule")
        if rule is not None:
            rule = {k: v for k, v in rule.items() if v is not None}
        job_id = start_outcome_run(s, c, rnd, me, _scope.now(), rule)
        if job_id is not None:
            body = job_json(jobs.status(s, job_id), c.slug)
            response = jsonify(JobSchema().dump(body))
            response.status_code, response.headers["Location"] = 202, body["status_url"]
            return response
        record = svc.run(s, c, rnd, staff=me, now=_scope.now(), rule=rule)
        return outcome_json(outcome_info(record, rnd))


@blp.route("/outcomes/<int:outcome_id>")
class OutcomeView(MethodView):
    @access(blp, "staff-private", READ)
    @blp.response(200, OutcomeSchema)
    def get(self, city, round, outcome_id):
        """One outcome. Published ones are public; drafts only for the city's staff."""
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        o = _scope.outcome(s, rnd, outcome_id)
        if o.status == "draft" or o.what_if:
            require_staff(s, c, READ, private=True)
        return outcome_json(outcome_info(o, rnd))


@blp.route("/outcomes/<int:outcome_id>/publish")
class Publish(MethodView):
    @access(blp, "admin", MANAGER)
    @blp.response(200, OutcomeSchema)
    def post(self, city, round, outcome_id):
        """Publish a draft (city admins); it supersedes the published one. Published outcomes never change."""
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round)
        me = require_staff(s, c, MANAGER)
        o = _scope.outcome(s, rnd, outcome_id)
        svc.publish(s, c, rnd, o, staff=me, now=_scope.now())
        return outcome_json(outcome_info(o, rnd))


@blp.route("/results")
class Results(MethodView):
    @access(blp, "public")
    @blp.response(200, ResultsSchema)
    def get(self, city, round):
        """The published outcome: funded projects per district, spend, why each project was or was not funded,
        turnout and the receipts of counted ballots. 404 until an outcome is published."""
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        return svc.results(s, c, rnd)
