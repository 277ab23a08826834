"""The /proposals page (filters, the per-city view of a category and its chart), similar ideas on a proposal's
page, and a resident borrowing another city's idea into their own round (attribution shown); en and zh-TW."""

from __future__ import annotations

import pytest

import across_world
from apihelp import advance_to, make_round, register
from pagehelp import Site

pytestmark = pytest.mark.db


def test_filters_per_city_view_chart_and_bad_filters(app, site, tmp_path):
    across_world.build(app, tmp_path)
    page = site.get("/proposals?category=sport&currency=EUR")
    assert page.status == 200
    rows = page.texts("table.by-city tbody tr")
    assert rows[0].startswith("Toulouse 2 €115,000") and "50% (1 of 2)" in rows[0] and rows[0].endswith("2")
    assert rows[1].startswith("Warszawa 2 €62,500") and "100% (2 of 2)" in rows[1] and rows[1].endswith("2.5")
    assert len(page.soup.select("table.across tbody tr")) == 4
    first = page.texts("table.across tbody tr")[0]
    assert "PLN400,000 ≈ €100,000" in first and "80%" in first and "3 (75% of voters)" in first
    assert "most votes first: funded" in first and "method of equal shares: not funded" in first
    assert "funded by 4 of 7 rules on the same ballots" in first
    chart = page.soup.select_one("img.chart")
    svg = site.client.get(chart["src"])
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert page.soup.select_one('a[download]')["href"].startswith("/api/v1/proposals?")

    bad = site.get("/proposals?category=playgrounds&cost_band=huge")
    assert bad.status == 200  # the list without the bad filters, the message beside each field
    assert bad.field_error("category") and bad.field_error("cost_band")
    assert bad.soup.select_one("#f-category")["aria-invalid"] == "true"
    assert len(bad.soup.select("table.across tbody tr")) == 6


def test_borrowing_another_citys_idea_and_similar_ideas_in_zh_tw_without_catalogue_misses(app, api, cities, tmp_path):
    app.config["PB_I18N_STRICT"] = True
    ids = across_world.build(app, tmp_path)
    make_round(api, cities)
    advance_to(api, cities, "submission")
    register(api, username="ada", password="long enough pw")  # the account over JSON, signed in on the page
    ada = Site(app.test_client(), lang="zh-TW")
    page = ada.submit("/alpha/signin", {"username": "ada", "password": "long enough pw"})
    assert page.status == 200
    w3 = f"/warszawa/2026/proposals/{ids['W3']}"
    page = ada.get(w3)
    borrow = page.soup.select_one("a.borrow")["href"]
    form = ada.get(borrow)  # signed in in one city taking ideas: straight to its form, prefilled
    assert form.resp.request.path == "/alpha/2026/proposals/new"
    assert form.value("title") == "Sadzenie drzew" and form.value("borrowed_from") == str(ids["W3"])
    assert "Warszawa 2026" in form.text(".notice.borrowed")
    done = ada.submit(f"/alpha/2026/proposals/new?from={ids['W3']}",
                      {"title": "Sadzenie drzew", "district": "north", "categories": "parks",
                       "estimated_cost": "15000", "borrowed_from": str(ids["W3"])})
    assert done.status == 200, done.text()
    note = done.soup.select_one(".borrowed-from")
    assert "Warszawa 2026" in note.get_text() and note.select_one("a")["href"] == w3

    same = ada.submit("/alpha/2026/proposals/new", {"title": "Again", "district": "north",
                                                    "borrowed_from": done.resp.request.path.rsplit("/", 1)[1]})
    assert same.status == 422 and "同一回合" in same.text(".refusal, .notice, main")

    # The original's page now lists the borrowed idea among similar ones, with its fate; and the reverse.
    back = ada.get(w3)
    assert "Sadzenie drzew" in back.text("#similar") and "Round 2026" in back.text("#similar")
    mine = ada.get(done.resp.request.path)
    assert "Warszawa 2026" in mine.text("#similar")
    visitor = Site(app.test_client(), lang="zh-TW")
    assert visitor.get(f"/proposals/{ids['W3']}/borrow").text("ul.rounds").startswith("Round 2026")
    t1 = visitor.get(f"/toulouse/2022/proposals/{ids['T1']}")
    assert t1.status == 200
    assert visitor.get("/proposals?category=sport&sort=-cost&currency=PLN").status == 200
    assert visitor.get("/proposals?category=nope").status == 200
    assert visitor.client.get("/proposals/chart.svg?category=sport").status_code == 200
    assert sorted(app.extensions.get("pb_i18n_misses", set())) == []
