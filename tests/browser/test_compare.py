"""Browser: an analyst picks rounds on /compare with the form and reads them side by side, in English and
Traditional Chinese: the table, each rule's figures, every chart drawn (the SVG image loaded, its numbers
in a table below it), no serious or critical axe-core finding, no sideways scroll on a phone;
screenshots compare-<desktop|phone>-<locale>.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from page_checks import LOCALES, assert_no_horizontal_scroll, assert_no_serious_axe, shot

CHARTS = 7


@pytest.fixture
def server(demo_server):
    return demo_server


@pytest.mark.parametrize("locale", LOCALES)
def test_analyst_compares_rounds(page, phone_page, locale):
    page.goto("/compare?q=2026")
    expect(page.locator("h1")).to_have_text("Compare rounds" if locale == "en" else "比較各期")
    for ref in ("kaohsiung/2026", "taipei/2026"):
        page.locator(f'input[name="rounds"][value="{ref}"]').check()
    page.locator('select[name="currency"]').select_option("EUR")
    page.locator("form.compare-picker button:not([name])").click()  # "Compare the chosen rounds"
    expect(page.locator("table.compare-rounds thead th")).to_have_count(3)
    expect(page.locator("table.compare-rules")).to_have_count(2)
    # kaohsiung/2026 is counted: the published outcome and each rule; taipei/2026 is still voting
    expect(page.locator("table.compare-rules").first.locator("tbody tr")).not_to_have_count(1)
    expect(page.locator("table.compare-rules").nth(1).locator("tbody td")).to_have_count(1)
    images = page.locator("figure.compare-chart img")
    expect(images).to_have_count(CHARTS)
    images.last.scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.querySelectorAll('figure.compare-chart img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    expect(page.locator("figure.compare-chart table.data")).to_have_count(CHARTS)
    shot(page, "compare")
    assert_no_serious_axe(page)

    phone_page.goto(page.url)
    expect(phone_page.locator("figure.compare-chart img")).to_have_count(CHARTS)
    shot(phone_page, "compare")
    assert_no_horizontal_scroll(phone_page)
    assert_no_serious_axe(phone_page)
