"""Voting: sign in with an access code (or as a verified resident), the booth for each ballot kind,
the confirmation with the receipt, one's own ballot to change until voting closes, receipt check.

The booth is a plain form the server checks; the small script in static/booth.js only adds the
live budget bar, the count and points left. A refused ballot comes back with the reason beside
the choice it is about, and the voter's choices kept.
"""

from __future__ import annotations

from flask import g, redirect, request, url_for

from api import limits
from api.auth import participant
from api.context import database, sign_in_voter, sign_out_voter, uow, voter_token
from api.i18n import _
from api.pages import bp, needs
from api.pages.helpers import Form, load_round, now, render
from api.resources import _scope
from pb_engine import code_binding, voting
from pb_engine.errors import Forbidden, NotFound, PBError, Problem, Unauthorized, ValidationFailed
from pb_engine.queries import booth as booth_queries


def _voter_or_none(c, rnd):
    token = voter_token(rnd.id)
    if token is None:
        return None
    try:
        return voting.voter_from_token(uow(), c, rnd, token, now())
    except PBError:
        return None


@bp.route("/<city>/<round>/vote", methods=["GET", "POST"])
@limits.code_sign_in
def vote_start(city: str, round: str):
    """Where a voter signs in; a voter already signed in goes straight on to their district."""
    c, rnd, info = load_round(city, round, write=request.method == "POST")
    voter = _voter_or_none(c, rnd)
    resident = None
    try:
        who = participant(uow(), c, rnd, required=False)
        resident = who.resident if who else None
    except PBError:
        pass
    if request.method == "GET":
        if voter is not None and voter.district_id is not None:
            d = next(x for x in info.districts if x.id == voter.district_id)
            return redirect(url_for("pages.booth", city=city, round=round, district=d.slug), 303)
        return render("vote_start.html", info=info, voter=voter, resident=resident, form=Form.empty(),
                      claims=code_binding.binding(rnd) == code_binding.CLAIM,
                      ballots=booth_queries.my_ballots(uow(), rnd, voter, now()) if voter else [])
    values = {"access_code": (request.form.get("access_code") or "").strip()}
    try:
        if request.form.get("as_resident"):
            if resident is None:
                raise Unauthorized(_("Sign in with your resident account first."))
            token = voting.open_voter_session(uow(), rnd, resident=resident, now=now())
        else:
            if not values["access_code"]:
                raise ValidationFailed.field("access_code", _("Enter the access code printed on your slip."))
            # Signed in as a resident: the code is claimed by the account (pb_engine.code_binding).
            token = voting.open_voter_session(uow(), rnd, access_code=values["access_code"], claimant=resident,
                                              now=now())
        vs = voting.session_for_token(uow(), rnd, token)
    except PBError as err:
        return render("vote_start.html", err.status, info=info, voter=None, resident=resident,
                      form=Form.refused(err, values), ballots=[],
                      claims=code_binding.binding(rnd) == code_binding.CLAIM)
    sign_in_voter(rnd.id, token)
    if vs is not None and vs.district_id is not None:
        d = next(x for x in info.districts if x.id == vs.district_id)
        return redirect(url_for("pages.booth", city=city, round=round, district=d.slug), 303)
    return redirect(url_for("pages.vote_start", city=city, round=round), 303)


@bp.route("/<city>/<round>/vote/leave", methods=["POST"])
def vote_leave(city: str, round: str):
    c, rnd, info = load_round(city, round)
    sign_out_voter(rnd.id)
    return redirect(url_for("pages.round_page", city=city, round=round), 303)


def _content_from_form(kind: str, form) -> dict:
    """The booth's fields as ballot content; the domain then checks every rule."""
    if kind == "cumulative":
        points = {}
        for key in form:
            if key.startswith("points-"):
                raw = (form.get(key) or "").strip()
                if raw in ("", "0"):
                    continue
                pid = key[len("points-"):]
                points[pid] = int(raw) if raw.isdigit() and len(raw) <= 9 else raw  # the domain refuses the rest
        return {"points": points}
    if kind == "ranked":
        ranks: dict[str, int] = {}
        problems = []
        for key in form:
            if key.startswith("rank-") and form.get(key):
                pid = key[len("rank-"):]
                try:
                    ranks[pid] = int(form.get(key))
                except ValueError:
                    continue
        seen: dict[int, str] = {}
        for pid, r in sorted(ranks.items(), key=lambda x: (x[1], x[0])):
            if r in seen:
                msg = _("Rank %(rank)s is given to two projects; give each project its own rank.", rank=r)
                problems.append(Problem(f"project-{pid}", "rank_given_twice", msg, {"rank": r}))
            seen[r] = pid
        if problems:
            raise ValidationFailed(problems[0].message, {p.field: [p.message] for p in problems}, problems=problems)
        return {"ranking": [pid for pid, _r in sorted(ranks.items(), key=lambda x: x[1])]}
    return {"projects": list(dict.fromkeys(form.getlist("project")))}


def _choices_from_form(kind: str, form) -> dict[str, int]:
    if kind == "cumulative":
        return {k[len("points-"):]: form.get(k) for k in form if k.startswith("points-") and form.get(k)}
    if kind == "ranked":
        return {k[len("rank-"):]: form.get(k) for k in form if k.startswith("rank-") and form.get(k)}
    return {pid: 1 for pid in form.getlist("project")}


