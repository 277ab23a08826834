"""The public pages: home with cities, rounds and phases; a round with proposals; results with reasons."""

from apihelp import make_round, populated_round


def test_home_lists_cities_and_rounds_with_phase(client, api, cities):
    make_round(api, cities)
    html = client.get("/").get_data(as_text=True)
    assert "Alpha" in html and "Beta" in html and "Round 2026" in html and "coming soon" in html


def test_round_and_results_pages(client, api, cities):
    state = populated_round(api, cities)
    html = client.get("/alpha/2026").get_data(as_text=True)
    assert "Project 0" in html and "on ballot" in html and "counting" in html
    north, south = html.split("<h3>North", 1)[1].split("<h3>South", 1)  # each proposal under its district
    assert all(f"Project {i}</strong>" in north for i in (0, 1, 2))
    assert all(f"Project {i}</strong>" in south and f"Project {i}</strong>" not in north for i in (3, 4))
    assert client.get("/alpha/2026/results").status_code == 404
    api.post(f"{state['base']}/outcomes/{state['outcome']['id']}/publish", token=cities["alpha_admin"])
    resp = client.get("/alpha/2026/results")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "funded" in html and "12 voters" in html
    assert client.get("/alpha/nope").status_code == 404
    assert "no round" in client.get("/alpha/nope").get_data(as_text=True)
