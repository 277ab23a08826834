"""The Flask service: one app serves every city (JSON API under /api/v1, pages under /).

Resources live in `api/resources/<resource>.py`, each exposing `blp` (a
flask-smorest Blueprint); pages in `api/pages.py`. They are discovered here so
that areas do not edit one shared file.
"""

from __future__ import annotations

import importlib
import pkgutil

from flask import Flask
from flask_smorest import Api

from pb_engine import __version__
from pb_engine.store.db import Database, database_url


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        DATABASE_URL=database_url(),
        API_TITLE="pb_engine",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        JSON_SORT_KEYS=False,
        API_SPEC_OPTIONS={
            "info": {"description": "Participatory budgeting for many cities: rounds, proposals, ballots, outcomes."},
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
        },
    )
    app.config.update(config or {})
    app.json.sort_keys = False

    db = Database(app.config["DATABASE_URL"])
    app.extensions["pb_db"] = db

    api = Api(app)
    app.extensions["pb_api"] = api

    from api import errors, pages

    errors.init_app(app)
    for blp in _discover_blueprints():
        api.register_blueprint(blp)
    pages.init_app(app)
    return app


def _discover_blueprints():
    import api.resources as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        blp = getattr(module, "blp", None)
        if blp is not None:
            yield blp
