"""The audit log of a city (admins of that city only): who, what, when, before/after."""

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import MANAGER, access, require_staff
from api.context import uow
from api.resources import _scope
from api.schemas.cities import AuditArgs, AuditPageSchema
from pb_engine.queries.audit import audit_page

blp = Blueprint("audit", __name__, url_prefix="/api/v1/cities/<string:city>", description="Audit log (city admins)")


@blp.route("/audit")
class Audit(MethodView):
    @access(blp, "admin-private")
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, args, city):
        """Audit events, newest first; filter by round slug or action."""
        s = uow()
        c = _scope.city(s, city)
        require_staff(s, c, MANAGER, private=True)
        found = audit_page(s, c, round_slug=args.get("round"), action=args.get("action"), page=args["page"],
                           per_page=args["per_page"])
        events = [{"id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "round": e.round_slug,
                   "target": e.target, "before": e.before, "after": e.after} for e in found.events]
        return {"events": events, "page": found.page, "per_page": found.per_page, "total": found.total}
