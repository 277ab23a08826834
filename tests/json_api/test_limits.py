"""Limits of the JSON API: failed sign-ins counted per address, round and account, sign-ups per address,
a lockout answered 429 with Retry-After and logged once; bodies too large, too deep or with absurd numbers
answered 413/400 naming the problem; repeated field errors said once with a count; CSV cells that a
spreadsheet would run as formulas neutralised; no production start without a secret key."""

from __future__ import annotations

import csv
import io
import json
import shutil
import socket
import subprocess
import time

import pytest

from apihelp import advance_to, make_round
from pb_engine.access_codes import new_code, pretty

pytestmark = pytest.mark.db

BASE = "/api/v1/cities/alpha/rounds/2026"


def voting(api, cities, city="alpha", codes=3):
    make_round(api, cities, city=city)
    advance_to(api, cities, "voting", city=city)
    return api.post(f"/api/v1/cities/{city}/rounds/2026/access-codes", json={"district": "north", "count": codes},
                    token=cities[f"{city}_admin"]).get_json()["codes"]


def code_sign_in(client, code, address="192.0.2.1", base=BASE):
    return client.post(f"{base}/voter-sessions", json={"access_code": code}, environ_base={"REMOTE_ADDR": address})


def lockouts(api, cities, city="alpha"):
    body = api.get(f"/api/v1/cities/{city}/audit?action=auth.lockout", token=cities[f"{city}_admin"]).get_json()
    return body["events"]


def assert_429(resp):
    assert resp.status_code == 429, resp.get_json()
    body = resp.get_json()
    assert body["code"] == "too_many_attempts" and body["status"] == 429 and set(body) == {
        "code", "status", "message", "errors"}
    wait = int(resp.headers["Retry-After"])
    assert 0 < wait <= 3601
    return wait


# --- access codes ----------------------------------------------------------------------------------

def test_the_failed_code_attempt_past_the_limit_is_429_with_retry_after(app, api, cities, client):
    app.config["PB_LIMIT_CODE_PER_ADDRESS"] = "5 per hour"
    codes = voting(api, cities)
    for _ in range(5):
        assert code_sign_in(client, new_code()).status_code == 401  # well-formed, unknown: a guess
    assert_429(code_sign_in(client, new_code()))
    # Locked out is locked out: even a valid code waits from that address, while another address signs in.
    assert_429(code_sign_in(client, codes[0]))
    assert code_sign_in(client, codes[0], address="192.0.2.2").status_code == 201


def test_successful_code_sign_ins_from_one_address_are_never_limited(app, api, cities, client):
    """A polling station's kiosk: 200 voters in a row from one address, a few typos and wrong codes between."""
    app.config["PB_LIMIT_CODE_PER_ADDRESS"] = "3 per hour"
    app.config["PB_LIMIT_CODE_PER_ROUND"] = "3 per hour"
    codes = voting(api, cities, codes=200)
    for n, code in enumerate(codes):
        if n in (50, 150):
            assert code_sign_in(client, new_code()).status_code == 401  # two failures: still under 3
        if n % 20 == 0:
            typo = code[:-1] + ("2" if code[-1] != "2" else "3")
            assert code_sign_in(client, typo).status_code == 422  # the check character caught it: not a guess
        r = code_sign_in(client, pretty(code) if n % 2 else code.lower())
        assert r.status_code == 201, (n, r.get_json())
    assert code_sign_in(client, new_code()).status_code == 401   # the third failure is still allowed
    assert_429(code_sign_in(client, new_code()))


def test_failed_code_attempts_into_one_round_are_limited_across_addresses(app, api, cities, client):
    app.config["PB_LIMIT_CODE_PER_ADDRESS"] = "100 per hour"
    app.config["PB_LIMIT_CODE_PER_ROUND"] = "6 per hour"
    codes = voting(api, cities)
    voting(api, cities, city="beta")
    for i in range(6):
        assert code_sign_in(client, new_code(), address=f"198.51.100.{i}").status_code == 401
    assert_429(code_sign_in(client, new_code(), address="198.51.100.99"))
    assert_429(code_sign_in(client, codes[0], address="203.0.113.7"))
    # Another round keeps its own count.
    assert code_sign_in(client, new_code(), address="198.51.100.99",
                        base="/api/v1/cities/beta/rounds/2026").status_code == 401


