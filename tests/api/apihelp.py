"""API test helpers: two cities (alpha, beta), staff tokens, round bodies, a client that speaks JSON."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pb_engine.config import apply_city, parse_city_config
from pb_engine.staff import create_staff


def city_config(slug: str, currency: str = "EUR") -> dict:
    return {
        "city": {"name": slug.title(), "slug": slug, "country": "Testland", "population": 100_000,
                 "currency": currency, "locales": ["en"], "timezone": "Europe/Warsaw"},
        "categories": [
            {"slug": "parks", "name": "Parks", "taxonomy": "environment"},
            {"slug": "streets", "name": "Streets", "taxonomy": "transport"},
        ],
    }


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat()


def round_body(slug: str = "2026", *, kind: str = "approval", rule: dict | None = None, ballot: dict | None = None,
               threshold: int = 0, start: datetime | None = None) -> dict:
    """A round whose phases all lie in the future (it is `upcoming`); tests advance it by hand."""
    start = start or datetime.now(timezone.utc) + timedelta(days=30)
    names = ["submission", "endorsement", "review", "voting", "tally", "results"]
    phases = [{"name": n, "starts_at": iso(start + timedelta(days=10 * i)),
               "ends_at": iso(start + timedelta(days=10 * i + 9))} for i, n in enumerate(names)]
    ballots = {
        "approval": {"kind": "approval", "max_projects": 3},
        "knapsack": {"kind": "knapsack"},
        "cumulative": {"kind": "cumulative", "max_points": 10, "max_points_per_project": 5},
        "ranked": {"kind": "ranked", "max_rank": 3},
    }
    return {
        "slug": slug, "title": f"Round {slug}", "description": "A test round.", "budget": 100_000,
        "endorsement_threshold": threshold,
        "districts": [
            {"slug": "north", "name": "North", "budget": 50_000, "population": 1000},
            {"slug": "south", "name": "South", "budget": 50_000, "population": 2000},
        ],
        "phases": phases,
        "ballot": ballot or ballots[kind],
        "rule": rule or {"id": "greedy"},
        "eligibility": {"methods": ["access_code", "resident"]},
        "tie_breaking": "id",
    }


class Api:
    """A thin JSON client: api.post(path, json, token=...)."""

    def __init__(self, client):
        self.client = client

    def _headers(self, token):
        return {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, token=None, **kw):
        return self.client.get(path, headers=self._headers(token), **kw)

    def post(self, path, json=None, token=None, **kw):
        return self.client.post(path, json=json, headers=self._headers(token), **kw)

    def patch(self, path, json=None, token=None, **kw):
        return self.client.patch(path, json=json, headers=self._headers(token), **kw)

    def put(self, path, json=None, token=None, **kw):
        return self.client.put(path, json=json, headers=self._headers(token), **kw)



def make_round(api, tokens, city="alpha", **kw) -> dict:
    resp = api.post(f"/api/v1/cities/{city}/rounds", json=round_body(**kw), token=tokens[f"{city}_admin"])
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def advance_to(api, tokens, phase: str, city="alpha", round="2026") -> dict:
    """Advance until the round's current phase is `phase`."""
    for _ in range(10):
        body = api.get(f"/api/v1/cities/{city}/rounds/{round}").get_json()
        if body["current_phase"] == phase:
            return body
        resp = api.post(f"/api/v1/cities/{city}/rounds/{round}/advance", token=tokens[f"{city}_admin"])
        assert resp.status_code == 200, resp.get_json()
    raise AssertionError(f"never reached {phase}")


def register(api, city="alpha", username="ada", password="correct horse"):
    r = api.post(f"/api/v1/cities/{city}/residents", json={"username": username, "password": password})
    assert r.status_code == 201, r.get_json()
    r = api.post(f"/api/v1/cities/{city}/residents/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["token"]
