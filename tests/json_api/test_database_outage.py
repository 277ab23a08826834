"""PostgreSQL goes away under the service and comes back: 503 with Retry-After (JSON and page), no trace,
and the service recovers by itself.

The app reaches PostgreSQL through a TCP proxy (tests/faultproxy.py) that the test cuts and restores;
the shared PostgreSQL server itself is never stopped. PostgreSQL only: an SQLite file does not go away.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy.engine import make_url

from apihelp import Api, advance_to, city_config, make_round, register
from faultproxy import FaultProxy
from pb_engine.config import apply_city, parse_city_config
from pb_engine.staff import create_staff
from pb_engine.store.db import Database
from pb_engine.store.lookup import city_by_slug


@pytest.fixture
def world(db_url):
    from api import create_app

    if db_url.startswith("sqlite"):
        pytest.skip("an SQLite file has no server to lose")
    target = make_url(db_url)
    proxy = FaultProxy(target.host or "127.0.0.1", target.port or 5432)
    url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    db: Database = app.extensions["pb_db"]
    with db.session() as s:
        apply_city(s, parse_city_config(city_config("alpha"), file="alpha.toml"), actor="test")
        s.flush()
        tokens = {"alpha_admin": create_staff(s, city_by_slug(s, "alpha"), name="admin", role="admin", actor="test")[1]}
    api = Api(app.test_client())
    base = "/api/v1/cities/alpha/rounds/2026"
    make_round(api, tokens)
    advance_to(api, tokens, "submission")
    resident = register(api, username="resi")
    pid = api.post(f"{base}/proposals", json={"title": "Benches", "district": "north", "estimated_cost": 1000},
                   token=resident).get_json()["id"]
    advance_to(api, tokens, "review")
    r = api.patch(f"{base}/proposals/{pid}", json={"reviewed_cost": 1000, "feasible": True, "status": "on_ballot"},
                  token=tokens["alpha_admin"])
    assert r.status_code == 200, r.get_json()
    advance_to(api, tokens, "voting")
    codes = api.post(f"{base}/access-codes", json={"district": "north", "count": 2},
                     token=tokens["alpha_admin"]).get_json()["codes"]
    voter = api.post(f"{base}/voter-sessions", json={"access_code": codes[0]}).get_json()["token"]
    yield {"api": api, "base": base, "pid": pid, "voter": voter, "proxy": proxy, "codes": codes}
    proxy.close()
    db.dispose()


def _assert_503_json(resp):
    assert resp.status_code == 503, resp.get_data(as_text=True)[:500]
    assert int(resp.headers["Retry-After"]) > 0
    body = resp.get_json()
    assert body["code"] == "database_unavailable" and body["status"] == 503
    assert "Traceback" not in resp.get_data(as_text=True)


def test_database_cut_answers_503_with_retry_after_and_recovers(world):
    api, base, proxy = world["api"], world["base"], world["proxy"]
    ballot = f"{base}/districts/north/ballot"
    assert api.put(ballot, json={"projects": [world["pid"]]}, token=world["voter"]).status_code == 200

    proxy.cut()
    _assert_503_json(api.put(ballot, json={"projects": [world["pid"]]}, token=world["voter"]))
    _assert_503_json(api.get(base))
    _assert_503_json(api.post(f"{base}/voter-sessions", json={"access_code": world["codes"][1]}))
    _assert_503_json(api.get("/healthz"))  # a load balancer takes the worker out while its database is away
    page = api.client.get("/alpha/2026", headers={"Accept-Language": "en"})
    assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
    html = page.get_data(as_text=True)
    assert page.mimetype == "text/html" and "cannot reach its database" in html and "Traceback" not in html
    page = api.client.get("/alpha/2026", headers={"Accept-Language": "zh-TW"})
    assert page.status_code == 503 and "cannot reach its database" not in page.get_data(as_text=True)

    proxy.restore()
    started = time.monotonic()
    resp = api.put(ballot, json={"projects": [world["pid"]]}, token=world["voter"])
    recovered = time.monotonic() - started
    # The first request after the cut already succeeds: pre-ping finds the pooled connections dead and reconnects.
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["version"] == 2  # the ballot refused during the cut was not half-stored
    assert api.get(base).status_code == 200 and api.client.get("/alpha/2026").status_code == 200
    print(f"recovered in {recovered * 1000:.0f} ms")
    assert recovered < 5, recovered


def test_a_ballot_on_a_connection_the_database_dropped_is_cast_once_on_a_fresh_one(world, monkeypatch):
    """A ballot's connection is not pinged before use (store.db.without_pre_ping): one the database dropped
    fails the cast's first statement, before anything is stored, and the cast runs again on a fresh
    connection (voting._committed). Other checkouts are still pinged."""
    api, base, proxy = world["api"], world["base"], world["proxy"]
    db = api.client.application.extensions["pb_db"]
    pings = []
    real_ping = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: (pings.append(1), real_ping(conn))[1])
    ballot = f"{base}/districts/north/ballot"
    assert api.put(ballot, json={"projects": [world["pid"]]}, token=world["voter"]).get_json()["version"] == 1
    for _ in range(3):
        proxy.cut()      # every connection of the pool is dropped …
        proxy.restore()  # … and new ones connect
        before = len(pings)
        r = api.put(ballot, json={"projects": [world["pid"]]}, token=world["voter"])
        assert r.status_code == 200, r.get_json()
        assert len(pings) == before  # the ballot's checkout was not pinged
    assert r.get_json()["version"] == 4  # each cast stored once: none lost, none doubled
    proxy.cut()
    proxy.restore()
    assert api.get(base).status_code == 200 and len(pings) > before  # a page's checkout is pinged
