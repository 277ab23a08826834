"""End-to-end journeys in Chromium, in English and Traditional Chinese: a resident signs up and
sends an idea that another resident endorses past the threshold; a voter signs in with an access
code, votes in a knapsack round without being able to exceed the budget, changes the ballot and
checks the receipt; a ranking ballot cast by keyboard alone; a visitor reads published results.
Each main page is checked with axe-core (desktop and 360 px) and photographed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from live_server import make_round
from page_checks import LOCALES, assert_no_horizontal_scroll, assert_no_serious_axe, new_context, shot

XSS = "<script>alert(1)</script>"


def checks(page, name: str, *, phone: bool = False) -> None:
    """What every main page must pass: axe (no serious/critical), no sideways scroll on a phone, a photo."""
    assert_no_serious_axe(page)
    if phone:
        assert_no_horizontal_scroll(page, 360)
    shot(page, name)


def lang_is(page, locale: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", locale)


def sign_up(live_server, page, city: str, username: str, back_to: str) -> None:
    """Sign up, then open the link of the mail (the live server has no mail server: its outbox folder)."""
    page.goto(f"/{city}/signup?next={back_to}")
    page.fill("#f-username", username)
    page.fill("#f-email", f"{username}@example.org")
    page.fill("#f-display_name", username.title())
    page.fill("#f-password", "a long password")
    page.fill("#f-password2", "a long password")
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    import email as email_lib
    from pathlib import Path

    sent = [email_lib.message_from_bytes(p.read_bytes()) for p in Path(live_server.app.instance_path, "outbox").glob("*.eml")]
    mine = [m for m in sent if m["To"] == f"{username}@example.org"]
    assert mine, f"no mail to {username}@example.org in the outbox"
    link = re.search(r"https?://\S+/signup/\S+", mine[-1].get_payload(decode=True).decode()).group(0)
    page.goto(link)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(back_to) + "$"))


@pytest.mark.parametrize("locale", LOCALES)
def test_resident_sends_an_idea_that_another_endorses_past_the_threshold(browser, live_server, page, locale):
    r = make_round(live_server, phase="submission", endorsement_threshold=1, proposals=())
    sign_up(live_server, page, "taipei", f"ada-{locale.lower()}-{r.slug}", r.path)
    lang_is(page, locale)
    checks(page, "round-submission")
    page.goto(f"{r.path}/proposals/new")
    checks(page, "proposal-form")
    page.locator("main form button[type=submit]").click()       # nothing filled in: refused, fields named
    expect(page.locator("#title-error")).to_be_visible()
    expect(page.locator("#f-title")).to_have_attribute("aria-invalid", "true")
    checks(page, "proposal-form-refused")
    page.fill("#f-title", "Drinking fountains 飲水機")
    page.fill("#f-summary", "Three fountains along the riverside path.")
    page.select_option("#f-district", "north")
    page.fill("#f-estimated_cost", "120000")
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Drinking fountains 飲水機")
    url = page.url
    expect(page.locator("#endorsements progress")).to_have_attribute("value", "0")
    checks(page, "proposal")

    other = new_context(browser, live_server.url, locale=locale)
    try:
        bob = other.new_page()
        sign_up(live_server, bob, "taipei", f"bob-{locale.lower()}-{r.slug}", url.replace(live_server.url, ""))
        bob.locator("#endorsements form button").click()
        expect(bob.locator("#endorsements progress")).to_have_attribute("value", "1")
        expect(bob.locator(".meta .status")).to_have_class(re.compile("status-under_review"))
        expect(bob.locator(".history li")).to_have_count(2)
    finally:
        other.close()
    page.reload()
    expect(page.locator(".meta .status")).to_have_class(re.compile("status-under_review"))


@pytest.mark.parametrize("locale", LOCALES)
def test_voter_fills_a_knapsack_ballot_changes_it_and_checks_the_receipt(live_server, page, phone_page, locale):
    r = make_round(live_server, phase="voting", ballot={"kind": "knapsack"},
                   districts=(("north", "North 北區", 1_000_000),),
                   proposals=(("Shade trees 遮蔭樹", 400_000), ("Night lights 夜間照明", 300_000),
                              ("Library ramp 坡道", 500_000)))
    code = r.access_codes(1)[0]
    page.goto(f"{r.path}/vote")
    checks(page, "vote-sign-in")
    page.fill("#f-access_code", code)
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/vote/north$"))
    lang_is(page, locale)
    trees, lights, ramp = (r.proposals[t] for t in ("Shade trees 遮蔭樹", "Night lights 夜間照明", "Library ramp 坡道"))
    page.check(f"#p-{trees}")
    page.check(f"#p-{ramp}")               # 400 000 + 500 000: 100 000 left
    expect(page.locator("#budget-bar")).to_have_attribute("value", "90000000")
    expect(page.locator(f"#p-{lights}")).to_be_disabled()    # 300 000 no longer fits: greyed out
    expect(page.locator(f"#p-{lights}").locator("xpath=..")).to_have_class(re.compile("does-not-fit"))
    checks(page, "booth-knapsack")
    page.locator("#booth button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/vote/north/cast$"))
    first = page.locator("#receipt").inner_text()
    expect(page.locator(".ballot-summary li")).to_have_count(2)
    checks(page, "ballot-cast")

    # Change it: the new ballot replaces the old, with a new receipt.
    page.goto(f"{r.path}/vote/north")
    expect(page.locator(f"#p-{trees}")).to_be_checked()
    page.uncheck(f"#p-{ramp}")
    expect(page.locator(f"#p-{lights}")).to_be_enabled()
    page.check(f"#p-{lights}")
    page.locator("#booth button[type=submit]").click()
    second = page.locator("#receipt").inner_text()
    assert second != first
    page.goto(f"{r.path}/receipt?receipt={second}")
    expect(page.locator("#receipt-status")).to_have_class(re.compile("notice"))
    checks(page, "receipt-counted")
    # The replaced ballot's receipt answers exactly like the current one (same class, same words): an old
    # receipt shown to someone else (a coercer who demanded it) must not reveal that the vote was changed.
    counted_words = page.locator("#receipt-status").inner_text().replace(second, "")
    page.goto(f"{r.path}/receipt?receipt={first}")
    expect(page.locator("#receipt-status")).to_have_class(re.compile("notice"))
    assert page.locator("#receipt-status").inner_text().replace(first, "") == counted_words

    # The same booth on a phone, for the photo and the 360 px checks.
    phone_page.goto(f"{r.path}/vote")
    phone_page.fill("#f-access_code", r.access_codes(1)[0])
    phone_page.locator("main form button[type=submit]").first.click()
    phone_page.check(f"#p-{trees}")
    checks(phone_page, "booth-knapsack", phone=True)


def test_without_javascript_the_server_refuses_a_ballot_over_budget(browser, live_server):
    r = make_round(live_server, phase="voting", ballot={"kind": "knapsack"},
                   proposals=(("Shade trees 遮蔭樹", 400_000), ("Night lights 夜間照明", 300_000),
                              ("Library ramp 坡道", 500_000)))
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False,
                                  extra_http_headers={"Accept-Language": "en"})
    try:
        page = context.new_page()
        page.goto(f"{r.path}/vote")
        page.fill("#f-access_code", r.access_codes(1)[0])
        page.locator("main form button[type=submit]").first.click()
        for pid in r.proposals.values():
            page.check(f"#p-{pid}")       # nothing greys out without the script: all three ticked
        page.locator("#booth button[type=submit]").click()
        expect(page.locator("#ballot-errors")).to_have_text(re.compile(r"more than the budget of NT\$1,000,000"))
        for pid in r.proposals.values():
            expect(page.locator(f"#p-{pid}")).to_be_checked()   # what the voter chose is kept
        expect(page).to_have_url(re.compile(r"/vote/north$"))
    finally:
        context.close()


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus (keyboard only; JS only reads)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(sel) => document.activeElement && document.activeElement.matches(sel)", selector):
            outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"{selector} has no visible focus"
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.parametrize("locale", LOCALES)
def test_ranking_ballot_by_keyboard_alone(live_server, page, locale):
    r = make_round(live_server, phase="voting", ballot={"kind": "ranked", "max_rank": 3},
                   proposals=(("Murals 壁畫", 100_000), ("Concerts 音樂會", 200_000), ("Theatre 戲劇", 150_000)))
    code = r.access_codes(1)[0]
    page.goto(f"{r.path}/vote")
    tab_to(page, "#f-access_code")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/vote/north$"))
    murals, concerts, theatre = r.proposals.values()
    tab_to(page, f"#p-{concerts}")
    page.keyboard.press("ArrowDown")           # rank 1
    tab_to(page, f"#p-{theatre}")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")           # rank 2
    expect(page.locator(f"#p-{concerts}")).to_have_value("1")
    expect(page.locator(f"#p-{theatre}")).to_have_value("2")
    checks(page, "booth-ranking")
    tab_to(page, "#booth button[type=submit]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/vote/north/cast$"))
    items = page.locator(".ballot-summary li")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Concerts")
    expect(items.nth(1)).to_contain_text("Theatre")


@pytest.mark.parametrize("locale", LOCALES)
def test_visitor_reads_published_results_with_reasons(demo_server, browser, locale):
    for phone in (False, True):
        context = new_context(browser, demo_server.url, locale=locale, phone=phone)
        try:
            page = context.new_page()
            page.goto("/kaohsiung/2026/results")
            lang_is(page, locale)
            sections = page.locator(".district-result")
            expect(sections).to_have_count(3)
            for i in range(3):
                section = sections.nth(i)
                assert section.locator(".funded-list li.funded").count() >= 1
                assert section.locator(".outcome .card").count() == 4
                for card in section.locator(".outcome .card p:last-child").all():
                    assert card.inner_text().strip()     # every project has its reason in words
            expect(page.locator("#h-compare")).to_be_visible()
            checks(page, "results", phone=phone)
            for path, name in (("/", "home"), ("/kaohsiung/2026", "round-results"),
                               ("/taipei/2026/proposals", "proposals"), ("/taipei/2026", "round-voting"),
                               ("/taipei/2026/receipt", "receipt"), ("/taipei/signin", "sign-in"),
                               ("/taipei/signup", "sign-up"), ("/search?q=park", "search")):
                page.goto(path)
                checks(page, name, phone=phone)
            page.goto("/kaohsiung/2026/proposals")
            with page.expect_navigation():   # axe on a page still being replaced finds no document (a flake)
                page.locator(".cards .card a").first.click()
            checks(page, "proposal-funded", phone=phone)
        finally:
            context.close()


def test_a_script_title_is_text_and_never_runs(live_server, page):
    r = make_round(live_server, phase="voting", proposals=((XSS, 100_000), ("Benches 長椅", 200_000)))
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pid = r.proposals[XSS]
    for path in (r.path, f"{r.path}/proposals", f"{r.path}/proposals/{pid}", "/search?q=alert"):
        page.goto(path)
        expect(page.get_by_text(XSS).first).to_be_visible()
    page.goto(f"{r.path}/vote")
    page.fill("#f-access_code", r.access_codes(1)[0])
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator(f'label[for="p-{pid}"]')).to_contain_text(XSS)
    assert dialogs == []
