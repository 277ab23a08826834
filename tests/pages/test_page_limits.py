"""Limits on pages: the vote sign-in, resident sign-in and sign-up forms answer a lockout with a page in the
visitor's language (429, Retry-After), share their counters with the JSON API, and a body too large is a
page too (413)."""

from __future__ import annotations

import re

import pytest

from apihelp import advance_to, make_round, register
from pagehelp import Page, Site
from pb_engine.access_codes import new_code

pytestmark = pytest.mark.db

BASE = "/api/v1/cities/alpha/rounds/2026"


def voting(api, cities):
    make_round(api, cities)
    advance_to(api, cities, "voting")
    return api.post(f"{BASE}/access-codes", json={"district": "north", "count": 3},
                    token=cities["alpha_admin"]).get_json()["codes"]


def vote_sign_in(site: Site, code: str) -> Page:
    return site.submit("/alpha/2026/vote", {"access_code": code})


@pytest.mark.parametrize("lang, heading, words", [
    ("en", "Too many attempts", r"please wait (59|60|61) minutes and try again"),
    ("zh-TW", "嘗試次數過多", r"請等候 (59|60|61) 分鐘後再試一次"),
])
def test_the_vote_page_answers_a_lockout_in_the_visitors_language(app, api, cities, lang, heading, words):
    app.config["PB_LIMIT_CODE_PER_ADDRESS"] = "3 per hour"
    codes = voting(api, cities)
    site = Site(app.test_client(), lang=lang)
    for _ in range(3):
        page = vote_sign_in(site, new_code())
        assert page.status == 401 and page.field_error("access_code")
    page = vote_sign_in(site, codes[0])
    assert page.status == 429
    assert page.text("h1") == heading and re.search(words, page.text("main")), page.text("main")
    assert 0 < int(page.resp.headers["Retry-After"]) <= 3601
    assert page.resp.mimetype == "text/html"


def test_a_kiosk_signs_in_voter_after_voter_from_one_address(app, api, cities):
    app.config["PB_LIMIT_CODE_PER_ADDRESS"] = "2 per hour"
    make_round(api, cities)
    advance_to(api, cities, "voting")
    codes = api.post(f"{BASE}/access-codes", json={"district": "north", "count": 25},
                     token=cities["alpha_admin"]).get_json()["codes"]
    for code in codes:
        kiosk = Site(app.test_client())  # each voter's session is new; the address is the kiosk's
        page = vote_sign_in(kiosk, code)
        assert page.status == 200 and page.text("h1") == "Your ballot: North", page.text("main")


def test_page_and_api_share_the_code_counters(app, api, cities, client, site):
    app.config["PB_LIMIT_CODE_PER_ADDRESS"] = "4 per hour"
    voting(api, cities)
    for _ in range(2):
        assert client.post(f"{BASE}/voter-sessions", json={"access_code": new_code()}).status_code == 401
    for _ in range(2):
        assert vote_sign_in(site, new_code()).status == 401
    assert client.post(f"{BASE}/voter-sessions", json={"access_code": new_code()}).status_code == 429
    assert vote_sign_in(site, new_code()).status == 429
    events = api.get("/api/v1/cities/alpha/audit?action=auth.lockout", token=cities["alpha_admin"]).get_json()
    assert [e["target"] for e in events["events"]] == ["code sign-in per address"]


def test_the_sign_in_page_locks_an_account_after_failed_passwords(app, api, cities, site_zh):
    app.config["PB_LIMIT_LOGIN_PER_ACCOUNT"] = "3 per hour"
    register(api, username="ada")
    for _ in range(3):
        page = site_zh.submit("/alpha/signin", {"username": "ada", "password": "not the password"})
        assert page.status == 401
    page = site_zh.submit("/alpha/signin", {"username": "ada", "password": "correct horse"})
    assert page.status == 429 and page.text("h1") == "嘗試次數過多"
    assert "分鐘後再試" in page.text("main")
    other = Site(app.test_client())
    register(api, username="bob")
    page = other.submit("/alpha/signin", {"username": "bob", "password": "correct horse"})
    assert page.status == 200


def test_the_sign_up_page_is_limited_per_address(app, api, cities, site):
    app.config["PB_LIMIT_SIGNUP_PER_ADDRESS"] = "2 per hour"
    for name in ("one", "two"):
        page = site.submit("/alpha/signup", {"username": name, "email": f"{name}@example.org",
                                             "password": "long enough", "password2": "long enough"})
        assert page.status == 200, page.text("main")
    page = site.submit("/alpha/signup", {"username": "three", "email": "three@example.org", "password": "long enough",
                                         "password2": "long enough"})
    assert page.status == 429 and page.text("h1") == "Too many attempts"
    # GET is never counted: the form still opens.
    assert site.get("/alpha/signup").status == 200


def test_a_body_over_the_maximum_is_a_413_page(api, cities, site, site_zh):
    voting(api, cities)
    for s, heading in ((site, "Too large"), (site_zh, "內容過大")):
        form = s.get("/alpha/2026/vote")
        resp = s.client.post("/alpha/2026/vote", data={"csrf_token": form.csrf(), "access_code": "x" * (3 * 2 ** 20)},
                             headers={"Accept-Language": s.lang})
        page = Page(resp)
        assert page.status == 413 and page.text("h1") == heading and resp.mimetype == "text/html"
