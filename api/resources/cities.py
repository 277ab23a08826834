"""Cities: the tenants. Public."""

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlmodel import select

from api.auth import access
from api.context import uow
from api.resources import _scope
from api.schemas.cities import CitySchema
from pb_engine.money import major_json
from pb_engine.phases import current_phase
from pb_engine.store.lookup import phases_of
from pb_engine.store.tables import Category, City, Round

blp = Blueprint("cities", __name__, url_prefix="/api/v1", description="Cities (tenants) and their rounds")


def city_dict(session, city: City, now, *, detail: bool) -> dict:
    rounds = session.exec(select(Round).where(Round.city_id == city.id).order_by(Round.created_at, Round.id))
    out = {
        "slug": city.slug, "name": city.name, "country": city.country, "population": city.population,
        "currency": city.currency, "locales": list(city.locales or []), "timezone": city.timezone,
        "rounds": [
            {"slug": r.slug, "title": r.title, "current_phase": current_phase(phases_of(session, r), now),
             "budget": major_json(r.budget, city.currency),
             "url": url_for("rounds.RoundView", city=city.slug, round=r.slug)}
            for r in rounds
        ],
    }
    if detail:
        out["notes"] = city.notes
        cats = session.exec(select(Category).where(Category.city_id == city.id).order_by(Category.slug))
        out["categories"] = [{"slug": c.slug, "name": c.name, "taxonomy": c.taxonomy} for c in cats]
    return out


@blp.route("/cities")
class Cities(MethodView):
    @access(blp, "public")
    @blp.response(200, CitySchema(many=True))
    def get(self):
        """Every city with its rounds and their current phase."""
        now = _scope.now()
        s = uow()
        return [city_dict(s, c, now, detail=False) for c in s.exec(select(City).order_by(City.slug))]


@blp.route("/cities/<string:city>")
class CityView(MethodView):
    @access(blp, "public")
    @blp.response(200, CitySchema)
    def get(self, city):
        """One city: settings, categories, rounds."""
        s = uow()
        return city_dict(s, _scope.city(s, city), _scope.now(), detail=True)
