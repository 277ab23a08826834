"""The browser-test machinery itself: each check must fail on a page that breaks it, and the
live server and journey rounds must be what the journeys expect."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import select

import page_checks
from live_server import make_round, make_staff
from page_checks import (assert_no_horizontal_scroll, assert_no_serious_axe, check_page_errors, new_context,
                         shot)
from pb_engine.store.tables import Proposal

BAD = """<!doctype html><html lang="en"><head><title>bad</title></head><body><main>
<h1>Bad page</h1>
<p style="color:#bbb;background:#fff">Grey on white, too faint to read</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<form><input type="text" name="who"></form>
</main></body></html>"""

GOOD = """<!doctype html><html lang="en"><head><title>good</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>
<h1>Good page</h1><p>Black on white.</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="a dot">
<form><label for="who">Your name</label><input id="who" type="text" name="who"></form>
</main></body></html>"""


@pytest.fixture
def blank(browser):
    """A page not on the live server, for checking the checks (set_content)."""
    context = new_context(browser, "http://127.0.0.1:9")
    yield context.new_page()
    context.close()


@pytest.fixture
def blank_phone(browser):
    context = new_context(browser, "http://127.0.0.1:9", phone=True)
    yield context.new_page()
    context.close()


def test_axe_reports_each_serious_violation_with_its_nodes(blank):
    blank.set_content(BAD)
    with pytest.raises(AssertionError) as failed:
        assert_no_serious_axe(blank)
    text = str(failed.value)
    for rule in ("color-contrast", "image-alt", "label"):
        assert f"- {rule} (" in text, text
    assert "input" in text and "img" in text  # the offending nodes are named

    blank.set_content(GOOD)
    assert_no_serious_axe(blank)


def test_horizontal_scroll_check_names_what_sticks_out(blank_phone):
    blank_phone.set_content(GOOD.replace("<p>Black", '<p class="wide" style="width:600px">Black'))
    with pytest.raises(AssertionError, match=r"scrollWidth is 6\d\d; sticking out: p\.wide"):
        assert_no_horizontal_scroll(blank_phone)

    blank_phone.set_content(GOOD)
    assert_no_horizontal_scroll(blank_phone)


def test_horizontal_scroll_check_refuses_a_desktop_page(blank):
    blank.set_content(GOOD)
    with pytest.raises(AssertionError, match="use phone_page"):
        assert_no_horizontal_scroll(blank)


def test_page_errors_are_caught(browser):
    context = new_context(browser, "http://127.0.0.1:9")
    try:
        page = context.new_page()
        page.set_content("<p>ok</p>")
        check_page_errors(context)
        page.evaluate("setTimeout(() => { throw new Error('boom from the page') }, 0)")
        page.wait_for_timeout(100)
        with pytest.raises(AssertionError, match="boom from the page"):
            check_page_errors(context)
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["zh-TW"])
def test_shot_names_the_viewport_and_language(phone_page, locale, tmp_path, monkeypatch):
    monkeypatch.setattr(page_checks, "SCREENSHOTS", tmp_path)
    phone_page.set_content(GOOD)
    path = shot(phone_page, "harness")
    assert path == tmp_path / "harness-phone-zh-TW.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError):
        shot(phone_page, "../escape")


@pytest.mark.parametrize("locale", ["zh-TW"])
def test_pages_send_their_language(page, locale):
    with page.expect_request(re.compile(r".*/$")) as request:
        page.goto("/")
    assert request.value.all_headers()["accept-language"].startswith("zh-TW")
    assert page.evaluate("navigator.language") == "zh-TW"


def test_a_voting_round_for_a_journey(page, live_server):
    r = make_round(live_server, ballot={"kind": "knapsack"})
    page.goto(r.path)
    for title in r.proposals:
        expect(page.get_by_text(title).first).to_be_visible()
    with live_server.db.session() as s:
        statuses = {p.title: p.status for p in s.exec(select(Proposal).where(Proposal.round_id == r.round_id))}
    assert statuses == {t: "on_ballot" for t in r.proposals}
    codes = r.access_codes(3)
    assert len(set(codes)) == 3 and all(re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){2}", c) for c in codes)


def test_a_submission_round_for_a_journey(live_server):
    r = make_round(live_server, phase="submission", endorsement_threshold=2,
                   proposals=[("An idea without endorsements yet", 100_000)])
    other = make_round(live_server, phase="submission")
    assert other.slug != r.slug
    with live_server.db.session() as s:
        (p,) = s.exec(select(Proposal).where(Proposal.round_id == r.round_id)).all()
    assert p.title == "An idea without endorsements yet" and p.endorsement_count == 0
    assert p.status not in ("on_ballot", "rejected")
    assert make_staff(live_server, "taipei")


def test_the_demo_server_does_not_see_journey_rounds(browser, live_server, demo_server):
    r = make_round(live_server, phase="submission")
    context = new_context(browser, demo_server.url)
    try:
        visitor = context.new_page()
        visitor.goto("/")
        expect(visitor.locator('a[href$="/taipei/2026"]').first).to_be_visible()
        expect(visitor.locator(f'a[href$="{r.path}"]')).to_have_count(0)
        assert visitor.goto(r.path).status == 404
    finally:
        context.close()


def test_the_same_service_on_postgresql(browser, live_server_pg):
    r = make_round(live_server_pg, ballot={"kind": "knapsack"})
    context = new_context(browser, live_server_pg.url)
    try:
        visitor = context.new_page()
        assert visitor.goto("/").status == 200
        expect(visitor.locator('a[href$="/kaohsiung/2026"]').first).to_be_visible()
        visitor.goto(r.path)
        for title in r.proposals:
            expect(visitor.get_by_text(title).first).to_be_visible()
    finally:
        context.close()


def test_server_errors_are_kept_by_the_server_that_logged_them(live_server, demo_server):
    import logging

    seen_live, seen_demo = len(live_server.errors), len(demo_server.errors)
    with live_server.app.test_request_context("/"):
        logging.getLogger("api.errors").error("boom in the live server")
    assert live_server.errors[seen_live:] == ["boom in the live server"]
    assert demo_server.errors[seen_demo:] == []
    del live_server.errors[seen_live:]  # handled: the after-test check would fail this test otherwise
