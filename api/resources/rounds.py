"""Rounds of a city. The JSON shape is the round's section of city_configs/*.toml (pb_engine.config)."""

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from api.auth import MANAGER, access, actor, require_staff
from api.context import uow
from api.resources import _scope
from api.resources._links import SAME_CITY, links, op
from api.schemas.rounds import AdvanceResultSchema, RoundInSchema, RoundPatchSchema, RoundSchema
from pb_engine import rounds as round_svc
from pb_engine.config import parse_round, round_to_dict, upsert_round
from pb_engine.errors import Conflict, ValidationFailed
from pb_engine.store import lookup

blp = Blueprint("rounds", __name__, url_prefix="/api/v1/cities/<string:city>",
                description="Rounds: settings, phases, advancing")


def _parse(session, city, data):
    return parse_round(data, timezone=city.timezone, currency=city.currency,
                       categories=lookup.category_slugs(session, city),
                       file=f"api:{city.slug}", prefix="", read_only_ok=True)


def _merge(base: dict, patch: dict) -> dict:
    out = dict(base)
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k != "rule":
            out[k] = {**out[k], **v}
        else:
            out[k] = v
    return out


@blp.route("/rounds")
class Rounds(MethodView):
    @access(blp, "public")
    @blp.response(200, RoundSchema(many=True))
    @links(200, first_round=op("GET", "/api/v1/cities/{city}/rounds/{round}", round="$response.body#/0/slug",
                               **SAME_CITY),
           its_proposals=op("GET", "/api/v1/cities/{city}/rounds/{round}/proposals", round="$response.body#/0/slug",
                            **SAME_CITY))
    def get(self, city):
        """Every round of the city, in config shape, with its current phase."""
        now = _scope.now()
        s = uow()
        c = _scope.city(s, city)
        return [round_to_dict(s, r, now) for r in lookup.rounds_of(s, c)]

    @access(blp, "admin", MANAGER)
    @blp.arguments(RoundInSchema)
    @blp.response(201, RoundSchema)
    @links(201, round=op("GET", "/api/v1/cities/{city}/rounds/{round}", round="$response.body#/slug", **SAME_CITY),
           edit=op("PATCH", "/api/v1/cities/{city}/rounds/{round}", round="$response.body#/slug", **SAME_CITY),
           advance=op("POST", "/api/v1/cities/{city}/rounds/{round}/advance", round="$response.body#/slug",
                      **SAME_CITY))
    def post(self, data, city):
        """Create a round (city admins). The body is the round's config section as JSON."""
        now = _scope.now()
        s = uow(write=True)
        c = _scope.city(s, city)
        me = require_staff(s, c, MANAGER)
        if lookup.round_exists(s, c, data["slug"]):
            raise Conflict(f"round {data['slug']!r} exists; PATCH it, or choose a new slug", {"slug": ["exists"]})
        cfg = _parse(s, c, data)
        try:
            row = upsert_round(s, c, cfg, actor(me), now)
        except IntegrityError:  # the same slug created at the same moment by another request
            raise Conflict(f"round {data['slug']!r} exists", {"slug": ["exists"]}) from None
        return round_to_dict(s, row, now)


@blp.route("/rounds/<string:round>")
class RoundView(MethodView):
    @access(blp, "public")
    @blp.response(200, RoundSchema)
    def get(self, city, round):
        """One round in config shape, with `current_phase` computed from its dates."""
        s = uow()
        _c, rnd = _scope.round_(s, city, round)
        return round_to_dict(s, rnd, _scope.now())

    @access(blp, "admin", MANAGER)
    @blp.arguments(RoundPatchSchema)
    @blp.response(200, RoundSchema)
    def patch(self, data, city, round):
        """Change settings (city admins). Ballot, rule, budgets, eligibility freeze once voting opens: 409."""
        now = _scope.now()
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round, for_update=True)
        me = require_staff(s, c, MANAGER)
        if "slug" in data and data["slug"] != rnd.slug:
            raise ValidationFailed.field("slug", "a round's slug cannot change; create a new round instead")
        merged = _merge(round_to_dict(s, rnd, now), data)
        cfg = _parse(s, c, merged)
        row = upsert_round(s, c, cfg, actor(me), now)
        return round_to_dict(s, row, now)


@blp.route("/rounds/<string:round>/advance")
class Advance(MethodView):
    @access(blp, "admin", MANAGER)
    @blp.response(200, AdvanceResultSchema)
    def post(self, city, round):
        """Start the round's next phase now (city admins): the dates are rewritten and the change is logged."""
        now = _scope.now()
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round, for_update=True)
        me = require_staff(s, c, MANAGER)
        before = round_to_dict(s, rnd, now)["current_phase"]
        round_svc.advance(s, rnd, actor=actor(me), now=now)
        return {**round_to_dict(s, rnd, now), "previous_phase": before}
