"""Verification codes for resident accounts (pb_engine.resident_codes): staff issue them, residents type one in."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from api import limits
from api.auth import RESIDENT_DESK, access, participant, require_staff
from api.context import uow
from api.resources import _scope
from api.schemas.cities import ResidentSchema
from api.schemas.common import Slug, Text
from api.security import code_seal_key
from pb_engine import resident_codes
from pb_engine.errors import Forbidden

blp = Blueprint("resident_codes", __name__, url_prefix="/api/v1/cities/<string:city>",
                description="Verification codes for resident accounts")


class IssueInSchema(Schema):
    count = fields.Integer(required=True, strict=True,
                           validate=validate.Range(min=1, max=resident_codes.MAX_PER_BATCH))
    district = Slug(metadata={"description": "the district a code verifies, if it names one"})


class IssuedSchema(Schema):
    district = fields.String(allow_none=True)
    codes = fields.List(fields.String(), metadata={"description": "shown this once; only keyed hashes are kept"})


class RedeemInSchema(Schema):
    code = Text(required=True, min_len=1, max_len=40)


@blp.route("/resident-codes")
class ResidentCodes(MethodView):
    @access(blp, "staff", RESIDENT_DESK)
    @blp.arguments(IssueInSchema)
    @blp.response(201, IssuedSchema)
    def post(self, data, city):
        """Issue verification codes (managers, reviewers, clerks); audited without the codes."""
        s = uow(write=True)
        c = _scope.city(s, city)
        me = require_staff(s, c, RESIDENT_DESK)
        codes = resident_codes.issue(s, c, count=data["count"], district=data.get("district"), staff_id=me.id,
                                     key=code_seal_key(), now=_scope.now())
        return {"district": data.get("district"), "codes": codes}


@blp.route("/residents/verify")
class ResidentVerifyByCode(MethodView):
    @limits.code_sign_in  # a wrong code (401) counts as a failed code sign-in from this address
    @access(blp, "participant")
    @blp.arguments(RedeemInSchema)
    @blp.response(200, ResidentSchema)
    def post(self, data, city):
        """Verify one's own resident account with a code the city issued."""
        s = uow(write=True)
        c = _scope.city(s, city)
        who = participant(s, c)
        if who.resident is None:
            raise Forbidden("a resident account verifies itself; a voter session has nothing to verify")
        return resident_codes.redeem(s, who.resident, data["code"], key=code_seal_key(), now=_scope.now())
