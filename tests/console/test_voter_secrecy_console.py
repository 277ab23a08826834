"""The round editor holds the voter-secrecy settings (issue 13): live turnout (default off) and how codes
bind to resident accounts (default claim), with the config's refusal beside its field."""

from __future__ import annotations

import pytest

from apihelp import make_round
from pagehelp import Page
from test_round_editor import EDIT, _manager, _post

pytestmark = pytest.mark.db

R = "/api/v1/cities/alpha/rounds/2026"


def test_editor_sets_live_turnout_and_refuses_separate_with_both_methods(app, api, cities, staff, site):
    make_round(api, cities)
    _manager(site, staff)
    page = site.get(EDIT)
    assert page.soup.select_one('input[name="live_turnout"]:not([checked])')
    assert page.soup.select_one('select[name="eligibility-code_binding"] option[selected]')["value"] == "claim"
    saved = Page(_post(site, EDIT, {"live_turnout": "1"}))
    assert saved.status == 200, saved.text(".alert")
    body = api.get(R).get_json()
    assert body["live_turnout"] is True and "code_binding" not in body["eligibility"]  # claim: the default

    bad = Page(_post(site, EDIT, {"eligibility-code_binding": "separate"}))  # both methods are ticked
    assert bad.status == 422 and "one method only" in bad.field_error("eligibility-code_binding")
    assert api.get(R).get_json()["eligibility"] == body["eligibility"]
    ok = Page(_post(site, EDIT, {"eligibility-code_binding": "separate", "eligibility-methods": ["access_code"]}))
    assert ok.status == 200
    assert api.get(R).get_json()["eligibility"]["code_binding"] == "separate"
