"""The console's review in Chromium: a reviewer signs in, filters the queue, reviews a proposal with a public
reason, answers it, hides a comment and merges a duplicate, and the resident pages show the result; a
reviewer of another city gets the 403 page and the API's 403. axe-core on every console page; screenshots
console-review-queue-desktop-{en,zh-TW}.png and console-review-proposal-desktop-en.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from live_server import make_round
from page_checks import LOCALES, assert_no_serious_axe, shot

PASSWORD = "a long browser-test password"
DUP = "Shade trees along the main street 主街行道樹"
KEEP = "Shade trees on the main street 主街遮蔭樹"


def _staff(live, city: str, role: str, name: str) -> str:
    from pb_engine.staff import create_staff, set_password
    from pb_engine.store.lookup import city_by_slug

    with live.db.write_session() as s:
        row, token = create_staff(s, city_by_slug(s, city), name=name, role=role, actor="browser-tests")
        set_password(s, row, PASSWORD, actor="browser-tests")
    return token


def _comment(live, round_id: int, proposal_id: int, body: str) -> int:
    from pb_engine import proposals as svc
    from pb_engine.store.tables import Proposal, Round
    from pb_engine.store.types import utcnow

    with live.db.write_session() as s:
        rnd = s.get(Round, round_id)
        c = svc.comment(s, rnd, s.get(Proposal, proposal_id), body=body, resident_id=None, author_name="Mei",
                        now=utcnow())
        return c.id


def _review_round(live):
    return make_round(live, phase="endorsement", proposals=(
        (KEEP, 400_000), ("Night lights in the park 公園夜間照明", 300_000), (DUP, 420_000),
        ("A ramp at the library 圖書館無障礙坡道", 500_000)))


def _sign_in(page, city: str, name: str, target: str) -> None:
    page.goto(f"/console/{city}/signin?next={target}")
    page.locator('input[name="username"]').fill(name)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('main button[type="submit"]').click()


@pytest.mark.parametrize("locale", LOCALES)
def test_review_queue_reads_and_filters(page, live_server, locale):
    r = _review_round(live_server)
    name = f"Queue reviewer {r.slug} {locale}"
    _staff(live_server, "taipei", "reviewer", name)
    queue = f"/console/taipei/rounds/{r.slug}/review"
    _sign_in(page, "taipei", name, queue)
    expect(page).to_have_url(f"{live_server.url}{queue}")
    assert page.locator("html").get_attribute("lang") == locale
    expect(page.locator("table.queue tbody tr")).to_have_count(4)
    assert_no_serious_axe(page)
    shot(page, "console-review-queue")
    page.locator("#f-q").fill("ramp")
    page.locator("form.review-filters button[type=submit]").click()
    expect(page.locator("table.queue tbody th a")).to_have_count(1)
    expect(page.locator("table.queue tbody th a")).to_contain_text("圖書館")
    page.locator("#f-q").fill("")
    page.locator("#f-sort").select_option("cost")
    page.locator("form.review-filters button[type=submit]").click()
    expect(page.locator("table.queue tbody th a").first).to_contain_text("圖書館")
    assert_no_serious_axe(page)


def test_reviewer_reviews_answers_hides_and_merges(page, live_server):
    r = _review_round(live_server)
    keep, dup = r.proposals[KEEP], r.proposals[DUP]
    spam = _comment(live_server, r.round_id, keep, "Cheap watches at spam.example")
    _comment(live_server, r.round_id, dup, "Please plant camphor trees")
    name = f"Journey reviewer {r.slug}"
    _staff(live_server, "taipei", "reviewer", name)
    queue = f"/console/taipei/rounds/{r.slug}/review"
    _sign_in(page, "taipei", name, queue)
    expect(page).to_have_url(f"{live_server.url}{queue}")

    page.get_by_role("link", name=KEEP).click()
    expect(page).to_have_url(re.compile(rf"{queue}/{keep}$"))
    assert_no_serious_axe(page)
    # Review: cost, feasibility and a status with its public reason.
    page.locator("#f-reviewed_cost").fill("380,000")
    page.locator("#f-feasible").select_option("yes")
    page.locator("#f-status").select_option("under_review")
    page.locator("#f-status_note").fill("The parks office checks the site")
    page.locator("form[action$='/decision'] button[type=submit]").click()
    expect(page.get_by_role("status")).to_contain_text("The review is saved.")
    expect(page.locator("#review ol.history")).to_contain_text("The parks office checks the site")
    # A public response.
    page.locator("form[action$='/responses'] textarea[name=body]").fill("Thank you: we plan to plant in spring.")
    page.locator("form[action$='/responses'] button[type=submit]").click()
    expect(page.locator("#responses")).to_contain_text("we plan to plant in spring")
    # Hide a comment: first without a reason (refused), then with one.
    box = page.locator(f"#comment-{spam}")
    box.locator("button[type=submit]").click()
    expect(page.get_by_role("alert")).to_contain_text("Give the reason")
    page.locator(f"#comment-{spam} input[name=reason]").fill("Advertising")
    page.locator(f"#comment-{spam} button[type=submit]").click()
    expect(page.locator(f"#comment-{spam} .hidden-reason")).to_contain_text("Advertising")
    assert_no_serious_axe(page)
    shot(page, "console-review-proposal")

    # Merge the duplicate into the kept proposal.
    page.goto(f"{queue}/{dup}")
    page.locator("#f-into").select_option(str(keep))
    page.locator("#f-note").fill("Same street, same trees")
    page.locator("form[action$='/merge'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"{queue}/{keep}\?"))
    expect(page.get_by_role("status")).to_contain_text("merged into this proposal")
    expect(page.locator("#comments")).to_contain_text("camphor")
    assert_no_serious_axe(page)

    # The resident pages.
    page.goto(f"/taipei/{r.slug}/proposals/{dup}")
    link = page.locator(".merged-into a")
    expect(link).to_have_attribute("href", f"/taipei/{r.slug}/proposals/{keep}")
    link.click()
    expect(page.locator("h1")).to_have_text(KEEP)
    expect(page.locator("ol.history")).to_contain_text("The parks office checks the site")
    expect(page.locator("main")).to_contain_text("we plan to plant in spring")
    expect(page.locator("#comments")).to_contain_text("camphor")
    expect(page.locator("#comments")).not_to_contain_text("spam.example")
    expect(page.locator(".authors")).to_be_visible()  # both authors credited
    page.goto(f"/taipei/{r.slug}/proposals")
    expect(page.locator("main")).not_to_contain_text(DUP)


def test_reviewer_of_another_city_gets_403_page_and_api(page, live_server):
    r = _review_round(live_server)
    name = f"Kaohsiung reviewer {r.slug}"
    token = _staff(live_server, "kaohsiung", "reviewer", name)
    _sign_in(page, "kaohsiung", name, "/console/kaohsiung")
    expect(page).to_have_url(f"{live_server.url}/console/kaohsiung")
    queue = f"/console/taipei/rounds/{r.slug}/review"
    for path in (queue, f"{queue}/{r.proposals[KEEP]}"):
        resp = page.goto(path)
        assert resp.status == 403, path
        expect(page.locator("main")).to_contain_text("Your staff account belongs to another city.")
        assert_no_serious_axe(page)
    api = page.request.get(f"/api/v1/cities/taipei/rounds/{r.slug}/review",
                           headers={"Authorization": f"Bearer {token}"})
    assert api.status == 403 and "another city" in api.json()["message"]
    merge = page.request.post(f"/api/v1/cities/taipei/rounds/{r.slug}/proposals/{r.proposals[DUP]}/merge",
                              headers={"Authorization": f"Bearer {token}"}, data={"into": r.proposals[KEEP]})
    assert merge.status == 403
