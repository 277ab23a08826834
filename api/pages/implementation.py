"""The public implementation overview of a round and the photos of progress updates."""

from __future__ import annotations

from flask import abort, make_response

from api.context import uow
from api.pages import bp
from api.pages.helpers import load_round, render
from pb_engine.queries import implementation as queries


@bp.route("/<city>/<round>/implementation")
def implementation_page(city: str, round: str):
    c, rnd, info = load_round(city, round)
    return render("implementation.html", info=info, ov=queries.overview(uow(), rnd))


@bp.route("/<city>/<round>/implementation/photos/<int:update_id>")
def implementation_photo(city: str, round: str, update_id: int):
    c, rnd, info = load_round(city, round)
    found = queries.photo(uow(), rnd, update_id) if 0 < update_id <= 2**31 - 1 else None
    if found is None:
        abort(404)
    data, kind = found
    resp = make_response(data)
    resp.headers["Content-Type"] = kind
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "public, max-age=86400"
    resp.headers["Content-Disposition"] = "inline"
    return resp
