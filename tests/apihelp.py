"""API test helpers: city configs, round bodies, a client that speaks JSON, rounds walked through their phases."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone


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


def mails(app) -> list:
    """What the test app has sent (api/mail.py keeps it in memory under TESTING)."""
    mailer = app.extensions.get("pb_mailer")
    return list(mailer.sent) if mailer is not None else []


def sign_up_link(app, to: str) -> str | None:
    """The token of the last sign-up link mailed to `to` (None if the last mail to it had no link)."""
    import re

    for mail in reversed(mails(app)):
        if mail.to == to:
            m = re.search(r"/signup/([A-Za-z0-9_-]{20,})", mail.body)
            return m.group(1) if m else None
    return None


def sign_up_path(app, to: str) -> str | None:
    """The path (and query) of the last sign-up link mailed to `to`, as a person's click opens it."""
    import re

    for mail in reversed(mails(app)):
        if mail.to == to:
            m = re.search(r"https?://[^/\s]+(/[^\s]+/signup/[A-Za-z0-9_-]{20,}\S*)", mail.body)
            return m.group(1) if m else None
    return None


def register(api, city="alpha", username="ada", password="correct horse", email=None):
    """Sign up, open the e-mailed link (POST /residents/confirm), sign in: the resident's bearer token."""
    email = email or f"{username}@example.org"
    r = api.post(f"/api/v1/cities/{city}/residents", json={"username": username, "password": password, "email": email})
    assert r.status_code == 202, r.get_json()
    token = sign_up_link(api.client.application, email)
    assert token, f"no sign-up link mailed to {email}"
    r = api.post(f"/api/v1/cities/{city}/residents/confirm", json={"token": token})
    assert r.status_code == 200, r.get_json()
    r = api.post(f"/api/v1/cities/{city}/residents/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["token"]


def populated_round(api, tokens, *, kind="approval", rule=None, city="alpha", round="2026", voters=6,
                    run_outcome=True) -> dict:
    """A round in tally with proposals on the ballot, ballots from access codes and a draft outcome."""
    base = f"/api/v1/cities/{city}/rounds/{round}"
    admin = tokens[f"{city}_admin"]
    make_round(api, tokens, city=city, slug=round, kind=kind, rule=rule)
    advance_to(api, tokens, "submission", city=city, round=round)
    resident = register(api, city=city, username="resi")
    ids = {"north": [], "south": []}
    for i, (district, cost) in enumerate([("north", 10_000), ("north", 30_000), ("north", 25_000),
                                          ("south", 20_000), ("south", 45_000)]):
        r = api.post(f"{base}/proposals", json={"title": f"Project {i}", "district": district, "estimated_cost": cost,
                                                "categories": ["parks" if i % 2 else "streets"]}, token=resident)
        assert r.status_code == 201, r.get_json()
        ids[district].append(r.get_json()["id"])
    advance_to(api, tokens, "review", city=city, round=round)
    for district, pids in ids.items():
        for pid in pids:
            p = api.get(f"{base}/proposals/{pid}").get_json()
            r = api.patch(f"{base}/proposals/{pid}", json={"reviewed_cost": p["estimated_cost"], "feasible": True,
                                                           "status": "on_ballot"}, token=admin)
            assert r.status_code == 200, r.get_json()
    advance_to(api, tokens, "voting", city=city, round=round)
    receipts, codes_left = [], {}
    for district, pids in ids.items():
        codes = api.post(f"{base}/access-codes", json={"district": district, "count": voters + 2},
                         token=admin).get_json()["codes"]
        codes_left[district] = codes[voters:]
        for n, code in enumerate(codes[:voters]):
            tok = api.post(f"{base}/voter-sessions", json={"access_code": code}).get_json()["token"]
            content = _content_for(kind, pids, n)
            r = api.put(f"{base}/districts/{district}/ballot", json=content, token=tok)
            assert r.status_code == 200, r.get_json()
            receipts.append(r.get_json()["receipt"])
    advance_to(api, tokens, "tally", city=city, round=round)
    outcome = None
    if run_outcome:
        r = api.post(f"{base}/outcomes", json={}, token=admin)
        assert r.status_code == 201, r.get_json()
        outcome = r.get_json()
    return {"base": base, "ids": ids, "receipts": receipts, "outcome": outcome, "resident": resident,
            "codes_left": codes_left}


def voter_token_during_voting(app, code: str, city="alpha", round="2026") -> str:
    """A voter session for `code` opened a minute before voting ended, for tests that need one in tally:
    once voting has closed a code opens no session over the API any more (issue 13, voter secrecy)."""
    from pb_engine import voting
    from pb_engine.phases import window
    from pb_engine.store.lookup import city_by_slug, phases_of, round_by_slug

    with app.extensions["pb_db"].write_session() as s:
        rnd = round_by_slug(s, city_by_slug(s, city), round)
        w = window(phases_of(s, rnd), "voting")
        return voting.open_voter_session(s, rnd, access_code=code, now=w.ends_at - timedelta(minutes=1))


def _content_for(kind, pids, n):
    if kind in ("approval", "knapsack"):
        chosen = [pids[n % len(pids)]] + ([pids[0]] if n % 3 == 0 and pids[0] != pids[n % len(pids)] else [])
        return {"projects": chosen}
    if kind == "cumulative":
        return {"points": {str(pids[n % len(pids)]): 5, str(pids[0]): 5} if pids[0] != pids[n % len(pids)]
                else {str(pids[0]): 5}}
    return {"ranking": [pids[(n + i) % len(pids)] for i in range(min(3, len(pids)))]}


class Tripwire(io.BytesIO):
    """A request body (`input_stream=`) that remembers whether anything read it: for tests that a
    refusal came before the body was read."""

    touched = False

    def read(self, *a):
        self.touched = True
        return super().read(*a)

    def readinto(self, b):
        self.touched = True
        return super().readinto(b)

    def readline(self, *a):
        self.touched = True
        return super().readline(*a)
