"""The console's review pages: the queue (filters, sorts, pages, counts) and one proposal's page with its
forms (review with a public reason, response, hiding and showing comments, merging a duplicate), each
refusal changing nothing, each role and city boundary crossed, and the zh-TW pages without a catalogue miss."""

from __future__ import annotations

import pytest
from consolehelp import sign_in
from pagehelp import Page, Site

from apihelp import advance_to, make_round, register

pytestmark = pytest.mark.db

BASE = "/api/v1/cities/alpha/rounds/2026"
QUEUE = "/console/alpha/rounds/2026/review"


def _propose(api, token, title, district="north", cost=10_000, categories=()):
    r = api.post(f"{BASE}/proposals", json={"title": title, "district": district, "estimated_cost": cost,
                                            "summary": f"{title} for everyone", "categories": list(categories)},
                 token=token)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


@pytest.fixture
def ideas(api, cities, staff):
    """Round alpha/2026 in submission: five proposals by ada and bob, endorsements, comments."""
    make_round(api, cities)
    advance_to(api, cities, "submission")
    ada, bob, cyd = register(api), register(api, username="bob"), register(api, username="cyd")
    ids = {
        "Bike lane": _propose(api, ada, "Bike lane", cost=30_000, categories=["streets"]),
        "Bike lanes on Main Street": _propose(api, bob, "Bike lanes on Main Street", cost=20_000,
                                              categories=["streets"]),
        "Tree": _propose(api, ada, "Tree", district="south", cost=5_000, categories=["parks"]),
        "Bench": _propose(api, bob, "Bench", cost=None),
        "Fountain": _propose(api, cyd, "Fountain", district="south", cost=40_000),
    }
    for token in (bob, cyd):
        assert api.post(f"{BASE}/proposals/{ids['Bike lane']}/endorsements", token=token).status_code == 201
    for token in (ada, cyd):  # cyd endorses both bike proposals: counted once after a merge
        assert api.post(f"{BASE}/proposals/{ids['Bike lanes on Main Street']}/endorsements",
                        token=token).status_code == 201
    for token, body in ((cyd, "Great idea"), (bob, "Buy my pills at spam.example")):
        assert api.post(f"{BASE}/proposals/{ids['Tree']}/comments", json={"body": body},
                        token=token).status_code == 201
    assert api.post(f"{BASE}/proposals/{ids['Bike lanes on Main Street']}/comments", json={"body": "Yes please"},
                    token=ada).status_code == 201
    assert api.post(f"{BASE}/proposals/{ids['Tree']}/responses", json={"kind": "answer", "body": "We look at it."},
                    token=cities["alpha_reviewer"]).status_code == 201
    return ids


def _signed_in(app, staff, who="alpha_reviewer", lang="en"):
    site = Site(app.test_client(), lang=lang)
    page = sign_in(site, who.split("_")[0], staff[who][1])
    assert page.status == 200
    return site


def _titles(page) -> list[str]:
    return [" ".join(a.get_text(" ").split()) for a in page.soup.select("table.queue tbody th a")]


def _audit(app, action):
    from sqlmodel import select

    from pb_engine.store.tables import AuditEvent

    with app.extensions["pb_db"].session() as s:
        return [(e.target, e.before, e.after) for e in s.exec(select(AuditEvent).where(AuditEvent.action == action)
                                                               .order_by(AuditEvent.id))]


def _row(app, model, id_):
    with app.extensions["pb_db"].session() as s:
        row = s.get(model, id_)
        s.expunge(row)
        return row


# --- the queue ------------------------------------------------------------------------------

