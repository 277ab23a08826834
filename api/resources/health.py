"""GET /healthz: the process is up and its database answers (for load balancers)."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from api.context import database
from pb_engine import __version__

blp = Blueprint("health", __name__, description="Liveness and database check")


class HealthSchema(Schema):
    status = fields.String(required=True)
    database = fields.String(required=True)
    version = fields.String(required=True)


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    def get(self):
        db = database()
        db.ping()
        return {"status": "ok", "database": db.dialect, "version": __version__}
