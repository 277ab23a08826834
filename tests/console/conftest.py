"""Console tests: staff with passwords in cities alpha and beta (tests/conftest.py), a browser-like Site."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pages"))

from pagehelp import Site  # noqa: E402

from pb_engine.staff import create_staff, set_password  # noqa: E402
from pb_engine.store.lookup import city_by_slug  # noqa: E402

from consolehelp import PASSWORD  # noqa: E402


@pytest.fixture
def site(app):
    return Site(app.test_client())


@pytest.fixture
def staff(app, cities):
    """One staff member per role and city, each with PASSWORD; returns {"alpha_viewer": (id, name, token)}."""
    db = app.extensions["pb_db"]
    made = {}
    with db.session() as s:
        for slug in ("alpha", "beta"):
            c = city_by_slug(s, slug)
            for role in ("manager", "reviewer", "clerk", "viewer"):
                name = f"{slug} {role} console"
                row, token = create_staff(s, c, name=name, role=role, actor="test")
                set_password(s, row, PASSWORD, actor="test")
                s.flush()
                made[f"{slug}_{role}"] = (row.id, name, token)
    return made