def test_queue_filters_sorts_and_counts(app, ideas, staff):
    site = _signed_in(app, staff, "alpha_viewer")  # a viewer reads the queue
    page = site.get(QUEUE)
    assert page.status == 200
    assert page.soup.select_one("table.queue caption").get_text(strip=True)
    assert _titles(page) == ["Bike lane", "Bike lanes on Main Street", "Tree", "Bench", "Fountain"]  # oldest first
    assert page.text(".found") == "5 proposals found."
    link = page.soup.select_one("table.queue tbody th a")["href"]
    assert link == f"{QUEUE}/{ideas['Bike lane']}"
    assert "submitted (5)" in page.texts("#f-status option")
    assert _titles(site.get(f"{QUEUE}?district=south")) == ["Tree", "Fountain"]
    assert _titles(site.get(f"{QUEUE}?category=streets")) == ["Bike lane", "Bike lanes on Main Street"]
    assert _titles(site.get(f"{QUEUE}?sort=endorsements")) == ["Bike lane", "Bike lanes on Main Street", "Tree",
                                                             "Bench", "Fountain"]
    assert _titles(site.get(f"{QUEUE}?sort=cost")) == ["Fountain", "Bike lane", "Bike lanes on Main Street", "Tree",
                                                     "Bench"]  # unknown cost last
    assert _titles(site.get(f"{QUEUE}?sort=title")) == ["Bench", "Bike lane", "Bike lanes on Main Street",
                                                      "Fountain", "Tree"]
    assert _titles(site.get(f"{QUEUE}?sort=newest"))[0] == "Fountain"
    assert _titles(site.get(f"{QUEUE}?q=bike+main")) == ["Bike lanes on Main Street"]
    assert set(_titles(site.get(f"{QUEUE}?q=bike"))) == {"Bike lane", "Bike lanes on Main Street"}
    assert _titles(site.get(f"{QUEUE}?unanswered=1")) == ["Bike lane", "Bike lanes on Main Street", "Bench",
                                                        "Fountain"]  # Tree has an answer
    assert _titles(site.get(f"{QUEUE}?feasibility=yes")) == []
    assert len(_titles(site.get(f"{QUEUE}?feasibility=unknown&needs_review=1"))) == 5
    # Nonsense in the GET form is dropped, not an error.
    assert site.get(f"{QUEUE}?district=nowhere&status=boss&sort=x&feasibility=maybe&page=abc").status == 200


def test_queue_after_reviews_and_pages(app, api, ideas, staff):
    admin = staff["alpha_manager"][2]
    r = api.patch(f"{BASE}/proposals/{ideas['Tree']}", json={"reviewed_cost": 6000, "feasible": True}, token=admin)
    assert r.status_code == 200, r.get_json()
    assert api.patch(f"{BASE}/proposals/{ideas['Fountain']}", json={"feasible": False}, token=admin).status_code == 200
    site = _signed_in(app, staff, "alpha_clerk")  # clerks read too (api/auth.py READ)
    assert _titles(site.get(f"{QUEUE}?feasibility=yes")) == ["Tree"]
    assert _titles(site.get(f"{QUEUE}?feasibility=no")) == ["Fountain"]
    assert "Tree" not in _titles(site.get(f"{QUEUE}?needs_review=1"))
    assert _titles(site.get(f"{QUEUE}?sort=cost"))[:2] == ["Fountain", "Bike lane"]
    from pb_engine.queries.review import QueueFilters, review_queue
    from pb_engine.store.lookup import city_by_slug, round_by_slug

    with app.extensions["pb_db"].session() as s:
        rnd = round_by_slug(s, city_by_slug(s, "alpha"), "2026")
        first = review_queue(s, rnd, QueueFilters(per_page=2))
        second = review_queue(s, rnd, QueueFilters(per_page=2, page=3))
    assert (first.total, first.pages, len(first.items)) == (5, 3, 2)
    assert [q.item.title for q in second.items] == ["Fountain"]
    assert first.status_counts == {"submitted": 5}
    pager = site.get(QUEUE.replace("review", "review") + "?sort=title")  # 5 fit on one page: no pager
    assert pager.soup.select_one("nav.pager") is None


# --- the review form ------------------------------------------------------------------------

def _proposal_page(site, pid) -> Page:
    page = site.get(f"{QUEUE}/{pid}")
    assert page.status == 200, page.html[:500]
    return page


def _post(site, pid, action, data, follow=True) -> Page:
    return site.submit(f"{QUEUE}/{pid}", data, action=f"{QUEUE}/{pid}/{action}", follow=follow)


