"""Browser: an analyst picks rounds on /compare with the form and reads them side by side, in English and
Traditional Chinese: the table, each rule's figures, every chart drawn (the SVG image loaded, its numbers
in a table below it), no serious or critical axe-core finding; screenshots compare-desktop-<locale>.png.
(At 360 px the page passed assert_no_horizontal_scroll while this test was written: tables scroll inside
themselves and charts scale down; a phone run on every suite run would cost another 6 s.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from page_checks import LOCALES, assert_no_serious_axe, shot

CHARTS = 7
WIELICZKA = "wieliczka/2023-green-budget"  # imported by the demo from Poland_Wieliczka_2023_Green_Budget.pb


@pytest.fixture
def server(demo_server):
    return demo_server


@pytest.mark.parametrize("locale", LOCALES)
def test_analyst_compares_rounds(page, locale):
    page.goto("/compare")
    expect(page.locator("h1")).to_have_text("Compare rounds" if locale == "en" else "比較各期")
    # an imported Pabulib round, found by its city...
    page.locator('select[name="city"]').select_option("wieliczka")
    page.locator('form.compare-picker button[name="find"]').click()
    page.locator(f'input[name="rounds"][value="{WIELICZKA}"]').check()
    # ...and two Taiwanese demo rounds, found by a word; the first choice stays ticked
    page.locator('select[name="city"]').select_option("")
    page.locator('input[name="q"]').fill("2026")
    page.locator('form.compare-picker button[name="find"]').click()
    expect(page.locator(f'input[name="rounds"][value="{WIELICZKA}"]')).to_be_checked()
    for ref in ("kaohsiung/2026", "taipei/2026"):
        page.locator(f'input[name="rounds"][value="{ref}"]').check()
    page.locator('select[name="currency"]').select_option("EUR")
    page.locator("form.compare-picker button:not([name])").click()  # "Compare the chosen rounds"
    expect(page.locator("table.compare-rounds thead th")).to_have_count(4)
    expect(page.locator("table.compare-rules")).to_have_count(3)
    # in the form's order: Wieliczka and kaohsiung/2026 are counted (published outcome and each rule);
    # taipei/2026 still votes: no rule has run
    expect(page.locator("table.compare-rounds thead th").nth(1)).to_contain_text("Wieliczka")
    expect(page.locator("table.compare-rules").nth(0).locator("tbody tr")).not_to_have_count(1)
    expect(page.locator("table.compare-rules").nth(1).locator("tbody tr")).not_to_have_count(1)
    expect(page.locator("table.compare-rules").nth(2).locator("tbody td")).to_have_count(1)
    images = page.locator("figure.compare-chart img")
    expect(images).to_have_count(CHARTS)
    images.last.scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.querySelectorAll('figure.compare-chart img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    expect(page.locator("figure.compare-chart table.data")).to_have_count(CHARTS)
    shot(page, "compare")
    assert_no_serious_axe(page)

