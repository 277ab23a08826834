"""Every route of the app (app.url_map: JSON API, resident pages, console, static), asked by each kind of
caller, against a table of the status each must get (issue 13: "a table-driven test over every route and
page: anonymous, resident, voter, staff of the city in each role, staff of another city").

Callers, in the order of each row: an anonymous browser; a resident of alpha (signed in on the page, and
its bearer token for the API); a voter of alpha/2026 (a voter session opened with an access code: cookie
and bearer token); alpha's manager, reviewer, clerk and viewer (console session and staff token); beta's
manager. JSON routes get the caller's bearer token, pages its cookie.

A request that sends a body sends one that no schema takes (`[]` for JSON, an empty form with the CSRF
token for pages): who may not call the route must be refused before the body is read (401, 403, 404),
and who may gets the schema's 422 (or the page's own refusal); so the walk changes nothing. Where an
admitted caller would act even on an empty body, SAMPLE_URLS names an object that does not exist (404
after the caller passed). One app and one set of callers for the whole walk (on each database).

A new route without a row fails the test: add its expected statuses to TABLE.

Beside the hand-written TABLE, the same walk is checked against what each JSON operation declares with
api.auth.access(blp, level, roles), read from the app's routes (nothing to keep up to date by hand): every
operation under /api/v1 declares its level, and each staff role of the city that the declaration does
not name gets 403, before the body is read (the request's input stream records any read: the `[]` it
carries is never touched), while a role it names gets the schema's 422 for that `[]` where the operation
takes a body. No token gets 401 (404 where private), staff of another city 403 (404 where private).
"""

from __future__ import annotations

import re

import pytest

from api.auth import STAFF_LEVELS, declared

from apihelp import Tripwire, advance_to, make_round
from consolehelp import sign_in
from pagehelp import Page, Site

pytestmark = pytest.mark.db

CALLERS = ("anonymous", "resident", "voter", "manager", "reviewer", "clerk", "viewer", "beta")
STAFF_ROLES = ("manager", "reviewer", "clerk", "viewer")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
NOT_FOUND = 999_999
# Requests that end a caller's session go last, so that the walk's other requests keep theirs.
LAST = ("POST /<city>/<round>/vote/leave", "POST /signout", "POST /console/<city>/signout")

