"""Implementation in the console: reviewers and managers post progress updates (photo included) on the funded
projects of the published outcome; the public proposal page and the round's overview show them; refusals name
the field and change nothing; clerks and viewers read only; another city's staff gets 403."""

from __future__ import annotations

import io

import pytest
from consolehelp import sign_in

from apihelp import populated_round
from pb_engine.store.tables import AuditEvent, ImplementationUpdate

pytestmark = pytest.mark.db

PAGE = "/console/alpha/rounds/2026/implementation"
API = "/api/v1/cities/alpha/rounds/2026"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _rows(app, table):
    from sqlmodel import select

    with app.extensions["pb_db"].session() as s:
        return list(s.exec(select(table)).all())


@pytest.fixture
def funded(api, cities):
    state = populated_round(api, cities)
    r = api.post(f"{API}/outcomes/{state['outcome']['id']}/publish", token=cities["alpha_admin"])
    assert r.status_code == 200, r.get_json()
    selected = {pid for d in r.get_json()["districts"] for pid in d["selected"]}
    unfunded = [p for ids in state["ids"].values() for p in ids if p not in selected]
    return sorted(selected), unfunded


def _post(site, pid, data, photo=None):
    page = site.get(PAGE)
    body = {"csrf_token": page.csrf(), **data}
    if photo is not None:
        body["photo"] = (io.BytesIO(photo), "site.png")
    from pagehelp import Page

    return Page(site.client.post(f"{PAGE}/{pid}", data=body, content_type="multipart/form-data",
                                 follow_redirects=True))


GOOD = {"status": "in_progress", "percent_done": "40", "spent": "1,250.50", "on_date": "2026-11-30",
        "note": "Foundations poured"}


def test_reviewer_posts_an_update_with_a_photo_and_the_public_sees_it(app, site, funded, staff):
    ids, _unfunded = funded
    pid = ids[0]
    sign_in(site, "alpha", staff["alpha_reviewer"][1])
    page = site.get(PAGE)
    assert page.status == 200
    assert {s["id"] for s in page.soup.select("section.impl-project")} == {f"p-{i}" for i in ids}
    page = _post(site, pid, GOOD, photo=PNG)
    assert page.status == 200 and "posted" in page.text(".notice")
    [row] = _rows(app, ImplementationUpdate)
    assert (row.status, row.percent_done, row.spent, row.photo_type, row.note) == \
        ("in_progress", 40, 125050, "image/png", "Foundations poured")
    assert row.on_date.isoformat().startswith("2026-11-29T23:00")  # midnight in Europe/Warsaw, stored in UTC
    audit = [e for e in _rows(app, AuditEvent) if e.action == "implementation.update"]
    assert audit and audit[0].after["photo"] == {"type": "image/png", "bytes": len(PNG)}

    public = site.get(f"/alpha/2026/proposals/{pid}")
    section = public.soup.select_one("#implementation")
    assert section is not None and "In progress" not in section.get_text()  # words, not codes
    assert "in progress" in section.get_text() and "40%" in section.get_text()
    assert "€1,250.50" in section.get_text()
    assert section.select_one("progress")["value"] == "40"
    img = section.select_one("img.impl-photo")
    assert img["alt"] == "Foundations poured"
    photo = site.client.get(img["src"])
    assert photo.status_code == 200 and photo.data == PNG
    assert photo.headers["Content-Type"] == "image/png" and photo.headers["X-Content-Type-Options"] == "nosniff"

    # a newer report comes first
    _post(site, pid, {**GOOD, "status": "done", "percent_done": "100", "on_date": "2026-12-01", "note": "Opened"})
    public = site.get(f"/alpha/2026/proposals/{pid}")
    assert [li.select_one(".impl-status").get_text() for li in public.soup.select("li.impl-update")] == \
        ["done", "in progress"]

    overview = site.get("/alpha/2026/implementation")
    assert overview.status == 200
    row_el = overview.soup.select_one(f"#impl-{pid}")
    assert "done" in row_el.get_text() and row_el.select_one("progress")["value"] == "100"
    assert "€1,250.50" in overview.text("table.implementation tfoot")
    assert len(overview.soup.select("table.implementation tbody tr")) == len(ids)
    round_page = site.get("/alpha/2026")
    assert round_page.soup.select_one('a[href="/alpha/2026/implementation"]')


