"""Console accounts: sign in and out with a password, set it once from a link, change it."""

from __future__ import annotations

from flask import redirect, request, url_for

from api import limits
from api.console import bp
from api.console.helpers import NeedsSignIn, city_and_staff, signin_url, staff_view
from api.context import remember_scope, sign_in_staff, sign_out_staff, uow
from api.i18n import _
from api.pages.helpers import Form, form_values, now, render, safe_next
from api.resources import _scope
from pb_engine import staff as staff_mod
from pb_engine.errors import PBError, ValidationFailed


@bp.errorhandler(NeedsSignIn)
def _needs_sign_in(_err):
    return redirect(signin_url((request.view_args or {}).get("city", "")), 303)


def _same_twice(values) -> None:
    if values.get("password") != values.get("password2"):
        raise ValidationFailed.field("password2", _("The two passwords differ."))


@bp.route("/<city>/signin", methods=["GET", "POST"])
@limits.resident_sign_in  # per city/name and per address, counting refusals (401) only
def signin(city: str):
    c = _scope.city(uow(write=request.method == "POST"), city)
    remember_scope(city=c)
    nxt = safe_next(request.values.get("next"), url_for("console.dashboard", city=c.slug))
    if request.method == "GET":
        return render("console/signin.html", city=c, form=Form.empty(), next=nxt)
    values = form_values()
    values.pop("password", None)
    try:
        st = staff_mod.authenticate(uow(), c, values.get("username") or "", request.form.get("password") or "")
    except PBError as err:
        # The refusal rolls the request back; the audit row of the failed attempt must stay.
        uow().commit()
        return render("console/signin.html", err.status, city=c, next=nxt,
                      form=Form(values, {}, _("Wrong name or password.")))
    sign_in_staff(c.id, st.id)
    return redirect(nxt, 303)


@bp.route("/<city>/signout", methods=["POST"])
def signout(city: str):
    c = _scope.city(uow(), city)
    sign_out_staff(c.id)
    return redirect(url_for("console.signin", city=c.slug), 303)


@bp.route("/<city>/password", methods=["GET", "POST"])
@staff_view(staff_mod.ROLES)
def password(city: str):
    c, st = city_and_staff(city, staff_mod.ROLES, write=request.method == "POST")
    if request.method == "GET":
        return render("console/password.html", city=c, me=st, form=Form.empty(), done=request.args.get("done"))
    values = form_values()
    try:
        _same_twice(values)
        staff_mod.change_password(uow(), st, values.get("current") or "", values.get("password") or "")
    except PBError as err:
        return render("console/password.html", err.status, city=c, me=st, done=None,
                      form=Form.refused(err, {}))
    return redirect(url_for("console.password", city=c.slug, done=1), 303)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    s = uow(write=request.method == "POST")
    st = staff_mod.staff_by_setup_token(s, token, now())
    if st is None:
        return render("console/link_used.html", 404)
    c = staff_mod.city_of(s, st)
    remember_scope(city=c)
    if request.method == "GET":
        return render("console/set_password.html", city=c, me=st, form=Form.empty())
    values = form_values()
    try:
        _same_twice(values)
        staff_mod.set_password(s, st, values.get("password") or "", actor=f"staff:{st.id}")
    except PBError as err:
        return render("console/set_password.html", err.status, city=c, me=st, form=Form.refused(err, {}))
    sign_in_staff(c.id, st.id)
    return redirect(url_for("console.dashboard", city=c.slug), 303)
