"""Every console page, for every role of city alpha, for staff of city beta and without a session; and
every staff operation of the JSON API for a foreign city's staff and without a token.

Console endpoints are walked from app.url_map; each declares the roles it admits with
api.console.helpers.staff_view, and exactly those roles of the URL's city get in (200), the others get
the 403 page, staff of another city get 403, and a browser without a console session is sent to
sign in (303). A GET page is opened by every role; a POST-only endpoint is posted to (with a valid CSRF
token) by those who must be refused only, so that the walk changes nothing.

URL parameters come from SAMPLES (made by the `world` fixture). An endpoint with a parameter that has
no sample fails the test: add a sample for it (and, if it is an object, make one in `world`).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from apihelp import Tripwire, populated_round
from consolehelp import sign_in
from pagehelp import Page, Site

pytestmark = pytest.mark.db

ROLES = ("manager", "reviewer", "clerk", "viewer")
UNMARKED = {"console.signin", "console.signout", "console.set_password"}  # no staff yet, or any session
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(app, api, cities, staff):
    """A round in tally with proposals, ballots, codes and a draft outcome, plus a batch of codes."""
    state = populated_round(api, cities)
    samples = {"city": "alpha", "round": "2026", "proposal_id": state["ids"]["north"][0],
               "outcome_id": state["outcome"]["id"], "district": "north", "receipt": state["receipts"][0],
               "username": "resi", "code": state["codes_left"]["north"][0],
               # POST-only endpoints are posted to by refused callers only: any id will do for these
               "entry_id": 1, "comment_id": 1, "update_id": 1}
    site = Site(app.test_client())
    sign_in(site, "alpha", staff["alpha_manager"][1])
    page = site.get("/console/alpha/password")
    resp = site.client.post("/console/alpha/rounds/2026/codes/issue",
                            data={"csrf_token": page.csrf(), "district": "north", "count": "2"})
    m = re.search(r"issued=([^&]+)", resp.headers.get("Location", ""))
    if m:
        samples["batch"] = m.group(1)
    samples["job_id"] = _a_job(app)
    return samples


def _a_job(app) -> str:
    """A running count of alpha/2026 (pb_engine.jobs), for the job progress page."""
    from sqlmodel import select

    from pb_engine.store.tables import Job, Round

    with app.extensions["pb_db"].session() as s:
        rnd = s.exec(select(Round).where(Round.slug == "2026")).first()
        s.add(Job(id="a" * 32, kind="outcome.run", state="running", done=1, total=2, city_id=rnd.city_id,
                  round_id=rnd.id))
    return "a" * 32


def _console_endpoints(app):
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console.") and rule.endpoint not in UNMARKED:
            out.append(rule)
    return sorted(out, key=lambda r: r.rule)


def _url(rule, samples) -> str:
    missing = [a for a in rule.arguments if a not in samples]
    assert not missing, (f"{rule.endpoint} ({rule.rule}) takes {missing}: add a sample value for it to the "
                         f"`world` fixture of tests/console/test_route_roles.py (and make the object it names)")
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(samples[name]), url)
    return url


def _csrf(site, city) -> str:
    for path in (f"/console/{city}/password", f"/console/{city}/signin"):
        m = CSRF.search(site.client.get(path).get_data(as_text=True))
        if m:
            return m.group(1)
    raise AssertionError("no CSRF token")


def test_every_console_view_declares_its_roles(app):
    unmarked = [r.endpoint for r in _console_endpoints(app)
                if not getattr(app.view_functions[r.endpoint], "console_roles", None)]
    assert not unmarked, f"console views without @staff_view(ROLES) (api/console/helpers.py): {unmarked}"


def _callers(app, staff):
    """Browsers signed in to alpha's console as each role, one signed in to beta's as its manager, and
    one with no session."""
    sites = {}
    for role in ROLES:
        sites[role] = Site(app.test_client())
        sign_in(sites[role], "alpha", staff[f"alpha_{role}"][1])
    beta = Site(app.test_client())
    sign_in(beta, "beta", staff["beta_manager"][1])
    return sites, beta, Site(app.test_client())


def test_each_console_page_admits_exactly_its_roles(app, staff, world):
    rules = _console_endpoints(app)
    assert len(rules) >= 10
    sites, beta, nobody = _callers(app, staff)
    tokens = {role: _csrf(s, "alpha") for role, s in sites.items()}
    beta_token, nobody_token = _csrf(beta, "beta"), _csrf(nobody, "alpha")
    problems = []
    for rule in rules:
        roles = app.view_functions[rule.endpoint].console_roles
        url = _url(rule, world)
        gets = "GET" in rule.methods
        for role in ROLES:
            want = 200 if role in roles else 403
            if gets:
                got = sites[role].client.get(url).status_code
            elif want == 403:
                got = sites[role].client.post(url, data={"csrf_token": tokens[role]}).status_code
            else:
                continue  # an admitted POST would act: its own tests cover it
            if got != want:
                problems.append(f"{rule.endpoint} {url} as alpha {role}: {got}, expected {want}")
        if gets:
            got_beta = beta.client.get(url).status_code
            got_nobody = nobody.client.get(url)
        else:
            got_beta = beta.client.post(url, data={"csrf_token": beta_token}).status_code
            got_nobody = nobody.client.post(url, data={"csrf_token": nobody_token})
        if got_beta != 403:
            problems.append(f"{rule.endpoint} {url} as beta manager: {got_beta}, expected 403")
        if got_nobody.status_code != 303 or "/console/alpha/signin" not in got_nobody.headers.get("Location", ""):
            problems.append(f"{rule.endpoint} {url} without a session: {got_nobody.status_code}, expected 303 to sign in")
    assert not problems, "\n".join(problems)


def _isolation_samples():
    path = Path(__file__).resolve().parents[1] / "json_api" / "test_tenant_isolation.py"
    spec = importlib.util.spec_from_file_location("_tenant_isolation_samples", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SAMPLES


STAFF_LEVELS = ("staff", "admin", "staff-private", "admin-private")
# Reads that need query arguments to get as far as the token check (values that would succeed).
QUERIES = {"GET /api/v1/cities/{city}/rounds/{round}/outcomes/compare": lambda w: f"?ids={w['outcome_id']}"}


def test_every_staff_json_operation_refuses_a_foreign_city_and_no_token(app, client, cities, world):
    bodies = _isolation_samples()
    spec = client.get("/api/openapi.json").get_json()
    problems, checked = [], 0
    ctx = {"pid": world["proposal_id"], "code": world["code"], "outcome_id": world["outcome_id"], "receipt": world["receipt"]}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete") or op.get("x-pb-access") not in STAFF_LEVELS:
                continue
            key = f"{method.upper()} {path}"
            params = re.findall(r"{(\w+)}", path)
            missing = [p for p in params if p not in world]
            assert not missing, f"{key} takes {missing}: add a sample to the `world` fixture of this test"
            url = path
            for p in params:
                url = url.replace("{" + p + "}", str(world[p]))
            if key in QUERIES:
                url += QUERIES[key](world)
            body = None
            if method != "get":
                if key not in bodies:
                    problems.append(f"{key}: add a sample body to SAMPLES in tests/json_api/test_tenant_isolation.py")
                    continue
                body = bodies[key](ctx)
            foreign = client.open(url, method=method.upper(), json=body,
                                  headers={"Authorization": f"Bearer {cities['beta_admin']}"}).status_code
            anonymous = client.open(url, method=method.upper(), json=body).status_code
            if foreign not in (403, 404):
                problems.append(f"{key}: beta's staff got {foreign}")
            if anonymous not in (401, 404):
                problems.append(f"{key}: no token got {anonymous}")
            checked += 1
    assert checked >= 15
    assert not problems, "\n".join(problems)


def _post_unread(site, url) -> tuple[int, str, bool]:
    """(status, Location, whether the body was read) of a form POST carrying no CSRF token."""
    body = Tripwire(b"district=north&count=2")
    resp = site.client.open(url, method="POST", input_stream=body, content_length=len(body.getvalue()),
                            content_type="application/x-www-form-urlencoded")
    return resp.status_code, resp.headers.get("Location", ""), body.touched


def test_console_forms_are_refused_before_their_body_is_read(app, staff, world):
    """A POST to any console form by someone it does not admit is refused before anything reads the
    form, the CSRF check included: no session → the sign-in redirect, staff of another city or a role
    the view does not name → 403 (before, all three got the CSRF check's 400 after it read the form).
    An admitted role that sends no token still gets the CSRF refusal, once it has passed."""
    rules = [r for r in _console_endpoints(app) if "POST" in r.methods]
    assert len(rules) >= 15
    sites, beta, nobody = _callers(app, staff)
    problems, refused = [], 0
    for rule in rules:
        roles = app.view_functions[rule.endpoint].console_roles
        url = _url(rule, world)
        status, where, read = _post_unread(nobody, url)
        if status != 303 or "/console/alpha/signin" not in where or read:
            problems.append(f"{rule.endpoint} without a session: {status} {where!r}, body read: {read}")
        status, _, read = _post_unread(beta, url)
        if status != 403 or read:
            problems.append(f"{rule.endpoint} as beta manager: {status}, body read: {read}")
        refused += 2
        for role in ROLES:
            status, _, read = _post_unread(sites[role], url)
            if role not in roles:
                refused += 1
                if status != 403 or read:
                    problems.append(f"{rule.endpoint} as alpha {role}: {status}, body read: {read}")
            elif status != 400:
                problems.append(f"{rule.endpoint} as alpha {role} with no CSRF token: {status}, expected 400")
    assert refused > 50
    assert not problems, "\n".join(problems)
