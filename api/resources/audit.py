"""The audit log of a city (admins of that city only): who, what, when, before/after."""

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func
from sqlmodel import select

from api.auth import ADMIN, access, require_staff
from api.context import uow
from api.resources import _scope
from api.schemas.cities import AuditArgs, AuditPageSchema
from pb_engine.store.tables import AuditEvent, Round

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
        require_staff(s, c, ADMIN, private=True)
        query = select(AuditEvent).where(AuditEvent.city_id == c.id)
        slugs = {r.id: r.slug for r in s.exec(select(Round).where(Round.city_id == c.id))}
        if args.get("round"):
            ids = [i for i, slug in slugs.items() if slug == args["round"]]
            query = query.where(AuditEvent.round_id == (ids[0] if ids else -1))
        if args.get("action"):
            query = query.where(AuditEvent.action == args["action"])
        total = s.exec(select(func.count()).select_from(query.subquery())).one()
        page, per = args["page"], args["per_page"]
        rows = s.exec(query.order_by(AuditEvent.id.desc()).offset((page - 1) * per).limit(per))
        events = [{"id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "round": slugs.get(e.round_id),
                   "target": e.target, "before": e.before, "after": e.after} for e in rows]
        return {"events": events, "page": page, "per_page": per, "total": total}
