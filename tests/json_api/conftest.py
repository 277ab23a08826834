"""Fixtures of the API tests; helpers live in apihelp.py."""

from __future__ import annotations

import pytest

from apihelp import Api, city_config
from pb_engine.config import apply_city, parse_city_config
from pb_engine.staff import create_staff


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def cities(app):
    """Cities alpha and beta, each with an admin and a reviewer; returns tokens by name."""
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
            tokens[f"{slug}_reviewer"] = create_staff(s, c, name=f"{slug} reviewer", role="reviewer", actor="test")[1]
    return tokens


