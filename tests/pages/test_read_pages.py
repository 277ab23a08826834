"""What a visitor reads: home with cities, rounds and phases; a round's timeline, budgets and rules;
the proposal list with filters and search; published results with reasons and the other rules."""

import pytest

from apihelp import advance_to, make_round, populated_round, register

pytestmark = pytest.mark.db

BASE = "/api/v1/cities/alpha/rounds/2026"


def test_home_lists_each_city_with_its_rounds_and_phase(site, api, cities):
    make_round(api, cities)
    page = site.get("/")
    assert page.texts(".city h2") == ["Alpha Testland", "Beta Testland"]
    alpha = page.soup.select_one("#city-alpha").find_parent("section")
    line = " ".join(alpha.select_one(".rounds li").get_text(" ").split())
    assert line.startswith("Round 2026 coming soon budget €100,000 · next: Ideas from")
    assert page.soup.select_one("form.search input[name=q]") is not None


def test_round_page_timeline_budgets_rules(site, api, cities):
    make_round(api, cities, kind="knapsack", threshold=4, rule={"id": "mes", "completion": "add1"})
    advance_to(api, cities, "submission")
    page = site.get("/alpha/2026")
    steps = page.texts(".timeline .step")
    assert [s.split(" ")[0] for s in steps] == ["Ideas", "Endorsements", "Review", "Voting", "Counting", "Results"]
    current = page.soup.select_one('.timeline [aria-current="step"]')
    assert current.strong.get_text() == "Ideas"
    assert "Times are in" in page.text("main") and "Warsaw" in page.text("main")
    rules = dict(zip(page.texts(".rules dt"), page.texts(".rules dd")))
    assert rules["Endorsements"] == "An idea needs 4 endorsements from residents to go to the city's review."
    assert rules["How to vote"].startswith("Budget ballot: Choose projects whose costs add up to no more than")
    assert rules["How winners are chosen"].startswith("Method of equal shares. The budget is shared out equally")
    assert "raised step by step" in rules["How winners are chosen"]
    assert page.texts(".district h3") == ["North budget €50,000", "South budget €50,000"]


def test_proposal_list_filters_search_and_pages(site, api, cities):
    make_round(api, cities)
    advance_to(api, cities, "submission")
    token = register(api)
    for i in range(12):
        api.post(f"{BASE}/proposals", json={"title": f"{'Bike lane' if i % 3 == 0 else 'Tree'} {i}",
                                            "district": "north" if i % 2 else "south",
                                            "categories": ["parks"] if i % 4 == 0 else []}, token=token)
    page = site.get("/alpha/2026/proposals")
    assert page.text('[role="status"]') == "12 proposals found."
    assert len(page.texts(".cards .card")) == 10 and page.text(".pager span") == "Page 1 of 2"
    page = site.get("/alpha/2026/proposals?page=2")
    assert len(page.texts(".cards .card")) == 2
    page = site.get("/alpha/2026/proposals?q=bike")
    assert sorted(page.texts(".card h2")) == ["Bike lane 0", "Bike lane 3", "Bike lane 6", "Bike lane 9"]
    page = site.get("/alpha/2026/proposals?q=bike&district=north")
    assert sorted(page.texts(".card h2")) == ["Bike lane 3", "Bike lane 9"]
    assert page.value("district") == "north" and page.value("q") == "bike"
    page = site.get("/alpha/2026/proposals?category=parks")
    assert sorted(page.texts(".card h2")) == ["Bike lane 0", "Tree 4", "Tree 8"]
    page = site.get('/alpha/2026/proposals?q="*NEAR(')  # search syntax from a stranger never breaks the page
    assert page.status == 200 and page.text('[role="status"]') == "0 proposals found."
    page = site.get("/search?q=tree")
    assert len(page.texts(".cards .card")) == 8 and "Alpha" in page.texts(".cards .card .muted")[0]


def test_results_show_funded_titles_amounts_reasons_and_other_rules(site, api, cities):
    state = populated_round(api, cities, kind="approval")
    page = site.get("/alpha/2026/results")
    assert page.status == 404 and "no published outcome" in page.text(".alert")
    api.post(f"{state['base']}/outcomes/{state['outcome']['id']}/publish", token=cities["alpha_admin"])
    outcome = api.get(f"{BASE}/results").get_json()
    page = site.get("/alpha/2026/results")
    assert page.status == 200
    for d in outcome["districts"]:
        section = page.soup.select_one(f"#r-{d['district']}").find_parent("section")
        funded = [" ".join(li.get_text(" ").split()) for li in section.select(".funded-list li")]
        want = [f"{p['title']} €{int(p['cost']):,}" for p in d["projects"] if p["funded"]]
        assert funded == want and want
        cards = section.select(".outcome .card")
        assert len(cards) == len(d["projects"])
        for card, p in zip(cards, d["projects"]):
            assert card.h4.get_text() == p["title"]
            assert " ".join(card.select("p")[1].get_text(" ").split()) == p["message"]
        spend = f"€{int(d['spend']):,} spent of €{int(d['budget']):,}"
        assert spend in " ".join(section.p.get_text(" ").split())
    compare = page.soup.select_one("#h-compare").find_parent("section")
    rules = [" ".join(h.get_text(" ").split()) for h in compare.select(".card h4")]
    assert rules[0] == "Most votes first published"
    assert {"Method of equal shares", "Sequential Phragmén", "Greatest total satisfaction"} <= set(rules)
    assert "12 voters took part." in page.text("main")
