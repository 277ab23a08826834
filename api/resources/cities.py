"""Cities: the tenants. Public."""

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import access
from api.context import uow
from api.resources import _scope
from api.resources._links import links, op
from api.schemas.cities import CitySchema
from pb_engine.money import major_json
from pb_engine.queries import cities as city_queries
from pb_engine.queries.rounds import CityInfo, RoundSummary

blp = Blueprint("cities", __name__, url_prefix="/api/v1", description="Cities (tenants) and their rounds")


def city_dict(city: CityInfo, rounds: tuple[RoundSummary, ...]) -> dict:
    return {
        "slug": city.slug, "name": city.name, "country": city.country, "population": city.population,
        "currency": city.currency, "locales": list(city.locales), "timezone": city.timezone,
        "rounds": [
            {"slug": r.slug, "title": r.title, "current_phase": r.current_phase,
             "budget": major_json(r.budget, city.currency),
             "url": url_for("rounds.RoundView", city=city.slug, round=r.slug)}
            for r in rounds
        ],
    }


@blp.route("/cities")
class Cities(MethodView):
    @access(blp, "public")
    @blp.response(200, CitySchema(many=True))
    @links(200, first_city=op("GET", "/api/v1/cities/{city}", city="$response.body#/0/slug"),
           its_rounds=op("GET", "/api/v1/cities/{city}/rounds", city="$response.body#/0/slug"))
    def get(self):
        """Every city with its rounds and their current phase."""
        return [city_dict(c.city, c.rounds) for c in city_queries.cities(uow(), _scope.now())]


@blp.route("/cities/<string:city>")
class CityView(MethodView):
    @access(blp, "public")
    @blp.response(200, CitySchema)
    def get(self, city):
        """One city: settings, categories, rounds."""
        s = uow()
        found = city_queries.city_detail(s, _scope.city(s, city), _scope.now())
        return {**city_dict(found.city, found.rounds), "notes": found.notes,
                "categories": [{"slug": c.slug, "name": c.name, "taxonomy": c.taxonomy} for c in found.categories]}