# "METHOD rule": statuses for CALLERS, in order. Reasons, for the rows that are not plain:
# - JSON staff routes: no token 401 (404 where the data is private), a resident or voter token 403 (404 private),
#   another city's staff 403 (404 private), a role without the right 403; `[]` as a body: 422 for the admitted.
# - console pages: no console session 303 to the sign-in, resident/voter likewise (they have no console session).
# - resident pages that need an account send the anonymous browser to sign in (303) and refuse staff
#   cookies the same way (a console session is no resident session).
TABLE = {
    "GET /": "200 200 200 200 200 200 200 200",
    "GET /<city>/<round>": "200 200 200 200 200 200 200 200",
    "GET /<city>/<round>/implementation": "200 200 200 200 200 200 200 200",
    "GET /<city>/<round>/implementation/photos/<int:update_id>": "404 404 404 404 404 404 404 404",
    "GET /<city>/<round>/proposals": "200 200 200 200 200 200 200 200",
    "GET /<city>/<round>/proposals/<int:proposal_id>": "200 200 200 200 200 200 200 200",
    "GET /<city>/<round>/proposals/<int:proposal_id>/edit": "403 200 403 403 403 403 403 403",
    "GET /<city>/<round>/proposals/new": "200 200 200 200 200 200 200 200",
    "GET /<city>/<round>/receipt": "200 200 200 200 200 200 200 200",
    "GET /<city>/<round>/results": "404 404 404 404 404 404 404 404",
    "GET /<city>/<round>/vote": "200 200 303 200 200 200 200 200",
    "GET /<city>/<round>/vote/<district>": "303 303 200 303 303 303 303 303",
    "GET /<city>/<round>/vote/<district>/cast": "303 303 303 303 303 303 303 303",
    "GET /<city>/signin": "200 200 200 200 200 200 200 200",
    "GET /<city>/signup": "200 200 200 200 200 200 200 200",
    "GET /<city>/signup/<token>": "200 200 200 200 200 200 200 200",  # a button; GET changes nothing
    "GET /<city>/verify": "303 200 303 303 303 303 303 303",  # a resident account only; others sign in
    "GET /api/docs": "200 200 200 200 200 200 200 200",  # Swagger UI, from the app's own files
    "GET /api/docs/assets/<path:asset>": "200 200 200 200 200 200 200 200",
    "GET /api/openapi.json": "200 200 200 200 200 200 200 200",
    "GET /api/v1/cities": "200 200 200 200 200 200 200 200",
    "GET /api/v1/cities/<string:city>": "200 200 200 200 200 200 200 200",
    "GET /api/v1/cities/<string:city>/audit": "404 404 404 200 403 403 403 404",
    "GET /api/v1/cities/<string:city>/audit.csv": "404 404 404 200 403 403 403 404",
    "GET /api/v1/cities/<string:city>/residents/<string:username>": "404 404 404 200 200 200 200 404",
    "GET /api/v1/cities/<string:city>/rounds": "200 200 200 200 200 200 200 200",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>": "200 200 200 200 200 200 200 200",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/access-codes": "404 404 404 200 200 200 200 404",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/access-codes/batches/<string:batch>": "404 404 404 404 403 404 403 404",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/access-codes/batches/<string:batch>/codes.csv": "404 404 404 404 403 404 403 404",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/districts/<string:district>/ballot": "401 401 200 403 403 403 403 403",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/export.csv": "200 200 200 200 200 200 200 200",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/export.pb": "409 409 409 409 409 409 409 409",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/implementation": "200 200 200 200 200 200 200 200",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/outcomes": "404 404 404 200 200 200 200 404",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/outcomes/<int:outcome_id>": "404 404 404 404 404 404 404 404",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/outcomes/compare": "404 404 404 422 422 422 422 404",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/paper-entries": "404 404 404 200 200 200 403 404",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/proposals": "200 200 200 200 200 200 200 200",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/proposals/<int:proposal_id>": "200 200 200 200 200 200 200 200",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/proposals/<int:proposal_id>/comments": "200 200 200 200 200 200 200 200",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/proposals/<int:proposal_id>/similar": "200 200 200 200 200 200 200 200",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/proposals/<int:proposal_id>/staff-comments": "401 403 403 200 200 200 200 403",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/proposals/<int:proposal_id>/updates": "200 200 200 200 200 200 200 200",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/receipts/<string:receipt>": "200 200 200 200 200 200 200 200",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/results": "404 404 404 404 404 404 404 404",
    "GET /api/v1/cities/<string:city>/rounds/<string:round>/review": "401 403 403 200 200 200 200 403",
    "GET /api/v1/cities/<string:city>/staff": "404 404 404 200 403 403 403 404",
    "GET /api/v1/compare": "422 422 422 422 422 422 422 422",
    "GET /api/v1/jobs/<string:job_id>": "404 404 404 404 404 404 404 404",
    "GET /api/v1/proposals": "200 200 200 200 200 200 200 200",
    "GET /api/v1/proposals/by-city": "422 422 422 422 422 422 422 422",
    "GET /api/v1/rules": "200 200 200 200 200 200 200 200",
    "GET /compare": "200 200 200 200 200 200 200 200",
    "GET /compare/charts/<name>.csv": "404 404 404 404 404 404 404 404",
    "GET /compare/charts/<name>.svg": "404 404 404 404 404 404 404 404",
    "GET /console/<city>": "303 303 303 200 200 200 200 403",
    "GET /console/<city>/audit": "303 303 303 200 403 403 403 403",
    "GET /console/<city>/audit.csv": "303 303 303 200 403 403 403 403",
    "GET /console/<city>/jobs/<job_id>": "303 303 303 404 404 404 404 403",
    "GET /console/<city>/password": "303 303 303 200 200 200 200 403",
    "GET /console/<city>/residents/codes": "303 303 303 200 200 200 403 403",
    "GET /console/<city>/rounds/<round>/advance": "303 303 303 200 403 403 403 403",
    "GET /console/<city>/rounds/<round>/codes": "303 303 303 200 200 200 200 403",
    "GET /console/<city>/rounds/<round>/codes/batches/<batch>/codes.csv": "303 303 303 404 403 404 403 403",
    "GET /console/<city>/rounds/<round>/codes/batches/<batch>/sheet": "303 303 303 404 403 404 403 403",
    "GET /console/<city>/rounds/<round>/edit": "303 303 303 200 403 403 403 403",
    "GET /console/<city>/rounds/<round>/implementation": "303 303 303 200 200 200 200 403",
    "GET /console/<city>/rounds/<round>/outcomes": "303 303 303 200 200 200 200 403",
    "GET /console/<city>/rounds/<round>/outcomes/<int:outcome_id>/publish": "303 303 303 404 403 403 403 403",
    "GET /console/<city>/rounds/<round>/paper": "303 303 303 200 200 200 403 403",
    "GET /console/<city>/rounds/<round>/review": "303 303 303 200 200 200 200 403",
    "GET /console/<city>/rounds/<round>/review/<int:proposal_id>": "303 303 303 200 200 200 200 403",
    "GET /console/<city>/rounds/new": "303 303 303 200 403 403 403 403",
    "GET /console/<city>/signin": "200 200 200 200 200 200 200 200",
    "GET /console/set-password/<token>": "404 404 404 404 404 404 404 404",
    "GET /healthz": "200 200 200 200 200 200 200 200",
    "GET /lang/<tag>": "303 303 303 303 303 303 303 303",
    "GET /proposals": "200 200 200 200 200 200 200 200",
    "GET /proposals/<int:proposal_id>/borrow": "200 200 200 200 200 200 200 200",
    "GET /proposals/chart.svg": "200 200 200 200 200 200 200 200",
    "GET /search": "200 200 200 200 200 200 200 200",
    "GET /static/<path:filename>": "200 200 200 200 200 200 200 200",
    "PATCH /api/v1/cities/<string:city>/residents/<string:username>": "401 403 403 422 422 422 403 403",
    "PATCH /api/v1/cities/<string:city>/rounds/<string:round>": "401 403 403 422 403 403 403 403",
    "PATCH /api/v1/cities/<string:city>/rounds/<string:round>/proposals/<int:proposal_id>": "401 422 422 422 422 403 403 403",
    "POST /<city>/<round>/proposals/<int:proposal_id>/comments": "401 422 422 401 401 401 401 401",
    "POST /<city>/<round>/proposals/<int:proposal_id>/edit": "403 422 403 403 403 403 403 403",
    "POST /<city>/<round>/proposals/<int:proposal_id>/endorse": "401 409 409 401 401 401 401 401",
    "POST /<city>/<round>/proposals/new": "401 422 422 401 401 401 401 401",
    "POST /<city>/<round>/vote": "422 422 422 422 422 422 422 422",
    "POST /<city>/<round>/vote/<district>": "303 303 422 303 303 303 303 303",
    "POST /<city>/signin": "401 401 401 401 401 401 401 401",
    "POST /<city>/signup": "422 422 422 422 422 422 422 422",
    "POST /<city>/signup/<token>": "404 404 404 404 404 404 404 404",  # no such link
    "POST /<city>/verify": "303 422 303 303 303 303 303 303",
    "POST /api/v1/cities/<string:city>/residents": "422 422 422 422 422 422 422 422",
    "POST /api/v1/cities/<string:city>/residents/confirm": "422 422 422 422 422 422 422 422",
    "POST /api/v1/cities/<string:city>/resident-codes": "401 403 403 422 422 422 403 403",
    # a voter session is of a round, not of the city: 401; this city's staff pass the guard as for every
    # participant route (they enter proposals for residents) and the view refuses them after the body
    "POST /api/v1/cities/<string:city>/residents/verify": "401 422 401 403 403 403 403 403",
    "POST /api/v1/cities/<string:city>/residents/login": "422 422 422 422 422 422 422 422",
    "POST /api/v1/cities/<string:city>/rounds": "401 403 403 422 403 403 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/access-codes": "401 403 403 422 403 422 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/access-codes/batches": "401 403 403 422 403 422 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/access-codes/batches/<string:batch>/printed": "401 403 403 404 403 404 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/access-codes/revoke": "401 403 403 422 403 422 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/advance": "401 403 403 404 403 403 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/outcomes": "401 403 403 422 403 403 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/outcomes/<int:outcome_id>/publish": "401 403 403 404 403 403 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/paper-ballots": "401 403 403 422 422 422 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/paper-entries/<int:entry_id>/discard": "401 403 403 404 404 404 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/proposals": "401 422 422 422 422 403 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/proposals/<int:proposal_id>/comments": "401 422 422 403 403 403 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/proposals/<int:proposal_id>/comments/<int:comment_id>/hide": "401 403 403 422 422 403 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/proposals/<int:proposal_id>/comments/<int:comment_id>/unhide": "401 403 403 404 404 403 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/proposals/<int:proposal_id>/endorsements": "401 409 409 403 403 403 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/proposals/<int:proposal_id>/merge": "401 403 403 422 422 403 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/proposals/<int:proposal_id>/responses": "401 403 403 422 422 403 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/proposals/<int:proposal_id>/updates": "401 403 403 422 422 403 403 403",
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/voter-sessions": "422 422 422 422 422 422 422 422",
    "POST /api/v1/cities/<string:city>/staff": "401 403 403 422 403 403 403 403",
    "POST /console/<city>/password": "303 303 303 422 422 422 422 403",
    "POST /console/<city>/residents/codes": "303 303 303 422 422 422 403 403",
    "POST /console/<city>/rounds/<round>/advance": "303 303 303 404 403 403 403 403",
    "POST /console/<city>/rounds/<round>/codes/batches/<batch>/printed": "303 303 303 404 403 404 403 403",
    "POST /console/<city>/rounds/<round>/codes/issue": "303 303 303 422 403 422 403 403",
    "POST /console/<city>/rounds/<round>/codes/revoke": "303 303 303 422 403 422 403 403",
    "POST /console/<city>/rounds/<round>/edit": "303 303 303 422 403 403 403 403",
    "POST /console/<city>/rounds/<round>/implementation/<int:proposal_id>": "303 303 303 422 422 403 403 403",
    "POST /console/<city>/rounds/<round>/outcomes/<int:outcome_id>/publish": "303 303 303 404 403 403 403 403",
    "POST /console/<city>/rounds/<round>/outcomes/run": "303 303 303 422 403 403 403 403",
    "POST /console/<city>/rounds/<round>/paper": "303 303 303 422 422 422 403 403",
    "POST /console/<city>/rounds/<round>/paper/entries/<int:entry_id>/discard": "303 303 303 404 404 404 403 403",
    "POST /console/<city>/rounds/<round>/paper/entry": "303 303 303 404 404 404 403 403",
    "POST /console/<city>/rounds/<round>/review/<int:proposal_id>/comments/<int:comment_id>/hide": "303 303 303 404 404 403 403 403",
    "POST /console/<city>/rounds/<round>/review/<int:proposal_id>/comments/<int:comment_id>/unhide": "303 303 303 404 404 403 403 403",
    "POST /console/<city>/rounds/<round>/review/<int:proposal_id>/decision": "303 303 303 409 409 403 403 403",
    "POST /console/<city>/rounds/<round>/review/<int:proposal_id>/merge": "303 303 303 422 422 403 403 403",
    "POST /console/<city>/rounds/<round>/review/<int:proposal_id>/responses": "303 303 303 422 422 403 403 403",
    "POST /console/<city>/rounds/new": "303 303 303 422 403 403 403 403",
    "POST /console/<city>/signin": "401 401 401 401 401 401 401 401",
    "POST /console/set-password/<token>": "404 404 404 404 404 404 404 404",
    "PUT /api/v1/cities/<string:city>/rounds/<string:round>/districts/<string:district>/ballot": "401 401 422 403 403 403 403 403",
    "POST /<city>/<round>/vote/leave": "303 303 303 303 303 303 303 303",
    "POST /console/<city>/signout": "303 303 303 303 303 303 303 303",
    "POST /signout": "303 303 303 303 303 303 303 303",
}