def test_a_lockout_is_written_once_to_the_audit_log_without_the_code(app, api, cities, client):
    app.config["PB_LIMIT_CODE_PER_ADDRESS"] = "3 per hour"
    voting(api, cities)
    tried = [new_code() for _ in range(8)]
    for code in tried[:3]:
        assert code_sign_in(client, code).status_code == 401
    for code in tried[3:]:
        assert_429(code_sign_in(client, code))
    events = lockouts(api, cities)
    assert len(events) == 1, events
    e = events[0]
    assert e["round"] == "2026" and e["actor"] == "rate-limit" and e["target"] == "code sign-in per address"
    assert e["after"]["address"] == "192.0.2.1" and e["after"]["allowed"] == "3 per 1 hour"
    text = json.dumps(e)
    assert not any(c in text or pretty(c) in text for c in tried)
    assert lockouts(api, cities, city="beta") == []


# --- resident accounts -----------------------------------------------------------------------------

def register(client, username, address="192.0.2.1", password="correct horse"):
    """Sign up from `address` (202 for a free and a taken name alike), then open the e-mailed link."""
    from apihelp import sign_up_link

    email = f"{username}@example.org"
    resp = client.post("/api/v1/cities/alpha/residents", json={"username": username, "password": password,
                                                               "email": email}, environ_base={"REMOTE_ADDR": address})
    token = sign_up_link(client.application, email) if resp.status_code == 202 else None
    if token:
        assert client.post("/api/v1/cities/alpha/residents/confirm", json={"token": token}).status_code == 200
    return resp


