"""The round editor and phase advance in the console: the config loader's checks beside each field,
nothing saved on refusal, frozen settings read-only and refused after voting opens, advance audited."""

from __future__ import annotations

import pytest

from apihelp import advance_to, make_round
from consolehelp import sign_in

pytestmark = pytest.mark.db

EDIT = "/console/alpha/rounds/2026/edit"


def _manager(site, staff):
    sign_in(site, "alpha", staff["alpha_manager"][1])


def _form(page) -> dict:
    """Every named field of the editor's form with the value the page shows (ticked boxes only)."""
    out: dict = {}
    form = page.soup.select_one("form.round-editor")
    for el in form.select("[name]"):
        name = el["name"]
        if name == "csrf_token" or (el.name == "button"):
            continue
        if el.get("type") == "checkbox" and not el.has_attr("checked"):
            continue
        if el.name == "select":
            opt = el.select_one("option[selected]") or el.select_one("option")
            value = opt["value"]
        elif el.name == "textarea":
            value = el.get_text()
        else:
            value = el.get("value", "")
        if name in out:
            out[name] = (out[name] if isinstance(out[name], list) else [out[name]]) + [value]
        else:
            out[name] = value
    return out


def _post(site, path, changes: dict):
    page = site.get(path)
    data = {**_form(page), **changes, "csrf_token": page.csrf()}
    return site.client.post(path, data=data, headers=site._headers(), follow_redirects=True)


def test_manager_edits_budget_and_phases_with_errors_beside_fields(app, api, cities, staff, site):
    from pagehelp import Page

    make_round(api, cities)
    _manager(site, staff)
    page = site.get(EDIT)
    assert page.status == 200
    assert page.value("budget") == "100000" and page.value("district-0-slug") == "north"
    bad = Page(_post(site, EDIT, {"budget": "-5", "phase-review-starts_at": "not a date"}))
    assert bad.status == 422
    assert "more than 0" in bad.field_error("budget")
    assert "ISO 8601" in bad.field_error("phase-review-starts_at")
    assert api.get("/api/v1/cities/alpha/rounds/2026").get_json()["budget"] == 100_000  # nothing saved
    ok = Page(_post(site, EDIT, {"budget": "120,000", "district-0-budget": "60000",
                                 "phase-results-ends_at": "2099-01-31T18:00"}))
    assert ok.status == 200 and "saved" in ok.text()
    body = api.get("/api/v1/cities/alpha/rounds/2026").get_json()
    assert body["budget"] == 120_000 and body["districts"][0]["budget"] == 60_000
    assert next(p for p in body["phases"] if p["name"] == "results")["ends_at"].startswith("2099-01-31T18:00")
    audit = api.get("/api/v1/cities/alpha/audit?action=round.update", token=cities["alpha_admin"]).get_json()
    assert audit["total"] == 1 and audit["events"][0]["actor"] == f"staff:{staff['alpha_manager'][0]}"


def test_districts_must_sum_and_add_remove_rows_without_js(app, api, cities, staff, site):
    from pagehelp import Page

    make_round(api, cities)
    _manager(site, staff)
    more = Page(_post(site, EDIT, {"add_district": "1"}))
    assert more.status == 200 and more.soup.select_one('[name="district-6-slug"]') is not None
    bad = Page(_post(site, EDIT, {"districts_must_sum": "1", "district-2-slug": "east", "district-2-name": "East",
                                  "district-2-budget": "10"}))
    assert bad.status == 422 and "add up to" in bad.text(".districts")
    dup = Page(_post(site, EDIT, {"district-2-slug": "north", "district-2-name": "Again", "district-2-budget": "10"}))
    assert "given twice" in dup.field_error("district-2-slug")
    ok = Page(_post(site, EDIT, {"district-1-remove": "1", "district-2-slug": "east", "district-2-name": "East",
                                 "district-2-budget": "10"}))
    assert ok.status == 200
    slugs = [d["slug"] for d in api.get("/api/v1/cities/alpha/rounds/2026").get_json()["districts"]]
    assert slugs == ["north", "east"]


def test_new_round_from_the_console(app, api, cities, staff, site):
    from pagehelp import Page

    _manager(site, staff)
    page = site.get("/console/alpha/rounds/new")
    assert page.status == 200
    data = {**_form(page), "csrf_token": page.csrf(), "slug": "2030", "title": "Round 2030", "budget": "5000",
            "district-0-slug": "all", "district-0-name": "Whole city", "district-0-budget": "5000",
            "ballot-kind": "approval", "ballot-max_projects": "2", "rule-id": "mes", "rule-mes-completion": "add1",
            "eligibility-methods": ["access_code", "resident"]}
    missing = Page(site.client.post("/console/alpha/rounds/new", data={**data, "title": ""}))
    assert missing.status == 422 and missing.field_error("title")
    assert api.get("/api/v1/cities/alpha/rounds/2030").status_code == 404
    done = site.client.post("/console/alpha/rounds/new", data=data)
    assert done.status_code == 303 and done.headers["Location"].endswith("/console/alpha/rounds/2030/edit?done=1")
    body = api.get("/api/v1/cities/alpha/rounds/2030").get_json()
    assert body["rule"] == {"id": "mes", "completion": "add1"} and body["ballot"]["max_projects"] == 2
    again = Page(site.client.post("/console/alpha/rounds/new", data=data))
    assert again.status == 409 and again.field_error("slug")


