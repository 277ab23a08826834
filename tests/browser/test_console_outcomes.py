"""Outcomes and implementation in Chromium, en and zh-TW: a manager counts a closed round with two rules,
compares them (screenshot console-outcome-comparison-*), publishes one after the confirmation and the public
results show its ballots digest; a clerk sees no publish button and a forced POST answers 403; a reviewer
posts a progress update with a photo and the public proposal page and the overview show it. axe-core on
every page."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from live_server import make_round
from page_checks import LOCALES, assert_no_serious_axe, new_context, shot

PASSWORD = "a long browser-test password"


def _png(width=48, height=32) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)

    rows = b"".join(b"\x00" + bytes((30, 120, 60)) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _staff(live, role: str, name: str) -> None:
    from pb_engine.staff import create_staff, set_password
    from pb_engine.store.lookup import city_by_slug

    with live.db.write_session() as s:
        row, _token = create_staff(s, city_by_slug(s, "taipei"), name=name, role=role, actor="browser-tests")
        set_password(s, row, PASSWORD, actor="browser-tests")


def _closed_round(live):
    """A knapsack round whose voting ended ten days ago, with ten ballots cast while it was open."""
    from pb_engine import voting
    from pb_engine.store.tables import City, Round
    from pb_engine.store.types import utcnow

    start = utcnow() - timedelta(days=40)
    r = make_round(live, phase="voting", now=start, title="Street greening 2026, voting closed 街道綠化 2026（投票已結束）")
    a, b, c = list(r.proposals.values())   # 400 000, 300 000, 500 000 of 1 000 000
    # most votes first funds A and C; equal shares funds A and B (C's supporters spent their share on A)
    choices = [[a, c]] * 5 + [[b]] * 4 + [[a]]
    when = start + timedelta(days=1)
    with live.db.write_session() as s:
        rnd = s.get(Round, r.round_id)
        codes = voting.generate_access_codes(s, rnd, "north", len(choices), batch="e2e-closed", now=when)
    for n, (code, chosen) in enumerate(zip(codes, choices)):
        at = when + timedelta(minutes=n)
        with live.db.session() as s:
            rnd = s.get(Round, r.round_id)
            city = s.get(City, rnd.city_id)
            token = voting.open_voter_session(s, rnd, access_code=code, now=at)
            voter = voting.voter_from_token(s, city, rnd, token, now=at)
        voting.cast_ballot(live.db, r.round_id, "north", voter, {"projects": sorted(chosen)}, now=at)
    return r


def _sign_in(page, live, name):
    page.goto("/console/taipei/signin")
    page.locator('input[name="username"]').fill(name)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('main button[type="submit"]').click()
    expect(page).to_have_url(f"{live.url}/console/taipei")


@pytest.mark.parametrize("locale", LOCALES)
def test_outcomes_compared_published_and_implementation_reported(page, browser, live_server, locale):
    live = live_server
    r = _closed_round(live)
    tag = f"{locale}-{r.slug}"
    for role in ("manager", "clerk", "reviewer"):
        _staff(live, role, f"Outcomes {role} {tag}")
    outcomes = f"/console/taipei/rounds/{r.slug}/outcomes"

    # the manager counts with the round's rule and with the method of equal shares, and compares them
    _sign_in(page, live, f"Outcomes manager {tag}")
    page.goto(outcomes)
    assert_no_serious_axe(page)
    page.locator("#run-greedy button[type=submit]").click()
    expect(page.locator(".notice")).to_be_visible()
    page.locator("#run-mes summary").click()
    page.locator("#f-mes-completion").select_option("greedy")
    page.locator("#run-mes button[type=submit]").click()
    expect(page.locator("table.compare-summary")).to_be_visible()
    expect(page.locator("table.compare-summary thead th")).to_have_count(3)
    expect(page.locator("table.compare-projects tbody tr")).to_have_count(3)
    expect(page.locator("table.compare-projects tbody tr.changes")).to_have_count(2)
    assert_no_serious_axe(page)
    shot(page, "console-outcome-comparison")

    # publishing asks first, then freezes; the public results carry the digest
    expect(page.locator("a.publish")).to_have_count(1)  # the what-if count can only be compared
    page.locator("a.publish").click()
    expect(page.locator("button.danger")).to_be_visible()
    assert_no_serious_axe(page)
    page.locator("button.danger").click()
    expect(page.locator(".published-outcome")).to_be_visible()
    digest = page.locator(".published-outcome code.digest").inner_text()
    assert digest.startswith("sha256:")
    page.goto(f"/taipei/{r.slug}/results")
    expect(page.locator("main")).to_contain_text(digest[:23])
    assert_no_serious_axe(page)

    # a clerk reads the outcomes but has no publish button, and a forced POST is refused
    clerk_ctx = new_context(browser, live.url, locale=locale)
    clerk = clerk_ctx.new_page()
    _sign_in(clerk, live, f"Outcomes clerk {tag}")
    clerk.goto(outcomes)
    expect(clerk.locator("table.outcomes")).to_be_visible()
    expect(clerk.locator("a.publish")).to_have_count(0)
    expect(clerk.locator("details.rule-run")).to_have_count(0)
    assert_no_serious_axe(clerk)
    csrf = clerk.locator('input[name="csrf_token"]').first.get_attribute("value")
    from pb_engine.store.tables import OutcomeRecord
    from sqlmodel import select

    with live.db.session() as s:
        draft = s.exec(select(OutcomeRecord.id).where(OutcomeRecord.round_id == r.round_id,
                                                      OutcomeRecord.status == "draft")).first()
    resp = clerk.request.post(f"{live.url}{outcomes}/{draft}/publish", form={"csrf_token": csrf})
    assert resp.status == 403
    clerk_ctx.close()

    # a reviewer reports progress with a photo; the public pages show it
    rev_ctx = new_context(browser, live.url, locale=locale)
    rev = rev_ctx.new_page()
    _sign_in(rev, live, f"Outcomes reviewer {tag}")
    rev.goto(f"/console/taipei/rounds/{r.slug}/implementation")
    assert_no_serious_axe(rev)
    section = rev.locator("section.impl-project").first
    pid = section.get_attribute("id").split("-", 1)[1]
    section.locator("summary").click()
    section.locator(f"#f-{pid}-status").select_option("in_progress")
    section.locator(f"#f-{pid}-percent_done").fill("35")
    section.locator(f"#f-{pid}-spent").fill("120,000")
    section.locator(f"#f-{pid}-on_date").fill("2026-11-30")
    section.locator(f"#f-{pid}-note").fill("Trees planted along the first block")
    section.locator(f"#f-{pid}-photo").set_input_files(files=[{"name": "site.png", "mimeType": "image/png",
                                                               "buffer": _png()}])
    section.locator("button[type=submit]").click()
    expect(rev.locator(".notice")).to_be_visible()
    assert_no_serious_axe(rev)
    rev.goto(f"/taipei/{r.slug}/proposals/{pid}")
    img = rev.locator("#implementation img.impl-photo")
    expect(img).to_have_attribute("alt", "Trees planted along the first block")
    # the photo loads (it is loading="lazy": scrolled into view, then waited for, rather than read at once)
    img.scroll_into_view_if_needed()
    rev.wait_for_function("(el) => el.complete && el.naturalWidth > 0", arg=img.element_handle())
    assert rev.evaluate("(el) => el.naturalWidth", img.element_handle()) == 48
    expect(rev.locator("#implementation progress")).to_have_attribute("value", "35")
    assert_no_serious_axe(rev)
    rev.goto(f"/taipei/{r.slug}")
    rev.locator(f'a[href="/taipei/{r.slug}/implementation"]').click()
    expect(rev.locator(f"#impl-{pid} progress")).to_have_attribute("value", "35")
    assert_no_serious_axe(rev)
    shot(rev, "implementation-overview")
    rev_ctx.close()