def test_review_sets_cost_feasibility_and_status_with_public_reason(app, api, ideas, staff):
    from pb_engine.store.tables import Proposal

    site = _signed_in(app, staff)
    pid = ideas["Bike lane"]
    page = _post(site, pid, "decision", {"reviewed_cost": "28,500.50", "feasible": "yes", "status": "on_ballot",
                                         "status_note": "Checked by the streets office"}, follow=False)
    assert page.status == 303
    page = site.get(page.resp.headers["Location"])
    assert page.text("[role=status]") == "The review is saved."
    p = _row(app, Proposal, pid)
    assert (p.reviewed_cost, p.feasible, p.status) == (2_850_050, True, "on_ballot")
    public = site.get(f"/alpha/2026/proposals/{pid}")
    last = public.texts("ol.history li")[-1]
    assert last.startswith("on the ballot ·") and last.endswith("decided in the city's review: Checked by the streets office")
    assert _audit(app, "proposal.review")[-1][2] == {"reviewed_cost": 2_850_050, "feasible": True,
                                                     "status": "on_ballot"}
    body = api.get(f"{BASE}/proposals/{pid}").get_json()
    assert (body["reviewed_cost"], body["status"]) == (28500.5, "on_ballot")


@pytest.mark.parametrize("data, field, words", [
    ({"reviewed_cost": "lots", "feasible": "unknown", "status": "submitted"}, "reviewed_cost", "must be an amount of EUR"),
    ({"reviewed_cost": "-5", "feasible": "unknown", "status": "submitted"}, "reviewed_cost", "more than zero"),
    ({"reviewed_cost": "99999999", "feasible": "unknown", "status": "submitted"}, "reviewed_cost",
     "more than the district budget"),
    ({"reviewed_cost": "", "feasible": "perhaps", "status": "submitted"}, "feasible", "Choose yes, no"),
    ({"reviewed_cost": "", "feasible": "unknown", "status": "rejected", "status_note": ""}, "status_note",
     "public reason"),
    ({"reviewed_cost": "", "feasible": "unknown", "status": "on_ballot", "status_note": "Go"}, "reviewed_cost",
     "needs a reviewed cost"),
    ({"reviewed_cost": "100", "feasible": "yes", "status": "funded", "status_note": "Go"}, "status",
     "staff may set one of"),
    ({"reviewed_cost": "", "feasible": "unknown", "status": "submitted"}, "status", "Nothing changed"),
])
def test_review_refusals_name_the_field_and_change_nothing(app, ideas, staff, data, field, words):
    from pb_engine.store.tables import Proposal

    site = _signed_in(app, staff)
    pid = ideas["Bench"]
    before = _row(app, Proposal, pid)
    page = _post(site, pid, "decision", data)
    assert page.status in (409, 422), page.status
    assert words in page.field_error(field), page.field_error(field)
    assert page.soup.select_one("#review [role=alert]") is not None
    after = _row(app, Proposal, pid)
    assert (after.reviewed_cost, after.feasible, after.status) == (before.reviewed_cost, before.feasible,
                                                                  before.status)
    assert _audit(app, "proposal.review") == []


def test_review_after_voting_started_is_frozen(app, api, cities, ideas, staff):
    from pb_engine.store.tables import Proposal

    advance_to(api, cities, "voting")
    site = _signed_in(app, staff)
    page = _post(site, ideas["Tree"], "decision", {"reviewed_cost": "10", "feasible": "unknown",
                                                   "status": "submitted"})
    assert page.status == 409 and "frozen" in page.field_error("reviewed_cost")
    assert _row(app, Proposal, ideas["Tree"]).reviewed_cost is None
    # Feasibility is not frozen (it is no ballot figure).
    assert _post(site, ideas["Tree"], "decision", {"reviewed_cost": "", "feasible": "no",
                                                   "status": "submitted"}).status == 200


# --- responses ---------------------------------------------------------------------------------

