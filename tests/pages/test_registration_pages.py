"""The sign-up pages: a free and a taken name get the same page; the e-mailed link opens a page whose
button (GET changes nothing: mail scanners open links) finishes the sign-up and signs in."""

from __future__ import annotations

import pytest

from apihelp import mails, make_round, sign_up_link
from pagehelp import Site

pytestmark = pytest.mark.db


def test_the_sign_up_pages_answer_alike_and_the_link_signs_in(app, api, cities):
    make_round(api, cities)
    pages = []
    for name in ("ada", "ada"):
        site = Site(app.test_client())
        page = site.submit("/alpha/signup", {"username": name, "email": "same@example.org",
                                             "password": "long enough pw", "password2": "long enough pw"})
        pages.append((page.status, page.text("main")))
    assert pages[0] == pages[1] and pages[0][0] == 200 and "Check your e-mail" in pages[0][1]
    site = Site(app.test_client())
    assert site.submit("/alpha/signin", {"username": "ada", "password": "long enough pw"}).status == 401
    assert sign_up_link(app, "same@example.org") is None  # the last mail to the address is the "taken" one
    link = next(m.body for m in mails(app) if "/alpha/signup/" in m.body)
    path = link[link.index("/alpha/signup/"):].split()[0]
    page = site.get(path)
    assert page.status == 200 and page.soup.select_one("form button")  # GET changes nothing: a button
    page = site.submit(path, {})
    assert page.status == 200
    assert site.get("/alpha/2026").text(".account").startswith("Signed in as ada")
    assert site.submit(path, {}).status == 404  # used up


def test_a_resident_verifies_the_account_with_a_code_on_the_page(app, api, cities):
    from pagehelp import sign_up

    make_round(api, cities)
    code = api.post("/api/v1/cities/alpha/resident-codes", json={"count": 1, "district": "south"},
                    token=cities["alpha_admin"]).get_json()["codes"][0]
    anonymous = Site(app.test_client())
    resp = anonymous.client.get("/alpha/verify")
    assert resp.status_code == 303 and "/alpha/signin" in resp.headers["Location"]
    site = Site(app.test_client())
    sign_up(site, "ada")
    page = site.submit("/alpha/verify", {"code": "K7QM"})
    assert page.status == 422 and "12 characters" in page.field_error("code") and page.value("code") == "K7QM"
    page = site.submit("/alpha/verify", {"code": code})
    assert page.status == 200 and "Your account is verified. District: south." in page.text("main")
