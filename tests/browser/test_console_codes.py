"""Access codes and paper ballots in Chromium, en and zh-TW: a clerk issues a batch, opens its sheet
(photographed: console-code-sheet-*), downloads the CSV, revokes a code that then fails at the
booth; enters a paper ballot twice (console-paper-entry-*); a code already used online is refused on
paper and the counts do not change. axe-core on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from live_server import make_round
from page_checks import LOCALES, assert_no_serious_axe, new_context, shot

PASSWORD = "a long browser-test password"


def _clerk(live, name: str) -> None:
    from pb_engine.staff import create_staff, set_password
    from pb_engine.store.lookup import city_by_slug

    with live.db.write_session() as s:
        row, _token = create_staff(s, city_by_slug(s, "taipei"), name=name, role="clerk", actor="browser-tests")
        set_password(s, row, PASSWORD, actor="browser-tests")


def _north_counts(page) -> list[str]:
    return [t.strip() for t in page.locator("table.codes-usage tr.district-north td").all_inner_texts()]


@pytest.mark.parametrize("locale", LOCALES)
def test_clerk_runs_codes_and_paper_ballots(browser, page, live_server, locale):
    r = make_round(live_server, phase="voting", ballot={"kind": "approval", "max_projects": 2},
                   districts=(("north", "North 北區", 1_000_000),),
                   proposals=(("Shade trees 遮蔭樹", 400_000), ("Night lights 夜間照明", 300_000)))
    trees, lights = r.proposals["Shade trees 遮蔭樹"], r.proposals["Night lights 夜間照明"]
    console = f"/console/taipei/rounds/{r.slug}"
    name = f"Clerk {r.slug} {locale}"
    _clerk(live_server, name)
    page.goto(f"{console}/codes")
    page.locator('input[name="username"]').fill(name)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('main button[type="submit"]').click()
    expect(page).to_have_url(re.compile(rf"{console}/codes$"))
    assert page.locator("html").get_attribute("lang") == locale
    assert_no_serious_axe(page)

    # issue a batch of 3 for the district
    page.select_option("#f-district", "north")
    page.fill("#f-count", "3")
    page.locator("form.issue button[type=submit]").click()
    expect(page.locator(".notice")).to_be_visible()
    assert _north_counts(page) == ["3", "0", "0", "3", "3"]
    assert_no_serious_axe(page)

    # the sheet: 3 slips, each in both of Taipei's languages
    page.locator("tr.batch a.sheet").first.click()
    expect(page.locator("li.slip")).to_have_count(3)
    codes = [c.strip() for c in page.locator(".slip-code").all_inner_texts()]
    assert all(re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", c) for c in codes)
    first = page.locator("li.slip").first
    expect(first.locator('.slip-how[lang="zh-TW"]')).to_contain_text("投票碼")
    expect(first.locator('.slip-how[lang="en"]')).to_contain_text(f"{live_server.url}/taipei/{r.slug}/vote")
    assert_no_serious_axe(page)
    shot(page, "console-code-sheet")

    # the CSV
    with page.expect_download() as dl:
        page.locator(".sheet-tools a.csv").click()
    text = open(dl.value.path(), encoding="utf-8").read()
    assert text.splitlines()[0] == "district,code,url" and all(c in text for c in codes)

    # revoke the first code; it no longer opens the booth
    page.goto(f"{console}/codes")
    page.fill("#f-access_code", codes[0])
    page.locator("form.revoke button[type=submit]").click()
    expect(page.locator(".notice")).to_be_visible()
    assert _north_counts(page)[2] == "1"
    assert_no_serious_axe(page)
    voter_ctx = new_context(browser, live_server.url, locale=locale)
    voter = voter_ctx.new_page()
    voter.goto(f"{r.path}/vote")
    voter.fill("#f-access_code", codes[0])
    voter.locator("main form button[type=submit]").first.click()
    expect(voter.get_by_role("alert")).to_be_visible()
    expect(voter).to_have_url(re.compile(r"/vote$"))
    # the second code votes online
    voter.fill("#f-access_code", codes[1])
    voter.locator("main form button[type=submit]").first.click()
    expect(voter).to_have_url(re.compile(r"/vote/north$"))
    voter.check(f"#p-{trees}")
    voter.locator("#booth button[type=submit]").click()
    expect(voter).to_have_url(re.compile(r"/vote/north/cast$"))
    voter_ctx.close()

    # a paper ballot, entered twice
    page.goto(f"{console}/paper")
    assert_no_serious_axe(page)
    for round_no in (1, 2):
        page.select_option("#f-district", "north")
        page.fill("#f-access_code", codes[2])
        page.locator("form.paper-start button[type=submit]").click()
        expect(page.locator("form.paper-ballot")).to_be_visible()
        expect(page.locator(f"#p-{trees}")).not_to_be_checked()  # never the first entry's content
        page.check(f"#p-{lights}")
        if round_no == 1:
            assert_no_serious_axe(page)
            shot(page, "console-paper-entry")
        page.locator("form.paper-ballot button[type=submit]").click()
        expect(page.locator(".notice")).to_be_visible()
        if round_no == 1:
            expect(page.locator("tr.entry-pending")).to_have_count(1)
            assert_no_serious_axe(page)
    expect(page.locator("tr.entry")).to_have_count(0)

    # the code used online is refused on paper, and nothing changes
    page.goto(f"{console}/codes")
    before = _north_counts(page)
    assert before == ["3", "2", "1", "0", "2"], before  # one online, one on paper, one revoked
    page.goto(f"{console}/paper")
    page.select_option("#f-district", "north")
    page.fill("#f-access_code", codes[1])
    page.locator("form.paper-start button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("form.paper-ballot")).to_have_count(0)
    expect(page.locator("tr.entry")).to_have_count(0)
    assert_no_serious_axe(page)
    page.goto(f"{console}/codes")
    assert _north_counts(page) == before
