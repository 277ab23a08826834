"""GET /api/v1/rules: every allocation rule's descriptor, as `pb-engine rules --json` prints it."""

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import access
from api.schemas.outcomes import RuleDescriptorSchema
from pb_engine.allocation.registry import descriptors_json

blp = Blueprint("rules", __name__, url_prefix="/api/v1", description="Allocation rules and their options")


@blp.route("/rules")
class Rules(MethodView):
    @access(blp, "public")
    @blp.response(200, RuleDescriptorSchema(many=True))
    def get(self):
        """The rules a round can use: id, name, ballot kinds, options (type, default, allowed values)."""
        return descriptors_json()
