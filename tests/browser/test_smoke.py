"""Smoke: today's main pages on the demo data load in Chromium, on a laptop and a phone, in English
and Traditional Chinese; each shows what a visitor came for, has `<html lang>` of their language,
does not scroll sideways at 360 px, has no serious or critical axe-core finding, and is
photographed (tests/browser/screenshots/<page>-<desktop|phone>-<locale>.png).

Each page is loaded once per viewport and language and every check runs on that load; the
test then fails listing every check that failed, so one run shows all that is left to fix.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from page_checks import LOCALES, assert_no_horizontal_scroll, assert_no_serious_axe, shot
from pb_engine.store.lookup import city_by_slug, round_by_slug
from pb_engine.store.tables import Proposal

PAGES = {
    "home": "/",
    "round": "/taipei/2026",
    "results": "/kaohsiung/2026/results",
}


def funded_titles(live, city: str, slug: str) -> list[str]:
    with live.db.session() as s:
        rnd = round_by_slug(s, city_by_slug(s, city), slug)
        return list(s.exec(select(Proposal.title).where(Proposal.round_id == rnd.id, Proposal.status == "funded")
                           .order_by(Proposal.id)))


def sees_home(page, live) -> None:
    for ref in ("taipei/2026", "taichung/2026", "kaohsiung/2026"):
        expect(page.locator(f'a[href$="/{ref}"]').first).to_be_visible()


def sees_round(page, live) -> None:
    expect(page.get_by_role("heading", level=1)).to_contain_text("Taipei participatory budget 2026")
    expect(page.get_by_text("Inclusive playground in Da'an Forest Park").first).to_be_visible()


def sees_results(page, live) -> None:
    titles = funded_titles(live, "kaohsiung", "2026")
    assert titles, "the demo's published outcome funds nothing"
    for title in titles:
        expect(page.get_by_text(title).first).to_be_visible()


SEES = {"home": sees_home, "round": sees_round, "results": sees_results}


@pytest.fixture
def server(demo_server):
    return demo_server  # the demo as shipped: no journey's round on the home page or in the screenshots


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("name", list(PAGES))
def test_main_page(request, server, name, viewport, locale):
    page = request.getfixturevalue("page" if viewport == "desktop" else "phone_page")
    response = page.goto(PAGES[name])
    shot(page, name)
    assert response.status == 200, f"{PAGES[name]} answered {response.status}"

    problems: list[str] = []

    def check(what, fn, *args):
        try:
            fn(*args)
        except AssertionError as exc:
            # Playwright's own messages go on with a call log and an aria snapshot: the first lines say it.
            problems.append(f"[{what}] {str(exc).split(chr(10) + 'Call log:')[0].strip()}")

    def lang_matches():
        lang = page.locator("html").get_attribute("lang")
        if lang != locale:
            raise AssertionError(f'<html lang="{lang}"> but the visitor asked for {locale} (Accept-Language)')

    check("what a visitor sees", SEES[name], page, server)
    check("<html lang>", lang_matches)
    if viewport == "phone":
        check("no horizontal scroll at 360 px", assert_no_horizontal_scroll, page)
    check("axe-core", assert_no_serious_axe, page)
    if problems:
        pytest.fail(f"{PAGES[name]} ({viewport}, {locale}):\n" + "\n".join(problems), pytrace=False)
