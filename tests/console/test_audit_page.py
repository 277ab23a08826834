"""The audit log page and its CSV, and the same filters over JSON: person, action, round, the city's
days, words; paging; readable before/after; CSV with a BOM and neutralised formula cells, export audited."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from apihelp import advance_to, make_round
from consolehelp import sign_in

pytestmark = pytest.mark.db

AUDIT = "/api/v1/cities/alpha/audit"


def _log(api, cities):
    make_round(api, cities)
    api.patch("/api/v1/cities/alpha/rounds/2026", json={"title": "=HYPERLINK(\"http://x\",\"y\") 大安"},
              token=cities["alpha_admin"])
    advance_to(api, cities, "submission")


def test_page_filters_by_person_action_round_words_and_dates(app, api, cities, staff, site):
    _log(api, cities)
    sign_in(site, "alpha", staff["alpha_manager"][1])
    page = site.get("/console/alpha/audit")
    assert page.status == 200
    actions = [o["value"] for o in page.soup.select("#f-action option") if o["value"]]
    assert {"round.create", "round.update", "round.advance", "city.create"} <= set(actions)
    adv = site.get("/console/alpha/audit?action=round.advance")
    assert adv.texts("td.action") == ["round.advance"] and "alpha admin" in adv.text("td.who")
    assert "submission" in adv.text("td.change")  # the diff shows the phase it moved to
    words = site.get("/console/alpha/audit?q=%E5%A4%A7%E5%AE%89")  # 大安, in the changed title
    assert words.texts("td.action") == ["round.update"]
    assert "Round 2026" in words.text("td.change del") and "大安" in words.text("td.change ins")
    assert site.get("/console/alpha/audit?actor=cli").texts("td.action") == []
    who = site.get("/console/alpha/audit?actor=test")  # the fixtures' actor
    assert "staff.create" in who.texts("td.action") and "round.update" not in who.texts("td.action")
    today = datetime.now(timezone.utc).astimezone().date()
    later = (today + timedelta(days=3)).isoformat()
    assert site.get(f"/console/alpha/audit?since={later}").texts("td.action") == []
    assert site.get(f"/console/alpha/audit?until={(today - timedelta(days=3)).isoformat()}").texts("td.action") == []
    assert "round.advance" in site.get(f"/console/alpha/audit?since={(today - timedelta(days=1)).isoformat()}"
                                       f"&round=2026").texts("td.action")


def test_csv_export_has_bom_neutralised_cells_and_is_audited(app, api, cities, staff, site):
    _log(api, cities)
    sign_in(site, "alpha", staff["alpha_manager"][1])
    resp = site.client.get("/console/alpha/audit.csv?action=round.update")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    raw = resp.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["action"] for r in rows] == ["round.update"]
    assert rows[0]["actor_name"] == "alpha admin" and "大安" in rows[0]["after"]
    # a formula in a target/before/after cell does not start with "=" in the file
    assert all(not v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    log = api.get(f"{AUDIT}?action=audit.export", token=cities["alpha_admin"]).get_json()
    assert log["total"] == 1 and log["events"][0]["after"] == {"filters": {"action": "round.update"}, "rows": 1}
    assert log["events"][0]["actor"] == f"staff:{staff['alpha_manager'][0]}"


def test_paging(app, api, cities, staff, site):
    _log(api, cities)
    for i in range(60):
        api.patch("/api/v1/cities/alpha/rounds/2026", json={"title": f"T{i}"}, token=cities["alpha_admin"])
    sign_in(site, "alpha", staff["alpha_manager"][1])
    first = site.get("/console/alpha/audit?action=round.update")
    assert len(first.texts("tr.event")) == 50 and "Page 1 of 2" in first.text(".pager")
    second = site.get(first.soup.select_one('.pager a[rel="next"]')["href"])
    assert len(second.texts("tr.event")) == 11


@pytest.mark.parametrize("who", ["alpha_reviewer", "alpha_clerk", "alpha_viewer", "beta_manager"])
def test_managers_of_this_city_only(app, api, cities, staff, site, who):
    _log(api, cities)
    sign_in(site, who.split("_")[0], staff[who][1])
    assert site.client.get("/console/alpha/audit").status_code == 403
    assert site.client.get("/console/alpha/audit.csv").status_code == 403
    assert api.get(f"{AUDIT}?action=audit.export", token=cities["alpha_admin"]).get_json()["total"] == 0


def test_json_filters_and_csv(app, api, cities, staff):
    _log(api, cities)
    admin = cities["alpha_admin"]
    body = api.get(f"{AUDIT}?actor=test", token=admin).get_json()
    assert body["total"] >= 2 and {e["actor"] for e in body["events"]} == {"test"}
    assert api.get(f"{AUDIT}?q=HYPERLINK", token=admin).get_json()["total"] == 1
    assert api.get(f"{AUDIT}?q=%25", token=admin).get_json()["total"] == 0  # % is a letter, not a wildcard
    assert api.get(f"{AUDIT}?since=2000-01-01&until=2000-01-02", token=admin).get_json()["total"] == 0
    assert api.get(f"{AUDIT}?since=not-a-date", token=admin).status_code == 422
    resp = api.get(f"{AUDIT}.csv?action=round.advance", token=admin)
    assert resp.status_code == 200 and resp.get_data().startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert [r["action"] for r in rows] == ["round.advance"]
    assert api.get(f"{AUDIT}.csv", token=cities["beta_admin"]).status_code == 404
    assert api.get(f"{AUDIT}.csv").status_code == 404
    assert api.get(f"{AUDIT}.csv", token=cities["alpha_reviewer"]).status_code == 403
    assert api.get(f"{AUDIT}?action=audit.export", token=admin).get_json()["total"] == 1
