"""A city's dashboard: its rounds, their phase and what comes next, the counts, what needs attention."""

from __future__ import annotations

from api.console import bp
from api.auth import READ
from api.console.helpers import city_and_staff, staff_view
from api.context import uow
from api.pages.helpers import now, render
from pb_engine import staff as staff_mod
from pb_engine.queries.dashboard import city_dashboard


@bp.route("/<city>")
@staff_view(READ)
def dashboard(city: str):
    c, st = city_and_staff(city, READ)
    return render("console/dashboard.html", city=c, me=st, role=staff_mod.role_name(st.role),
                  rounds=city_dashboard(uow(), c, now()))
