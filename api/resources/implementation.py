"""Implementation progress of funded projects: updates per proposal (public to read, reviewers and managers
post) and the round's overview (public)."""

from __future__ import annotations

import base64
import binascii

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import REVIEW, access, require_staff
from api.context import uow
from api.resources import _scope
from api.schemas.implementation import OverviewSchema, UpdateInSchema, UpdateSchema
from pb_engine import implementation as svc
from pb_engine.errors import ValidationFailed
from pb_engine.money import major_json
from pb_engine.queries import implementation as queries

blp = Blueprint("implementation", __name__, url_prefix="/api/v1/cities/<string:city>/rounds/<string:round>",
                description="Implementation: progress updates of funded projects")


def _major(minor, currency):
    return None if minor is None else major_json(minor, currency)


def update_json(u: queries.UpdateItem, c, rnd) -> dict:
    from zoneinfo import ZoneInfo

    return {
        "id": u.id, "proposal": u.proposal_id, "status": u.status, "percent_done": u.percent_done,
        "spent": _major(u.spent, c.currency), "on_date": u.on_date.astimezone(ZoneInfo(c.timezone)).date().isoformat(),
        "note": u.note, "photo_type": u.photo_type, "created_at": u.created_at,
        "photo_url": url_for("pages.implementation_photo", city=c.slug, round=rnd.slug, update_id=u.id)
        if u.has_photo else None,
    }


def overview_json(o: queries.Overview, c, rnd) -> dict:
    return {
        "round": o.round_slug, "currency": c.currency, "published": o.published,
        "total_cost": major_json(o.total_cost, c.currency), "total_spent": major_json(o.total_spent, c.currency),
        "done": o.done, "by_status": o.by_status(),
        "projects": [{"id": p.id, "title": p.title, "district": p.district_slug,
                      "cost": major_json(p.cost, c.currency), "status": p.status, "percent_done": p.percent_done,
                      "spent": _major(p.spent, c.currency), "updates": p.updates,
                      "latest": update_json(p.latest, c, rnd) if p.latest else None} for p in o.projects],
    }


@blp.route("/implementation")
class Overview(MethodView):
    @access(blp, "public")
    @blp.response(200, OverviewSchema)
    def get(self, city, round):
        """Each funded project of the published outcome with its latest status, percent done and spend; totals."""
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        return overview_json(queries.overview(s, rnd), c, rnd)


@blp.route("/proposals/<int:proposal_id>/updates")
class Updates(MethodView):
    @access(blp, "public")
    @blp.response(200, UpdateSchema(many=True))
    def get(self, city, round, proposal_id):
        """A project's progress updates, newest first."""
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        p = _scope.proposal(s, rnd, proposal_id)
        return [update_json(u, c, rnd) for u in queries.updates_of(s, p.id)]

    @access(blp, "staff", REVIEW)
    @blp.arguments(UpdateInSchema)
    @blp.response(201, UpdateSchema)
    def post(self, data, city, round, proposal_id):
        """Post a progress update (reviewers and managers) on a project funded by the published outcome."""
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round)
        me = require_staff(s, c, REVIEW)
        p = _scope.proposal(s, rnd, proposal_id)
        photo = None
        if data.get("photo"):
            try:
                photo = base64.b64decode(data["photo"], validate=True)
            except (binascii.Error, ValueError):
                raise ValidationFailed.field("photo", "photo must be base64 of a JPEG, PNG or WebP image") from None
        spent = data.get("spent")
        row = svc.post_update(s, c, rnd, p, {
            "status": data["status"], "percent_done": data["percent_done"],
            "spent": None if spent is None else _scope.to_minor("spent", spent, c.currency),
            "on_date": svc.local_day(data["on_date"], c.timezone), "note": data.get("note") or "", "photo": photo,
        }, staff=me, now=_scope.now())
        item = next(u for u in queries.updates_of(s, p.id) if u.id == row.id)
        return update_json(item, c, rnd)
