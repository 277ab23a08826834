"""A resident's journey on pages: sign up, send an idea (with field errors), endorse it past the
threshold, comment, edit; refusals shown beside the field with what was typed kept."""

import pytest

from apihelp import advance_to, make_round
from pagehelp import Site, sign_up

pytestmark = pytest.mark.db

ROUND = "/alpha/2026"


def signup(app, username, lang="en") -> Site:
    browser = Site(app.test_client(), lang=lang)
    page = sign_up(browser, username, display_name=username.title(), next=ROUND)
    assert page.status == 200 and page.text(".account").startswith(f"Signed in as {username.title()}")
    return browser


@pytest.fixture
def submission_round(api, cities):
    make_round(api, cities, threshold=2)
    advance_to(api, cities, "submission")


def test_signup_refusals_name_the_field_and_keep_the_input(site, submission_round):
    page = site.submit("/alpha/signup", {"username": "x", "display_name": "Ex", "password": "short", "password2": "short"})
    assert page.status == 422
    assert "3 to 64 letters" in page.field_error("username")
    assert page.value("display_name") == "Ex" and page.value("password") == ""  # a password is never echoed
    page = site.submit("/alpha/signup", {"username": "ada", "password": "long enough pw", "password2": "other one!"})
    assert page.status == 422 and page.field_error("password2") == "The two passwords differ."


def test_submit_endorse_past_threshold_comment_edit(app, site, submission_round):
    ada = signup(app, "ada")
    new = f"{ROUND}/proposals/new"
    page = ada.submit(new, {"title": "", "summary": "Shade for the playground", "district": "north",
                            "estimated_cost": "1500"})
    assert page.status == 422
    assert page.field_error("title") == "Give your idea a title."
    assert page.value("summary") == "Shade for the playground" and page.value("district") == "north"
    page = ada.submit(new, {"title": "Shade sails", "summary": "Shade for the playground", "district": "north",
                            "estimated_cost": "99999999"})
    assert page.status == 422 and "district budget" in page.field_error("estimated_cost")
    page = ada.submit(new, {"title": "Shade sails", "district": "north", "estimated_cost": "-5"})
    assert page.status == 422 and page.field_error("estimated_cost") == "The cost cannot be negative."

    page = ada.submit(new, {"title": "Shade sails", "summary": "Shade for the playground", "district": "north",
                            "estimated_cost": "1500", "categories": "parks"})
    assert page.status == 200 and page.text("h1") == "Shade sails"
    assert "Thank you: your idea has been sent." in page.text(".notice")
    figures = dict(zip(page.texts(".figures dt"), page.texts(".figures dd")))
    assert figures["Cost proposed by the author"] == "€1,500"
    assert figures["Cost after the city's review"] == "not reviewed yet"
    assert figures["Categories"] == "Parks"
    assert page.text("#endorsements p") == "0 of the 2 endorsements needed for the city's review."
    url = page.resp.request.path
    assert page.texts(".history li")[0].startswith("submitted")

    bob, cyd = signup(app, "bob"), signup(app, "cyd")
    page = bob.submit(url, {}, action=f"{url}/endorse")
    assert page.text("#endorsements p") == "1 of the 2 endorsements needed for the city's review."
    assert "You endorse this idea." in page.text("#endorsements")
    assert not bob.get(url).soup.select(f'form[action="{url}/endorse"]')  # the button is gone...
    page = bob.submit(url, {}, action=f"{url}/endorse")  # ...and a replayed form is refused
    assert page.status == 409 and "already endorsed" in page.text(".alert")
    assert page.text("#endorsements p") == "1 of the 2 endorsements needed for the city's review."

    page = cyd.submit(url, {}, action=f"{url}/endorse")
    assert page.text(".meta .status") == "under review"
    assert "reached the endorsements needed for review" in page.texts(".history li")[-1]

    page = cyd.submit(url, {"body": "Yes please, before summer."}, action=f"{url}/comments")
    assert page.texts(".comment p")[-1] == "Yes please, before summer."
    assert page.texts(".comment .meta strong")[-1] == "Cyd"


def test_author_edits_while_allowed_others_cannot(app, submission_round):
    ada = signup(app, "ada")
    page = ada.submit(f"{ROUND}/proposals/new", {"title": "Bike racks", "district": "south", "estimated_cost": "800"})
    url = page.resp.request.path
    assert "Edit your idea" in page.text("article")
    page = ada.submit(f"{url}/edit", {"title": "Covered bike racks", "district": "south", "estimated_cost": "900"})
    assert page.text("h1") == "Covered bike racks" and "Your changes are saved." in page.text(".notice")
    bob = signup(app, "bob")
    assert bob.get(url).text("article").count("Edit your idea") == 0
    page = bob.get(f"{url}/edit")
    assert page.status == 403 and page.text(".alert") == "You are not allowed to use this page."


def test_anonymous_and_forged_forms_change_nothing(app, site, submission_round, api):
    ada = signup(app, "ada")
    page = ada.submit(f"{ROUND}/proposals/new", {"title": "Benches", "district": "south"})
    url = page.resp.request.path
    assert "Sign in to endorse this idea" in site.get(url).text("#endorsements")
    page = site.submit("/alpha/signin", {}, action=f"{url}/endorse")  # a valid token, but nobody signed in
    assert page.status == 401 and "Sign in first" in page.text(".alert")
    # No CSRF token: refused before anything is read, and the count does not move.
    resp = ada.client.post(f"{url}/endorse", data={})
    assert resp.status_code == 400 and "This form has expired" in resp.get_data(as_text=True)
    pid = int(url.rsplit("/", 1)[1])
    assert api.get(f"/api/v1/cities/alpha/rounds/2026/proposals/{pid}").get_json()["endorsements"] == 0


def test_submitting_outside_the_submission_phase_says_why(app, api, cities):
    make_round(api, cities)
    advance_to(api, cities, "submission")
    ada = signup(app, "ada")
    advance_to(api, cities, "endorsement")
    page = ada.submit(f"{ROUND}/proposals/new", {"title": "Late idea", "district": "north"})
    assert page.status == 409 and "submission is not open" in page.text(".alert")
    assert page.value("title") == "Late idea"


def test_an_account_of_one_city_is_nobody_in_another(app, api, cities):
    """Resident accounts are per city: alpha's sign-in cookie does not act in beta's round."""
    make_round(api, cities, city="beta", threshold=2)
    advance_to(api, cities, "submission", city="beta")
    make_round(api, cities, threshold=2)
    advance_to(api, cities, "submission")
    ada = signup(app, "ada")
    page = ada.submit("/beta/2026/proposals/new", {"title": "Not mine to send", "district": "north"})
    assert page.status == 401 and "Sign in first" in page.text(".alert")
    assert "Signed in as" not in ada.get("/beta/2026").text(".account")
    assert api.get("/api/v1/cities/beta/rounds/2026/proposals").get_json()["total"] == 0
