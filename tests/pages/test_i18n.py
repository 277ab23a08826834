"""Languages: the zh-TW catalogue holds every message of api/, every domain code is worded, a crawl of
the resident pages in zh-TW meets no catalogue miss, and the visitor's language choice is kept.

The crawl runs with PB_I18N_STRICT, so every message looked up on a zh-TW page that the catalogue
lacks (a template string, or an English sentence from the domain that reached a page unworded) is
recorded by api/i18n.py; the crawl fails listing each (locale, msgid, path)."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

import api
from apihelp import advance_to, city_config, make_round, populated_round, register, sign_up_link
from pagehelp import Page, Site
from pb_engine.config import apply_city, parse_city_config

pytestmark = pytest.mark.db

API_DIR = Path(api.__file__).parent
ZH_PO = API_DIR / "translations" / "zh_TW" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


# --- the catalogue --------------------------------------------------------------------------

def extracted_messages() -> dict[str, str | None]:
    """{msgid: msgid_plural or None} of every message in api/ today, as scripts/i18n extracts them."""
    with (API_DIR / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    out: dict[str, str | None] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(API_DIR), method_map, options_map, keywords=DEFAULT_KEYWORDS):
        if isinstance(message, tuple):
            out[message[0]] = message[1]
        elif message:
            out.setdefault(message, None)
    return out


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_the_zh_tw_catalogue_translates_every_message_with_its_placeholders():
    messages = extracted_messages()
    assert len(messages) > 200  # the extraction found the pages' words, not an empty tree
    with ZH_PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh_TW")
    for part in sorted((ZH_PO.parent.parent / "parts").glob("*.po")):  # merged in as the app does (api/i18n.py)
        with part.open("rb") as fh:
            for message in read_po(fh, locale="zh_TW"):
                if message.id and message.string and not (catalog.get(message.id) and catalog.get(message.id).string):
                    catalog[message.id] = message
    assert catalog.num_plurals == 1
    problems = []
    for msgid, plural in sorted(messages.items()):
        entry = catalog.get(msgid)
        if entry is None:
            problems.append(f"missing from the .po (run ./scripts/i18n): {msgid!r}")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        strings = list(entry.string) if isinstance(entry.string, tuple) else [entry.string]
        if plural is not None and len(strings) != 1:
            problems.append(f"zh has one plural form, got {len(strings)}: {msgid!r}")
        want = placeholders(msgid) | (placeholders(plural) if plural else set())
        for text in strings:
            if not text:
                problems.append(f"empty translation: {msgid!r}")
            elif placeholders(text) != want:
                problems.append(f"placeholders {sorted(placeholders(text))} instead of {sorted(want)}: {msgid!r}")
    for message, errors in catalog.check():  # Babel's own python-format checks (stray %, wrong types)
        problems.extend(f"{e}: {message.id!r}" for e in errors)
    assert not problems, "\n".join(problems)


# --- domain codes worded at the edge ---------------------------------------------------------

@pytest.fixture
def strict_app(app):
    app.config["PB_I18N_STRICT"] = True
    return app


def misses(app) -> list:
    return sorted(app.extensions.get("pb_i18n_misses", set()))


SAMPLE = {
    "opens_at": "date", "closes_at": "date", "phase_starts_at": "date", "phase_ends_at": "date",
    "timezone": "Asia/Taipei", "channel": "online", "phase": "after_voting", "share": Fraction(1, 2),
    "characters": ["O", "I"], "accepted": ["xy"], "method": "xy", "kind": "xy",
    "got": "42", "name": "xy", "field": "xy", "value": "'x'",  # what a voter sent: not words to translate
}


def test_every_refusal_code_is_worded_in_zh_tw(strict_app):
    from datetime import datetime, timezone

    from api.messages import PROBLEM_WORDS, problem_text
    from pb_engine.ballots.refusals import REFUSALS
    from pb_engine.errors import Problem

    assert set(REFUSALS) - set(PROBLEM_WORDS) == set(), "refusal codes without words in api.messages"
    when = datetime(2026, 12, 2, 1, 0, tzinfo=timezone.utc)
    with strict_app.test_request_context("/", headers={"Accept-Language": "zh-TW"}):
        for code, params in REFUSALS.items():
            values = {}
            for name in params:
                sample = SAMPLE.get(name, 3)
                values[name] = when if sample == "date" else sample
            # Every figure the words use is one the code carries (else the page would fall back to English).
            template_ids = PROBLEM_WORDS[code].__code__.co_consts
            used = set().union(*(placeholders(t) for t in template_ids if isinstance(t, str)))
            assert used <= set(params), (code, used - set(params))
            text = problem_text(Problem("projects", code, "ENGLISH SENTENCE", values))
            assert text and "ENGLISH SENTENCE" not in text, code
            assert not re.search(r"[A-Za-z]{4,}", text.replace("Asia/Taipei", "")), (code, text)
    assert misses(strict_app) == []


def test_every_outcome_reason_is_explained_without_the_english_sentence(strict_app):
    from api.messages import explain
    from pb_engine.allocation.outcome import REASONS
    from pb_engine.queries.results import ProjectOutcome

    details = {"money_left": 3000, "threshold": 5, "supporters": 4, "supporters_money": 200,
               "payment_per_full_payer": "250"}
    cases = []
    for reason in REASONS:
        cases.append((reason, {}, ""))
        cases.append((reason, details, "greedy"))
    cases.append(("funded", {"payment_per_full_payer": "250"}, "mes"))
    cases.append(("funded", {}, "mes"))
    with strict_app.test_request_context("/", headers={"Accept-Language": "zh-TW"}):
        for reason, d, rule in cases:
            p = ProjectOutcome(id=1, title="x", cost=1000, funded=reason.startswith("funded"), reason=reason,
                               message="ENGLISH SENTENCE", score=7, step=2 if reason == "funded" else None,
                               details=dict(d))
            text = explain(p, "TWD", rule)
            assert text and text != reason and "ENGLISH SENTENCE" not in text, (reason, d, rule)
            assert not re.search(r"[A-Za-z]{4,}", text), (reason, text)
    assert misses(strict_app) == []


def test_every_rule_ballot_kind_phase_status_and_response_kind_has_zh_tw_words(strict_app):
    from api import messages
    from pb_engine.allocation import rule_ids
    from pb_engine.ballots.registry import KINDS
    from pb_engine.phases import CLOSED, PHASES, UPCOMING
    from pb_engine.proposals import RESPONSE_KINDS, STATUSES

    cjk = re.compile(r"[\u4e00-\u9fff]")
    with strict_app.test_request_context("/", headers={"Accept-Language": "zh-TW"}):
        for rid in rule_ids():  # any registered rule may be a round's rule, named and explained on its pages
            assert cjk.search(messages.rule_name(rid)), rid
            assert messages.rule_plain({"id": rid}) != messages.rule_name(rid), f"no plain words for {rid}"
        words = [messages.ballot_kind_name(k) for k in KINDS]
        words += [messages.phase_name(p) for p in (*PHASES, UPCOMING, CLOSED, "after_voting")]
        words += [messages.phase_title(p) for p in PHASES]
        words += [messages.status_name(st) for st in STATUSES]
        words += [messages.response_kind(k) for k in RESPONSE_KINDS]
        assert all(cjk.search(w) for w in words), words
    assert misses(strict_app) == []


# --- the crawl ------------------------------------------------------------------------------

def _round_with_ballot(api, cities, kind, slug, costs, **kw):
    """A round of `kind` in voting with proposals on the ballot; returns ({index: id}, codes for north)."""
    base = f"/api/v1/cities/alpha/rounds/{slug}"
    admin = cities["alpha_admin"]
    make_round(api, cities, kind=kind, slug=slug, **kw)
    advance_to(api, cities, "submission", round=slug)
    resident = register(api, username=f"author{slug}")
    ids = {}
    for i, (district, cost) in enumerate(costs):
        r = api.post(f"{base}/proposals", json={"title": f"Project {slug}-{i}", "district": district,
                                                "estimated_cost": cost}, token=resident)
        assert r.status_code == 201, r.get_json()
        ids[i] = str(r.get_json()["id"])
    advance_to(api, cities, "review", round=slug)
    for pid in ids.values():
        p = api.get(f"{base}/proposals/{pid}").get_json()
        assert api.patch(f"{base}/proposals/{pid}", json={"reviewed_cost": p["estimated_cost"], "feasible": True,
                                                          "status": "on_ballot"}, token=admin).status_code == 200
    advance_to(api, cities, "voting", round=slug)
    codes = api.post(f"{base}/access-codes", json={"district": "north", "count": 3}, token=admin).get_json()["codes"]
    return ids, codes


class Crawl:
    """A zh-TW browser that keeps every page it saw, so the test can say where each miss came from."""

    def __init__(self, app):
        self.site = Site(app.test_client(), lang="zh-TW")
        self.seen: list[tuple[str, int]] = []

    def _keep(self, page: Page) -> Page:
        self.seen.append((page.resp.request.path, page.status))
        assert 'lang="zh-TW"' in page.html.split(">", 2)[1], page.resp.request.path
        return page

    def get(self, path, status=200) -> Page:
        page = self._keep(self.site.get(path))
        assert page.status == status, (path, page.status, page.text(".alert"))
        return page

    def submit(self, page_path, data, action=None, status=200) -> Page:
        page = self._keep(self.site.submit(page_path, data, action=action))
        assert page.status == status, (action or page_path, page.status, page.text(".alert"))
        return page

    def post_without_token(self, path, status=400) -> Page:
        page = self._keep(Page(self.site.client.post(path, data={}, headers={"Accept-Language": "zh-TW"})))
        assert page.status == status
        return page


def test_zh_tw_crawl_of_every_resident_page_meets_no_catalogue_miss(app, api, cities):
    app.config["PB_I18N_STRICT"] = True
    app.config["PB_LIMIT_SIGNUP_PER_ADDRESS"] = "100 per hour"  # every account of the crawl comes from one address
    admin = cities["alpha_admin"]
    ada, bob, cyd = Crawl(app), Crawl(app), Crawl(app)
    visitor, voter = Crawl(app), Crawl(app)

    # A round still upcoming (home shows it with its next phase), then one taking ideas.
    make_round(api, cities, slug="2027")
    make_round(api, cities, slug="ideas", threshold=2, rule={"id": "mes", "completion": "add1"}, kind="knapsack")
    advance_to(api, cities, "submission", round="ideas")
    ideas = "/alpha/ideas"
    visitor.get("/")
    visitor.get("/alpha/2027")
    visitor.get(ideas)
    visitor.get(f"{ideas}/proposals")
    visitor.get(f"{ideas}/proposals/new")  # not signed in: asked to sign in first
    visitor.submit(f"{ideas}/proposals/new", {"title": "x", "district": "north"}, status=401)

    # Accounts: sign-up refusals (name, password, two passwords), sign-in refusals, then signed in.
    visitor.get("/alpha/signup")
    visitor.submit("/alpha/signup", {"username": "x", "display_name": "", "password": "short", "password2": "short"},
                   status=422)
    visitor.submit("/alpha/signup", {"username": "ada", "password": "long enough pw", "password2": "other one!"},
                   status=422)
    visitor.submit("/alpha/signup", {"username": "ada", "email": "not an address", "password": "long enough pw",
                                     "password2": "long enough pw"}, status=422)
    for who, name in ((ada, "ada"), (bob, "bob"), (cyd, "cyd")):
        who.submit(f"/alpha/signup?next={ideas}", {"username": name, "display_name": name.title(), "email":
                                                   f"{name}@example.org", "password": "long enough pw",
                                                   "password2": "long enough pw"})
        who.submit(f"/alpha/signup/{sign_up_link(app, f'{name}@example.org')}", {})  # the e-mailed link
    # a taken name: the same answer as a free one (the mail says which)
    visitor.submit("/alpha/signup", {"username": "ada", "email": "eve@example.org", "password": "long enough pw",
                                     "password2": "long enough pw"})
    visitor.get("/alpha/signup/no-such-link-token-at-all")
    visitor.submit("/alpha/signup/no-such-link-token-at-all", {}, status=404)
    visitor.get("/alpha/signin")
    visitor.submit("/alpha/signin", {"username": "ada", "password": "wrong password"}, status=401)
    visitor.submit("/alpha/signin", {"username": "", "password": ""}, status=401)

    # The new-proposal form: each field refused, then sent; edited by its author; others may not.
    new = f"{ideas}/proposals/new"
    ada.get(new)
    ada.submit(new, {"title": "", "summary": "Shade for the playground", "district": ""}, status=422)
    ada.submit(new, {"title": "Shade sails", "district": "north", "estimated_cost": "99999999"}, status=422)
    ada.submit(new, {"title": "Shade sails", "district": "north", "estimated_cost": "lots"}, status=422)
    ada.submit(new, {"title": "Shade sails", "district": "nowhere"}, status=404)
    ada.submit(new, {"title": "T" * 300, "district": "north"}, status=422)
    page = ada.submit(new, {"title": "Shade sails", "summary": "Shade for the playground", "district": "north",
                            "estimated_cost": "1500", "categories": "parks"})
    url = page.resp.request.path
    pid = int(url.rsplit("/", 1)[1])
    ada.get(f"{url}/edit")
    ada.submit(f"{url}/edit", {"title": "", "district": "north"}, status=422)
    ada.submit(f"{url}/edit", {"title": "Shade sails for the playground", "district": "north",
                               "estimated_cost": "1800", "categories": "parks"})
    bob.get(f"{url}/edit", status=403)
    ada.submit(new, {"title": "Bike racks", "district": "south", "estimated_cost": "1.234"}, status=422)
    ada.submit(new, {"title": "Bike racks", "district": "south", "categories": "nope"}, status=422)
    racks = ada.submit(new, {"title": "Bike racks", "district": "south", "estimated_cost": "800",
                             "categories": "streets"}).resp.request.path

    # Endorsements past the threshold, a replayed endorsement, comments (one refused), responses.
    bob.submit(url, {}, action=f"{url}/endorse")
    bob.submit(url, {}, action=f"{url}/endorse", status=409)
    cyd.submit(url, {}, action=f"{url}/endorse")
    cyd.submit(url, {"body": ""}, action=f"{url}/comments", status=422)
    cyd.submit(url, {"body": "Yes please, before summer."}, action=f"{url}/comments")
    visitor.submit("/alpha/signin", {}, action=f"{url}/endorse", status=401)
    visitor.post_without_token(f"{url}/endorse", status=401)  # who asks comes before the CSRF check
    bob.post_without_token(f"{url}/endorse")                  # a resident without the form's token: 400
    for kind, body in (("answer", "We will look at it."), ("review", "Feasible at this cost."),
                       ("progress", "Ordered in March.")):
        r = api.post(f"/api/v1/cities/alpha/rounds/ideas/proposals/{pid}/responses",
                     json={"kind": kind, "body": body}, token=admin)
        assert r.status_code == 201, r.get_json()
    page = visitor.get(url)
    assert len(page.texts(".history li")) >= 2 and len(page.texts(".comment")) == 1

    # The list with filters and pages, search with and without hits.
    for query in ("", "?district=north", "?category=parks", "?status=under_review", "?q=shade",
                  "?q=shade&district=south&category=streets&status=submitted", "?page=2", "?q=%22*NEAR("):
        visitor.get(f"{ideas}/proposals{query}")
    visitor.get("/search")
    visitor.get("/search?q=shade")
    visitor.get("/search?q=nothing-like-this")

    # Refusals of each later phase: a withdrawn idea, sending and editing after submission, endorsing
    # after endorsement, commenting after voting.
    racks_id = int(racks.rsplit("/", 1)[1])
    assert api.patch(f"/api/v1/cities/alpha/rounds/ideas/proposals/{racks_id}", json={"status": "withdrawn"},
                     token=admin).status_code == 200
    bob.submit(racks, {}, action=f"{racks}/endorse", status=409)
    ada.submit(f"{racks}/edit", {"title": "Bike racks", "district": "south"}, status=409)
    advance_to(api, cities, "endorsement", round="ideas")
    ada.submit(new, {"title": "Late idea", "district": "north"}, status=409)
    ada.submit(f"{url}/edit", {"title": "Late title", "district": "north"}, status=409)
    visitor.get(ideas)
    advance_to(api, cities, "review", round="ideas")
    bob.submit(url, {}, action=f"{url}/endorse", status=409)
    visitor.get(url)
    advance_to(api, cities, "tally", round="ideas")
    cyd.submit(url, {"body": "Too late?"}, action=f"{url}/comments", status=409)
    visitor.get(ideas)
    visitor.get("/eve/signup", status=404)
    visitor.submit("/alpha/signup", {"username": "eve", "password": "short", "password2": "short"}, status=422)

    # Booths of each kind in voting: a wrong code, a refused ballot, a cast one, the booth again.
    north = (("north", 20_000), ("north", 30_000), ("north", 25_000), ("north", 5_000), ("south", 10_000))
    booths = {"approval": {"project": ["0", "1", "2", "3"]},
              "knapsack": {"project": ["0", "1", "2"]},
              "cumulative": {"points-0": "5", "points-1": "6", "points-2": "x"},
              "ranked": {"rank-0": "1", "rank-1": "1"}}
    cast = {"approval": {"project": ["0", "3"]}, "knapsack": {"project": ["0", "1"]},
            "cumulative": {"points-0": "5", "points-1": "4"}, "ranked": {"rank-0": "2", "rank-2": "1"}}
    receipts, ballots = {}, {}
    for kind, refused in booths.items():
        ids, codes = ballots[kind] = _round_with_ballot(api, cities, kind, kind, north)

        def fill(form, ids=ids):
            out = {}
            for k, v in form.items():
                if k == "project":
                    out[k] = [ids[int(i)] for i in v]
                else:
                    name, i = k.split("-")
                    out[f"{name}-{ids[int(i)]}"] = v
            return out

        voter.get(f"/alpha/{kind}")
        voter.get(f"/alpha/{kind}/vote")
        voter.submit(f"/alpha/{kind}/vote", {"access_code": "NOPE-NOPE-NOPE"}, status=422)
        voter.submit(f"/alpha/{kind}/vote", {"access_code": "nope"}, status=422)
        voter.submit(f"/alpha/{kind}/vote", {"access_code": ""}, status=422)
        ada.submit(f"/alpha/{kind}/vote", {"as_resident": "1"}, status=403)  # district not checked yet
        page = voter.submit(f"/alpha/{kind}/vote", {"access_code": codes[0]})
        booth = page.resp.request.path
        voter.get(f"/alpha/{kind}/vote/south", status=403)
        page = voter.submit(booth, fill(refused), status=422)
        if kind == "knapsack":  # the reason in zh-TW, figures in the city's currency
            assert page.text(".alert") == "您選的計畫共 €75,000，超出預算 €50,000 共 €25,000。請拿掉一個計畫。"
        page = voter.submit(booth, fill(cast[kind]))
        receipts[kind] = page.text("#receipt")
        voter.get(booth)
        voter.get(f"/alpha/{kind}/vote")
        voter.get(f"/alpha/{kind}/proposals")

    # Receipts in each state: the empty form, counted, replaced, unknown.
    first = receipts["knapsack"]
    page = voter.submit("/alpha/knapsack/vote/north", {"project": [ballots["knapsack"][0][2]]})
    second = page.text("#receipt")
    assert second and second != first
    voter.get("/alpha/knapsack/receipt")
    for receipt in (first, second, "ZZZZ-ZZZZ"):
        voter.get(f"/alpha/knapsack/receipt?receipt={receipt}")
    voter.get(f"/alpha/approval/receipt?receipt={receipts['approval']}")

    # Results: none published yet (404), then published, on the round and its proposals.
    state = populated_round(api, cities, kind="approval", round="2026")
    visitor.get("/alpha/2026/results", status=404)
    api.post(f"{state['base']}/outcomes/{state['outcome']['id']}/publish", token=admin)
    visitor.get("/alpha/2026/results")
    advance_to(api, cities, "results", round="2026")
    visitor.get("/alpha/2026")
    page = visitor.get("/alpha/2026/results")
    published = api.get("/api/v1/cities/alpha/rounds/2026/results").get_json()
    for d in published["districts"]:  # each explanation worded from its reason, not the engine's English
        for p in d["projects"]:
            assert p["message"] not in page.text("main")
    assert "共有 12 人參與投票。" in page.text("main")
    visitor.get(f"/alpha/2026/receipt?receipt={state['receipts'][0]}")
    funded = [p for d in published["districts"] for p in d["projects"] if p["funded"]]
    r = api.post(f"/api/v1/cities/alpha/rounds/2026/proposals/{funded[0]['id']}/responses",
                 json={"kind": "progress", "body": "Built."}, token=admin)
    assert r.status_code == 201
    visitor.get(f"/alpha/2026/proposals/{funded[0]['id']}")
    visitor.get("/alpha/2026/proposals?status=funded")
    visitor.get("/alpha/2026/proposals?status=not_funded")
    visitor.get("/")

    # Error pages.
    visitor.get("/no/such/page/here", status=404)
    visitor.get("/nowhere/2026", status=404)
    visitor.get("/alpha/nothing", status=404)
    visitor.get("/alpha/2026/proposals/999999", status=404)
    visitor.get("/alpha/ideas/vote/north", status=200)  # no voter session: back to the sign-in page
    if app.config.get("RATELIMIT_ENABLED"):  # a lockout page (429) says how long to wait
        app.config["PB_LIMIT_SIGNUP_PER_ADDRESS"] = "1 per hour"  # a new limit counts afresh: one more passes
        for name, status in (("yan", 200), ("zed", 429)):
            page = visitor._keep(visitor.site.submit(
                "/alpha/signup", {"username": name, "email": f"{name}@example.org", "password": "long enough pw",
                                  "password2": "long enough pw"}))
            assert page.status == status, (name, page.status)
        assert re.search(r"請等候 \d+ 分鐘後再試", page.text("main")), page.text("main")

    found = misses(app)
    assert not found, "catalogue misses on zh-TW pages:\n" + "\n".join(f"{m[0]} {m[2]}: {m[1]!r}" for m in found)
    assert len(set(p for p, _ in visitor.seen + ada.seen + voter.seen)) > 40

    # Money and dates in zh-TW form: the round page's budget and timeline dates.
    page = visitor.get("/alpha/ideas")
    assert page.texts(".district h3")[0].endswith("€50,000"), page.texts(".district h3")
    assert re.search(r"\d{4}/\d{1,2}/\d{1,2}", page.text(".timeline")) or \
        re.search(r"\d{4}年\d{1,2}月\d{1,2}日", page.text(".timeline")), page.text(".timeline")
    page = visitor.get(f"/alpha/ideas/proposals/{pid}")
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", page.text(".meta")), page.text(".meta")


# --- the language choice --------------------------------------------------------------------

def html_lang(page: Page) -> str:
    return page.soup.html["lang"]


def test_a_chosen_language_is_remembered_over_accept_language(app, api, cities):
    make_round(api, cities)
    browser = Site(app.test_client(), lang="zh-TW")
    page = browser.get("/")
    assert html_lang(page) == "zh-TW" and page.text("form.search button") == "搜尋"

    page = browser.get("/?lang=en")
    assert html_lang(page) == "en" and page.text("form.search button") == "Search"
    assert browser.client.get_cookie("pb_lang").value == "en"
    page = browser.get("/alpha/2026")  # no ?lang: the remembered choice beats Accept-Language zh-TW
    assert html_lang(page) == "en" and page.text(".round-nav") .startswith("Overview")

    # The switch on every page: a link to the other language that comes back to the same page.
    switch = page.soup.select_one('nav.langs a[hreflang="zh-TW"]')
    assert switch is not None and switch["href"] == "/lang/zh-TW?next=/alpha/2026"
    resp = browser.client.get("/lang/zh-TW?next=/", headers={"Accept-Language": "en"})
    assert resp.status_code == 303 and resp.headers["Location"] == "/"
    assert browser.client.get_cookie("pb_lang").value == "zh_TW"
    english_browser = Site(browser.client, lang="en")
    page = english_browser.get("/alpha/2026")
    assert html_lang(page) == "zh-TW" and page.text(".round-nav").startswith("概覽")
    # Only a path on this site is followed back.
    resp = browser.client.get("/lang/en?next=https://evil.example/")
    assert resp.status_code == 303 and resp.headers["Location"] == "/"


def test_without_accept_language_a_city_page_follows_the_city_first_locale(app, api, cities):
    db = app.extensions["pb_db"]
    config = city_config("gamma", currency="TWD")
    config["city"]["locales"] = ["zh-TW", "en"]
    config["city"]["timezone"] = "Asia/Taipei"
    with db.session() as s:
        apply_city(s, parse_city_config(config, file="gamma.toml"), actor="test")
    from pb_engine.store.lookup import city_by_slug
    from pb_engine.staff import create_staff

    with db.session() as s:
        token = create_staff(s, city_by_slug(s, "gamma"), name="gamma admin", role="admin", actor="test")[1]
    make_round(api, {"gamma_admin": token}, city="gamma")
    client = app.test_client()  # sends no Accept-Language at all

    page = Page(client.get("/gamma/2026"))
    assert page.status == 200 and html_lang(page) == "zh-TW"
    assert page.text(".round-nav").startswith("概覽")
    # Money in the city's currency as Taiwan writes it, dates in the city's time zone.
    assert "預算 $100,000" in page.text("main"), page.text("main")
    assert "時間以台北時間為準。" in page.text("main")  # CLDR's zh-Hant-TW name of Asia/Taipei
    assert re.search(r"\d{4}/\d{1,2}/\d{1,2} (?:凌晨|清晨|早上|上午|中午|下午|傍晚|晚上|午夜)\d{1,2}:\d{2}", page.text(".timeline")), page.text(".timeline")
    page = Page(client.get("/alpha/signup"))  # alpha's locales are ["en"]
    assert page.status == 200 and html_lang(page) == "en"
    page = Page(client.get("/"))  # no city: English
    assert html_lang(page) == "en"
    # A visitor's Accept-Language still beats the city's locale.
    page = Page(client.get("/gamma/2026", headers={"Accept-Language": "en"}))
    assert html_lang(page) == "en" and "budget NT$100,000" in page.text("main")
