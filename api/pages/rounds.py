"""A round (timeline, budgets, rules in plain words, its proposals by district) and its results."""

from __future__ import annotations

from api.context import uow
from api.pages import bp
from api.pages.helpers import load_round, render
from pb_engine.queries import proposals as proposal_queries
from pb_engine.queries import results as result_queries


@bp.route("/<city>/<round>")
def round_page(city: str, round: str):
    c, rnd, info = load_round(city, round)
    by_district = proposal_queries.by_district(uow(), rnd)
    return render("round.html", info=info, by_district=by_district)


@bp.route("/<city>/<round>/results")
def results_page(city: str, round: str):
    c, rnd, info = load_round(city, round)
    res = result_queries.results(uow(), c, rnd)
    return render("results.html", info=info, res=res)


from api.pages import implementation  # noqa: E402,F401  (the round's implementation overview and photos)
