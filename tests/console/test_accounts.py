"""Console accounts: passwords (argon2, never in clear), sign-in and its audit, the one-time link,
CSRF on every form, and the role and city a console session may act in."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from consolehelp import PASSWORD, sign_in
from sqlmodel import select

from pb_engine.staff import SETUP_DAYS, issue_setup_link, staff_by_setup_token
from pb_engine.store.tables import AuditEvent, StaffUser
from pb_engine.store.types import utcnow

pytestmark = pytest.mark.db


def _row(app, staff_id):
    with app.extensions["pb_db"].session() as s:
        row = s.get(StaffUser, staff_id)
        s.expunge(row)
        return row


def _audit(app, action):
    with app.extensions["pb_db"].session() as s:
        return [(e.actor, e.target, e.after) for e in s.exec(select(AuditEvent).where(AuditEvent.action == action)
                                                             .order_by(AuditEvent.id))]


def test_password_is_stored_as_argon2_hash_only(app, staff):
    row = _row(app, staff["alpha_viewer"][0])
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash


def test_sign_in_right_password_opens_the_dashboard(site, staff):
    _id, name, _t = staff["alpha_reviewer"]
    page = sign_in(site, "alpha", name)
    assert page.status == 200 and page.text("h1") == "Dashboard of Alpha"
    assert page.text(".role") == f"Signed in as {name} · reviewer"


def test_wrong_password_is_refused_and_audited_without_the_password(app, site, staff):
    staff_id, name, _t = staff["alpha_manager"]
    page = sign_in(site, "alpha", name, password="not the password at all")
    assert page.status == 401 and page.text('[role="alert"]') == "Wrong name or password."
    assert page.value("username") == name and page.soup.select_one('[name="password"]').get("value") is None
    page = sign_in(site, "alpha", "nobody of that name", password="whatever it is")
    assert page.status == 401
    rows = _audit(app, "staff.signin_failed")
    assert rows == [("anonymous", f"staff:{staff_id}", {"name": name}),
                    ("anonymous", "", {"name": "nobody of that name"})]
    assert "not the password" not in repr(rows) and "whatever" not in repr(rows)
    assert site.get("/console/alpha").text("h1") == "Staff console of Alpha"  # still signed out


def test_another_citys_password_does_not_sign_in(site, staff):
    _id, name, _t = staff["beta_manager"]
    assert sign_in(site, "alpha", name).status == 401


def test_dashboard_without_session_sends_to_sign_in_and_back(site, staff):
    resp = site.client.get("/console/alpha")
    assert resp.status_code == 303 and "/console/alpha/signin?next=/console/alpha" in resp.headers["Location"]


def test_sign_out_ends_the_session(site, staff):
    sign_in(site, "alpha", staff["alpha_clerk"][1])
    page = site.submit("/console/alpha", {}, action="/console/alpha/signout")
    assert page.text("h1") == "Staff console of Alpha"
    assert site.client.get("/console/alpha").status_code == 303


def test_set_password_link_works_once(app, site, cities):
    from pb_engine.cli import main

    out = CliRunner().invoke(main, ["staff", "create", "--city", "alpha", "--role", "clerk", "--name", "Carla",
                                    "--database", app.config["DATABASE_URL"]])
    assert out.exit_code == 0, out.output
    assert out.stdout.strip().splitlines()[-1].startswith("pbs_")  # the bearer token stays the last line
    link = re.search(r"/console/set-password/pbp_[\w-]+", out.stderr).group(0)
    assert f"valid {SETUP_DAYS} days" in out.stderr
    page = site.submit(link, {"password": "short", "password2": "short"})
    assert page.status == 422 and "at least 10 characters" in page.field_error("password")
    page = site.submit(link, {"password": "carla's new password", "password2": "not the same one"})
    assert page.status == 422 and page.field_error("password2") == "The two passwords differ."
    page = site.submit(link, {"password": "carla's new password", "password2": "carla's new password"})
    assert page.status == 200 and page.text("h1") == "Dashboard of Alpha"  # signed in at once
    again = site.get(link)
    assert again.status == 404 and again.text("h1") == "This link is not valid"
    other = type(site)(app.test_client())
    assert sign_in(other, "alpha", "Carla", "carla's new password").text("h1") == "Dashboard of Alpha"
    assert _audit(app, "staff.password_set")[-1][0].startswith("staff:")


def test_set_password_link_expires(app, staff):
    staff_id = staff["alpha_viewer"][0]
    with app.extensions["pb_db"].session() as s:
        row = s.get(StaffUser, staff_id)
        token = issue_setup_link(s, row, now=utcnow(), actor="test")
        assert staff_by_setup_token(s, token, utcnow()).id == staff_id
        from datetime import timedelta

        assert staff_by_setup_token(s, token, utcnow() + timedelta(days=SETUP_DAYS, seconds=1)) is None
        assert staff_by_setup_token(s, token + "x", utcnow()) is None


def test_change_password(app, site, staff):
    _id, name, _t = staff["alpha_viewer"]
    sign_in(site, "alpha", name)
    page = site.submit("/console/alpha/password", {"current": "wrong one here", "password": "the next password",
                                                   "password2": "the next password"})
    assert page.status == 422 and page.field_error("current") == "this is not your current password"
    page = site.submit("/console/alpha/password", {"current": PASSWORD, "password": "the next password",
                                                   "password2": "the next password"})
    assert page.text('[role="status"]') == "Your password has been changed."
    other = type(site)(app.test_client())
    assert sign_in(other, "alpha", name).status == 401
    assert sign_in(other, "alpha", name, "the next password").status == 200


def test_console_forms_need_csrf(app, staff):
    """The console session is a cookie: a POST without the form's token is refused, whatever the form."""
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    from pagehelp import Site

    site = Site(client)
    sign_in(site, "alpha", staff["alpha_manager"][1])
    for path, body in [("/console/alpha/password", {"current": PASSWORD, "password": "x" * 12, "password2": "x" * 12}),
                       ("/console/alpha/signout", {}),
                       ("/console/alpha/signin", {"username": staff["alpha_manager"][1], "password": PASSWORD})]:
        resp = client.post(path, data=body)
        assert resp.status_code == 400, path
    assert site.get("/console/alpha").text("h1") == "Dashboard of Alpha"  # still signed in
    assert sign_in(Site(app.test_client()), "alpha", staff["alpha_manager"][1], "x" * 12).status == 401


