"""Access codes as the office handles them (usage, batches, the sheet's data and CSV, marking a batch
printed, revoking a code) and paper ballot entries (the open ones, discarding one).

Entering a paper ballot is POST …/paper-ballots (api/resources/voting.py): each call is one entry of
the double entry. The console (api/console/codes.py, paper.py) calls the same domain functions."""

from __future__ import annotations

import io

from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth import CODES, PAPER, READ, access, require_staff
from api.context import uow
from api.resources import _scope
from api.resources._links import ROUND, SAME_ROUND, links, op
from api.schemas.codes import (BatchInSchema, CodeUsageSchema, DiscardedSchema, IssuedBatchSchema,
                               OpenEntriesSchema, PrintedSchema, RevokedSchema, RevokeInSchema, SheetSchema)
from api.security import code_seal_key
from pb_engine import codes, paper
from pb_engine.csv_cells import SafeWriter
from pb_engine.queries.codes import code_usage
from pb_engine.queries.paper import open_entries
from pb_engine.store.lookup import district_slug

blp = Blueprint("codes", __name__, url_prefix="/api/v1/cities/<string:city>/rounds/<string:round>",
                description="Access code batches and their usage, revoking codes, open paper ballot entries")


def counts(c) -> dict:
    return {"issued": c.issued, "used": c.used, "revoked": c.revoked, "sealed": c.sealed, "unused": c.unused}


def usage_dict(u) -> dict:
    return {"districts": [{"district": d.slug, "name": d.name, "counts": counts(d.counts)} for d in u.districts],
            "batches": [{"batch": b.batch, "districts": list(b.districts), "created_at": b.created_at.isoformat(),
                         "created_by": b.created_by, "printable": b.printable, "counts": counts(b.counts)}
                        for b in u.batches],
            "total": counts(u.total)}


def vote_url(c, rnd) -> str:
    return url_for("pages.vote_start", city=c.slug, round=rnd.slug, _external=True)


def codes_csv(c, rnd, rows) -> str:
    out = io.StringIO()
    w = SafeWriter(out)
    w.writerow(["district", "code", "url"])
    url = vote_url(c, rnd)
    for r in rows:
        w.writerow([r.district, r.code, url])
    return out.getvalue()


@blp.route("/access-codes")
class AccessCodeUsage(MethodView):
    @access(blp, "staff-private", READ)
    @blp.response(200, CodeUsageSchema)
    def get(self, city, round):
        """How many codes were issued, used, revoked and are still printable, per district and per batch."""
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        require_staff(s, c, READ, private=True)
        return usage_dict(code_usage(s, rnd))


@blp.route("/access-codes/batches")
class Batches(MethodView):
    @access(blp, "admin", CODES)
    @blp.arguments(BatchInSchema)
    @blp.response(201, IssuedBatchSchema)
    @links(201, sheet=op("GET", ROUND + "/access-codes/batches/{batch}", batch="$response.body#/batch", **SAME_ROUND),
           sheet_csv=op("GET", ROUND + "/access-codes/batches/{batch}/codes.csv", batch="$response.body#/batch",
                        **SAME_ROUND),
           printed=op("POST", ROUND + "/access-codes/batches/{batch}/printed", batch="$response.body#/batch",
                      **SAME_ROUND))
    def post(self, data, city, round):
        """Issue a batch: `count` codes for a district, or for every district of the round (no `district`)."""
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round)
        me = require_staff(s, c, CODES)
        d = _scope.district(s, rnd, data["district"]) if data.get("district") else None
        out = codes.issue_batch(s, rnd, d, data["count"], me, code_seal_key(), now=_scope.now())
        return {"batch": out.batch, "count": out.count, "codes": out.codes}


@blp.route("/access-codes/batches/<string:batch>")
class BatchSheet(MethodView):
    @access(blp, "admin-private", CODES)
    @blp.response(200, SheetSchema)
    def get(self, city, round, batch):
        """The batch's codes for its printed sheet, while it is not marked printed (the download is logged)."""
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round)
        me = require_staff(s, c, CODES, private=True)
        rows = codes.batch_codes(s, rnd, batch, code_seal_key())
        codes.record_download(s, rnd, batch, me, "json", len(rows))
        return {"batch": batch, "round": rnd.slug, "title": rnd.title, "url": vote_url(c, rnd),
                "codes": [{"district": r.district, "district_name": r.district_name, "code": r.code} for r in rows]}


@blp.route("/access-codes/batches/<string:batch>/codes.csv")
class BatchCsv(MethodView):
    @access(blp, "admin-private", CODES)
    @blp.response(200, {"type": "string"}, content_type="text/csv")
    def get(self, city, round, batch):
        """The batch's codes as CSV (district, code, url), while it is not marked printed (logged)."""
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round)
        me = require_staff(s, c, CODES, private=True)
        rows = codes.batch_codes(s, rnd, batch, code_seal_key())
        codes.record_download(s, rnd, batch, me, "csv", len(rows))
        return csv_response(c, rnd, batch, rows)


def csv_response(c, rnd, batch, rows) -> Response:
    name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in f"{c.slug}_{rnd.slug}_codes_{batch}")
    return Response(codes_csv(c, rnd, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@blp.route("/access-codes/batches/<string:batch>/printed")
class BatchPrinted(MethodView):
    @access(blp, "admin", CODES)
    @blp.response(200, PrintedSchema)
    def post(self, city, round, batch):
        """Mark the batch printed: its sealed codes are wiped and can never be shown again."""
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round)
        me = require_staff(s, c, CODES)
        return {"batch": batch, "wiped": codes.mark_printed(s, rnd, batch, me, now=_scope.now())}


@blp.route("/access-codes/revoke")
class Revoke(MethodView):
    @access(blp, "admin", CODES)
    @blp.arguments(RevokeInSchema)
    @blp.response(200, RevokedSchema)
    def post(self, data, city, round):
        """Revoke one code, typed from its slip (a lost or misprinted slip); a used code cannot be revoked."""
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round)
        me = require_staff(s, c, CODES)
        row = codes.revoke_code(s, rnd, data["access_code"], me, now=_scope.now())
        return {"district": district_slug(s, row.district_id), "batch": row.batch, "revoked_at": row.revoked_at.isoformat()}


def entries_dict(rows) -> dict:
    return {"entries": [{"id": e.id, "district": e.district, "status": e.status, "entered_by": e.entered_by,
                         "entered_at": e.entered_at.isoformat()} for e in rows]}


@blp.route("/paper-entries")
class PaperEntries(MethodView):
    @access(blp, "staff-private", PAPER)
    @blp.response(200, OpenEntriesSchema)
    def get(self, city, round):
        """Paper ballot entries waiting for their second entry or mismatched (never their content)."""
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        require_staff(s, c, PAPER, private=True)
        return entries_dict(open_entries(s, rnd))


@blp.route("/paper-entries/<int:entry_id>/discard")
class DiscardEntry(MethodView):
    @access(blp, "staff", PAPER)
    @blp.response(200, DiscardedSchema)
    def post(self, city, round, entry_id):
        """Set aside an entry that waits or mismatched (e.g. typed for the wrong voter)."""
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round)
        me = require_staff(s, c, PAPER)
        row = paper.discard(s, rnd, entry_id, me, now=_scope.now())
        return {"entry": row.id, "status": row.status}