def _fill(rule: str, samples: dict) -> str:
    url = rule
    for name in re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule):
        assert name in samples, (f"{rule} takes <{name}>: add a sample for it to `samples` in "
                                 f"tests/console/test_route_table.py")
        url = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(samples[name]), url)
    return url


SAMPLE_URLS = {  # an admitted caller would act on an empty body: a target that does not exist
    "POST /api/v1/cities/<string:city>/rounds/<string:round>/advance": {"round": "no-such-round"},
    "POST /console/<city>/rounds/<round>/advance": {"round": "no-such-round"},
}


@pytest.fixture
def callers(app, api, cities, staff):
    """alpha/2026 open for voting with a project on the ballot, and a client and token per caller."""
    import api.limits as limits

    limits.limiter.enabled = False  # the walk signs in and up more often than a person may
    make_round(api, cities)
    base = "/api/v1/cities/alpha/rounds/2026"
    advance_to(api, cities, "submission")
    from apihelp import register

    resident = register(api, username="resi")
    pid = api.post(f"{base}/proposals", json={"title": "A bench", "district": "north", "estimated_cost": 100},
                   token=resident).get_json()["id"]
    advance_to(api, cities, "review")
    api.patch(f"{base}/proposals/{pid}", json={"reviewed_cost": 100, "feasible": True, "status": "on_ballot"},
              token=cities["alpha_admin"])
    advance_to(api, cities, "voting")
    codes = api.post(f"{base}/access-codes", json={"district": "north", "count": 2},
                     token=cities["alpha_admin"]).get_json()["codes"]
    out = {"anonymous": (Site(app.test_client()), None)}
    site = Site(app.test_client())
    site.submit("/alpha/signin", {"username": "resi", "password": "correct horse"})
    out["resident"] = (site, resident)
    site = Site(app.test_client())
    site.submit("/alpha/2026/vote", {"access_code": codes[0]})
    voter = api.post(f"{base}/voter-sessions", json={"access_code": codes[1]}).get_json()["token"]
    out["voter"] = (site, voter)
    for role in ("manager", "reviewer", "clerk", "viewer"):
        site = Site(app.test_client())
        sign_in(site, "alpha", staff[f"alpha_{role}"][1])
        out[role] = (site, staff[f"alpha_{role}"][2])
    site = Site(app.test_client())
    sign_in(site, "beta", staff["beta_manager"][1])
    out["beta"] = (site, staff["beta_manager"][2])
    samples = {"city": "alpha", "round": "2026", "district": "north", "proposal_id": pid, "username": "resi",
               "receipt": "R-NOT-A-RECEIPT", "batch": "no-such-batch", "outcome_id": NOT_FOUND,
               "entry_id": NOT_FOUND, "comment_id": NOT_FOUND, "update_id": NOT_FOUND, "job_id": "no-such-job",
               "token": "no-such-token", "tag": "en", "filename": "app.css", "name": "spend",
               "asset": "swagger-ui.css"}
    yield out, samples
    limits.limiter.enabled = True


