"""Endorsements arriving at once are each counted once (the count is kept in SQL, next to a unique row)."""

from concurrent.futures import ThreadPoolExecutor

from apihelp import Api, advance_to, make_round, register

R = "/api/v1/cities/alpha/rounds/2026"


def test_simultaneous_endorsements_are_all_counted(app, api, cities):
    make_round(api, cities)
    advance_to(api, cities, "submission")
    tokens = [register(api, username=f"res{i}") for i in range(8)]
    pid = api.post(f"{R}/proposals", json={"title": "Fountain", "district": "north"}, token=tokens[0]).get_json()["id"]

    def endorse(token):
        return Api(app.test_client()).post(f"{R}/proposals/{pid}/endorsements", token=token).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(endorse, tokens + tokens[:3]))  # three people try twice
    assert sorted(codes).count(201) == 8 and sorted(codes).count(409) == 3, codes
    assert api.get(f"{R}/proposals/{pid}").get_json()["endorsements"] == 8
