"""A whole round through HTTP only: create, propose, endorse, review, vote, close, allocate, publish, read,
export as .pb and re-allocate the file with the CLI to the same funded set."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

from apihelp import advance_to, make_round, register

BASE = "/api/v1/cities/alpha/rounds/2026"

# (title, district, cost) — costs in EUR; districts have 50 000 each
PROJECTS = [
    ("Benches on the square", "north", 12_000), ("Bike racks", "north", 8_000), ("Tree planting", "north", 20_000),
    ("Playground", "north", 30_000), ("Library hours", "south", 15_000), ("Street lights", "south", 25_000),
    ("Community garden", "south", 9_000), ("Skate park", "south", 40_000),
]


def _ballot(kind: str, ids: list[int], rng: random.Random, costs: dict[int, int]) -> dict:
    if kind == "approval":
        return {"projects": rng.sample(ids, rng.randint(1, min(3, len(ids))))}
    if kind == "knapsack":
        chosen, spent = [], 0
        for pid in rng.sample(ids, len(ids)):
            if spent + costs[pid] <= 50_000:
                chosen.append(pid)
                spent += costs[pid]
        return {"projects": chosen}
    if kind == "cumulative":
        points, left = {}, 10
        for pid in rng.sample(ids, len(ids)):
            n = min(left, rng.randint(1, 5))
            if n:
                points[str(pid)] = n
                left -= n
        return {"points": points}
    return {"ranking": rng.sample(ids, 3)}


@pytest.mark.parametrize("kind,rule", [
    ("approval", {"id": "greedy"}),
    ("knapsack", {"id": "mes", "completion": "add1"}),
    ("cumulative", {"id": "greedy"}),
    ("ranked", {"id": "greedy"}),
])
def test_round_end_to_end(api, cities, kind, rule, tmp_path):
    admin, reviewer = cities["alpha_admin"], cities["alpha_reviewer"]
    made = make_round(api, cities, kind=kind, rule=rule, threshold=2)
    assert made["current_phase"] == "upcoming" and made["ballot"]["kind"] == kind

    # submission: residents propose; staff enter one on behalf of residents
    assert advance_to(api, cities, "submission")["current_phase"] == "submission"
    ada, bob, cyd = (register(api, username=u) for u in ("ada", "bob", "cyd"))
    ids, costs = {}, {}
    for i, (title, district, cost) in enumerate(PROJECTS):
        token = admin if i == 0 else (ada, bob)[i % 2]
        r = api.post(f"{BASE}/proposals", json={"title": title, "summary": title, "district": district,
                                                "categories": ["parks"], "estimated_cost": cost}, token=token)
        assert r.status_code == 201, r.get_json()
        ids[title] = r.get_json()["id"]
        costs[ids[title]] = cost
    first = api.get(f"{BASE}/proposals/{ids['Benches on the square']}").get_json()
    assert first["entered_by_staff"] is True

    # endorsement: two endorsements reach the threshold and move a proposal to review
    advance_to(api, cities, "endorsement")
    for title, pid in ids.items():
        for tok in (ada, cyd) if title != "Benches on the square" else ():
            r = api.post(f"{BASE}/proposals/{pid}/endorsements", token=tok)
            assert r.status_code in (201, 409), r.get_json()
    assert api.get(f"{BASE}/proposals/{ids['Bike racks']}").get_json()["status"] == "under_review"

    # review: staff cost and accept every proposal; a public response on one
    advance_to(api, cities, "review")
    for title, pid in ids.items():
        r = api.patch(f"{BASE}/proposals/{pid}", json={"reviewed_cost": costs[pid], "feasible": True,
                                                       "status": "on_ballot"}, token=reviewer)
        assert r.status_code == 200, r.get_json()
    r = api.post(f"{BASE}/proposals/{ids['Skate park']}/responses", json={"body": "Checked with the parks office."},
                 token=reviewer)
    assert r.status_code == 201
    listed = api.get(f"{BASE}/proposals?status=on_ballot&per_page=100").get_json()
    assert listed["total"] == len(PROJECTS)

    # voting: many voters with access codes
    advance_to(api, cities, "voting")
    rng = random.Random(7)
    receipts = []
    for district in ("north", "south"):
        codes = api.post(f"{BASE}/access-codes", json={"district": district, "count": 12}, token=admin).get_json()["codes"]
        assert len(codes) == 12
        on_ballot = sorted(pid for (t, d, _c), pid in zip(PROJECTS, ids.values()) if d == district)
        for code in codes:
            tok = api.post(f"{BASE}/voter-sessions", json={"access_code": code}).get_json()["token"]
            r = api.put(f"{BASE}/districts/{district}/ballot", json=_ballot(kind, on_ballot, rng, costs), token=tok)
            assert r.status_code == 200, r.get_json()
            receipts.append(r.get_json()["receipt"])
            assert api.get(f"{BASE}/districts/{district}/ballot", token=tok).get_json()["ballot"]["receipt"] == receipts[-1]

    # close voting, run the rule, publish
    advance_to(api, cities, "tally")
    r = api.post(f"{BASE}/outcomes", json={}, token=admin)
    assert r.status_code == 201, r.get_json()
    outcome = r.get_json()
    assert outcome["status"] == "draft" and {d["district"] for d in outcome["districts"]} == {"north", "south"}
    assert api.get(f"{BASE}/results").status_code == 404
    r = api.post(f"{BASE}/outcomes/{outcome['id']}/publish", token=admin)
    assert r.status_code == 200 and r.get_json()["status"] == "published"
    assert api.post(f"{BASE}/outcomes/{outcome['id']}/publish", token=admin).status_code == 409

    results = api.get(f"{BASE}/results").get_json()
    assert results["turnout"]["voters"] == 24
    assert sorted(x for d in results["receipts"].values() for x in d) == sorted(receipts)
    for d in results["districts"]:
        assert d["spend"] <= 50_000
        assert all(p["reason"] and p["message"] for p in d["projects"])
    funded = {d["district"]: sorted(p["id"] for p in d["funded"]) for d in results["districts"]}
    assert any(funded.values())

    # export each district as .pb and re-allocate it with the CLI
    from pb_engine.cli import main

    for district, expected in funded.items():
        r = api.get(f"{BASE}/export.pb?district={district}")
        assert r.status_code == 200, r.get_data(as_text=True)[:500]
        text = r.get_data(as_text=True)
        assert "voter_id" in text and "ada" not in text  # anonymous
        path = tmp_path / f"{district}.pb"
        path.write_text(text)
        cli_rule = rule["id"]
        args = ["allocate", str(path), "--rule", cli_rule, "--json"]
        if rule.get("completion"):
            args += ["--completion", rule["completion"]]
        out = CliRunner().invoke(main, args)
        assert out.exit_code == 0, out.output
        line = json.loads(out.output.strip().splitlines()[0])
        assert sorted(int(x) for x in line["selected"]) == expected
