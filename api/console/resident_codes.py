"""Verification codes for resident accounts in the console (pb_engine.resident_codes): issue a batch for the
city or one district and print it. The codes are shown on the answer to the POST only, once: only keyed
hashes are kept, so a lost sheet is replaced by a new batch. The JSON twin is POST C/resident-codes."""

from __future__ import annotations

from flask import request

from api.auth import RESIDENT_DESK
from api.console import bp, nav
from api.console.helpers import city_and_staff, staff_view
from api.context import uow
from api.i18n import _
from api.pages.helpers import Form, form_values, now, render
from api.security import code_seal_key
from pb_engine import resident_codes as codes_svc
from pb_engine.errors import PBError, ValidationFailed

nav(80, "console.resident_codes", lambda: _("Resident verification"), RESIDENT_DESK)
MAX = 1000  # per batch from the console: a printable sheet


def _count(raw) -> int:
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 6 or not 1 <= int(text) <= MAX:
        raise ValidationFailed.field("count", _("Enter a whole number of codes, from 1 to %(max)s.", max=MAX))
    return int(text)


@bp.route("/<city>/residents/codes", methods=["GET", "POST"])
@staff_view(RESIDENT_DESK)
def resident_codes(city: str):
    c, me = city_and_staff(city, RESIDENT_DESK, write=request.method == "POST")
    if request.method == "GET":
        return render("console/resident_codes.html", city=c, me=me, form=Form.empty(count="50"), codes=None)
    values = form_values()
    try:
        district = (values.get("district") or "").strip() or None
        codes = codes_svc.issue(uow(), c, count=_count(values.get("count")), district=district, staff_id=me.id,
                                     key=code_seal_key(), now=now())
    except PBError as err:
        return render("console/resident_codes.html", err.status, city=c, me=me, form=Form.refused(err, values),
                      codes=None)
    return render("console/resident_codes.html", city=c, me=me, form=Form.empty(count="50"), codes=codes,
                  district=district)