@pytest.mark.parametrize("field,data,photo", [
    ("percent_done", {**GOOD, "percent_done": "140"}, None),
    ("percent_done", {**GOOD, "percent_done": "half"}, None),
    ("spent", {**GOOD, "spent": "lots"}, None),
    ("spent", {**GOOD, "spent": "-5"}, None),
    ("on_date", {**GOOD, "on_date": "30/11/2026"}, None),
    ("status", {**GOOD, "status": "finished"}, None),
    ("note", {**GOOD, "note": "x" * 2001}, None),
    ("photo", GOOD, b"GIF89a" + b"\x00" * 32),
    ("photo", GOOD, b"\xff\xd8\xff" + b"\x00" * (1536 * 1024)),
])
def test_refusals_name_the_field_and_change_nothing(app, site, funded, staff, field, data, photo):
    ids, _unfunded = funded
    sign_in(site, "alpha", staff["alpha_manager"][1])
    before = len(_rows(app, AuditEvent))
    page = _post(site, ids[0], data, photo=photo)
    assert page.status == 422
    assert page.soup.select_one(f"#e-{ids[0]}-{field}"), page.text("main")[:500]
    assert _rows(app, ImplementationUpdate) == [] and len(_rows(app, AuditEvent)) == before


def test_an_unfunded_project_takes_no_update(app, site, funded, staff):
    _ids, unfunded = funded
    assert unfunded
    sign_in(site, "alpha", staff["alpha_reviewer"][1])
    page = _post(site, unfunded[0], GOOD)
    assert page.status == 409 and "not funded" in page.text("[role=alert]")
    assert _rows(app, ImplementationUpdate) == []


def test_nothing_published_no_updates(app, site, api, cities, staff):
    state = populated_round(api, cities)
    sign_in(site, "alpha", staff["alpha_manager"][1])
    page = site.get(PAGE)
    assert "Nothing is published yet" in page.text("main")
    page = _post(site, state["ids"]["north"][0], GOOD)
    assert page.status == 409 and _rows(app, ImplementationUpdate) == []


@pytest.mark.parametrize("role", ["clerk", "viewer"])
def test_clerks_and_viewers_read_only(app, site, api, funded, staff, role):
    ids, _unfunded = funded
    sign_in(site, "alpha", staff[f"alpha_{role}"][1])
    page = site.get(PAGE)
    assert page.status == 200 and page.soup.select("section.impl-project") and not page.soup.select("form.impl-form, details.impl-form")
    csrf = site.get("/console/alpha").csrf()
    assert site.client.post(f"{PAGE}/{ids[0]}", data={"csrf_token": csrf, **GOOD}).status_code == 403
    r = api.post(f"{API}/proposals/{ids[0]}/updates", json={"status": "done", "percent_done": 100,
                                                            "on_date": "2026-12-01"}, token=staff[f"alpha_{role}"][2])
    assert r.status_code == 403
    assert _rows(app, ImplementationUpdate) == []


def test_another_citys_staff_gets_403(app, site, api, funded, staff):
    ids, _unfunded = funded
    sign_in(site, "beta", staff["beta_manager"][1])
    assert site.get(PAGE).status == 403
    csrf = site.get("/console/beta").csrf()
    assert site.client.post(f"{PAGE}/{ids[0]}", data={"csrf_token": csrf, **GOOD}).status_code == 403
    r = api.post(f"{API}/proposals/{ids[0]}/updates", json={"status": "done", "percent_done": 100,
                                                            "on_date": "2026-12-01"}, token=staff["beta_reviewer"][2])
    assert r.status_code == 403
    assert _rows(app, ImplementationUpdate) == []


def test_implementation_pages_in_zh_tw_meet_no_catalogue_miss(app, api, funded, staff):
    from pagehelp import Site

    from api.console import NAV, ROUND_NAV

    ids, _unfunded = funded
    app.config["PB_I18N_STRICT"] = True
    site = Site(app.test_client(), lang="zh-TW")
    sign_in(site, "alpha", staff["alpha_reviewer"][1])
    assert _post(site, ids[0], {**GOOD, "percent_done": "x"}).status == 422
    assert _post(site, ids[0], GOOD, photo=PNG).status == 200
    assert site.get(f"/alpha/2026/proposals/{ids[0]}").status == 200
    assert site.get("/alpha/2026/implementation").status == 200
    with app.test_request_context("/"):
        others = {item.label() for item in (*NAV, *ROUND_NAV) if item.endpoint != "console.implementation"}
    misses = sorted(m for m in app.extensions.get("pb_i18n_misses", set())
                    if "implementation" in m[2] or "/proposals/" in m[2])
    assert [m for m in misses if m[1] not in others] == []