def login(client, username, password, address="192.0.2.1"):
    return client.post("/api/v1/cities/alpha/residents/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_failed_logins_are_limited_per_account_across_addresses(app, api, cities, client):
    app.config["PB_LIMIT_LOGIN_PER_ACCOUNT"] = "4 per hour"
    assert register(client, "ada").status_code == 202
    assert register(client, "bob", address="192.0.2.9").status_code == 202
    for _ in range(10):  # successful logins do not count
        assert login(client, "ada", "correct horse").status_code == 200
    for i in range(4):
        assert login(client, "ada", f"wrong {i}", address=f"198.51.100.{i}").status_code == 401
    assert_429(login(client, "ada", "wrong again", address="198.51.100.50"))
    assert_429(login(client, "ada", "correct horse", address="198.51.100.51"))
    assert login(client, "bob", "correct horse", address="198.51.100.50").status_code == 200
    events = lockouts(api, cities)
    assert len(events) == 1 and events[0]["target"] == "resident sign-in per account"
    assert events[0]["after"]["username"] == "ada" and "wrong" not in json.dumps(events)
    assert events[0]["round"] is None


def test_failed_logins_are_limited_per_address_across_accounts(app, api, cities, client):
    app.config["PB_LIMIT_LOGIN_PER_ADDRESS"] = "5 per hour"
    assert register(client, "ada", address="192.0.2.200").status_code == 202
    for i in range(5):
        assert login(client, f"nobody{i}", "whatever1").status_code == 401
    assert_429(login(client, "ada", "correct horse"))
    assert login(client, "ada", "correct horse", address="192.0.2.2").status_code == 200


def test_sign_ups_are_limited_per_address(app, api, cities, client):
    app.config["PB_LIMIT_SIGNUP_PER_ADDRESS"] = "3 per hour"
    for i in range(3):
        assert register(client, f"sock{i}").status_code == 202
    assert_429(register(client, "sock3"))
    assert register(client, "sock3", address="192.0.2.77").status_code == 202
    assert [e["target"] for e in lockouts(api, cities)] == ["sign-up per address"]


def test_limits_keep_counting_in_redis_when_it_is_configured(monkeypatch, db_url, tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    import redis

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([server, "--port", str(port), "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port)
        for _ in range(50):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        monkeypatch.setenv("PB_REDIS_URL", f"redis://127.0.0.1:{port}/0")
        from api import create_app

        app = create_app({"TESTING": True, "DATABASE_URL": db_url, "PB_LIMIT_SIGNUP_PER_ADDRESS": "2 per hour"})
        try:
            from apihelp import Api, city_config
            from pb_engine.config import apply_city, parse_city_config

            with app.extensions["pb_db"].session() as s:
                apply_city(s, parse_city_config(city_config("alpha"), file="alpha.toml"), actor="test")
            client = app.test_client()
            assert register(client, "one").status_code == 202
            assert register(client, "two").status_code == 202
            assert_429(register(client, "three"))
            assert any(b"signup-address" in k for k in r.keys("*")), r.keys("*")
        finally:
            app.extensions["pb_db"].dispose()
    finally:
        proc.terminate()
        proc.wait(10)


# --- request limits --------------------------------------------------------------------------------

def test_a_body_over_the_maximum_is_413_in_the_json_shape(api, cities, client):
    voting(api, cities)
    r = client.post(f"{BASE}/voter-sessions", data="x" * (2 * 1024 * 1024 + 1), content_type="application/json")
    assert r.status_code == 413
    body = r.get_json()
    assert body["status"] == 413 and "2 MiB" in body["message"] and set(body) == {"code", "status", "message", "errors"}


def test_deep_json_and_huge_numbers_are_400_naming_the_problem(api, cities, client, caplog):
    codes = voting(api, cities)
    token = api.post(f"{BASE}/voter-sessions", json={"access_code": codes[0]}).get_json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    cases = [
        ('{"projects": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested deeper than 32"),
        ('{"projects": ' + "[" * 40 + "]" * 40 + "}", "nested deeper than 32"),
        ('{"projects": [' + "9" * 5000 + "]}", "5000 characters"),
        ('{"projects": [-' + "9" * 200 + "]}", "201 characters"),
        ('{"projects": [1.' + "5" * 300 + "]}", "302 characters"),
        ('{"projects": [NaN]}', "NaN is not a JSON value"),
    ]
    for text, words in cases:
        r = client.put(f"{BASE}/districts/north/ballot", data=text, content_type="application/json", headers=h)
        assert r.status_code == 400, (text[:40], r.get_json())
        body = r.get_json()
        assert words in body["message"] and body["errors"]["json"] and body["code"] == "bad_request"
    assert not [rec for rec in caplog.records if rec.levelname == "ERROR"]
    # Within the limits the schema still names the field.
    r = client.put(f"{BASE}/districts/north/ballot", data='{"projects": [' + "9" * 40 + "]}",
                   content_type="application/json", headers=h)
    assert r.status_code == 422 and "projects" in r.get_json()["errors"]


def test_short_bodies_are_held_to_the_depth_limit_at_its_edge(api, cities, client):
    """A short body with few brackets skips the second parse (api.limits._check_json_body): at the edge,
    32 levels still reach the schema and 33 are refused, in bodies of under 100 bytes."""
    codes = voting(api, cities)
    token = api.post(f"{BASE}/voter-sessions", json={"access_code": codes[0]}).get_json()["token"]
    h = {"Authorization": f"Bearer {token}"}
    for levels, status in ((32, 422), (33, 400)):
        text = '{"projects":' + "[" * (levels - 1) + "]" * (levels - 1) + "}"
        assert len(text) < 100
        r = client.put(f"{BASE}/districts/north/ballot", data=text, content_type="application/json", headers=h)
        assert r.status_code == status, (levels, r.get_json())
    r = client.put(f"{BASE}/districts/north/ballot", data='{"projects": [Infinity]}',
                   content_type="application/json", headers=h)
    assert r.status_code == 400 and "Infinity is not a JSON value" in r.get_json()["message"]


def test_one_bad_ballot_id_repeated_500_times_is_one_error_with_a_count(api, cities):
    codes = voting(api, cities)
    base = BASE
    token = api.post(f"{base}/voter-sessions", json={"access_code": codes[0]}).get_json()["token"]

    r = api.put(f"{base}/districts/north/ballot", json={"projects": [999999] * 500}, token=token)
    assert r.status_code == 422
    body = r.get_json()
    entries = [m for ms in body["errors"].values() for m in ms]
    assert len(entries) <= 3 and any("(×499)" in m for m in entries), body
    assert len(r.get_data()) < 2000 and body["message"].count("999999") <= 3

    r = api.put(f"{base}/districts/north/ballot", json={"projects": ["x"] * 500}, token=token)
    assert r.status_code == 422
    errors = r.get_json()["errors"]["projects"]
    assert list(errors) == ["0"] and errors["0"][0].endswith("(×500)"), errors


def test_distinct_errors_keep_their_order_and_have_no_count():
    from api.errors import deduplicated

    assert deduplicated({"a": ["x", "y", "x", "z", "x"]}) == {"a": ["x (×3)", "y", "z"]}
    assert deduplicated({"p": {"0": ["bad"], "1": ["worse"], "2": ["bad"]}}) == {"p": {"0": ["bad (×2)"], "1": ["worse"]}}
    assert deduplicated({"p": {"0": ["bad"], "1": ["worse"]}}) == {"p": {"0": ["bad"], "1": ["worse"]}}
    assert deduplicated({"a": ["x"], "b": ["x"]}) == {"a": ["x"], "b": ["x"]}


# --- CSV -------------------------------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://x","y")'


def test_export_csv_neutralises_a_formula_in_a_title(api, cities, client):
    make_round(api, cities)
    advance_to(api, cities, "submission")
    from apihelp import register as register_resident

    token = register_resident(api)
    titles = [FORMULA, "+1+2", "-3", "@SUM(A1)", "Shade trees", "a=b"]
    for t in titles:
        r = api.post(f"{BASE}/proposals", json={"title": t, "district": "north", "estimated_cost": 1000}, token=token)
        assert r.status_code == 201, r.get_json()
    r = client.get(f"{BASE}/export.csv")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [row["title"] for row in rows] == [f"'{FORMULA}", "'+1+2", "'-3", "'@SUM(A1)", "Shade trees", "a=b"]
    assert {row["estimated_cost"] for row in rows} == {"1000"}   # numbers and money untouched


def test_compare_csv_neutralises_a_formula_in_a_round_title(api, cities, client):
    make_round(api, cities)
    r = api.patch(BASE, json={"title": FORMULA}, token=cities["alpha_admin"])
    assert r.status_code == 200, r.get_json()
    text = client.get("/api/v1/compare?rounds=alpha/2026&format=csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["title"] == "'" + FORMULA
    assert not any(v.startswith(("=", "+", "-", "@")) for row in rows for v in row.values() if v)


def test_safe_cell_touches_only_text_that_starts_a_formula():
    from pb_engine.csv_cells import safe_cell

    for start in "=+-@\t\r":
        assert safe_cell(start + "x") == "'" + start + "x"
    assert safe_cell("x=1") == "x=1" and safe_cell("") == "" and safe_cell(-5) == -5 and safe_cell(None) is None


# --- secrets ---------------------------------------------------------------------------------------

PG = "postgresql://pb@127.0.0.1:1/never-connected"  # making the app does not connect


@pytest.fixture
def no_secret_env(monkeypatch, tmp_path):
    for name in ("PB_SECRET_KEY", "PB_DEV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PB_INSTANCE_DIR", str(tmp_path / "instance"))
    return monkeypatch


def _app(config):
    from api import create_app

    app = create_app(config)
    app.extensions["pb_db"].dispose()
    return app


def test_production_on_postgresql_refuses_to_start_without_a_secret_key(no_secret_env):
    from api.security import MissingSecretKey

    with pytest.raises(MissingSecretKey, match="PB_SECRET_KEY is not set.*PostgreSQL.*PB_DEV=1"):
        _app({"DATABASE_URL": PG})


def test_postgresql_starts_with_a_configured_key_or_in_dev_mode(no_secret_env, tmp_path):
    no_secret_env.setenv("PB_SECRET_KEY", "k" * 64)
    assert _app({"DATABASE_URL": PG}).config["SECRET_KEY"] == "k" * 64
    no_secret_env.delenv("PB_SECRET_KEY")
    no_secret_env.setenv("PB_DEV", "1")
    key = _app({"DATABASE_URL": PG}).config["SECRET_KEY"]
    assert len(key) == 64 and (tmp_path / "instance" / "secret_key").read_text() == key
    no_secret_env.setenv("PB_DEV", "0")  # only 1 means dev mode
    from api.security import MissingSecretKey

    with pytest.raises(MissingSecretKey):
        _app({"DATABASE_URL": PG})


def test_the_embedded_default_makes_its_key_once_in_the_instance_folder(no_secret_env, tmp_path):
    url = f"sqlite:///{tmp_path / 'pb.db'}"
    first = _app({"DATABASE_URL": url}).config["SECRET_KEY"]
    assert len(first) == 64 and _app({"DATABASE_URL": url}).config["SECRET_KEY"] == first


def test_behind_a_trusted_proxy_the_client_address_is_counted(monkeypatch, db_url):
    monkeypatch.setenv("PB_TRUSTED_PROXIES", "1")
    from api import create_app
    from apihelp import city_config
    from pb_engine.config import apply_city, parse_city_config

    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "PB_LIMIT_SIGNUP_PER_ADDRESS": "1 per hour"})
    try:
        with app.extensions["pb_db"].session() as s:
            apply_city(s, parse_city_config(city_config("alpha"), file="alpha.toml"), actor="test")
        client = app.test_client()

        def via_proxy(name, client_address):
            return client.post("/api/v1/cities/alpha/residents", json={"username": name, "password": "correct horse",
                                                                       "email": f"{name}@example.org"},
                               headers={"X-Forwarded-For": client_address}, environ_base={"REMOTE_ADDR": "10.0.0.1"})

        assert via_proxy("one", "192.0.2.1").status_code == 202
        assert via_proxy("two", "192.0.2.2").status_code == 202   # another client behind the same proxy
        assert via_proxy("three", "192.0.2.1").status_code == 429
    finally:
        app.extensions["pb_db"].dispose()
