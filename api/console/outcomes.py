"""Outcomes of a round in the console: run any registered rule (options from its descriptor) into a draft,
compare drafts side by side, publish one after a confirmation (managers only).

Small counts run inside the request; a long one (api/long_work.py) becomes a background job whose
progress page (api/console/jobs.py) links to the draft once it is counted.
"""

from __future__ import annotations

from fractions import Fraction

from flask import redirect, request, url_for

from api import messages
from api.auth import MANAGER, READ
from api.console import bp, round_nav
from api.console.helpers import city_and_staff, staff_view
from api.context import uow
from api.i18n import _, current
from api.pages.helpers import Form, now, render
from api.resources import _scope
from pb_engine import outcomes as svc
from pb_engine.allocation.registry import rules
from pb_engine.errors import PBError, ValidationFailed
from pb_engine.queries.outcome_comparison import compare_outcomes, parse_ids, project_titles
from pb_engine.queries.outcomes import outcome_info, outcomes_of

round_nav(60, "console.outcomes", lambda: _("Outcomes"), READ)


# --- words -----------------------------------------------------------------------------------

def option_label(name: str) -> str:
    return {
        "satisfaction": _("Satisfaction of a supporter"), "completion": _("Spending what is left"),
        "threshold": _("Minimum votes"), "threshold_share": _("Minimum share of the ballots"),
        "solver": _("Solver"), "increment": _("Step of the voters' shares"),
        "exhaustive_stop": _("Stop only when no project fits"), "then_greedy": _("Then most votes first"),
        "comparison": _("How steps are compared"), "workers": _("Parallel workers"),
        "overflow": _("When a project does not fit"),
    }.get(name) or messages._code(name)


def choice_label(value: str) -> str:
    return {
        "cost": _("its cost"), "cardinality": _("one per project"), "none": _("nothing"),
        "greedy": _("most votes first"), "add1": _("raise the shares step by step"),
        "add1-comparison": _("raise the shares step by step, comparing outcomes"),
        "add-opt": _("raise the shares to the next change"), "add-opt-skip": _("raise the shares, faster"),
        "cbc": "CBC", "highs": "HiGHS", "satisfaction": _("by satisfaction"), "exclusionRatio": _("by exclusion ratio"),
        "skip": _("skip it and try the next"), "stop": _("stop there"),
    }.get(value) or messages._code(value)


def status_label(status: str, what_if: bool = False) -> str:
    if status == "draft" and what_if:
        return _("what-if draft")
    return {"draft": _("draft"), "published": _("published"), "superseded": _("superseded")}.get(status) \
        or messages._code(status)


def rule_text(rule: dict) -> str:
    """A rule as run: its name, then its options in words."""
    name = messages.rule_name(rule.get("id", ""))
    opts = [f"{option_label(k)}: {choice_label(v) if isinstance(v, str) else v}"
            for k, v in rule.items() if k != "id"]
    return f"{name} ({'; '.join(opts)})" if opts else name


REFUSALS = {
    "voting_not_ended": lambda p: _("Voting has not ended: outcomes are counted and published on the final "
                                    "ballots only."),
    "outcome_frozen": lambda p: _("This outcome is %(status)s: a published outcome is never changed; publish "
                                  "another one to replace it.", status=status_label(p.get("status", ""))),
    "outcome_what_if": lambda p: _("This outcome uses a rule other than the round's: it can be compared, not "
                                   "published. The round's rule is frozen since voting opened."),
    "rule_changed": lambda p: _("The round's rule changed since this outcome was counted; count it again."),
}


def refusal_text(err: PBError) -> str:
    if err.reason in REFUSALS:
        return REFUSALS[err.reason](err.params)
    if current() != "en" and isinstance(err, ValidationFailed) and "rule" in err.errors:
        return _("This rule cannot be run on this round's ballots.")
    return messages.describe(err)


# --- the run form ----------------------------------------------------------------------------

def _option_problem(opt, raw: str):
    """(value for the rule, None) or (None, words) for one option as typed."""
    raw = raw.strip()
    if opt.type == "choice":
        if raw not in opt.choices:
            return None, _("Choose one of the values offered.")
        return raw, None
    if opt.type == "boolean":
        if raw not in ("true", "false"):
            return None, _("Choose yes or no.")
        return raw == "true", None
    text = raw.replace(",", "").replace(" ", "")
    try:
        value = int(text) if opt.type == "integer" else Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None, (_("Enter a whole number.") if opt.type == "integer" else _("Enter a number, e.g. 0.1."))
    try:
        opt.convert(value)
    except ValueError:
        low, high = opt.minimum, opt.maximum
        if low is not None and high is not None:
            return None, _("Enter a number from %(min)s to %(max)s.", min=float(low) if Fraction(low).denominator > 1
                           else int(low), max=float(high) if Fraction(high).denominator > 1 else int(high))
        if low is not None and opt.exclusive_minimum:
            return None, _("Enter a number above %(min)s.", min=int(low))
        if low is not None:
            return None, _("Enter %(min)s or more.", min=int(low))
        return None, _("Enter %(max)s or less.", max=int(high))
    return (text if opt.type == "number" else value), None


