"""Staff of a city (admins only): list and add; a new token is shown once."""

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import MANAGER, access, actor, require_staff
from api.context import uow
from api.resources import _scope
from api.resources._links import SAME_CITY, bearer, links, op
from api.schemas.cities import StaffCreateSchema, StaffSchema
from pb_engine import staff as staff_mod

blp = Blueprint("staff", __name__, url_prefix="/api/v1/cities/<string:city>", description="City staff (admins)")


@blp.route("/staff")
class StaffList(MethodView):
    @access(blp, "admin-private", MANAGER)
    @blp.response(200, StaffSchema(many=True))
    def get(self, city):
        """Staff of this city (never their tokens)."""
        s = uow()
        c = _scope.city(s, city)
        require_staff(s, c, MANAGER, private=True)
        return staff_mod.list_staff(s, c)

    @access(blp, "admin", MANAGER)
    @blp.arguments(StaffCreateSchema)
    @blp.response(201, StaffSchema)
    @links(201, staff_list=op("GET", "/api/v1/cities/{city}/staff", **SAME_CITY, headers=bearer("$response.body#/token")))
    def post(self, data, city):
        """Add a staff member; the answer holds its token, shown this once."""
        s = uow()
        c = _scope.city(s, city)
        me = require_staff(s, c, MANAGER)
        st, token = staff_mod.create_staff(s, c, name=data["name"], role=data["role"], actor=actor(me))
        return {"id": st.id, "name": st.name, "role": st.role, "active": st.active, "created_at": st.created_at,
                "token": token}
