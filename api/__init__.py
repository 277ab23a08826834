"""The Flask service: one app serves every city (JSON API under /api/v1, resident pages under /).

Both sides share one request context (api/context.py: unit of work, who asks, city and round),
one error mapping (api/errors.py), CSRF and security headers (api/security.py) and languages
(api/i18n.py). Resources live in `api/resources/<resource>.py`, each exposing `blp` (a
flask-smorest Blueprint), discovered here so that areas do not edit one shared file; pages live
in `api/pages/`, templates in `api/templates/`, static files in `api/static/` (served by the app:
the service needs no internet).
"""

from __future__ import annotations

import importlib
import os
import pkgutil

from flask import Flask

from pb_engine import __version__
from pb_engine.store.db import Database, database_url


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.path.abspath(os.environ.get("PB_INSTANCE_DIR", "instance")))
    app.config.update(
        DATABASE_URL=database_url(),
        API_TITLE="pb_engine",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
        API_SPEC_OPTIONS={
            "info": {"description": "Participatory budgeting for many cities: rounds, proposals, ballots, outcomes."},
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
        },
    )
    app.config.update(config or {})
    from api import api_docs

    api_docs.configure(app)  # /api/docs: Swagger UI from the package, before the Api reads its settings
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask defaults it to None (no limit): setdefault would not do
        app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024  # no form or JSON body needs more
    app.json.sort_keys = False

    db = Database(app.config["DATABASE_URL"])
    app.extensions["pb_db"] = db

    from api.errors import ServiceApi  # Api with our error schema in the OpenAPI document

    api = ServiceApi(app)
    app.extensions["pb_api"] = api

    from api import auth, console, context, errors, i18n, limits, pages, security

    context.init_app(app)
    api_docs.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    auth.init_app(app)  # who asks, before limits' body check: a stranger's body is never read
    limits.init_app(app)
    for blp in _discover_blueprints():
        api.register_blueprint(blp)
    pages.init_app(app)
    console.init_app(app)  # the staff console under /console
    return app


def _discover_blueprints():
    import api.resources as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        blp = getattr(module, "blp", None)
        if blp is not None:
            yield blp
