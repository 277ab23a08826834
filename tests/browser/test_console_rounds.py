"""The round editor, phase advance and audit log in Chromium, en and zh-TW: a manager creates a round,
gets an error beside the budget, saves budget and phases, advances a phase after confirming, reads
the audit log filtered by action and downloads it as CSV; on the demo round in voting the ballot and
rule are read-only with the reason and a forced POST is refused. axe-core on every page; screenshots
console-round-editor-*.png and console-audit-log-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from page_checks import LOCALES, assert_no_serious_axe, shot

PASSWORD = "a long browser-test password"


def _manager(live, name: str) -> None:
    from pb_engine.staff import create_staff, set_password
    from pb_engine.store.lookup import city_by_slug

    with live.db.write_session() as s:
        row, _token = create_staff(s, city_by_slug(s, "taipei"), name=name, role="manager", actor="browser-tests")
        set_password(s, row, PASSWORD, actor="browser-tests")


def _sign_in(page, name):
    page.goto("/console/taipei/signin")
    page.locator('input[name="username"]').fill(name)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('main button[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/console/taipei$"))


@pytest.mark.parametrize("locale", LOCALES)
def test_manager_runs_a_round_from_the_console(page, live_server, locale):
    name = f"Round manager {locale}"
    slug = f"browser-{locale.lower()}"
    _manager(live_server, name)
    _sign_in(page, name)

    page.goto("/console/taipei/rounds/new")
    assert_no_serious_axe(page)
    page.locator('input[name="slug"]').fill(slug)
    page.locator('input[name="title"]').fill(f"Browser round {locale}")
    page.locator('input[name="budget"]').fill("3000000")
    page.locator('input[name="district-0-slug"]').fill("daan")
    page.locator('input[name="district-0-name"]').fill("大安區 Da'an")
    page.locator('input[name="district-0-budget"]').fill("3000000")
    page.locator("form.round-editor button[type=submit]:not([name])").click()
    expect(page).to_have_url(re.compile(rf"/console/taipei/rounds/{slug}/edit\?done=1$"))

    # a bad value: the error is beside the field and nothing is saved
    page.locator('input[name="budget"]').fill("-5")
    page.locator("form.round-editor button[type=submit]:not([name])").click()
    expect(page.locator("#budget-error")).to_be_visible()
    expect(page.locator('input[name="budget"]')).to_have_attribute("aria-invalid", "true")
    assert_no_serious_axe(page)
    page.locator('input[name="budget"]').fill("3500000")
    page.locator('input[name="phase-results-ends_at"]').fill("2099-12-31T18:00")
    page.locator("form.round-editor button[type=submit]:not([name])").click()
    expect(page.locator(".notice[role=status]")).to_be_visible()
    expect(page.locator('input[name="budget"]')).to_have_value("3500000")
    expect(page.locator('input[name="phase-results-ends_at"]')).to_have_value("2099-12-31T18:00")
    assert_no_serious_axe(page)
    shot(page, "console-round-editor")

    # advancing asks first, then says where the round is
    page.goto(f"/console/taipei/rounds/{slug}/advance")
    expect(page.locator("table.phase-plan")).to_be_visible()
    assert_no_serious_axe(page)
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".notice[role=status]")).to_be_visible()
    assert_no_serious_axe(page)

    # the audit log, filtered by action, and its CSV
    page.goto("/console/taipei/audit")
    page.locator("#f-action").select_option("round.advance")
    page.locator(".audit-filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"action=round.advance"))
    expect(page.locator("tr.event td.action").first).to_have_text("round.advance")
    assert set(page.locator("tr.event td.action").all_inner_texts()) == {"round.advance"}
    expect(page.locator("tr.event td.who").first).to_have_text(name)
    assert_no_serious_axe(page)
    shot(page, "console-audit-log")
    with page.expect_download() as info:
        page.locator("a.csv").click()
    data = open(info.value.path(), "rb").read()
    assert data.startswith("\ufeff".encode()) and b"round.advance" in data and b"round.update" not in data


@pytest.mark.parametrize("locale", LOCALES)
def test_rules_are_refused_after_voting_opens(page, live_server, locale):
    name = f"Frozen manager {locale}"
    _manager(live_server, name)
    _sign_in(page, name)
    page.goto("/console/taipei/rounds/2026/edit")  # the demo round: voting is open
    expect(page.locator("#frozen-reason")).to_be_visible()
    expect(page.locator("#f-ballot-kind")).to_be_disabled()
    expect(page.locator("#f-rule-id")).to_be_disabled()
    expect(page.locator('input[name="ballot-max_projects"]')).to_have_attribute("readonly", "")
    assert_no_serious_axe(page)
    # a forced POST (the form's values, with the rule changed) is refused by the server with the reason
    form = page.locator("form.round-editor")
    values = form.evaluate("f => Array.from(new FormData(f).entries())")
    body = {}
    for k, v in values:
        body[k] = v if k not in body else body[k]
    body["rule-id"] = "mes"
    resp = page.request.post("/console/taipei/rounds/2026/edit", form=body, headers={"Accept-Language": locale})
    assert resp.status == 409
    reason = page.locator("#frozen-reason").inner_text().strip()
    assert reason.split("。")[0].split(".")[0] in resp.text()  # the refusal names why: voting started
    assert "mes" not in (page.request.get("/api/v1/cities/taipei/rounds/2026").json()["rule"]["id"])
