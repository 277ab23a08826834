"""The staff console under /console: sign in with a password, a city's dashboard (more to come).

Its own blueprint, so the resident pages (api/pages) and the console grow apart. A console
session is a signed cookie entry {city id: staff id} (api/context.py STAFF_KEY); every form
carries a CSRF token (api/security.py), and every view asks api/auth for the staff member and
their role in the URL's city, never trusting the cookie for another city.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("console", __name__, url_prefix="/console")


def init_app(app: Flask) -> None:
    from api.console import accounts, dashboard  # noqa: F401  (they add views to bp)

    app.register_blueprint(bp)
