"""Voting: voter sessions, casting and reading one's ballot, access codes and paper ballots (staff), receipts."""

import contextlib

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from api import limits
from api.auth import CODES, PAPER, access, participant, require_staff
from api.context import bearer_token, database, end_read, participant_token, uow, voter_token
from api.resources import _scope
from api.resources._links import BALLOT, ROUND, SAME_ROUND, bearer, links, op
from api.schemas.codes import PaperEntryResultSchema
from api.security import code_seal_key
from api.schemas.voting import (AccessCodesInSchema, AccessCodesSchema, BallotContentSchema, BallotViewSchema,
                                PaperBallotInSchema, ReceiptCheckSchema, ReceiptSchema, VoterSessionInSchema,
                                VoterSessionSchema)
from pb_engine import paper, residents, voting
from pb_engine.queries import booth as booth_queries
from pb_engine import staff as staff_mod
from pb_engine.errors import Forbidden, NotFound, PBError, Unauthorized, ValidationFailed
from pb_engine.money import major_json
from pb_engine.store.lookup import district_slug

blp = Blueprint("voting", __name__, url_prefix="/api/v1/cities/<string:city>/rounds/<string:round>",
                description="Voting: voter sessions, ballots, access codes, paper ballots, receipts")

CONTENT_KEYS = ("projects", "points", "ranking")
# One instance for every ballot: given the class, webargs would build a schema (deep-copying its fields)
# per request. Loading keeps no state on the schema (marshmallow 4 has no context), so threads share it.
BALLOT_CONTENT = BallotContentSchema()


def _content(data: dict) -> dict:
    return {k: data[k] for k in CONTENT_KEYS if k in data}


@blp.route("/voter-sessions")
class VoterSessions(MethodView):
    @limits.code_sign_in
    @access(blp, "public")
    @blp.arguments(VoterSessionInSchema)
    @blp.response(201, VoterSessionSchema)
    @links(201, ballot=op("GET", BALLOT, district="$response.body#/district", **SAME_ROUND,
                          headers=bearer("$response.body#/token")),
           cast=op("PUT", BALLOT, district="$response.body#/district", **SAME_ROUND,
                   headers=bearer("$response.body#/token")))
    def post(self, data, city, round):
        """Open a voter session with an access code, or as a logged-in (verified) resident: `{token}`.

        A code sent with a resident token is claimed by that account (the round's `code_binding`, default
        `claim`): the code and the account are then one voter. Once voting has closed: 409 `sign_in_closed`."""
        if data.get("access_code"):
            # The code's hashing and every check in a read transaction; SQLite's write lock is then held
            # for the session row's one INSERT (voting.store_voter_session), not for the whole request.
            s = uow()
            c, rnd = _scope.round_(s, city, round)
            token_given = participant_token(c.id, rnd.id)
            if token_given is None or not token_given.startswith(residents.PREFIX):
                grant = voting.grant_voter_session(s, rnd, data["access_code"], now=_scope.now())
                district = district_slug(s, grant.district_id) if grant is not None else None
                end_read()
                token = voting.store_voter_session(database(), grant) if grant is not None else None
                if token is not None:
                    return {"token": token, "method": "access_code", "district": district}
            else:
                end_read()
        # A resident, a code being claimed by one, or what changed since the checks: in one write transaction.
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round)
        if data.get("access_code"):
            claimant = None
            token_given = participant_token(c.id, rnd.id)
            if token_given is not None and token_given.startswith(residents.PREFIX):
                claimant = participant(s, c, rnd).resident  # a bad resident token is refused, never ignored
            token = voting.open_voter_session(s, rnd, access_code=data["access_code"], claimant=claimant,
                                              now=_scope.now())
            method = "access_code"
        else:
            if participant_token(c.id, rnd.id) is None:
                raise ValidationFailed.field("access_code", "give an access code, or log in as a resident and send its token")
            who = participant(s, c, rnd)
            if who.resident is None:
                raise ValidationFailed.field("access_code", "give an access code, or log in as a resident")
            token = voting.open_voter_session(s, rnd, resident=who.resident, now=_scope.now())
            method = "resident"
        vs = voting.session_for_token(s, rnd, token)
        district = district_slug(s, vs.district_id) if vs else None
        return {"token": token, "method": method, "district": district}


def _voter_token(round_id: int) -> str:
    token = voter_token(round_id)
    if token is None:
        raise Unauthorized("a voter session token is needed (POST …/voter-sessions)")
    if token.startswith(staff_mod.PREFIX):
        raise Forbidden("staff tokens cannot vote; enter paper ballots instead")
    return token


def _voter(s, c, rnd):
    return voting.voter_from_token(s, c, rnd, _voter_token(rnd.id), _scope.now())


