"""What a stranger cannot do with a page: inject script, forge a form, frame the site, read the
cookie from script; a JSON call that rides the browser's cookie needs the CSRF token too."""

import pytest

from apihelp import advance_to, make_round, populated_round, register
from pagehelp import sign_up

pytestmark = pytest.mark.db

XSS = "<script>alert(1)</script>"
BASE = "/api/v1/cities/alpha/rounds/2026"


def test_a_script_title_shows_as_text_everywhere(site, api, cities):
    state = populated_round(api, cities, run_outcome=False)
    pid = state["ids"]["north"][0]
    # Staff correct a title while the round is counting: every page that shows it escapes it.
    r = api.patch(f"{BASE}/proposals/{pid}", json={"title": XSS, "summary": XSS}, token=cities["alpha_admin"])
    assert r.status_code == 200, r.get_json()
    r = api.post(f"{BASE}/outcomes", json={}, token=cities["alpha_admin"])
    api.post(f"{BASE}/outcomes/{r.get_json()['id']}/publish", token=cities["alpha_admin"])
    for path in ("/alpha/2026", "/alpha/2026/proposals", f"/alpha/2026/proposals/{pid}", "/alpha/2026/results",
                 "/search?q=alert"):
        page = site.get(path)
        assert page.status == 200, path
        assert XSS not in page.html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.html, path
        assert XSS in page.text("main"), path  # a person reads the title as typed
        assert not [s for s in page.soup.select("script") if "alert" in (s.string or "")], path


def test_security_headers_and_cookie_flags(site, api, cities):
    make_round(api, cities)
    advance_to(api, cities, "submission")
    page = sign_up(site, "ada", follow=False)
    cookie = page.resp.headers["Set-Cookie"]
    assert "pb_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    resp = site.get("/alpha/2026").resp
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"  # a signed-in page is never cached


def test_no_inline_script_or_style_on_any_page(site, api, cities):
    state = populated_round(api, cities)
    api.post(f"{state['base']}/outcomes/{state['outcome']['id']}/publish", token=cities["alpha_admin"])
    for path in ("/", "/alpha/2026", "/alpha/2026/proposals", "/alpha/2026/results", "/alpha/signup",
                 "/alpha/2026/vote", "/alpha/2026/receipt"):
        page = site.get(path)
        assert all(s.get("src") for s in page.soup.select("script")), path  # the CSP allows only files
        assert not page.soup.select("style") and not page.soup.select("[style]"), path
        assert not page.soup.select("[onclick], [onload], [onchange]"), path


def test_json_call_with_the_cookie_needs_the_csrf_token(app, api, cities):
    make_round(api, cities, threshold=0)
    advance_to(api, cities, "submission")
    from pagehelp import Site

    browser = Site(app.test_client())
    sign_up(browser, "ada")
    body = {"title": "Via cookie", "district": "north"}
    # A page of another site could make the browser send this with its cookie: refused, nothing stored.
    resp = browser.client.post(f"{BASE}/proposals", json=body)
    assert resp.status_code == 400 and resp.get_json()["code"] == "csrf_failed"
    assert api.get(f"{BASE}/proposals").get_json()["total"] == 0
    token = browser.get("/alpha/2026/proposals/new").csrf()
    resp = browser.client.post(f"{BASE}/proposals", json=body, headers={"X-CSRFToken": token})
    assert resp.status_code == 201 and resp.get_json()["author"] == "ada"
    # A program with a bearer token needs no CSRF token.
    resp = api.post(f"{BASE}/proposals", json={"title": "Via token", "district": "north"}, token=register(api, username="bob"))
    assert resp.status_code == 201


def test_redirect_targets_stay_on_this_site(site, api, cities):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        resp = site.client.get(f"/lang/en?next={target}")
        assert resp.status_code == 303 and resp.headers["Location"] == "/", target
