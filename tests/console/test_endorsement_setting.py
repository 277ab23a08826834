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
