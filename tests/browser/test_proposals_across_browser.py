"""Browser: an analyst filters /proposals by a shared category with the form and reads the category city by
city (table and chart image loaded), en and zh-TW; no serious or critical axe-core finding; screenshots
proposals-across-desktop-<locale>.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from page_checks import LOCALES, assert_no_serious_axe, shot


@pytest.fixture
def server(demo_server):
    return demo_server


@pytest.mark.parametrize("locale", LOCALES)
def test_analyst_reads_a_category_city_by_city(page, locale):
    page.goto("/proposals")
    page.locator('select[name="category"]').select_option("environment")
    page.locator('select[name="currency"]').select_option("EUR")
    page.locator("form.filters button").click()
    rows = page.locator("table.by-city tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 2  # the demo's Taiwanese and imported cities
    page.wait_for_function("() => { const i = document.querySelector('img.chart'); return i && i.complete && i.naturalWidth > 0 }")
    expect(page.locator("table.across tbody tr").first).to_be_visible()
    shot(page, "proposals-across")
    assert_no_serious_axe(page)
    # an imported proposal's page: similar ideas of other rounds, and the way to start one from it
    page.locator("table.across tbody tr th a").last.click()
    expect(page.locator("a.borrow")).to_be_visible()
    assert_no_serious_axe(page)
    page.locator("a.borrow").click()
    expect(page.locator("h1")).to_be_visible()
    assert_no_serious_axe(page)