def test_response_is_published_and_refusals_change_nothing(app, api, ideas, staff):
    site = _signed_in(app, staff, "alpha_manager")
    pid = ideas["Fountain"]
    empty = _post(site, pid, "responses", {"kind": "answer", "body": "  "})
    assert empty.status == 422 and "Write the response" in empty.field_error("body")
    bad = _post(site, pid, "responses", {"kind": "progress", "body": "Done"})
    assert bad.status == 422 and "answer or a review note" in bad.field_error("kind")
    assert _audit(app, "proposal.respond")[-1][2]["body"] == "We look at it."  # only the fixture's
    page = _post(site, pid, "responses", {"kind": "review", "body": "Too costly for one district."})
    assert page.status == 200 and page.text("[role=status]") == "The response is published."
    assert "Too costly for one district." in page.text("#responses")
    public = site.get(f"/alpha/2026/proposals/{pid}")
    assert "Review note" in public.text("main") and "Too costly for one district." in public.text("main")
    assert [r["body"] for r in api.get(f"{BASE}/proposals/{pid}").get_json()["responses"]] == \
        ["Too costly for one district."]


# --- comments -----------------------------------------------------------------------------------

def test_hide_and_unhide_a_comment(app, api, ideas, staff):
    from pb_engine.store.tables import Comment

    site = _signed_in(app, staff)
    pid = ideas["Tree"]
    page = _proposal_page(site, pid)
    spam = next(c for c in page.soup.select("#comments .comment") if "spam.example" in c.get_text())
    cid = int(spam["id"].split("-")[1])
    refused = _post(site, pid, f"comments/{cid}/hide", {"reason": "  "})
    assert refused.status == 422
    box = refused.soup.select_one(f"#comment-{cid}")
    assert "Give the reason" in box.select_one(".field-error").get_text()
    assert _row(app, Comment, cid).hidden_at is None and _audit(app, "comment.hide") == []

    page = _post(site, pid, f"comments/{cid}/hide", {"reason": "Advertising"})
    assert page.status == 200 and page.text("[role=status]") == "The comment is hidden."
    box = page.soup.select_one(f"#comment-{cid}")
    assert "hidden" in box.select_one(".tag").get_text()
    assert "Advertising" in box.select_one(".hidden-reason").get_text()
    assert "spam.example" in box.get_text()  # staff still read it
    row = _row(app, Comment, cid)
    assert row.body == "Buy my pills at spam.example" and row.hidden_reason == "Advertising"
    assert _audit(app, "comment.hide") == [(f"comment:{cid}", {"hidden": False},
                                            {"hidden": True, "reason": "Advertising", "proposal": pid})]
    public = site.get(f"/alpha/2026/proposals/{pid}")
    assert "spam.example" not in public.html and "Great idea" in public.text("#comments")
    assert [c["body"] for c in api.get(f"{BASE}/proposals/{pid}/comments").get_json()] == ["Great idea"]
    again = _post(site, pid, f"comments/{cid}/hide", {"reason": "Twice"})  # the form is gone; a stale post
    assert again.status == 409 and _row(app, Comment, cid).hidden_reason == "Advertising"

    page = _post(site, pid, f"comments/{cid}/unhide", {})
    assert page.status == 200 and page.text("[role=status]") == "The comment is shown again."
    assert _row(app, Comment, cid).hidden_at is None
    assert _audit(app, "comment.unhide")[0][1]["reason"] == "Advertising"
    assert _post(site, pid, f"comments/{cid}/unhide", {}).status == 409
    assert len(api.get(f"{BASE}/proposals/{pid}/comments").get_json()) == 2
    other = ideas["Bench"]  # a comment of another proposal is not found under this one
    assert _post(site, other, f"comments/{cid}/hide", {"reason": "x"}).status == 404


# --- merging ------------------------------------------------------------------------------------

