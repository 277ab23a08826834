"""Public web pages: the cities and their rounds, a round with its proposals, a round's results.

Pages read the same domain functions as the JSON API; a refusal is shown as
a readable page with the same status code.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, Flask, render_template
from sqlmodel import select

from api.db import get_db
from api.resources import _scope
from pb_engine import outcomes
from pb_engine.config import round_to_dict
from pb_engine.errors import PBError
from pb_engine.money import format_money
from pb_engine.store.lookup import districts_of
from pb_engine.store.tables import City, Proposal, Round

bp = Blueprint("pages", __name__, template_folder="templates")

PHASE_NAMES = {
    "upcoming": "coming soon", "submission": "submitting ideas", "endorsement": "collecting support",
    "review": "under review", "voting": "voting open", "tally": "counting", "results": "results",
    "implementation": "being built", "closed": "closed",
}


def phase_label(phase: str) -> str:
    if phase.startswith("after_"):
        return f"after {phase[len('after_'):]}"
    return PHASE_NAMES.get(phase, phase)


def amount(value) -> str:
    """12000 -> '12,000'; '1234.5' -> '1,234.5' (outcome figures are ints or exact decimal strings)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    whole = number == number.to_integral_value()
    return f"{number:,.0f}" if whole else f"{number:,.2f}"


def _error(exc: PBError):
    return render_template("error.html", error=exc), exc.status


@bp.route("/")
def home():
    now = _scope.now()
    with get_db().session() as s:
        cities = []
        for c in s.exec(select(City).order_by(City.slug)):
            rounds = s.exec(select(Round).where(Round.city_id == c.id).order_by(Round.created_at.desc(), Round.id))
            cities.append({"city": c, "rounds": [round_to_dict(s, r, now) for r in rounds]})
    return render_template("home.html", cities=cities)


@bp.route("/<city>/<round>")
def round_page(city: str, round: str):
    now = _scope.now()
    try:
        with get_db().session() as s:
            c, rnd = _scope.round_(s, city, round)
            info = round_to_dict(s, rnd, now)
            by_district: dict[int, list[Proposal]] = {}
            for p in s.exec(select(Proposal).where(Proposal.round_id == rnd.id)
                            .order_by(Proposal.endorsement_count.desc(), Proposal.id)):
                by_district.setdefault(p.district_id, []).append(p)
            districts = [{"district": d, "proposals": by_district.get(d.id, [])} for d in districts_of(s, rnd)]
            has_results = outcomes.published(s, rnd) is not None
    except PBError as exc:
        return _error(exc)
    money = lambda m: "" if m is None else format_money(m, c.currency)  # noqa: E731
    return render_template("round.html", city=c, round=rnd, info=info, districts=districts, money=money,
                           has_results=has_results)


@bp.route("/<city>/<round>/results")
def results_page(city: str, round: str):
    try:
        with get_db().session() as s:
            c, rnd = _scope.round_(s, city, round)
            res = outcomes.results(s, c, rnd)
    except PBError as exc:
        return _error(exc)
    return render_template("results.html", city=c, round=rnd, res=res)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["phase_label"] = phase_label
    app.jinja_env.filters["amount"] = amount
    app.register_blueprint(bp)
