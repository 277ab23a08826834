"""The staff console under /console: a city's PB office runs its whole round from the browser.

Its own blueprint, so the resident pages (api/pages) and the console grow apart. A console
session is a signed cookie entry {city id: staff id} (api/context.py STAFF_KEY); every form
carries a CSRF token (api/security.py), and every view asks api/auth for the staff member and
their role in the URL's city, never trusting the cookie for another city.

Each area is a module of this package (accounts, dashboard, review, codes, paper, outcomes,
implementation, rounds, audit …), discovered at start like the JSON resources, so areas do not
edit one shared file. A module adds its entry to the navigation with `nav()` (city-wide pages)
or `round_nav()` (pages of one round); the templates show only the entries the role may use.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

from flask import Blueprint, Flask, current_app, request

from api.security import UNSAFE, check_csrf

bp = Blueprint("console", __name__, url_prefix="/console")


@dataclass(frozen=True)
class NavItem:
    order: int
    endpoint: str            # a console endpoint taking `city` (and `round` for round entries)
    label: Callable[[], str]  # called per request, so the words follow the page's language
    roles: tuple[str, ...]   # the roles that see the entry (the view checks them again)


NAV: list[NavItem] = []
ROUND_NAV: list[NavItem] = []


def nav(order: int, endpoint: str, label: Callable[[], str], roles) -> None:
    """A city-wide console page in the top navigation, e.g. nav(90, "console.audit", lambda: _("Audit log"), MANAGER)."""
    NAV.append(NavItem(order, endpoint, label, tuple(roles)))
    NAV.sort(key=lambda item: item.order)


def round_nav(order: int, endpoint: str, label: Callable[[], str], roles) -> None:
    """A page of one round in the round's navigation (console/_console_round_base.html)."""
    ROUND_NAV.append(NavItem(order, endpoint, label, tuple(roles)))
    ROUND_NAV.sort(key=lambda item: item.order)


def _who_asks():
    """A console form is posted: who asks is checked before anything reads its body, the CSRF check
    included. No console session for the URL's city: the sign-in redirect (NeedsSignIn, 303); staff of
    another city or a role the view does not admit (its @staff_view roles): the 403 page. Those who
    pass go on to the CSRF check and the view, which asks again in the same unit of work (the write
    one or a read one, as the view chooses: the check here has a short read session of its own)."""
    if request.method not in UNSAFE or request.blueprint != bp.name:
        return None
    roles = getattr(current_app.view_functions.get(request.endpoint), "console_roles", None)
    city = (request.view_args or {}).get("city")
    if roles and city is not None:
        from api.console.helpers import staff_of
        from api.context import database

        with database().session() as s:
            staff_of(s, city, roles)
    return None


def init_app(app: Flask) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{info.name}")  # each adds its views to bp (once: imports are cached)
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.insert(hooks.index(check_csrf), _who_asks)  # who asks, then the CSRF check that reads the form

    @app.context_processor
    def _console_nav():
        return {"console_nav": NAV, "console_round_nav": ROUND_NAV}

    app.register_blueprint(bp)
