"""Home (every city with its rounds and their phase) and the search across cities."""

from __future__ import annotations

from flask import request

from api.context import uow
from api.pages import bp
from api.pages.helpers import now, render
from pb_engine.queries import proposals as proposal_queries
from pb_engine.queries import rounds as round_queries

MAX_QUERY = 200


@bp.route("/")
def home():
    return render("home.html", directory=round_queries.directory(uow(), now()))


@bp.route("/search")
def search():
    q = (request.args.get("q") or "").strip()[:MAX_QUERY]
    hits = proposal_queries.search_everywhere(uow(), q) if q else []
    return render("search.html", q=q, hits=hits)
