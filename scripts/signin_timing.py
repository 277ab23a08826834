"""How long sign-up and sign-in answers take for a real versus an unknown (or taken versus free) name, with
the service's own password hashes (werkzeug scrypt for residents, argon2id defaults for staff), side by side.

    .venv/bin/python scripts/signin_timing.py [-n 15] [--db postgresql://postgres@127.0.0.1:5432/postgres]

The pairs are interleaved (a, b, a, b, ...) in one process on one database (a fresh SQLite file, or a new
database on the PostgreSQL server given, dropped afterwards), so load from elsewhere hits both alike; it
prints the median of each and their ratio, which should be near 1. Rate limits are off for the run. Not a
test: the tests count hash checks instead (tests/json_api/test_registration.py), which cannot flake.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def _pairs(n: int, a, b) -> tuple[float, float]:
    ta, tb = [], []
    for _ in range(n):
        ta.append(_timed(a))
        tb.append(_timed(b))
    return statistics.median(ta), statistics.median(tb)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=15, help="requests of each kind (default 15)")
    parser.add_argument("--db", help="a PostgreSQL server URL: a new database is made on it and dropped after")
    args = parser.parse_args()

    from sqlalchemy import create_engine, text

    admin, name = None, None
    if args.db:
        admin = create_engine(args.db, isolation_level="AUTOCOMMIT")
        name = f"pb_timing_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = args.db.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/timing.db"
    try:
        return _run(url, args.n)
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()


def _run(url: str, n: int) -> int:
    from api import create_app
    from pb_engine import staff as staff_mod
    from pb_engine.config import apply_city, parse_city_config
    from pb_engine.store.db import upgrade
    from pb_engine.store.lookup import city_by_slug
    from tests.apihelp import city_config

    upgrade(url)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "RATELIMIT_ENABLED": False, "SECRET_KEY": "timing"})
    with app.extensions["pb_db"].session() as s:
        apply_city(s, parse_city_config(city_config("alpha"), file="alpha.toml"), actor="timing")
        s.flush()
        city = city_by_slug(s, "alpha")
        st, _ = staff_mod.create_staff(s, city, name="Ann", role="manager", actor="timing")
        staff_mod.set_password(s, st, "a long staff password", actor="timing")
    client = app.test_client()
    base = "/api/v1/cities/alpha/residents"
    client.post(base, json={"username": "ada", "password": "correct horse", "email": "ada@example.org"})
    token = app.extensions["pb_mailer"].sent[-1].body.split("/signup/")[1].split()[0]
    assert client.post(f"{base}/confirm", json={"token": token}).status_code == 200
    counter = iter(range(10**6))

    def login(name):
        return lambda: client.post(f"{base}/login", json={"username": name, "password": "wrong password"})

    def signup(name=None):
        return lambda: client.post(base, json={"username": name or f"free{next(counter)}", "password": "correct horse",
                                               "email": "x@example.org"})

    def staff_signin(name):
        def go():
            with app.extensions["pb_db"].session() as s:
                try:
                    staff_mod.authenticate(s, city_by_slug(s, "alpha"), name, "not the password")
                except Exception:  # noqa: BLE001 - the refusal is what is timed
                    pass
        return go

    rows = [("resident sign-in, wrong password: real account vs unknown name", *_pairs(n, login("ada"), login("nobody"))),
            ("resident sign-up: free name vs taken name", *_pairs(n, signup(), signup("ada"))),
            ("staff sign-in, wrong password: real name vs unknown name",
             *_pairs(n, staff_signin("Ann"), staff_signin("Nobody")))]
    print(f"{'':66} {'median a':>9} {'median b':>9} {'a / b':>6}   ({n} each, interleaved, {url.split(':')[0]})")
    for label, a, b in rows:
        print(f"{label:66} {a:8.1f}ms {b:8.1f}ms {a / b:6.2f}")
    app.extensions["pb_db"].dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
