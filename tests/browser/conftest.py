"""Browser tests: Playwright for Python driving Debian's Chromium against the real service.

Fixtures (helpers: page_checks.py for axe, screenshots and scroll; live_server.py for rounds):
- `browser`      one Chromium per session (/usr/bin/chromium, or $PB_CHROMIUM), never a
                 downloaded browser. Missing Chromium or Playwright: every browser test skips
                 with one reason, and the last lines of the run say "Browser tests DID NOT RUN".
- `live_server`  the Flask app on a fresh migrated SQLite file with the city configs and the
                 demo data, served on 127.0.0.1:<free port> for the whole session (LiveServer:
                 .url, .app, .db, .errors); journeys write to it (live_server.make_round).
                 `demo_server`: the same data on its own copy, that no test writes to (the main
                 pages' checks and screenshots). `live_server_pg`: the same on PostgreSQL, when
                 PB_TEST_POSTGRES_URL is set (skipped otherwise).
- `server`       the server `page` and `phone_page` open: live_server; a module overrides it
                 (def server(demo_server): return demo_server) to look at the untouched demo.
- `locale`       "en" unless a test parametrizes it: @pytest.mark.parametrize("locale", LOCALES)
                 (page_checks.LOCALES: en, zh-TW).
- `page`         desktop 1280x800; `phone_page` 360x740, is_mobile, has_touch. Both send
                 Accept-Language: <locale>, have the live server as base_url (page.goto("/taipei/2026")),
                 and fail the test when their pages threw a script error or broke the CSP.
Every browser test also fails when the server logged an error or answered 5xx while it ran.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

import run_status

BROWSER_DIR = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("PB_CHROMIUM", "/usr/bin/chromium")
# --no-sandbox: the tests may run as root in a container. The networking flags stop Chromium's own
# background traffic (updates, sync, field trials), which a closed network refuses and which would slow it.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
_status = run_status.BROWSER  # the root conftest writes it in the last lines


def _missing_package() -> str | None:
    for module in ("playwright", "axe_playwright_python"):
        try:
            __import__(module)
        except ImportError:
            return f"the Python package {module} is not installed (./scripts/test installs the test extras)"
    return None


# Without Playwright the test modules cannot even be imported: leave them out, and say so at the end.
_status["skipped_reason"] = _missing_package()
if _status["skipped_reason"]:
    collect_ignore_glob = ["test_*.py"]
else:
    from playwright.sync_api import expect

    expect.set_options(timeout=3_000)  # pages render on the server, their JS is small: 3 s is ample, and a miss fails fast


def _why_not_available() -> str | None:
    if _missing_package():
        return _missing_package()
    if not os.access(CHROMIUM, os.X_OK):
        note = os.environ.get("PB_BROWSER_SETUP")  # what scripts/test tried, when it could not install it
        return (f"no Chromium at {CHROMIUM} ({note})" if note else
                f"no Chromium at {CHROMIUM}; install it with `apt-get install chromium fonts-noto-cjk` "
                f"(./scripts/test does so when run as root) or point PB_CHROMIUM at one")
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _why_not_available()
    if reason:
        _status["skipped_reason"] = reason
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        except Exception as exc:  # a Chromium that is there but does not start is a broken machine: fail
            _status["skipped_reason"] = f"Chromium at {CHROMIUM} did not start ({str(exc).splitlines()[0]})"
            raise
        _status["version"] = chromium.version
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def _prepared_sqlite(browser, tmp_path_factory):
    """One SQLite file prepared as `pb-engine serve` does; each server runs on a copy of it."""
    from live_server import prepare_database

    path = tmp_path_factory.mktemp("prepared") / "pb.db"
    prepare_database(f"sqlite:///{path}")
    return path


def _serve_copy(prepared, tmp_path_factory, name):
    from live_server import copy_sqlite, serve

    folder = tmp_path_factory.mktemp(name)
    return serve(copy_sqlite(prepared, folder / "pb.db"), folder / "instance")


@pytest.fixture(scope="session")
def live_server(_prepared_sqlite, tmp_path_factory):
    """The server journeys use and write to (make_round, sign-ups, ballots)."""
    live = _serve_copy(_prepared_sqlite, tmp_path_factory, "live-server")
    yield live
    live.stop()


@pytest.fixture(scope="session")
def demo_server(_prepared_sqlite, tmp_path_factory):
    """A second server on its own copy of the same data, that no test writes to: the demo exactly as
    `pb-engine serve` shows it, for the main-page checks and screenshots (journeys' rounds would show
    on its home page otherwise). Use it by overriding `server` in a module:
    @pytest.fixture def server(demo_server): return demo_server."""
    live = _serve_copy(_prepared_sqlite, tmp_path_factory, "demo-server")
    yield live
    live.stop()


@pytest.fixture
def server(live_server):
    """The server `page` and `phone_page` open (base_url): live_server unless a module overrides it."""
    return live_server


@pytest.fixture(scope="session")
def live_server_pg(browser, tmp_path_factory):
    """The same service on a fresh PostgreSQL database (created here, dropped at the end)."""
    from sqlalchemy import create_engine, text

    from live_server import prepare_database, serve
    from pb_engine.store.db import normalise_url

    admin_url = os.environ.get("PB_TEST_POSTGRES_URL")
    if not admin_url:
        pytest.skip("PB_TEST_POSTGRES_URL is not set")
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"pb_browser_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - no server there: skip, as the database tests do
        pytest.skip(f"PostgreSQL at {admin_url} did not answer ({type(exc).__name__})")
    url = normalise_url(admin_url).rsplit("/", 1)[0] + "/" + name
    prepare_database(url)
    live = serve(url, tmp_path_factory.mktemp("live-pg") / "instance")
    yield live
    live.stop()
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture
def locale():
    return "en"


def _page(browser, live, locale, phone):
    from page_checks import check_page_errors, new_context

    context = new_context(browser, live.url, locale=locale, phone=phone)
    try:
        yield context.new_page()
        check_page_errors(context)
    finally:
        context.close()


@pytest.fixture
def page(browser, server, locale):
    yield from _page(browser, server, locale, phone=False)


@pytest.fixture
def phone_page(browser, server, locale):
    yield from _page(browser, server, locale, phone=True)


SERVERS = ("live_server", "demo_server", "live_server_pg")


@pytest.fixture(autouse=True)
def _no_server_errors(request):
    """Fails a browser test during which a server logged an error or answered 5xx, with what it said."""
    names = [n for n in SERVERS if n in request.fixturenames]
    if not names:
        yield
        return
    request.getfixturevalue("browser")  # first, so a missing Chromium skips before any server is prepared
    servers = [request.getfixturevalue(n) for n in names]
    seen = [len(live.errors) for live in servers]
    yield
    new = [e for live, n in zip(servers, seen) for e in live.errors[n:]]
    if new:
        pytest.fail("the server failed while this test ran:\n" + "\n".join(new), pytrace=False)


def pytest_runtest_call(item):
    if "browser" in item.fixturenames:  # reached the call: Chromium is up for it
        _status["ran"] += 1


def pytest_collection_modifyitems(config, items):
    # Under pytest-xdist (--dist loadgroup) every browser test goes to one worker, so that Chromium and
    # the live servers start once, not once per worker.
    group = pytest.mark.xdist_group("browser")
    for item in items:
        if item.path.is_relative_to(BROWSER_DIR):
            item.add_marker(group)
