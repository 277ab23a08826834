"""The round editor sets who may endorse (`endorsement.require`), keeps it on other edits and names the
field of a bad value."""

from __future__ import annotations

import pytest

from apihelp import make_round
from consolehelp import sign_in
from pagehelp import Page
from test_round_editor import EDIT, _post

pytestmark = pytest.mark.db


def test_the_round_editor_sets_who_may_endorse(app, api, cities, staff, site):
    make_round(api, cities)
    sign_in(site, "alpha", staff["alpha_manager"][1])
    url = "/api/v1/cities/alpha/rounds/2026"
    assert Page(_post(site, EDIT, {"endorsement-require": "verified"})).status == 200
    assert api.get(url).get_json()["endorsement"] == {"require": "verified"}
    assert Page(_post(site, EDIT, {"title": "Renamed"})).status == 200  # another edit keeps it
    assert api.get(url).get_json()["endorsement"] == {"require": "verified"}
    bad = Page(_post(site, EDIT, {"endorsement-require": "friends"}))
    assert bad.status == 422 and "account, verified" in bad.field_error("endorsement-require")
    assert api.get(url).get_json()["endorsement"] == {"require": "verified"}  # nothing saved


def test_staff_issue_verification_codes_on_a_page_and_a_resident_redeems_one(app, api, cities, staff, site):
    from apihelp import register
    from pagehelp import Site

    sign_in(site, "alpha", staff["alpha_clerk"][1])
    page = site.submit("/console/alpha/residents/codes", {"count": "0"})
    assert page.status == 422 and "from 1 to 1000" in page.field_error("count")
    page = site.submit("/console/alpha/residents/codes", {"count": "3", "district": "nowhere"})
    assert page.status == 422 and "no district" in page.field_error("district").lower()
    make_round(api, cities)
    page = site.submit("/console/alpha/residents/codes", {"count": "3", "district": "north"})
    codes = page.texts("ol.code-list code")
    assert page.status == 200 and len(codes) == 3 and all(len(c) == 14 for c in codes)
    assert site.get("/console/alpha/residents/codes").texts("ol.code-list code") == []  # shown once
    viewer = Site(app.test_client())
    sign_in(viewer, "alpha", staff["alpha_viewer"][1])
    assert viewer.client.get("/console/alpha/residents/codes").status_code == 403
    ada = register(api, username="ada")
    done = api.post("/api/v1/cities/alpha/residents/verify", json={"code": codes[1]}, token=ada)
    assert done.status_code == 200 and done.get_json()["district"] == "north"