def _requests(app):
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((f"{method} {rule.rule}", method, rule))
    out.sort(key=lambda r: (r[0] in LAST, r[0]))
    return out


def _ask(site: Site, token, method: str, rule, url: str) -> tuple[int, bool]:
    """(status, whether the body was read) of one request."""
    client = site.client
    if rule.rule.startswith("/api/"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if method == "GET":
            return client.get(url, headers=headers).status_code, False
        body = Tripwire(b"[]")
        status = client.open(url, method=method, input_stream=body, content_length=2,
                             content_type="application/json", headers=headers).status_code
        return status, body.touched
    if method == "GET":
        return client.get(url).status_code, False
    csrf = _csrf(site)
    return client.open(url, method=method, data={"csrf_token": csrf}).status_code, False


def _csrf(site: Site) -> str:
    token = getattr(site, "_csrf", None)
    if token is None:
        token = site._csrf = Page(site.client.get("/alpha/signin")).csrf()
    return token


def test_every_route_answers_each_caller_as_the_table_says(app, api, callers):
    clients, samples = callers
    _refused_arguments_are_answered_only_after_who_asks(api, clients)
    problems, rows, answers = [], {}, {}
    for key, method, rule in _requests(app):
        url = _fill(rule.rule, {**samples, **SAMPLE_URLS.get(key, {})})
        for who in CALLERS:
            answers[key, who] = _ask(*clients[who], method, rule, url)
        got = " ".join(str(answers[key, who][0]) for who in CALLERS)
        rows[key] = got
        want = TABLE.get(key)
        if want is None:
            problems.append(f"no row in TABLE for {key} (got {got})")
        elif want != got:
            problems.append(f"{key}: expected {want}, got {got}")
    stale = sorted(set(TABLE) - set(rows))
    assert not stale, f"rows of TABLE for routes the app no longer has: {stale}"
    checked, undeclared = _answers_follow_the_declarations(app, answers)
    assert not undeclared, "answers that differ from the declarations (api.auth.access):\n" + "\n".join(undeclared)
    assert not problems, "\n".join(problems) + "\n\nrows as answered:\n" + "\n".join(
        f'    "{k}": "{v}",' for k, v in rows.items())
    # every JSON operation of the app, by every caller; the staff roles of the writes, one by one
    assert checked["operations"] == len(_declarations(app)) >= 60
    assert checked["refused before the body"] >= 60 and checked["admitted, body refused"] >= 30


def _declarations(app) -> dict[str, tuple[str | None, tuple[str, ...], bool]]:
    """"METHOD rule" -> (level, roles, takes a body) of every operation under /api/v1, from the app's routes."""
    out = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            level, roles = declared(view, method)
            cls = getattr(view, "view_class", None)
            func = getattr(cls, method.lower()) if cls is not None else view
            params = getattr(func, "_apidoc", {}).get("arguments", {}).get("parameters", [])
            body = any(p.get("location") in (None, "json", "form") for p in params)
            out[f"{method} {rule.rule}"] = level, roles, body
    return out


def test_every_json_operation_declares_who_may_call_it(app):
    """A route added without api.auth.access(...) fails here (and a staff level without roles cannot even be
    declared: access() refuses it when the module is imported)."""
    import api.auth as auth

    undeclared = [k for k, (level, _r, _b) in _declarations(app).items() if level is None]
    assert not undeclared, f"declare who may call these with api.auth.access(blp, level, roles): {undeclared}"
    for level in STAFF_LEVELS:
        with pytest.raises(ValueError, match="names the roles"):
            auth.access(None, level)
    with pytest.raises(ValueError, match="unknown roles"):
        auth.access(None, "staff", ("manager", "janitor"))
    with pytest.raises(ValueError, match="no staff roles"):
        auth.access(None, "voter", auth.READ)


def _expected(level: str, roles: tuple[str, ...], body: bool, method: str, who: str):
    """What the declaration alone says `who` gets for a request carrying `[]`: a status, "admitted" (no
    401/403), or None (the declaration does not say)."""
    private = level.endswith("-private")
    if level == "public":
        return None
    if who == "anonymous":
        return 404 if private else 401
    if who == "beta" or (who in ("resident", "voter") and level in STAFF_LEVELS):
        return 404 if private else 403
    if who in STAFF_ROLES:
        if who not in roles:
            return 403
        return 422 if body and method in WRITES else "admitted"
    return None


def _answers_follow_the_declarations(app, answers) -> tuple[dict[str, int], list[str]]:
    problems, checked = [], {"operations": 0, "refused before the body": 0, "admitted, body refused": 0}
    for key, (level, roles, body) in _declarations(app).items():
        checked["operations"] += 1
        method = key.split(" ", 1)[0]
        for who in CALLERS:
            want = _expected(level, roles, body, method, who)
            status, read = answers[key, who]
            if want is None:
                continue
            if want == "admitted":
                if status in (401, 403):
                    problems.append(f"{key} as {who}: {status}, but {level} {roles} admits {who}")
                continue
            if status != want:
                problems.append(f"{key} as {who}: {status}, expected {want} ({level}, roles {roles})")
            elif want != 422 and method in WRITES:
                if read:
                    problems.append(f"{key} as {who}: refused ({status}) only after the body was read")
                elif who in STAFF_ROLES:
                    checked["refused before the body"] += 1
            elif want == 422:
                checked["admitted, body refused"] += 1
    return checked, problems


def _refused_arguments_are_answered_only_after_who_asks(api, clients):
    """The two kinds of route whose caller is checked after parsing (reads with query arguments, and the
    ballot, whose token the cast checks): a refused argument is still no 422 for a stranger. (Called by the
    walk's test, on its callers: one set of callers per database.)"""
    base = "/api/v1/cities/alpha/rounds/2026"
    queue = f"{base}/review?sort=bogus"
    assert api.get(queue).status_code == 401
    assert api.get(queue, token=clients["beta"][1]).status_code == 403
    assert api.get(queue, token=clients["resident"][1]).status_code == 403
    assert api.get(queue, token=clients["viewer"][1]).status_code == 422  # a caller who may: the argument named
    audit = "/api/v1/cities/alpha/audit?since=bogus"
    assert api.get(audit, token=clients["beta"][1]).status_code == 404
    assert api.get(audit, token=clients["manager"][1]).status_code == 422
    # a role the read does not admit learns no more than a stranger: the role is checked before the argument
    assert api.get(audit, token=clients["viewer"][1]).status_code == 403
    ballot = f"{base}/districts/north/ballot"
    for token in ("pbv_forged-token", clients["resident"][1]):
        resp = api.put(ballot, json={"projects": "not a list"}, token=token)
        assert resp.status_code == 401, (token, resp.get_json())
    beta_voter = api.put(ballot.replace("alpha", "beta"), json={"projects": "x"}, token=clients["voter"][1])
    assert beta_voter.status_code == 404  # no round 2026 in beta: the voter learns nothing more
    assert api.put(ballot, json={"projects": "not a list"}, token=clients["voter"][1]).status_code == 422


# Resident page forms that anyone may post (they sign in, sign up, sign out or leave a voter session):
# they have no one to check before the CSRF check. Every other page form declares api.pages.needs(...).
OPEN_PAGE_FORMS = {"pages.vote_start", "pages.vote_leave", "pages.signup", "pages.signup_confirm",
                   "pages.verify_account", "pages.signin", "pages.signout"}
# who passes each declaration among CALLERS, and what the others get
PAGE_NEEDS = {"voter": ({"voter"}, 303), "participant": ({"resident", "voter"}, 401), "author": ({"resident"}, 403)}


def test_resident_page_forms_are_refused_before_their_body_is_read(app, api, callers):
    """A page form posted by someone it does not admit is refused before anything reads its body, the
    CSRF check included (issue 13: "401/403 before its body is read"; before, a stranger got the CSRF
    check's 400 after it had read the form): the booth sends a browser without a voter session of the
    round to sign in (303), a proposal form answers 401 to one who is neither a resident of the city
    nor a voter of the round, the edit form 403 to all but the author. Who passes goes on to the CSRF
    check (400 without its token). Staff sessions are no resident sessions, and beta's manager holds
    nothing of alpha; nor does a resident of beta signed in on beta's pages. A new page form must declare
    who may post it, or be one of OPEN_PAGE_FORMS."""
    clients, samples = callers
    from apihelp import register

    # a resident of beta, signed in on beta's page: her session names beta, never alpha (cookies are per city)
    register(api, city="beta", username="bea")
    beta_resident = Site(app.test_client())
    signed_in = beta_resident.submit("/beta/signin", {"username": "bea", "password": "correct horse"}, follow=False)
    assert signed_in.status == 303, signed_in.text(".alert")
    clients = {**clients, "beta resident": (beta_resident, None)}
    problems, refused, admitted = [], 0, 0
    forms = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("pages.") and "POST" in r.methods]
    assert len(forms) >= 10
    for rule in forms:
        needs = getattr(app.view_functions[rule.endpoint], "page_needs", None)
        if needs is None:
            if rule.endpoint not in OPEN_PAGE_FORMS:
                problems.append(f"{rule.endpoint}: declare who may post it (api.pages.needs) or add it to "
                                "OPEN_PAGE_FORMS")
            continue
        who_passes, refusal = PAGE_NEEDS[needs]
        url = _fill(rule.rule, samples)
        for who in (*CALLERS, "beta resident"):
            body = Tripwire(b"project=1&title=x&body=y")
            resp = clients[who][0].client.open(url, method="POST", input_stream=body,
                                               content_length=len(body.getvalue()),
                                               content_type="application/x-www-form-urlencoded")
            if who in who_passes:
                admitted += 1
                if resp.status_code != 400:
                    problems.append(f"{rule.endpoint} as {who} with no CSRF token: {resp.status_code}, expected 400")
                continue
            refused += 1
            if resp.status_code != refusal or body.touched:
                problems.append(f"{rule.endpoint} as {who}: {resp.status_code}, expected {refusal}; "
                                f"body read: {body.touched}")
            if refusal == 303 and "/alpha/2026/vote" not in resp.headers.get("Location", ""):
                problems.append(f"{rule.endpoint} as {who}: sent to {resp.headers.get('Location')!r}")
    assert not problems, "\n".join(problems)
    assert refused >= 35 and admitted >= 6