def test_merge_carries_endorsements_comments_and_authors(app, api, ideas, staff):
    from pb_engine.store.tables import Proposal

    site = _signed_in(app, staff)
    dup, target = ideas["Bike lanes on Main Street"], ideas["Bike lane"]
    page = _post(site, dup, "merge", {"into": str(target), "note": "Same street, same idea"}, follow=False)
    assert page.status == 303 and page.resp.headers["Location"].startswith(f"{QUEUE}/{target}?")
    page = site.get(page.resp.headers["Location"])
    assert page.text("[role=status]") == "The duplicate is merged into this proposal."
    d, t = _row(app, Proposal, dup), _row(app, Proposal, target)
    assert (d.status, d.merged_into_id, d.endorsement_count) == ("merged", target, 0)
    assert t.endorsement_count == 3  # bob, cyd + ada (cyd endorsed both: once)
    assert page.text(".authors") == "Authors: ada, bob"
    assert "Bike lanes on Main Street" in page.text(".merged-from")
    assert "Yes please" in page.text("#comments")
    (target_ref, before, after), = _audit(app, "proposal.merge")
    assert target_ref == f"proposal:{dup}"
    assert before["duplicate"]["status"] == "submitted" and before["target"]["endorsements"] == 2
    assert (after["endorsements_moved"], after["endorsers_of_both"], after["comments_moved"]) == (1, 1, 1)
    # The public side: the duplicate says where it went; the target lists both authors; the list drops it.
    gone = site.get(f"/alpha/2026/proposals/{dup}")
    link = gone.soup.select_one(".merged-into a")
    assert link["href"] == f"/alpha/2026/proposals/{target}" and link.get_text() == "Bike lane"
    assert "merged by the city into another idea with the same aim: Same street, same idea" in gone.text("ol.history")
    kept = site.get(f"/alpha/2026/proposals/{target}")
    assert kept.text(".authors") == "by ada, bob"
    assert "a duplicate idea was merged into this one" in kept.text("ol.history")
    listed = [p["id"] for p in api.get(f"{BASE}/proposals").get_json()["proposals"]]
    assert dup not in listed and target in listed
    assert [p["id"] for p in api.get(f"{BASE}/proposals?status=merged").get_json()["proposals"]] == [dup]
    assert "Bike lanes on Main Street" not in site.get("/alpha/2026/proposals").text("main")
    assert "Bike lanes on Main Street" not in _titles(site.get(QUEUE))
    assert _titles(site.get(f"{QUEUE}?status=merged")) == ["Bike lanes on Main Street"]
    # A merged proposal takes no review, endorsement or comment.
    merged_page = _proposal_page(site, dup)
    assert merged_page.soup.select_one("form[action$='/decision']") is None
    assert api.patch(f"{BASE}/proposals/{dup}", json={"status": "under_review"},
                     token=staff["alpha_manager"][2]).status_code == 409
    assert api.post(f"{BASE}/proposals/{dup}/endorsements", token=register(api, username="dee")).status_code == 409


def _merge_refused(app, site, dup, data, status, field, words):
    from pb_engine.store.tables import Endorsement, Proposal
    from sqlmodel import func, select

    def state():
        with app.extensions["pb_db"].session() as s:
            return (s.exec(select(Proposal.id, Proposal.status, Proposal.merged_into_id, Proposal.endorsement_count)
                           .order_by(Proposal.id)).all(),
                    s.exec(select(Endorsement.proposal_id, func.count()).group_by(Endorsement.proposal_id)
                           .order_by(Endorsement.proposal_id)).all())

    before, merges = state(), len(_audit(app, "proposal.merge"))
    page = _post(site, dup, "merge", data)
    assert page.status == status, (page.status, page.text("[role=alert]"))
    # A refusal about the duplicate itself ("proposal") is shown beside the one field of the form (or
    # alone, when the duplicate is merged already and has no merge form any more).
    shown = page.field_error("into") if page.soup.select_one('[name="into"]') else page.text("#merge [role=alert]")
    assert words in shown, shown
    assert page.soup.select_one(f"#{field}-error") is not None or not page.soup.select_one('[name="into"]')
    assert state() == before and len(_audit(app, "proposal.merge")) == merges


