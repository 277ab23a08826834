"""The analysts' comparison page: pick rounds (city, year, words), see them side by side with charts.

/compare?rounds=taipei/2026&rounds=warszawa/2026&currency=EUR shows the figures of GET /api/v1/compare
(the same read model, pb_engine/compare.py) as one table, a column per round, then charts drawn on the
server (api/charts.py, matplotlib) each followed by its numbers as a table and a CSV of them:
/compare/charts/<chart>.svg and /compare/charts/<chart>.csv with the same query. No JavaScript needed:
a rule too heavy to count in the request is counted once by a background job (api/long_work.py) and
shows as pending with its progress and a reload link; api/static/compare_jobs.js, when it runs, polls
the job and reloads the page when it is done.
A bad value in the address is not an error page: the form says what was wrong beside the field.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Callable

from babel import dates
from flask import Response, abort, request

from api.context import uow
from api.i18n import _, current, ngettext
from api.messages import rule_name, term_name
from api.pages import bp
from api.pages.helpers import now, render
from api.console.jobs import state_label
from api.long_work import background, pending
from api.resources.compare import rates
from pb_engine import compare as svc, csv_cells
from pb_engine.errors import PBError
from pb_engine.queries.comparison import OFFICIAL, round_choices

MAX_LENGTH_SERIES = 8  # ballot lengths above this are one series ("more")
# CSP of a chart itself: matplotlib's SVG styles its shapes inline; an SVG shown by <img> runs no script.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"



def fine_percent(share) -> str:
    """A share as a percentage with the digits small shares need (a turnout of 0.014 % is not "0 %")."""
    from babel import numbers

    if share is None:
        return "–"
    fmt = "#,##0.#%" if share >= 0.01 or share == 0 else "#,##0.###%"
    return numbers.format_percent(share, format=fmt, locale=current())


def day_text(iso: str) -> str:
    from datetime import date

    return dates.format_date(date.fromisoformat(iso), format="medium", locale=current())


# --- the query ------------------------------------------------------------------------------------

@dataclass
class Query:
    refs: list[tuple[str, str]]
    rounds_text: str
    city: str
    year: int | None
    q: str
    currency: str | None
    errors: dict = field(default_factory=dict)

    def args(self) -> dict:
        """The query string of this comparison (for chart and CSV links)."""
        out: dict[str, Any] = {"rounds": self.rounds_text}
        if self.currency:
            out["currency"] = self.currency
        return out


def _query() -> Query:
    chosen = [r.strip() for v in request.args.getlist("rounds") for r in v.split(",") if r.strip()]
    text = ",".join(dict.fromkeys(chosen))[:4000]
    errors: dict[str, list[str]] = {}
    refs: list[tuple[str, str]] = []
    if text:
        try:
            refs = svc.parse_refs(text)
        except PBError:
            errors["rounds"] = [_("Name each round as city/round, for example taipei/2026, at most %(n)s of them.",
                                  n=svc.MAX_ROUNDS)]
    year_text = (request.args.get("year") or "").strip()
    year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else None
    if year_text and year is None:
        errors["year"] = [_("A year is four digits, for example 2026.")]
    currency = (request.args.get("currency") or "").strip().upper()[:3] or None
    return Query(refs, text if refs else "", (request.args.get("city") or "").strip()[:64], year,
                 (request.args.get("q") or "").strip()[:200], currency, errors)


def _result(query: Query, r):
    if not query.refs:
        return None
    if query.currency and query.currency not in r.currencies:
        query.errors["currency"] = [_("There is no exchange rate for this currency in the rates file.")]
        query.currency = None
    try:
        return svc.compare(uow(), query.refs, now(), rates=r, currency=query.currency, background=background())
    except PBError as exc:
        missing = ", ".join(m for ms in (exc.errors or {}).values() for m in ms)
        query.errors["rounds"] = [_("Not found: %(rounds)s", rounds=missing or query.rounds_text)]
        query.refs = []
        return None


# --- charts: one spec each, giving the chart, its table and its CSV from the same numbers ----------

@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    value_label: str
    columns: tuple[str, ...]                     # series (a bar each) or the five figures of a box
    rows: tuple[tuple[str, tuple], ...]          # (round label, one value per column)
    percent: bool = False
    kind: str = "bars"                           # bars | box

    def svg(self) -> str:
        from api import charts

        labels = [label for label, _ in self.rows]
        if self.kind == "box":
            stats = [None if v[2] is None else dict(zip(("min", "q1", "median", "q3", "max"), v)) for _, v in self.rows]
            return charts.box_summary(labels, stats, title=self.title, value_label=self.value_label,
                                      percent=self.percent)
        series = [(c, [v[i] for _, v in self.rows]) for i, c in enumerate(self.columns)]
        return charts.grouped_bars(labels, series, title=self.title, value_label=self.value_label,
                                   percent=self.percent)

    def csv(self) -> str:
        out = io.StringIO()
        w = csv_cells.writer(out, lineterminator="\n")
        w.writerow([_("Round"), *self.columns])
        for label, values in self.rows:
            w.writerow([label, *("" if v is None else v for v in values)])
        return out.getvalue()


def _label(e: dict) -> str:
    return f"{e['city_name']} {e['round']}"


def _fig(e: dict, *path):
    v: Any = e["figures"]
    for k in path:
        if not isinstance(v, dict):
            return None
        v = v.get(k)
    return v


def _rules(result: dict) -> list[str]:
    """The rules that ran on at least one round, official first."""
    seen: list[str] = []
    for e in result["rounds"]:
        for rid, run in (_fig(e, "rules") or {}).items():
            if "skipped" not in run and rid not in seen:
                seen.append(rid)
    return sorted(seen, key=lambda r: (r != OFFICIAL, r))


def _rule_label(rid: str, result: dict) -> str:
    return _("published outcome") if rid == OFFICIAL else rule_name(rid)


def _to(result: dict) -> str:
    return result.get("currency") or ""


def _budget_chart(result):
    to = _to(result)
    return Chart("budget_per_resident", _("Budget per resident"),
                 _("%(currency)s per resident, rates of %(date)s", currency=to, date=day_text(result["rates"]["date"])),
                 (_("Budget per resident (%(currency)s)", currency=to),),
                 tuple((_label(e), (_fig(e, "in_currency", "budget_per_capita"),)) for e in result["rounds"]))


def _turnout_chart(result):
    return Chart("turnout", _("Turnout"), _("Voters as a share of the population"), (_("Turnout"),),
                 tuple((_label(e), (_fig(e, "turnout"),)) for e in result["rounds"]), percent=True)


def _length_chart(result):
    lengths: set[int] = set()
    for e in result["rounds"]:
        lengths |= {int(k) for k in (_fig(e, "ballot_length", "distribution") or {})}
    shown = sorted(n for n in lengths if n <= MAX_LENGTH_SERIES)
    more = any(n > MAX_LENGTH_SERIES for n in lengths)
    columns = [ngettext("%(num)s project", "%(num)s projects", n) for n in shown]
    if more:
        columns.append(_("more than %(n)s projects", n=MAX_LENGTH_SERIES))
    rows = []
    for e in result["rounds"]:
        dist = {int(k): v for k, v in (_fig(e, "ballot_length", "distribution") or {}).items()}
        total = sum(dist.values())
        if not total:
            rows.append((_label(e), tuple(None for _ in columns)))
            continue
        values = [round(dist.get(n, 0) / total, 6) for n in shown]
        if more:
            values.append(round(sum(v for n, v in dist.items() if n > MAX_LENGTH_SERIES) / total, 6))
        rows.append((_label(e), tuple(values)))
    return Chart("ballot_length", _("Ballot length"), _("Share of ballots choosing this many projects"),
                 tuple(columns), tuple(rows), percent=True)


def _cost_chart(result):
    to = _to(result)
    r = rates()
    rows = []
    for e in result["rounds"]:
        cd = _fig(e, "cost_distribution") or {}
        keys = ("min", "q1", "median", "q3", "max")
        if cd.get("median") is None:
            rows.append((_label(e), (None,) * 5))
            continue
        rows.append((_label(e), tuple(round(float(r.convert(_exact(cd[k]), e["currency"], to)), 2) for k in keys)))
    return Chart("project_costs", _("Project costs"), _("Cost in %(currency)s, rates of %(date)s", currency=to,
                                                        date=day_text(result["rates"]["date"])),
                 (_("lowest"), _("lower quartile"), _("median"), _("upper quartile"), _("highest")), tuple(rows),
                 kind="box")


def _exact(value):
    from fractions import Fraction

    return Fraction(str(value))


def _category_chart(result):
    terms: list[str] = []
    for e in result["rounds"]:
        for t in (_fig(e, "category_shares") or {}):
            if t not in terms:
                terms.append(t)
    terms.sort()
    rows = tuple((_label(e), tuple(_fig(e, "category_shares", t, "spend_share") for t in terms))
                 for e in result["rounds"])
    return Chart("categories", _("Budget by shared category"),
                 _("Share of the budget spent on funded projects of each category (published outcome)"),
                 tuple(term_name(t) for t in terms), rows, percent=True)


def _rule_chart(name: str, title: str, value_label: str, key: str, percent: bool):
    def build(result):
        rules = _rules(result)
        rows = tuple((_label(e), tuple(_fig(e, "rules", r, "fairness", key) for r in rules)) for e in result["rounds"])
        return Chart(name, title, value_label, tuple(_rule_label(r, result) for r in rules), rows, percent=percent)
    return build


CHARTS: dict[str, Callable[[dict], Chart]] = {
    "budget_per_resident": _budget_chart,
    "turnout": _turnout_chart,
    "ballot_length": _length_chart,
    "project_costs": _cost_chart,
    "categories": _category_chart,
    "share_with_funded": lambda res: _rule_chart(
        "share_with_funded", _("Voters with at least one funded project, per rule"),
        _("Share of voters"), "share_with_funded", True)(res),
    "gini_cost": lambda res: _rule_chart(
        "gini_cost", _("How unevenly satisfaction is spread (Gini), per rule"),
        _("Gini coefficient of satisfaction by cost (0: even)"), "gini_cost", False)(res),
}


# --- views ------------------------------------------------------------------------------------------

@bp.route("/compare")
def compare_page():
    query = _query()
    r = rates()
    result = _result(query, r)
    choices = round_choices(uow(), now(), city=query.city or None, year=query.year, q=query.q or None)
    chosen = {f"{c}/{s}" for c, s in query.refs}
    charts = [CHARTS[name](result) for name in CHARTS] if result else []
    return render("compare.html", query=query, result=result, choices=choices, chosen=chosen, rates=r,
                  charts=charts, rules=_rules(result) if result else [], rule_label=_rule_label, term_name=term_name,
                  day_text=day_text, figure=_fig, official=OFFICIAL, fine_percent=fine_percent,
                  jobs=pending(result) if result else {}, job_state=state_label)


def _chart_for(name: str) -> Chart:
    build = CHARTS.get(name)
    query = _query()
    if build is None or not query.refs:
        abort(404)
    result = _result(query, rates())
    if result is None:
        abort(404)
    return build(result)


@bp.route("/compare/charts/<name>.svg")
def compare_chart(name: str):
    resp = Response(_chart_for(name).svg(), mimetype="image/svg+xml")
    resp.headers["Content-Security-Policy"] = SVG_CSP
    resp.headers["Cache-Control"] = "public, max-age=60"
    return resp


@bp.route("/compare/charts/<name>.csv")
def compare_chart_csv(name: str):
    return Response(_chart_for(name).csv(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="compare-{name}.csv"'})
