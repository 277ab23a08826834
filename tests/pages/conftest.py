"""Page tests: the Flask app on a fresh database (SQLite and PostgreSQL), read as a person reads it.

`site` gives a browser-like client (cookies kept, CSRF tokens taken from the form it posts),
and helpers that find what a person sees: an element's text by CSS selector, the message beside
a field. Rounds are made through the same services the JSON API calls (apihelp), then walked
through their phases.
"""

from __future__ import annotations

import pytest

from apihelp import Api, city_config
from pagehelp import Site
from pb_engine.config import apply_city, parse_city_config
from pb_engine.staff import create_staff


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def cities(app):
    """Cities alpha and beta with an admin each; returns their bearer tokens."""
    db = app.extensions["pb_db"]
    tokens = {}
    with db.session() as s:
        for slug in ("alpha", "beta"):
            apply_city(s, parse_city_config(city_config(slug), file=f"{slug}.toml"), actor="test")
        s.flush()
        from pb_engine.store.lookup import city_by_slug

        for slug in ("alpha", "beta"):
            c = city_by_slug(s, slug)
            tokens[f"{slug}_admin"] = create_staff(s, c, name=f"{slug} admin", role="admin", actor="test")[1]
    return tokens


@pytest.fixture
def site(app):
    return Site(app.test_client())


@pytest.fixture
def site_zh(app):
    return Site(app.test_client(), lang="zh-TW")
