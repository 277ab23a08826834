"""Page tests: the Flask app on a fresh database (SQLite and PostgreSQL), read as a person reads it.

`api` and `cities` (tests/conftest.py) make rounds over the JSON API; `site` gives a browser-like client (cookies kept, CSRF tokens taken from the form it posts),
and helpers that find what a person sees: an element's text by CSS selector, the message beside
a field. Rounds are made through the same services the JSON API calls (apihelp), then walked
through their phases.
"""

from __future__ import annotations

import pytest

from pagehelp import Site


@pytest.fixture
def site(app):
    return Site(app.test_client())


@pytest.fixture
def site_zh(app):
    return Site(app.test_client(), lang="zh-TW")