def _per_project(err: PBError, project_ids) -> tuple[dict[str, list[str]], list[str]]:
    """A refusal split into messages beside a project (those that name one) and for the whole ballot."""
    from api.messages import problem_text

    beside: dict[str, list[str]] = {}
    general: list[str] = []
    ids = {str(i) for i in project_ids}
    problems = err.problems or [Problem(k, "", m, {}) for k, ms in err.errors.items() for m in ms]
    for p in problems:
        pid = str(p.params.get("project", "")) if p.params else ""
        if not pid and p.field.startswith("project-"):
            pid = p.field[len("project-"):]
        text = problem_text(p) if p.code else (_(p.message) if p.message else "")
        if pid in ids:
            beside.setdefault(pid, []).append(text)
        else:
            general.append(text)
    return beside, list(dict.fromkeys(general))


class _SignInFirst(Exception):
    """No live voter session in this browser: the voter is sent to sign in."""


def _voter_booth(city: str, round: str, district: str):
    """(RoundInfo, Round row, District row, Voter, Booth) for the booth pages, or _SignInFirst."""
    c, rnd, info = load_round(city, round)
    voter = _voter_or_none(c, rnd)
    if voter is None:
        raise _SignInFirst()
    d = _scope.district(uow(), rnd, district)
    return info, rnd, d, voter, booth_queries.booth(uow(), rnd, d, voter, now())


@bp.errorhandler(_SignInFirst)
def _sign_in_first(_exc):
    args = request.view_args or {}
    return redirect(url_for("pages.vote_start", city=args.get("city"), round=args.get("round")), 303)


@bp.route("/<city>/<round>/vote/<district>", methods=["GET", "POST"])
@needs("voter")
def booth(city: str, round: str, district: str):
    if request.method == "POST":
        return _cast_from_form(city, round, district)
    info, rnd, d, voter, b = _voter_booth(city, round, district)
    if voter.district_id is not None and voter.district_id != d.id:
        raise Forbidden(_("Your access code is for another district."))
    return render("booth.html", info=info, b=b, chosen=b.chosen(), beside={}, general=[],
                  changed=request.args.get("changed"))


def _cookie_voter_token(round_id: int) -> str:
    token = voter_token(round_id)
    if token is None:
        raise _SignInFirst()
    return token


def _ballot_kind(form) -> str:
    """The ballot's kind as its form says (the booth has points-…, rank-… or project fields). Read from the
    form so that the cast need not wait for a read of the round: a form of another kind than the round's
    is refused by the domain's check of the content against the round's rules."""
    if any(k.startswith("points-") for k in form):
        return "cumulative"
    if any(k.startswith("rank-") for k in form):
        return "ranked"
    return "approval"


def _cast_from_form(city: str, round: str, district: str):
    """The booth's POST: the ballot cast in one transaction, like the JSON PUT (voting.cast_online).

    No read session before the cast: it finds the round, the voter (the browser's voter session cookie)
    and the district itself; on SQLite a read session open beside it pinned the WAL (README, "Load test of
    the voting path"; tests/voting/test_booth_cast_cost.py). Only a refusal reads the booth, once the cast's
    transaction is over, to show it again with the reason beside the choice and the voter's choices kept."""
    _scope.check_slugs(city, round)
    form = request.form
    kind = _ballot_kind(form)
    try:
        content = _content_from_form(kind, form)
        voting.cast_online(database(), city, round, district, _cookie_voter_token, content, now=now())
    except Unauthorized:
        raise _SignInFirst() from None  # no live voter session: the same as the booth's GET
    except PBError as err:
        if isinstance(err, NotFound):
            raise
        info, rnd, d, voter, b = _voter_booth(city, round, district)
        if isinstance(err, Forbidden) and voter.district_id is not None and voter.district_id != d.id:
            raise Forbidden(_("Your access code is for another district.")) from None
        g.pb_project_titles = {str(p.id): p.title for p in b.projects}  # refusals name projects by title
        beside, general = _per_project(err, [p.id for p in b.projects])
        return render("booth.html", err.status, info=info, b=b, chosen=_choices_from_form(b.rules.kind, form),
                      beside=beside, general=general, changed=None)
    return redirect(url_for("pages.ballot_cast", city=city, round=round, district=district), 303)


@bp.route("/<city>/<round>/vote/<district>/cast")
def ballot_cast(city: str, round: str, district: str):
    """The confirmation: the ballot as stored, with its receipt."""
    info, _rnd, _d, _voter, b = _voter_booth(city, round, district)
    if b.own is None:
        return redirect(url_for("pages.booth", city=city, round=round, district=district), 303)
    return render("ballot_cast.html", info=info, b=b, chosen=b.chosen())


@bp.route("/<city>/<round>/receipt")
def receipt_check(city: str, round: str):
    c, rnd, info = load_round(city, round)
    receipt = (request.args.get("receipt") or "").strip()[:64]
    status = None
    if receipt:
        status = voting.check_receipt(uow(), rnd, receipt) if receipt.isascii() and receipt.isprintable() else "unknown"
    return render("receipt.html", info=info, receipt=receipt, receipt_status=status)
