"""Resident accounts (sign up, sign in, sign out) and the language switch."""

from __future__ import annotations

from flask import make_response, redirect, request, url_for

from api import limits
from api.auth import participant, secret_key
from api.context import cookie_resident_token, sign_in_resident, sign_out, uow
from api.i18n import COOKIE, _from_tag
from api.pages import bp
from api.mail import send_sign_up
from api.pages.helpers import Form, form_values, now, render, safe_next
from api.resources import _scope
from api.security import code_seal_key
from pb_engine import resident_codes, residents
from pb_engine.errors import PBError


@bp.route("/lang/<tag>")
def set_language(tag: str):
    """The language switch: remembered in a cookie, then back to the page the visitor was on."""
    target = safe_next(request.args.get("next"), url_for("pages.home"))
    resp = make_response(redirect(target, 303))
    lang = _from_tag(tag)
    if lang:
        resp.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return resp


@bp.route("/<city>/signup", methods=["GET", "POST"])
@limits.sign_up
def signup(city: str):
    """Sign up: the same page answers a free and a taken name ("check your e-mail"); the mail tells which."""
    c = _scope.city(uow(write=request.method == "POST"), city)
    nxt = safe_next(request.values.get("next"), url_for("pages.home"))
    if request.method == "GET":
        return render("signup.html", city=c, form=Form.empty(), next=nxt)
    values = form_values()
    try:
        if values.get("password") != values.get("password2"):
            from api.i18n import _
            from pb_engine.errors import ValidationFailed

            raise ValidationFailed.field("password2", _("The two passwords differ."))
        result = residents.sign_up(uow(), c, username=(values.get("username") or "").strip(),
                                   password=values.get("password") or "", email=values.get("email") or "",
                                   display_name=(values.get("display_name") or "").strip() or None,
                                   district=(values.get("district") or "").strip() or None, now=now())
        uow().flush()
    except PBError as err:
        values.pop("password", None)
        values.pop("password2", None)
        return render("signup.html", err.status, city=c, form=Form.refused(err, values), next=nxt)
    send_sign_up(c, result, next=nxt if nxt != url_for("pages.home") else None)
    return render("signup_sent.html", city=c, email=result.email)


@bp.route("/<city>/signup/<token>", methods=["GET", "POST"])
def signup_confirm(city: str, token: str):
    """The e-mailed link. GET only shows a button (mail scanners open links), its POST finishes and signs in."""
    c = _scope.city(uow(write=request.method == "POST"), city)
    nxt = safe_next(request.values.get("next"), url_for("pages.home"))
    if request.method == "GET":
        return render("signup_confirm.html", city=c, token=token, next=nxt)
    try:
        r = residents.confirm(uow(), c, token, now())
    except PBError as err:
        return render("signup_confirm.html", err.status, city=c, token=None, refused=True)
    sign_in_resident(c.id, residents.issue_token(r, secret_key()))
    return redirect(nxt, 303)


@bp.route("/<city>/verify", methods=["GET", "POST"])
@limits.code_sign_in  # a wrong code counts as a failed code sign-in, with the vote page's and the API's
def verify_account(city: str):
    """A signed-in resident types the verification code the city gave them (pb_engine.resident_codes)."""
    c = _scope.city(uow(write=request.method == "POST"), city)
    who = participant(uow(), c, required=False) if cookie_resident_token(c.id) else None
    if who is None or who.resident is None:
        return redirect(url_for("pages.signin", city=c.slug, next=request.path), 303)
    if request.method == "GET":
        return render("verify.html", city=c, resident=who.resident, form=Form.empty())
    values = form_values()
    try:
        resident_codes.redeem(uow(), who.resident, values.get("code") or "", key=code_seal_key(), now=now())
    except PBError as err:
        return render("verify.html", err.status, city=c, resident=who.resident, form=Form.refused(err, values))
    return render("verify.html", city=c, resident=who.resident, form=Form.empty(), done=True)


@bp.route("/<city>/signin", methods=["GET", "POST"])
@limits.resident_sign_in
def signin(city: str):
    c = _scope.city(uow(), city)
    nxt = safe_next(request.values.get("next"), url_for("pages.home"))
    if request.method == "GET":
        return render("signin.html", city=c, form=Form.empty(), next=nxt)
    values = form_values()
    try:
        r = residents.authenticate(uow(), c, (values.get("username") or "").strip(), values.get("password") or "")
    except PBError as err:
        values.pop("password", None)
        return render("signin.html", err.status, city=c, form=Form.refused(err, values), next=nxt)
    sign_in_resident(c.id, residents.issue_token(r, secret_key()))
    return redirect(nxt, 303)


@bp.route("/signout", methods=["POST"])
def signout():
    sign_out()
    return redirect(safe_next(request.form.get("next"), url_for("pages.home")), 303)