def test_merge_refusals_change_nothing(app, api, cities, ideas, staff):
    site = _signed_in(app, staff)
    dup = ideas["Bench"]
    _merge_refused(app, site, dup, {"into": ""}, 422, "into", "Choose the proposal")
    _merge_refused(app, site, dup, {"into": "abc"}, 422, "into", "Choose the proposal")
    _merge_refused(app, site, dup, {"into": "999999"}, 422, "into", "no proposal number 999999")
    _merge_refused(app, site, dup, {"into": str(dup)}, 422, "into", "cannot be merged into itself")
    # another round of the same city
    make_round(api, cities, slug="2027")
    advance_to(api, cities, "submission", round="2027")
    other = api.post("/api/v1/cities/alpha/rounds/2027/proposals", json={"title": "Elsewhere", "district": "north"},
                     token=register(api, username="eve")).get_json()["id"]
    _merge_refused(app, site, dup, {"into": str(other)}, 422, "into", "belongs to another round")
    # a target that is itself merged, a duplicate already merged
    assert _post(site, ideas["Bike lanes on Main Street"], "merge", {"into": str(ideas["Bike lane"])}).status == 200
    _merge_refused(app, site, dup, {"into": str(ideas["Bike lanes on Main Street"])}, 409, "into",
                   "is itself merged into proposal")
    _merge_refused(app, site, ideas["Bike lanes on Main Street"], {"into": str(dup)}, 409, "proposal",
                   "already merged")
    # a duplicate on the ballot
    admin = staff["alpha_manager"][2]
    assert api.patch(f"{BASE}/proposals/{ideas['Tree']}", json={"reviewed_cost": 5000, "feasible": True,
                                                                "status": "on_ballot"}, token=admin).status_code == 200
    _merge_refused(app, site, ideas["Tree"], {"into": str(dup)}, 409, "proposal", "on the ballot")
    # once voting started
    advance_to(api, cities, "voting")
    _merge_refused(app, site, dup, {"into": str(ideas["Fountain"])}, 409, "into", "Voting has started")


# --- roles and cities ----------------------------------------------------------------------------

def _csrf_of(site, path="/console/alpha"):
    return site.get(path).csrf()


POSTS = ("decision", "responses", "merge")


def test_viewer_and_clerk_read_but_every_post_is_refused(app, ideas, staff):
    from pb_engine.store.tables import Comment, Proposal

    pid = ideas["Tree"]
    for who in ("alpha_viewer", "alpha_clerk"):
        site = _signed_in(app, staff, who)
        page = _proposal_page(site, pid)
        assert page.soup.select("main form[method=post]") == []  # no form to fill in
        assert "reviewers and managers make the changes" in page.text(".read-only")
        assert "spam.example" in page.text("#comments")  # staff read hidden-able comments
        token = _csrf_of(site)
        cid = int(page.soup.select("#comments .comment")[1]["id"].split("-")[1])
        data = {"csrf_token": token, "reviewed_cost": "10", "feasible": "yes", "status": "rejected",
                "status_note": "x", "kind": "answer", "body": "x", "into": str(ideas["Bench"]), "reason": "x"}
        for action in (*POSTS, f"comments/{cid}/hide", f"comments/{cid}/unhide"):
            r = site.client.post(f"{QUEUE}/{pid}/{action}", data=data)
            assert r.status_code == 403, (who, action, r.status_code)
            assert "Your role does not allow this." in Page(r).text("main")
    p = _row(app, Proposal, pid)
    assert (p.status, p.reviewed_cost, p.merged_into_id) == ("submitted", None, None)
    with app.extensions["pb_db"].session() as s:
        from sqlmodel import select

        assert s.exec(select(Comment).where(Comment.hidden_at.is_not(None))).all() == []
    assert _audit(app, "proposal.review") == _audit(app, "proposal.merge") == _audit(app, "comment.hide") == []


def test_reviewer_of_another_city_gets_403_on_get_and_post(app, ideas, staff):
    from pb_engine.store.tables import Proposal

    site = _signed_in(app, staff, "beta_reviewer")
    pid = ideas["Tree"]
    for path in (QUEUE, f"{QUEUE}/{pid}", "/console/alpha/rounds/nope/review"):
        page = site.get(path)
        assert page.status == 403, path
        assert "Your staff account belongs to another city." in page.text("main")
    token = _csrf_of(site, "/console/beta")
    for action in POSTS:
        r = site.client.post(f"{QUEUE}/{pid}/{action}", data={"csrf_token": token, "into": str(ideas["Bench"]),
                                                             "status": "rejected", "status_note": "x",
                                                             "body": "x", "feasible": "no"})
        assert r.status_code == 403, action
    assert _row(app, Proposal, pid).status == "submitted"


