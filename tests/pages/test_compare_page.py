"""The comparison page (/compare): the picker (city, year, words), the side-by-side table, each rule's
figures, the charts (server-drawn SVG with a CSP of their own) each with its numbers and CSV; zh-TW
without a catalogue miss; bad values named beside their field, never an error page."""

from __future__ import annotations

import csv
import io

import pytest

from apihelp import make_round, populated_round

RATES = 'base = "EUR"\ndate = 2025-01-31\nsource = "test rates"\n[rates]\nPLN = "4"\n'


@pytest.fixture
def rounds(app, api, cities, tmp_path):
    (tmp_path / "rates.toml").write_text(RATES)
    app.config["PB_CURRENCY_RATES"] = str(tmp_path / "rates.toml")
    r = populated_round(api, cities)
    assert api.post(f"{r['base']}/outcomes/{r['outcome']['id']}/publish", token=cities["alpha_admin"]).status_code == 200
    make_round(api, cities, city="beta", slug="2025")
    return r


def test_pick_compare_in_two_languages_and_bad_values(app, site, site_zh, rounds):
    picker = site.get("/compare?q=beta")
    assert picker.status == 200
    assert [i["value"] for i in picker.soup.select('input[name="rounds"]')] == ["beta/2025"]
    assert [o["value"] for o in picker.soup.select("#f-year option")] == ["", "2026", "2025"]
    assert [i["value"] for i in site.get("/compare?year=2026").soup.select('input[name="rounds"]')] == ["alpha/2026"]

    page = site.get("/compare?rounds=alpha/2026&rounds=beta/2025&currency=PLN")
    assert page.status == 200
    checked = [i["value"] for i in page.soup.select('input[name="rounds"][checked]')]
    assert sorted(checked) == ["alpha/2026", "beta/2025"]
    rows = {tr.select_one("th").get_text(" ", strip=True): [td.get_text(" ", strip=True) for td in tr.select("td")]
            for tr in page.soup.select("table.compare-rounds tbody tr")}
    assert rows["Budget"] == ["€100,000", "€100,000"]
    assert rows["Budget in PLN"] == ["PLN400,000", "PLN400,000"]  # Babel, en: the code before the figure
    assert rows["Voters"] == ["12", "not public yet"]
    assert rows["Project cost: median"][0] == "€25,000" and rows["Largest project as share of its budget"][0] == "90%"
    assert rows["Funded projects (published outcome)"] == ["3", "not published yet"]
    rules = page.soup.select("table.compare-rules")
    official = {tr.select_one("th").get_text(strip=True): [td.get_text(" ", strip=True) for td in tr.select("td")]
                for tr in rules[0].select("tbody tr")}
    assert official["published outcome"][:3] == ["3", "€60,000 (60%)", "66.7%"]
    assert "needs options" in official["most votes first, with a minimum of votes"][0]
    assert "Not counted yet" in rules[1].get_text()
    assert "funded under some rules and not others" in page.text("details.compare-changes summary")

    charts = page.soup.select("figure.compare-chart")
    assert len(charts) == 7
    for fig in charts:
        img = fig.select_one("img")
        assert img["alt"].startswith("Chart: ") and img["src"].startswith("/compare/charts/")
        assert fig.select_one("table.data tbody tr") is not None and fig.select_one("a[download]") is not None
    svg = site.client.get(charts[0].select_one("img")["src"])
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert svg.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    fair = next(f for f in charts if f["id"] == "chart-share_with_funded")
    got = site.client.get(fair.select_one("a[download]")["href"])
    table = list(csv.reader(io.StringIO(got.get_data(as_text=True))))
    assert got.mimetype == "text/csv" and table[0][:2] == ["Round", "published outcome"]
    assert table[1][:2] == ["Alpha 2026", "0.666667"] and table[2][1] == ""
    assert site.client.get("/compare/charts/nothing.svg?rounds=alpha/2026").status_code == 404

    # the same round in zh-TW (one round made for every check: rounds are costly to make)
    app.config["PB_I18N_STRICT"] = True
    page = site_zh.get("/compare?rounds=alpha/2026,beta/2025")
    assert page.status == 200 and "比較各期" in page.text("h1")
    assert sorted(app.extensions.get("pb_i18n_misses", set())) == []
    svg = site_zh.client.get("/compare/charts/turnout.svg?rounds=alpha/2026", headers={"Accept-Language": "zh-TW"})
    assert svg.status_code == 200

    bad = site.get("/compare?rounds=alpha&year=20x6&currency=JPY")
    assert bad.status == 200
    assert "city/round" in bad.text("fieldset .field-error") and "four digits" in bad.field_error("year")
    missing = site.get("/compare?rounds=alpha/2026,nowhere/2026&currency=JPY")
    assert "nowhere/2026" in missing.text("fieldset .field-error") and "no exchange rate" in missing.field_error("currency")
