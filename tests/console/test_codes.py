"""Access codes in the console: issue a batch (district or whole round), the printable sheet with
every slip in the city's languages, the CSV, mark printed, usage, revoking; roles and cities."""

from __future__ import annotations

import csv
import io

import pytest
from consolehelp import sign_in

from apihelp import populated_round, voter_token_during_voting

pytestmark = pytest.mark.db

C = "/console/alpha/rounds/2026"
R = "/api/v1/cities/alpha/rounds/2026"


@pytest.fixture
def world(api, cities):
    return populated_round(api, cities, voters=2, run_outcome=False)


def _issue(site, district="*", count="3"):
    return site.submit(f"{C}/codes", {"district": district, "count": count}, action=f"{C}/codes/issue")


def test_clerk_issues_prints_and_wipes_a_whole_round_batch(app, site, api, cities, staff, world):
    sign_in(site, "alpha", staff["alpha_clerk"][1])
    page = _issue(site)
    assert page.status == 200 and "is issued" in page.text(".notice")
    batch = page.soup.select_one("tr.batch th").get_text(" ", strip=True).split()[0]
    row = page.soup.select_one(f"tr#batch-{batch}")
    assert row.select_one("a.sheet") and row.select_one("a.csv")
    sheet = site.get(f"{C}/codes/batches/{batch}/sheet")
    assert sheet.status == 200
    slips = sheet.soup.select("li.slip")
    assert len(slips) == 6
    first = slips[0]
    assert first.select_one(".slip-round").get_text(strip=True) == "Round 2026"
    code = first.select_one(".slip-code").get_text(strip=True)
    assert len(code) == 14 and code.count("-") == 2
    assert "http://localhost/alpha/2026/vote" in first.get_text(" ")
    assert {s.select_one(".slip-district strong").get_text() for s in slips} == {"North", "South"}
    assert sheet.soup.select_one('link[href$="code_sheet.css"]') and not sheet.soup.select("[style]")
    resp = site.client.get(f"{C}/codes/batches/{batch}/codes.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0] == ["district", "code", "url"] and len(rows) == 7
    assert code in {r[1] for r in rows}
    events = api.get("/api/v1/cities/alpha/audit?action=access_codes.download", token=cities["alpha_admin"]).get_json()
    assert sorted(e["after"]["format"] for e in events["events"]) == ["csv", "sheet"]
    assert all(e["actor"] == f"staff:{staff['alpha_clerk'][0]}" for e in events["events"])

    done = site.submit(f"{C}/codes", {}, action=f"{C}/codes/batches/{batch}/printed")
    assert "marked printed" in done.text(".notice")
    assert done.soup.select_one(f"tr#batch-{batch} .printed") and not done.soup.select_one(f"tr#batch-{batch} a.sheet")
    assert "only a keyed fingerprint" in done.text()
    assert site.get(f"{C}/codes/batches/{batch}/sheet").status == 409
    # the code still opens the booth (as it would have during voting: the round is in tally, when a code
    # opens nothing any more): only the clear copy is gone
    assert voter_token_during_voting(app, code).startswith("pbv_")


def test_usage_counts_and_a_district_batch(site, staff, world):
    sign_in(site, "alpha", staff["alpha_manager"][1])
    page = _issue(site, "south", "2")
    south = page.soup.select_one("table.codes-usage tr.district-south").select("td")
    assert [td.get_text() for td in south] == ["6", "2", "0", "4", "6"]  # 4 + 2 issued, 2 voted, all sealed
    assert page.soup.select_one("table.codes-usage tr.total").select("td")[0].get_text() == "10"


def test_bad_count_is_refused_and_nothing_changes(site, api, cities, staff, world):
    sign_in(site, "alpha", staff["alpha_clerk"][1])
    before = api.get(f"{R}/access-codes", token=cities["alpha_admin"]).get_json()
    page = _issue(site, "north", "0")
    assert page.status == 422 and page.field_error("count")
    assert api.get(f"{R}/access-codes", token=cities["alpha_admin"]).get_json() == before


def test_revoke_a_code_then_it_fails_at_the_booth(site, app, api, cities, staff, world):
    code = world["codes_left"]["north"][0]
    sign_in(site, "alpha", staff["alpha_clerk"][1])
    page = site.submit(f"{C}/codes", {"access_code": code}, action=f"{C}/codes/revoke")
    assert page.status == 200 and "revoked" in page.text(".notice")
    assert page.soup.select_one("table.codes-usage tr.district-north").select("td")[2].get_text() == "1"
    again = site.submit(f"{C}/codes", {"access_code": code}, action=f"{C}/codes/revoke")
    assert again.status == 409 and "already revoked" in again.text(".alert")
    r = api.post(f"{R}/voter-sessions", json={"access_code": code})
    assert r.status_code == 403


def test_a_used_code_cannot_be_revoked(app, site, api, cities, staff):
    from apihelp import advance_to, make_round, register
    make_round(api, cities)
    advance_to(api, cities, "submission")
    pid = api.post(f"{R}/proposals", json={"title": "A", "district": "north", "estimated_cost": 10},
                   token=register(api)).get_json()["id"]
    advance_to(api, cities, "review")
    api.patch(f"{R}/proposals/{pid}", json={"reviewed_cost": 10, "feasible": True, "status": "on_ballot"},
              token=cities["alpha_admin"])
    advance_to(api, cities, "voting")
    code = api.post(f"{R}/access-codes", json={"district": "north", "count": 1}, token=cities["alpha_admin"]).get_json()["codes"][0]
    tok = api.post(f"{R}/voter-sessions", json={"access_code": code}).get_json()["token"]
    assert api.put(f"{R}/districts/north/ballot", json={"projects": [pid]}, token=tok).status_code == 200
    sign_in(site, "alpha", staff["alpha_clerk"][1])
    before = api.get(f"{R}/access-codes", token=cities["alpha_admin"]).get_json()
    page = site.submit(f"{C}/codes", {"access_code": code}, action=f"{C}/codes/revoke")
    assert page.status == 409 and "already been used to vote" in page.text(".alert")
    assert api.get(f"{R}/access-codes", token=cities["alpha_admin"]).get_json() == before


def test_roles_and_cities(site, app, staff, world):
    from pagehelp import Site
    sign_in(site, "alpha", staff["alpha_clerk"][1])
    batch_page = _issue(site, "north", "1")
    batch = batch_page.soup.select_one("tr.batch th").get_text(" ", strip=True).split()[0]
    for who in ("alpha_viewer", "alpha_reviewer", "beta_clerk", "beta_manager"):
        other = Site(app.test_client())
        sign_in(other, who.split("_")[0], staff[who][1])
        csrf = other.get(f"/console/{who.split('_')[0]}").csrf()
        for path in (f"{C}/codes/batches/{batch}/sheet", f"{C}/codes/batches/{batch}/codes.csv"):
            assert other.client.get(path).status_code == 403, (who, path)
        for path, data in ((f"{C}/codes/issue", {"district": "*", "count": "1"}),
                           (f"{C}/codes/revoke", {"access_code": "K7QM-4TXR-9PWC"}),
                           (f"{C}/codes/batches/{batch}/printed", {})):
            assert other.client.post(path, data={"csrf_token": csrf, **data}).status_code == 403, (who, path)
        status = other.client.get(f"{C}/codes").status_code
        assert status == (200 if who in ("alpha_viewer", "alpha_reviewer") else 403), (who, status)
    viewer = Site(app.test_client())
    sign_in(viewer, "alpha", staff["alpha_viewer"][1])
    page = viewer.get(f"{C}/codes")
    assert not page.soup.select("form.issue, form.revoke, a.sheet")  # reads the counts only


def test_in_traditional_chinese_nothing_is_missing(app, api, cities, staff, world):
    from pagehelp import Site
    app.config["PB_I18N_STRICT"] = True
    site = Site(app.test_client(), lang="zh-TW")
    sign_in(site, "alpha", staff["alpha_clerk"][1])
    page = _issue(site)
    assert page.soup.html["lang"] == "zh-TW"
    batch = page.soup.select_one("tr.batch th").get_text(" ", strip=True).split()[0]
    assert site.get(f"{C}/codes/batches/{batch}/sheet").status == 200
    site.submit(f"{C}/codes", {"access_code": world["codes_left"]["north"][0]}, action=f"{C}/codes/revoke")
    site.submit(f"{C}/codes", {"access_code": world["codes_left"]["north"][0]}, action=f"{C}/codes/revoke")
    assert _misses(app) == []


def _misses(app):
    """Catalogue misses on these pages, leaving out other console areas' navigation labels (their slices)."""
    from api.console import NAV, ROUND_NAV
    from api.console.codes import __name__ as _mine  # noqa: F401
    with app.test_request_context("/"):
        others = {item.label() for item in NAV + ROUND_NAV
                  if item.endpoint not in ("console.codes", "console.paper")}
    return sorted(m for m in app.extensions.get("pb_i18n_misses", set()) if m[1] not in others)