def parse_run_form(values: dict) -> dict:
    """{"id": rule, option: value...} from the run form; ValidationFailed naming each bad option."""
    from pb_engine.allocation.registry import RULES

    rid = values.get("rule") or ""
    rule = RULES.get(rid)
    if rule is None:
        raise ValidationFailed.field("rule", _("Choose a rule."))
    out: dict = {"id": rid}
    errors: dict[str, list[str]] = {}
    for opt in rule.options:
        raw = values.get(f"opt-{opt.name}")
        if raw is None or not str(raw).strip():
            continue
        value, problem = _option_problem(opt, str(raw))
        if problem:
            errors[opt.name] = [problem]
        else:
            out[opt.name] = value
    if errors:
        raise ValidationFailed(_("Please check the options marked below."), errors)
    return out


def _page(c, me, rnd, *, form: Form | None = None, open_rule: str | None = None, status: int = 200):
    s = uow()
    found = outcomes_of(s, rnd)
    chosen: list[int] = []
    comparison = None
    compare_error = ""
    raw = request.args.getlist("compare") or request.args.get("ids") or []
    if raw:
        try:
            chosen = parse_ids(raw)
            comparison = compare_outcomes(s, rnd, chosen)
        except PBError as err:
            compare_error = _("Choose outcomes of this round to compare (at most 6).")
            status = status if status != 200 else err.status
            comparison = None
    return render("console/outcomes.html", status, city=c, me=me, rnd=rnd, outcomes=list(reversed(found)),
                  published=next((o for o in found if o.status == "published"), None), rules=rules(),
                  round_rule=svc.rule_of(rnd).to_dict(), voting_ended=svc.voting_ended(s, rnd, now()),
                  can_publish=me.role in MANAGER, chosen=chosen, comparison=comparison, compare_error=compare_error,
                  form=form or Form.empty(), open_rule=open_rule, rule_text=rule_text, option_label=option_label,
                  choice_label=choice_label, status_label=status_label)


@bp.route("/<city>/rounds/<round>/outcomes")
@staff_view(READ)
def outcomes(city: str, round: str):
    c, me = city_and_staff(city, READ)
    _c, rnd = _scope.round_(uow(), city, round)
    return _page(c, me, rnd)


@bp.route("/<city>/rounds/<round>/outcomes/run", methods=["POST"])
@staff_view(MANAGER)
def outcome_run(city: str, round: str):
    c, me = city_and_staff(city, MANAGER, write=True)
    _c, rnd = _scope.round_(uow(), city, round)
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        rule = parse_run_form(values)
    except PBError as err:  # worded here, per option
        return _page(c, me, rnd, form=Form.refused(err, values), open_rule=values.get("rule"), status=err.status)
    try:
        from api.long_work import start_outcome_run

        job_id = start_outcome_run(uow(), c, rnd, me, now(), rule)  # a long count: a job with a progress page
        if job_id is not None:
            return redirect(url_for("console.job", city=c.slug, job_id=job_id), 303)
        record = svc.run(uow(), c, rnd, staff=me, now=now(), rule=rule)
    except PBError as err:  # the engine's own checks (options that do not go together, the phase)
        errors = {k.split(".", 1)[-1]: v for k, v in messages.field_errors(err).items()}
        if current() != "en":
            errors = {k: [_("These options do not go together.")] for k in errors}
        return _page(c, me, rnd, form=Form(values, errors, refusal_text(err)), open_rule=values.get("rule"),
                     status=err.status)
    previous = [o.id for o in outcomes_of(uow(), rnd) if o.id != record.id][-1:]
    return redirect(url_for("console.outcomes", city=c.slug, round=rnd.slug, ran=record.id,
                            compare=[*previous, record.id]) + "#comparison", 303)


@bp.route("/<city>/rounds/<round>/outcomes/<int:outcome_id>/publish", methods=["GET", "POST"])
@staff_view(MANAGER)
def outcome_publish(city: str, round: str, outcome_id: int):
    c, me = city_and_staff(city, MANAGER, write=request.method == "POST")
    s = uow()
    _c, rnd = _scope.round_(s, city, round)
    record = _scope.outcome(s, rnd, outcome_id)
    form = Form.empty()
    status = 200
    if request.method == "POST":
        try:
            svc.publish(s, c, rnd, record, staff=me, now=now())
        except PBError as err:
            form, status = Form({}, {}, refusal_text(err)), err.status
        else:
            return redirect(url_for("console.outcomes", city=c.slug, round=rnd.slug, published=record.id), 303)
    current_pub = next((o for o in outcomes_of(s, rnd, status="published")), None)
    return render("console/outcome_publish.html", status, city=c, me=me, rnd=rnd, o=outcome_info(record, rnd),
                  current=current_pub, titles=project_titles(s, rnd), voting_ended=svc.voting_ended(s, rnd, now()), form=form, rule_text=rule_text,
                  status_label=status_label)
