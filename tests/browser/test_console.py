"""The staff console in Chromium: a staff member signs in with their password and reads the city's
dashboard, in English and Traditional Chinese; both pages pass axe-core and are photographed
(tests/browser/screenshots/console-signin-*.png, console-dashboard-*.png)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from page_checks import LOCALES, assert_no_serious_axe, shot

PASSWORD = "a long browser-test password"


def _staff_with_password(live, role: str, name: str) -> None:
    from pb_engine.staff import create_staff, set_password
    from pb_engine.store.lookup import city_by_slug

    with live.db.write_session() as s:
        row, _token = create_staff(s, city_by_slug(s, "taipei"), name=name, role=role, actor="browser-tests")
        set_password(s, row, PASSWORD, actor="browser-tests")


@pytest.mark.parametrize("locale", LOCALES)
def test_staff_signs_in_and_reads_the_dashboard(page, live_server, locale):
    name = f"Console viewer {locale}"
    _staff_with_password(live_server, "viewer", name)
    page.goto("/console/taipei")  # no session yet: sent to sign in, and back afterwards
    expect(page).to_have_url(f"{live_server.url}/console/taipei/signin?next=/console/taipei")
    assert page.locator("html").get_attribute("lang") == locale
    assert_no_serious_axe(page)
    shot(page, "console-signin")
    page.locator('input[name="username"]').fill(name)
    page.locator('input[name="password"]').fill("not the password")
    page.locator('main button[type="submit"]').click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('main button[type="submit"]').click()
    expect(page).to_have_url(f"{live_server.url}/console/taipei")
    expect(page.locator("section.round").first).to_be_visible()
    expect(page.locator("#round-2026 table.figures")).to_be_visible()
    assert_no_serious_axe(page)
    shot(page, "console-dashboard")
