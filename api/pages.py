"""Web pages (server-rendered). The home page lists the cities and their rounds with the current phase."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from sqlmodel import select

from api.db import get_db
from pb_engine.money import format_money
from pb_engine.phases import current_phase
from pb_engine.store.lookup import phases_of
from pb_engine.store.tables import City, Round
from pb_engine.store.types import utcnow

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.get("/")
def home():
    now = utcnow()
    cities = []
    with get_db().session() as s:
        for city in s.exec(select(City).order_by(City.name)):
            rounds = []
            for rnd in s.exec(select(Round).where(Round.city_id == city.id).order_by(Round.slug.desc())):
                rounds.append({"slug": rnd.slug, "title": rnd.title, "budget": format_money(rnd.budget, city.currency),
                               "phase": current_phase(phases_of(s, rnd), now)})
            cities.append({"slug": city.slug, "name": city.name, "country": city.country, "rounds": rounds})
    return render_template("home.html", cities=cities)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
