"""Round editor and phase advance: a manager sets up a round with the fields of a city config file
and moves it along its phases.

The form becomes the round's config section and goes through the config loader's checks
(pb_engine.config.parse_round, upsert_round), the same as `pb-engine load` and the JSON API's
POST/PATCH: problems are shown beside their fields and nothing is saved. Once voting has opened the
frozen settings (ballot, rule, budgets, eligibility, the start of voting) are shown read-only with the
reason, and a POST that changes them anyway is refused by upsert_round (RoundFrozen, 409).
Managers only: other roles read a round's settings on its public pages and over JSON.
"""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, request, url_for

from api.auth import MANAGER, actor
from api.console import bp, nav, round_nav
from api.console import round_form as rf
from api.console.helpers import city_and_staff, staff_view
from api.context import remember_scope, uow
from api.i18n import _, datetime_text
from api.messages import describe, phase_title
from api.pages.helpers import Form, form_values, now, render
from api.resources import _scope
from pb_engine import rounds as round_svc
from pb_engine.config import RoundFrozen, parse_round, round_to_dict, upsert_round
from pb_engine.errors import Conflict, ConfigError, NotFound, PBError
from pb_engine.phases import PHASES
from pb_engine.store import lookup
from pb_engine.queries.cities import city_detail

nav(70, "console.round_new", lambda: _("New round"), MANAGER)
round_nav(10, "console.round_edit", lambda: _("Settings"), MANAGER)
round_nav(15, "console.round_advance", lambda: _("Advance phase"), MANAGER)


def frozen_label(key: str) -> str:
    return {"budget": _("Budget"), "districts_must_sum": _("District budgets add up to the round's budget"),
            "districts": _("District budgets"), "ballot": _("Ballot"), "rule": _("Allocation rule"),
            "tie_breaking": _("Tie breaking"), "eligibility": _("Who may vote"),
            "phases.voting.starts_at": _("Start of voting")}.get(key, key)


def freeze_text(fz, tz: str) -> str:
    if fz is None:
        return ""
    if fz.why == "voting_started":
        lead = _("Voting started on %(when)s.", when=datetime_text(fz.since, tz))
    elif fz.why == "has_ballots":
        lead = _("The round has ballots.")
    else:
        lead = _("The round has an outcome.")
    return lead + " " + _("The ballot and allocation rules, budgets and eligibility cannot change any more; to "
                          "change them, create a new round.")


def _round(c, slug: str, for_update: bool = False):
    if not _scope._slug_ok(slug):
        raise NotFound(f"no round {slug!r} in city {c.slug!r}")
    rnd = lookup.round_by_slug(uow(), c, slug, for_update=for_update)
    remember_scope(rnd=rnd)
    return rnd


def _categories(c):
    return [(x.slug, x.name) for x in city_detail(uow(), c, now()).categories]


def _new_defaults(c) -> dict:
    from zoneinfo import ZoneInfo

    # next week at 09:00 city time, four phases of two weeks: a start the manager changes
    start = now().astimezone(ZoneInfo(c.timezone)).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=7)
    names = ("submission", "review", "voting", "results")
    phases = [{"name": n, "starts_at": (start + timedelta(days=14 * i)).isoformat(),
               "ends_at": (start + timedelta(days=14 * i + 13)).isoformat()} for i, n in enumerate(names)]
    return {"slug": "", "title": "", "budget": None, "districts": [], "phases": phases,
            "ballot": {"kind": "approval", "max_projects": 3}, "rule": {"id": "greedy"},
            "eligibility": {"methods": ["access_code"]}, "tie_breaking": "id"}


def _editor(c, me, rnd, form: Form, status: int = 200, fz=None, done: bool = False):
    rows = int(form.values.get("district_rows") or 0)
    return render("console/round_edit.html", status, city=c, me=me, rnd=rnd, form=form, rows=range(rows),
                  phases=PHASES, kinds=rf.ballot_kinds(), limits=rf.LIMITS, rules=rf.rules(),
                  methods=rf.METHODS, categories=_categories(c), frozen=fz is not None,
                  freeze_text=freeze_text(fz, c.timezone), phase_title=phase_title, done=done,
                  tie_options=_tie_options(), limit_label=limit_label, kinds_for=kinds_for)


def limit_label(limit: str) -> str:
    return {"min_projects": _("Fewest projects a voter must choose"),
            "max_projects": _("Most projects a voter may choose"),
            "min_spend_share": _("Share of the budget a voter must use (0 to 1)"),
            "max_points": _("Points each voter spreads"),
            "max_points_per_project": _("Most points on one project"),
            "min_rank": _("Fewest projects to rank"), "max_rank": _("Most projects to rank")}.get(limit, limit)


def kinds_for(limit: str) -> str:
    from api.messages import ballot_kind_name

    return ", ".join(ballot_kind_name(k.id) for k in rf.ballot_kinds() if limit in k.limits)


def _tie_options():
    from pb_engine.config.parse import TIE_BREAKING

    return TIE_BREAKING