def test_no_session_is_sent_to_sign_in_and_the_nav_shows_review(app, ideas, staff):
    site = Site(app.test_client())
    r = site.client.get(QUEUE)
    assert r.status_code == 303 and "/console/alpha/signin" in r.headers["Location"]
    site = _signed_in(app, staff, "alpha_viewer")
    dash = site.get("/console/alpha")
    assert QUEUE in [a["href"] for a in dash.soup.select("#round-2026 .round-tasks a")]
    nav = site.get(QUEUE).soup.select_one("nav.round-nav a[aria-current=page]")
    assert nav["href"] == QUEUE
    assert site.get("/console/alpha/rounds/nope/review").status == 404
    assert site.get(f"{QUEUE}/999999").status == 404


# --- languages ------------------------------------------------------------------------------------

def test_zh_tw_review_pages_meet_no_catalogue_miss(app, api, cities, ideas, staff):
    app.config["PB_I18N_STRICT"] = True
    site = _signed_in(app, staff, lang="zh-TW")
    pages = [site.get(QUEUE), site.get(f"{QUEUE}?q=bike&sort=relevance&needs_review=1&unanswered=1&feasibility=no"),
             _proposal_page(site, ideas["Tree"])]
    cid = int(pages[-1].soup.select("#comments .comment")[1]["id"].split("-")[1])
    pages.append(_post(site, ideas["Tree"], f"comments/{cid}/hide", {"reason": ""}))
    pages.append(_post(site, ideas["Tree"], f"comments/{cid}/hide", {"reason": "廣告"}))
    pages.append(_post(site, ideas["Tree"], "decision", {"reviewed_cost": "", "feasible": "unknown",
                                                         "status": "on_ballot", "status_note": "好"}))
    pages.append(_post(site, ideas["Tree"], "decision", {"reviewed_cost": "x", "feasible": "unknown",
                                                         "status": "submitted"}))
    pages.append(_post(site, ideas["Tree"], "decision", {"reviewed_cost": "", "feasible": "unknown",
                                                         "status": "rejected"}))
    pages.append(_post(site, ideas["Tree"], "responses", {"kind": "answer", "body": ""}))
    pages.append(_post(site, ideas["Tree"], "responses", {"kind": "answer", "body": "我們正在研究。"}))
    pages.append(_post(site, ideas["Bench"], "merge", {"into": str(ideas["Bench"])}))
    pages.append(_post(site, ideas["Bench"], "merge", {"into": ""}))
    pages.append(_post(site, ideas["Bike lanes on Main Street"], "merge", {"into": str(ideas["Bike lane"]),
                                                                            "note": "重複"}))
    pages.append(_post(site, ideas["Bench"], "merge", {"into": str(ideas["Bike lanes on Main Street"])}))
    pages.append(site.get(f"/alpha/2026/proposals/{ideas['Bike lanes on Main Street']}"))
    pages.append(site.get(f"/alpha/2026/proposals/{ideas['Bike lane']}"))
    pages.append(site.get(f"{QUEUE}?status=merged"))
    assert [p.status for p in pages] == [200, 200, 200, 422, 200, 409, 422, 422, 422, 200, 422, 422, 200, 409,
                                         200, 200, 200]
    assert all(p.soup.html["lang"] == "zh-TW" for p in pages)
    assert "審" in pages[0].text("h1")
    from api.console import NAV, ROUND_NAV

    with app.test_request_context("/"):  # other areas' entries in the navigation are theirs to translate
        others = {item.label() for item in (*NAV, *ROUND_NAV) if item.endpoint != "console.review_queue"}
    got = sorted(m for m in app.extensions.get("pb_i18n_misses", set()) if m[1] not in others)
    assert got == []
