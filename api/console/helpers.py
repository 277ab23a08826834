"""What every console view needs: the city of the URL and the staff member signed in to it."""

from __future__ import annotations

from flask import request, session as cookie, url_for

from api.auth import READ, staff_in_console
from api.context import STAFF_KEY, cookie_staff_id, remember_scope, uow
from api.i18n import _
from api.resources import _scope
from pb_engine.errors import Forbidden, PBError


class NeedsSignIn(PBError):
    """No console session for this city: the view answers with a redirect to the sign-in page."""

    status = 401
    code = "sign_in"


def city_and_staff(city: str, roles=READ, *, write: bool = False):
    """(City row, StaffUser) of the URL; raises NeedsSignIn or Forbidden (the 403 page)."""
    c, staff = staff_of(uow(write=write), city, roles)
    remember_scope(city=c)
    return c, staff


def staff_of(s, city: str, roles):
    """(City row, StaffUser) of the URL read in session `s`; raises NeedsSignIn or Forbidden."""
    c = _scope.city(s, city)
    staff = staff_in_console(s, c)
    if staff is None:
        if cookie_staff_id(c.id) is None and cookie.get(STAFF_KEY):
            # Signed in to the console of another city only: that account cannot act here. (A session
            # of this city whose account was deactivated just signs in again.)
            raise Forbidden(_("Your staff account belongs to another city."))
        raise NeedsSignIn("sign in first")
    if staff.role not in roles:
        raise Forbidden(_("Your role does not allow this."))
    return c, staff


def signin_url(city: str) -> str:
    return url_for("console.signin", city=city, next=request.full_path.rstrip("?"))


def staff_view(roles):
    """Mark a console view with the roles it admits; the view still calls city_and_staff(city, roles).

    tests/console/test_route_roles.py walks every console endpoint and checks, for each role of a
    city and for staff of another city, that exactly these roles get in (others: 403).
    """
    def mark(view):
        view.console_roles = tuple(roles)
        return view
    return mark