def _refused_form(values: dict, err: PBError, data: dict, index: list[int], c, fz) -> Form:
    errors: dict[str, list[str]] = {}
    if isinstance(err, RoundFrozen):
        text = _("These settings cannot change: %(fields)s.", fields=", ".join(frozen_label(k) for k in err.keys))
        message = text + " " + freeze_text(fz or round_svc.Freeze("has_ballots", None), c.timezone)
        for k in err.keys:
            errors.setdefault(rf.FROZEN_FIELDS.get(k, k), []).append(text)
        return Form(values, errors, message)
    problems = getattr(err, "problems", None) or [(k, m) for k, ms in err.errors.items() for m in ms]
    if isinstance(err, ConfigError) and not getattr(err, "problems", None):
        problems = [(err.key, err.problem)]
    for key, m in problems:
        errors.setdefault(rf.field_of(key, data, index), []).append(rf.problem_words(str(m)))
    return Form(values, errors, _("The round was not saved: correct the fields marked below."))


def _save(c, me, rnd, values: dict):
    """Parse and write; (row, None) or (None, refusal Form). On refusal nothing of the request stays."""
    s = uow()
    stored = round_to_dict(s, rnd, now()) if rnd is not None else None
    data, index = rf.config_of(values, stored, c.timezone)
    if rnd is not None:
        data["slug"] = rnd.slug  # a round's slug cannot change
    fz = round_svc.freeze(s, rnd, now()) if rnd is not None else None
    try:
        if rnd is None and data["slug"] and lookup.round_exists(s, c, data["slug"]):
            raise ConfigError("form", "slug", f"round {data['slug']!r} exists; choose a new slug")
        cfg = parse_round(data, timezone=c.timezone, currency=c.currency, categories=lookup.category_slugs(s, c),
                          file=f"console:{c.slug}", prefix="")
        row = upsert_round(s, c, cfg, actor(me), now())
    except (ConfigError, RoundFrozen, Conflict) as err:
        s.rollback()
        if isinstance(err, ConfigError) and err.key == "slug" and "exists" in err.problem:
            return None, Form(values, {"slug": [_("A round with this slug exists; choose another.")]},
                              _("The round was not saved: correct the fields marked below.")), 409
        return None, _refused_form(values, err, data, index, c, fz), err.status
    return row, None, 200


def _more_rows(values: dict) -> dict:
    values = dict(values)
    values["district_rows"] = str(int(values.get("district_rows") or 0) + 3)
    return values


@bp.route("/<city>/rounds/new", methods=["GET", "POST"])
@staff_view(MANAGER)
def round_new(city: str):
    c, me = city_and_staff(city, MANAGER, write=request.method == "POST")
    if request.method == "GET":
        return _editor(c, me, None, Form(rf.values_of(_new_defaults(c), c.timezone, extra_rows=3), {}))
    values = form_values()
    if values.get("add_district"):
        return _editor(c, me, None, Form(_more_rows(values), {}))
    row, refused, status = _save(c, me, None, values)
    if row is None:
        return _editor(c, me, None, refused, status)
    return redirect(url_for("console.round_edit", city=c.slug, round=row.slug, done=1), 303)


@bp.route("/<city>/rounds/<round>/edit", methods=["GET", "POST"])
@staff_view(MANAGER)
def round_edit(city: str, round: str):
    c, me = city_and_staff(city, MANAGER, write=request.method == "POST")
    rnd = _round(c, round, for_update=request.method == "POST")
    fz = round_svc.freeze(uow(), rnd, now())
    if request.method == "GET":
        values = rf.values_of(round_to_dict(uow(), rnd, now()), c.timezone)
        return _editor(c, me, rnd, Form(values, {}), fz=fz, done=bool(request.args.get("done")))
    values = form_values()
    if values.get("add_district"):
        return _editor(c, me, rnd, Form(_more_rows(values), {}), fz=fz)
    row, refused, status = _save(c, me, rnd, values)
    if row is None:
        return _editor(c, me, _round(c, round), refused, status, fz=fz)
    return redirect(url_for("console.round_edit", city=c.slug, round=row.slug, done=1), 303)


def _advance_page(c, me, rnd, status: int = 200, message: str = "", done: str = ""):
    plan = round_svc.advance_plan(uow(), rnd, now())
    return render("console/round_advance.html", status, city=c, me=me, rnd=rnd, plan=plan, message=message,
                  done=done, before={p.name: p for p in plan.before}, after={p.name: p for p in plan.after})


@bp.route("/<city>/rounds/<round>/advance", methods=["GET", "POST"])
@staff_view(MANAGER)
def round_advance(city: str, round: str):
    c, me = city_and_staff(city, MANAGER, write=request.method == "POST")
    rnd = _round(c, round, for_update=request.method == "POST")
    if request.method == "GET":
        return _advance_page(c, me, rnd, done=request.args.get("done", ""))
    plan = round_svc.advance_plan(uow(), rnd, now())
    if request.form.get("from_phase") != plan.current:
        # the page was shown for another phase (someone advanced meanwhile, or a second click)
        return _advance_page(c, me, rnd, 409, _("The round has moved on since this page was shown; check the "
                                                 "phases below and confirm again."))
    try:
        name = round_svc.advance(uow(), rnd, actor=actor(me), now=now())
    except Conflict as err:
        uow().rollback()
        return _advance_page(c, me, _round(c, round), err.status, describe(err))
    return redirect(url_for("console.round_advance", city=c.slug, round=rnd.slug, done=name), 303)