@blp.route("/districts/<string:district>/ballot")
class BallotView(MethodView):
    @access(blp, "voter")
    @blp.response(200, BallotViewSchema)
    def get(self, city, round, district):
        """The district's ballot (projects, costs, rules) and the voter's own ballot if cast; once voting has
        closed the own ballot is no longer shown (`ballot` null, `ballot_hidden` true)."""
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        d = _scope.district(s, rnd, district)
        voter = _voter(s, c, rnd)
        b = booth_queries.booth(s, rnd, d, voter, _scope.now())
        return {
            "district": b.district_slug, "budget": major_json(b.budget, c.currency), "rules": dict(rnd.ballot or {}),
            "projects": [{"id": p.id, "title": p.title, "categories": list(p.categories),
                          "cost": _scope.to_major(p.cost, c.currency)} for p in b.projects],
            "ballot": b.own.to_dict() if b.own else None,
            "ballot_hidden": b.choices_hidden,
        }

    @access(blp, "voter")
    @blp.arguments(BALLOT_CONTENT)
    @blp.response(200, ReceiptSchema)
    @links(200, check_receipt=op("GET", ROUND + "/receipts/{receipt}", receipt="$response.body#/receipt", **SAME_ROUND))
    def put(self, data, city, round, district):
        """Cast (or change) the voter's ballot in this district; the answer carries the receipt."""
        _scope.check_slugs(city, round)
        # Round, voter and district are looked up by the cast itself, in its one transaction (404 / 401 as
        # ever); this request opens no session of its own (on SQLite one would slow every commit).
        try:
            receipt = voting.cast_online(database(), city, round, district, _voter_token, _content(data),
                                         now=_scope.now(), token=bearer_token())
        except PBError:
            with contextlib.suppress(PBError):
                _scope.round_(uow(), city, round)  # a refusal is worded in the city's language and currency
            raise
        # The receipt's dict is ReceiptSchema's dump already (same fields, order and types): answered as it is
        # (the dump was 2 % of a ballot's CPU); the schema still documents the answer.
        return current_app.json.response(receipt.to_dict())


@blp.route("/access-codes")
class AccessCodes(MethodView):
    @access(blp, "admin", CODES)
    @blp.arguments(AccessCodesInSchema)
    @blp.response(201, AccessCodesSchema)
    @links(201, sign_in=op("POST", ROUND + "/voter-sessions", body={"access_code": "$response.body#/codes/0"},
                           **SAME_ROUND),
           paper_ballot=op("POST", ROUND + "/paper-ballots", body={"access_code": "$response.body#/codes/1",
                                                                    "district": "$response.body#/district"},
                           **SAME_ROUND))
    def post(self, data, city, round):
        """Make one-time access codes for a district (managers, clerks): stored as keyed hashes, and sealed
        so that the batch's sheet can be printed again until it is marked printed (…/access-codes/batches)."""
        s = uow(write=True)
        c, rnd = _scope.round_(s, city, round)
        me = require_staff(s, c, CODES)
        d = _scope.district(s, rnd, data["district"])
        codes = voting.generate_access_codes(s, rnd, d, data["count"], staff=me, batch=data["batch"],
                                             now=_scope.now(), seal_key=code_seal_key())
        return {"district": d.slug, "batch": data["batch"], "codes": codes}


@blp.route("/paper-ballots")
class PaperBallots(MethodView):
    @access(blp, "staff", PAPER)
    @blp.arguments(PaperBallotInSchema)
    @blp.response(201, PaperEntryResultSchema)
    def post(self, data, city, round):
        """One entry of a paper ballot (double entry), naming the voter by access code or resident username.

        The first entry waits (`status: pending`); a second entry of the same voter (the same clerk again
        or another) with the same content makes the ballot count (`counted`, with its `receipt`); a
        different one sets both aside (`mismatch`): enter it again from the paper. A refused entry
        (code unknown, revoked or used online, a broken ballot rule) stores nothing."""
        db = database()
        s = uow()
        c, rnd = _scope.round_(s, city, round)
        me = require_staff(s, c, PAPER)
        _scope.district(s, rnd, data["district"])
        resident = None
        if data.get("resident"):
            resident = residents.find_by_username(s, c, data["resident"])
            if resident is None:
                raise ValidationFailed.field("resident", f"no resident {data['resident']!r} in {c.slug}")
        round_id, staff_id = rnd.id, me.id
        resident_id = resident.id if resident else None
        if (data.get("access_code") is None) == (resident_id is None):
            raise ValidationFailed("name the voter with access_code or resident (one of them)",
                                   {"access_code": ["give access_code or resident"]})
        return paper.enter(db, round_id, data["district"], _content(data), staff=staff_id,
                           access_code=data.get("access_code"), resident=resident_id, now=_scope.now()).to_dict()


@blp.route("/receipts/<string:receipt>")
class ReceiptCheck(MethodView):
    @access(blp, "public")
    @blp.response(200, ReceiptCheckSchema)
    def get(self, city, round, receipt):
        """Check a receipt: `received` (the same for a counting and a replaced ballot, so that an old receipt
        does not tell its holder that the voter changed their vote) or `unknown`."""
        s = uow()
        _c, rnd = _scope.round_(s, city, round)
        if len(receipt) > 64 or not receipt.isascii() or not receipt.isprintable():
            raise NotFound("no such receipt")
        return {"receipt": receipt, "status": voting.check_receipt(s, rnd, receipt)}
