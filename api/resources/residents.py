"""Resident accounts: register and log in (a token for submitting, endorsing, commenting)."""

from flask.views import MethodView
from flask_smorest import Blueprint

from api import limits
from api.auth import READ, RESIDENT_DESK, access, require_staff, secret_key
from api.context import uow
from api.resources import _scope
from api.schemas.cities import (LoginResultSchema, ResidentLoginSchema, ResidentRegisterSchema, ResidentSchema,
                                ResidentVerifySchema)
from pb_engine import residents

blp = Blueprint("residents", __name__, url_prefix="/api/v1/cities/<string:city>", description="Resident accounts")


@blp.route("/residents")
class Residents(MethodView):
    @limits.sign_up
    @access(blp, "public")
    @blp.arguments(ResidentRegisterSchema)
    @blp.response(201, ResidentSchema)
    def post(self, data, city):
        """Register a resident account (password stored hashed)."""
        s = uow(write=True)
        c = _scope.city(s, city)
        return residents.register(s, c, username=data["username"], password=data["password"],
                                  display_name=data.get("display_name"), district=data.get("district"))


@blp.route("/residents/login")
class ResidentLogin(MethodView):
    @limits.resident_sign_in
    @access(blp, "public")
    @blp.arguments(ResidentLoginSchema)
    @blp.response(200, LoginResultSchema)
    def post(self, data, city):
        """Log in: a bearer token for resident actions."""
        s = uow()
        c = _scope.city(s, city)
        r = residents.authenticate(s, c, data["username"], data["password"])
        return {"token": residents.issue_token(r, secret_key()), "resident": r}


@blp.route("/residents/<string:username>")
class ResidentView(MethodView):
    @access(blp, "staff-private")
    @blp.response(200, ResidentSchema)
    def get(self, city, username):
        """A resident account (city staff)."""
        s = uow()
        c = _scope.city(s, city)
        require_staff(s, c, READ, private=True)
        return residents.by_username(s, c, username)

    @access(blp, "staff")
    @blp.arguments(ResidentVerifySchema)
    @blp.response(200, ResidentSchema)
    def patch(self, data, city, username):
        """Verify a resident's district (city staff): a verified resident may open a voter session. Audited."""
        s = uow()
        c = _scope.city(s, city)
        me = require_staff(s, c, RESIDENT_DESK)
        r = residents.by_username(s, c, username)
        return residents.verify(s, r, staff=me, district=data.get("district"), verified=data["verified"])
