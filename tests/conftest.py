"""Fixtures shared by every test.

Database tests run twice: on SQLite and on PostgreSQL. Ask for `db` (a fresh,
migrated, empty pb_engine Database) or `app`/`client` (the Flask app on it).
PostgreSQL comes from PB_TEST_POSTGRES_URL (`.ci/run` sets it); without it, or
when the server does not answer, the PostgreSQL half is skipped and the last
lines of the run say so.

Speed: migrations run once per session and database kind; each test then gets
a copy of the migrated SQLite file, or a PostgreSQL database emptied with one
TRUNCATE.
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, text

import run_status
from apihelp import Api, city_config
from pb_engine.config import apply_city, parse_city_config
from pb_engine.staff import create_staff
from pb_engine.store.db import Database, normalise_url, upgrade

import pb_engine.staff as _staff_module
from argon2 import PasswordHasher as _PasswordHasher

# argon2-cffi's default cost (~0.2 s a hash here) is right for a service and ruinous for a suite whose
# fixtures give eight staff members a password per test: tests hash with the cheapest argon2id. Still
# argon2id hashes in the same format (test_accounts checks the stored hash), only faster.
_staff_module._hasher = _PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# Residents' passwords likewise (werkzeug's scrypt takes 0.25 s; tests sign up hundreds of residents).
import pb_engine.residents as _residents_module  # noqa: E402
_residents_module.PASSWORD_METHOD = "pbkdf2:sha256:1000"

PG_ENV = "PB_TEST_POSTGRES_URL"
_pg_status = run_status.PG


def _pg_admin_url() -> str | None:
    url = os.environ.get(PG_ENV)
    return normalise_url(url) if url else None


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _pg_database():
    admin_url = _pg_admin_url()
    if not admin_url:
        _pg_status["skipped_reason"] = f"{PG_ENV} is not set"
        pytest.skip(_pg_status["skipped_reason"])
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        name = f"pb_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means: no PostgreSQL here
        _pg_status["skipped_reason"] = f"PostgreSQL at {admin_url} did not answer ({type(exc).__name__})"
        pytest.skip(_pg_status["skipped_reason"])
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    from sqlmodel import SQLModel

    import pb_engine.store.tables  # noqa: F401

    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        template = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "pb.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("_pg_database")
    _truncate_all(url)
    _pg_status["ran"] += 1
    return url


@pytest.fixture
def db(db_url):
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def app(db_url):
    from api import create_app

    application = create_app({"TESTING": True, "DATABASE_URL": db_url})
    yield application
    application.extensions["pb_db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


# The JSON API tests and the page tests both make their rounds over the API (tests/apihelp.py).
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




def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller writes the summary
        workeroutput["run_status"] = run_status.export()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    run_status.merge(getattr(node, "workeroutput", {}).get("run_status"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    # Outermost wrapper: written after pytest's own summary, just above the totals.
    result = yield
    browser = run_status.BROWSER
    if _pg_status["ran"]:
        terminalreporter.write_line(f"PostgreSQL: {_pg_status['ran']} database tests ran on PostgreSQL as well as SQLite.")
    elif _pg_status["skipped_reason"]:
        terminalreporter.write_line(
            f"PostgreSQL half DID NOT RUN: {_pg_status['skipped_reason']}. Database tests ran on SQLite only; "
            f"set {PG_ENV}=postgresql://USER@HOST:5432/DB to run them on PostgreSQL too.",
            yellow=True, bold=True,
        )
    if browser["ran"]:
        terminalreporter.write_line(f"Browser tests: {browser['ran']} ran in Chromium {browser['version']}.", green=True)
    elif browser["skipped_reason"]:
        terminalreporter.write_line(f"Browser tests DID NOT RUN: {browser['skipped_reason']}.", yellow=True, bold=True)
    return result
