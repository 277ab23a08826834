"""Resident accounts: register and log in (a token for submitting, endorsing, commenting)."""

from flask.views import MethodView
from flask_smorest import Blueprint

from api import limits
from api.auth import READ, RESIDENT_DESK, access, require_staff, secret_key
from api.context import uow
from api.resources import _scope
from api.resources._links import SAME_CITY, bearer, links, op
from api.mail import send_sign_up
from api.schemas.cities import (LoginResultSchema, ResidentConfirmSchema, ResidentLoginSchema, ResidentRegisterSchema,
                                ResidentSchema, ResidentVerifySchema, SignUpResultSchema)
from pb_engine import residents

SIGN_UP_ANSWER = ("check your e-mail: if the username was free, the mail holds a link that finishes the sign-up "
                  "(valid 48 hours); if it was taken, the mail says so")

RESIDENT = "/api/v1/cities/{city}/residents/{username}"
blp = Blueprint("residents", __name__, url_prefix="/api/v1/cities/<string:city>", description="Resident accounts")


@blp.route("/residents")
class Residents(MethodView):
    @limits.sign_up
    @access(blp, "public")
    @blp.arguments(ResidentRegisterSchema)
    @blp.response(202, SignUpResultSchema)
    def post(self, data, city):
        """Ask for a resident account: the answer is the same whether the username is free or taken. A mail
        goes to `email`: with a link that finishes the sign-up (POST /residents/confirm, or the page it
        opens), or saying that the name is taken. Until the link is opened the account cannot sign in."""
        s = uow(write=True)
        c = _scope.city(s, city)
        result = residents.sign_up(s, c, username=data["username"], password=data["password"], email=data["email"],
                                   display_name=data.get("display_name"), district=data.get("district"),
                                   now=_scope.now())
        send_sign_up(c, result)
        return {"status": "check_email", "message": SIGN_UP_ANSWER}


# Where a resident's token (a confirmed sign-up or a login) leads: the account's staff views (by username),
# a voter session and a proposal (with the token as bearer). A function: each answer gets its own dicts.
def signed_in_links() -> dict:
    return dict(
        account=op("GET", RESIDENT, username="$response.body#/resident/username", **SAME_CITY),  # staff
        verify=op("PATCH", RESIDENT, username="$response.body#/resident/username", **SAME_CITY),  # staff
        sign_in_to_vote=op("POST", "/api/v1/cities/{city}/rounds/{round}/voter-sessions", **SAME_CITY,
                           headers=bearer("$response.body#/token")),
        propose=op("POST", "/api/v1/cities/{city}/rounds/{round}/proposals", **SAME_CITY,
                   headers=bearer("$response.body#/token")))


@blp.route("/residents/confirm")
class ResidentConfirm(MethodView):
    @access(blp, "public")  # no limit needed: a link's token is 256 random bits, no guess will find one
    @blp.arguments(ResidentConfirmSchema)
    @blp.response(200, LoginResultSchema)
    @links(200, **signed_in_links())
    def post(self, data, city):
        """Finish a sign-up with the token of the e-mailed link: the account is active, and here is its token."""
        s = uow(write=True)
        c = _scope.city(s, city)
        r = residents.confirm(s, c, data["token"], _scope.now())
        return {"token": residents.issue_token(r, secret_key()), "resident": r}


@blp.route("/residents/login")
class ResidentLogin(MethodView):
    @limits.resident_sign_in
    @access(blp, "public")
    @blp.arguments(ResidentLoginSchema)
    @blp.response(200, LoginResultSchema)
    @links(200, **signed_in_links())
    def post(self, data, city):
        """Log in: a bearer token for resident actions."""
        s = uow()
        c = _scope.city(s, city)
        r = residents.authenticate(s, c, data["username"], data["password"])
        return {"token": residents.issue_token(r, secret_key()), "resident": r}


@blp.route("/residents/<string:username>")
class ResidentView(MethodView):
    @access(blp, "staff-private", READ)
    @blp.response(200, ResidentSchema)
    def get(self, city, username):
        """A resident account (city staff)."""
        s = uow()
        c = _scope.city(s, city)
        require_staff(s, c, READ, private=True)
        return residents.by_username(s, c, username)

    @access(blp, "staff", RESIDENT_DESK)
    @blp.arguments(ResidentVerifySchema)
    @blp.response(200, ResidentSchema)
    def patch(self, data, city, username):
        """Verify a resident's district (city staff): a verified resident may open a voter session. Audited."""
        s = uow()
        c = _scope.city(s, city)
        me = require_staff(s, c, RESIDENT_DESK)
        r = residents.by_username(s, c, username)
        return residents.verify(s, r, staff=me, district=data.get("district"), verified=data["verified"])
