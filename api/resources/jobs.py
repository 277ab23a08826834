"""GET /api/v1/jobs/<id>: a background job's state and progress (pb_engine.jobs)."""

from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import READ, access, require_staff
from api.context import uow
from api.long_work import job_json
from api.schemas.jobs import JobSchema
from pb_engine import jobs
from pb_engine.store.tables import City

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs", description="Background jobs: state and progress")


@blp.route("/<string:job_id>")
class JobView(MethodView):
    @access(blp, "staff-private", READ)
    @blp.response(200, JobSchema)
    def get(self, job_id):
        """A job's state (queued, running, done, failed), progress (done of total) and result. A city's job
        (a count of its round) is private to the city's staff: others get 404, as for a draft outcome."""
        s = uow()
        info = jobs.status(s, job_id)
        city = s.get(City, info.city_id) if info.city_id else None
        if city is not None:
            require_staff(s, city, READ, private=True)
        return job_json(info, city.slug if city else None)