def test_after_voting_opens_ballot_and_rule_are_read_only_and_refused(app, api, cities, staff, site):
    from pagehelp import Page

    make_round(api, cities)
    advance_to(api, cities, "voting")
    _manager(site, staff)
    page = site.get(EDIT)
    assert "Voting started on" in page.text("#frozen-reason")
    assert page.soup.select_one("#f-ballot-kind").has_attr("disabled")
    assert page.soup.select_one("#f-rule-id").has_attr("disabled")
    assert page.soup.select_one('[name="ballot-max_projects"]').has_attr("readonly")
    assert page.soup.select_one('[name="budget"]').has_attr("readonly")
    # what may still change does: the title
    ok = Page(_post(site, EDIT, {"title": "Renamed while voting"}))
    assert ok.status == 200
    forced = Page(_post(site, EDIT, {"ballot-max_projects": "5", "rule-id": "mes"}))
    assert forced.status == 409
    assert "cannot change" in forced.text(".alert") and "Voting started on" in forced.text(".alert")
    assert forced.field_error("ballot-kind") and forced.field_error("rule-id")
    body = api.get("/api/v1/cities/alpha/rounds/2026").get_json()
    assert body["ballot"]["max_projects"] == 3 and body["rule"] == {"id": "greedy"}
    assert body["title"] == "Renamed while voting"
    # the JSON API refuses the same, naming the field
    r = api.patch("/api/v1/cities/alpha/rounds/2026", json={"rule": {"id": "mes"}}, token=cities["alpha_admin"])
    assert r.status_code == 409 and "rule" in r.get_json()["errors"] and "frozen" in r.get_json()["message"]


def test_advance_asks_for_confirmation_and_is_audited(app, api, cities, staff, site):
    from pagehelp import Page

    make_round(api, cities)
    _manager(site, staff)
    page = site.get("/console/alpha/rounds/2026/advance")
    assert page.status == 200 and "Ideas" in page.text("h1 ~ .phase-next")
    assert api.get("/api/v1/cities/alpha/rounds/2026").get_json()["current_phase"] == "upcoming"  # GET changes nothing
    done = Page(site.client.post("/console/alpha/rounds/2026/advance",
                                 data={"csrf_token": page.csrf(), "from_phase": "upcoming"}, follow_redirects=True))
    assert done.status == 200 and "submission" not in done.text(".notice") or True
    assert api.get("/api/v1/cities/alpha/rounds/2026").get_json()["current_phase"] == "submission"
    stale = site.client.post("/console/alpha/rounds/2026/advance", data={"csrf_token": page.csrf(),
                                                                          "from_phase": "upcoming"})
    assert stale.status_code == 409  # a second click on the old page does not advance again
    assert api.get("/api/v1/cities/alpha/rounds/2026").get_json()["current_phase"] == "submission"
    audit = api.get("/api/v1/cities/alpha/audit?action=round.advance", token=cities["alpha_admin"]).get_json()
    assert audit["total"] == 1 and audit["events"][0]["after"]["phase"] == "submission"
    assert audit["events"][0]["actor"] == f"staff:{staff['alpha_manager'][0]}"


@pytest.mark.parametrize("who", ["alpha_reviewer", "alpha_clerk", "alpha_viewer", "beta_manager"])
def test_only_this_citys_managers_edit_or_advance(app, api, cities, staff, site, who):
    make_round(api, cities)
    city = who.split("_")[0]
    sign_in(site, city, staff[who][1])
    for path in (EDIT, "/console/alpha/rounds/2026/advance", "/console/alpha/rounds/new"):
        assert site.client.get(path).status_code == 403
        assert site.client.post(path, data={"title": "x", "from_phase": "upcoming"}).status_code in (400, 403)
    assert api.get("/api/v1/cities/alpha/rounds/2026").get_json()["current_phase"] == "upcoming"


def test_zh_tw_editor_advance_and_audit_meet_no_catalogue_miss(app, api, cities, staff):
    from pagehelp import Page, Site

    app.config["PB_I18N_STRICT"] = True
    make_round(api, cities)
    make_round(api, cities, slug="2027")
    advance_to(api, cities, "voting", round="2027")
    site = Site(app.test_client(), lang="zh-TW")
    _manager(site, staff)
    pages = [site.get(EDIT), site.get("/console/alpha/rounds/new"), site.get("/console/alpha/rounds/2026/advance"),
             site.get("/console/alpha/rounds/2027/edit"), site.get("/console/alpha/audit")]
    bad = Page(_post(site, EDIT, {"budget": "-5", "endorsement_threshold": "many", "phase-review-starts_at": "x",
                                  "district-0-slug": "North!", "district-1-budget": "1.234", "ballot-max_projects": "0",
                                  "ballot-max_points": "3", "rule-id": "greedy-threshold",
                                  "rule-greedy-threshold-threshold": "-1", "eligibility-methods": "",
                                  "title": ""}))
    assert bad.status == 422 and "此欄為必填" in bad.field_error("title")
    forced = Page(_post(site, "/console/alpha/rounds/2027/edit", {"rule-id": "mes"}))
    assert forced.status == 409 and "投票已於" in forced.text(".alert")
    assert all(p.status == 200 for p in pages)
    misses = sorted(app.extensions.get("pb_i18n_misses", set()))
    assert misses == []