def test_staff_of_one_city_cannot_open_anothers_console(site, api, staff):
    sign_in(site, "alpha", staff["alpha_reviewer"][1])
    page = site.get("/console/beta")
    assert page.status == 403 and page.text("h1") == "Not allowed"
    assert "another city" in page.text('[role="alert"]')
    assert site.get("/console/beta/password").status == 403
    token = staff["alpha_reviewer"][2]
    assert api.get("/api/v1/cities/beta/audit", token=token).status_code == 404
    assert api.get("/api/v1/cities/beta/residents/anyone", token=token).status_code == 404
    assert api.post("/api/v1/cities/beta/rounds", json={}, token=token).status_code in (403, 422)


def test_console_cookie_is_no_bearer_for_the_json_api(site, api, staff):
    """A console session does not make a browser a staff caller of the JSON API."""
    sign_in(site, "alpha", staff["alpha_manager"][1])
    resp = site.client.get("/api/v1/cities/alpha/audit")
    assert resp.status_code == 404


def test_a_deactivated_account_is_signed_out(app, site, staff):
    from pb_engine.staff import deactivate

    staff_id, name, _t = staff["alpha_clerk"]
    sign_in(site, "alpha", name)
    with app.extensions["pb_db"].session() as s:
        deactivate(s, s.get(StaffUser, staff_id), actor="test")
    resp = site.client.get("/console/alpha")
    assert resp.status_code == 303 and "/console/alpha/signin" in resp.headers["Location"]
    assert sign_in(site, "alpha", name).status == 401


def test_staff_sign_in_locks_the_account_after_failed_passwords_and_audits_it(app, site, staff):
    # Staff passwords open a city's console: the same per-account limit as residents', counting refusals only.
    app.config["PB_LIMIT_LOGIN_PER_ACCOUNT"] = "3 per hour"
    _id, name, _t = staff["alpha_manager"]
    for _ in range(3):
        assert sign_in(site, "alpha", name, password="not the password at all").status == 401
    page = sign_in(site, "alpha", name)  # the right password, too late
    assert page.status == 429 and page.text("h1") == "Too many attempts"
    assert int(page.resp.headers["Retry-After"]) > 0
    lockouts = _audit(app, "auth.lockout")
    assert len(lockouts) == 1 and PASSWORD not in repr(lockouts)
    other_id, other, _t = staff["alpha_reviewer"]
    assert sign_in(site, "alpha", other).status == 200  # another account is not locked by it
