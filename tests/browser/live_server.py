"""The real service on a real port, for the browser tests, and fresh rounds for journeys.

`prepare_database(url)` prepares a database exactly as `pb-engine serve` does (schema, city
configs, demo data: pb_engine.commands.serve.prepare); `serve(url, instance_dir)` serves
`api.create_app` on it with werkzeug's server in a background thread on 127.0.0.1 and a free
port. Chromium talks to it over HTTP, so cookies, CSRF, redirects, static files and security
headers are the production ones.

`make_round(...)` adds a round in the phase a journey needs (a knapsack round open for
voting, a ranking round, a round taking ideas), through the same services the API and the
demo use: config.parse_round/upsert_round, proposals.submit/review, voting.generate_access_codes.
Each call makes a new round (slugs e2e-1, e2e-2, ...), so journeys never see each other's ballots.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import threading
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Mapping

from werkzeug.serving import WSGIRequestHandler, make_server

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "city_configs"
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):  # one line per request is noise; failures reach `errors`
        pass


class _ErrorLog(logging.Handler):
    """Keeps every error `app` logs (api.errors logs each unhandled exception with its traceback)."""

    def __init__(self, app, errors: list[str]):
        super().__init__(level=logging.ERROR)
        self.app, self.errors = app, errors

    def emit(self, record: logging.LogRecord) -> None:
        from flask import current_app, has_app_context

        if has_app_context() and current_app._get_current_object() is not self.app:
            return  # the other live server's
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        self.errors.append(text)


@dataclass
class LiveServer:
    url: str                     # http://127.0.0.1:PORT (no trailing slash)
    app: Any                     # the Flask app
    db: Any                      # the app's pb_engine Database: helpers write through it
    errors: list[str] = field(default_factory=list)  # server-side errors (5xx, logged exceptions), in order
    _server: Any = field(default=None, repr=False)
    _thread: Any = field(default=None, repr=False)
    _log_handler: Any = field(default=None, repr=False)

    def serve(self) -> "LiveServer":
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="pb-live-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._log_handler is not None:
            logging.getLogger("api").removeHandler(self._log_handler)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
        self.db.dispose()


def prepare_database(database_url: str, *, demo: bool = True) -> None:
    """Schema, city configs and demo data, exactly as `pb-engine serve` prepares them."""
    from pb_engine.commands.serve import prepare

    if not prepare(database_url, str(CONFIGS), demo, echo=lambda *_a, **_k: None):
        raise RuntimeError(f"city configs in {CONFIGS} did not load; see the messages above")


def serve(database_url: str, instance_dir: Path, config: Mapping[str, Any] | None = None) -> LiveServer:
    """The real app on a prepared database, serving on 127.0.0.1:<free port> until .stop().

    `instance_dir`: the app's instance folder (compiled catalogues), so that the tests write
    nothing into the working tree's instance/; a fixed SECRET_KEY for the same reason.
    """
    from api import create_app

    before = os.environ.get("PB_INSTANCE_DIR")
    os.environ["PB_INSTANCE_DIR"] = str(instance_dir)  # create_app reads it once, when it builds the app
    try:
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "browser-tests", **(config or {})})
    finally:
        if before is None:
            del os.environ["PB_INSTANCE_DIR"]
        else:
            os.environ["PB_INSTANCE_DIR"] = before
    live = LiveServer(url="", app=app, db=app.extensions["pb_db"])
    live._log_handler = _ErrorLog(app, live.errors)
    logging.getLogger("api").addHandler(live._log_handler)

    @app.after_request
    def _note_5xx(response):
        from flask import request

        if response.status_code >= 500:
            live.errors.append(f"{request.method} {request.full_path.rstrip('?')} answered {response.status}")
        return response

    return live.serve()


def copy_sqlite(source: Path, target: Path) -> str:
    """A copy of a prepared SQLite database (file and WAL, if any): a second server in no time."""
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return f"sqlite:///{target}"


# --- fresh rounds for journeys ------------------------------------------------------------------

_slugs = itertools.count(1)

# Phase dates in days from now, per phase a journey wants the round to be in now.
_PHASES = {
    "submission": (("submission", -2, 30), ("endorsement", 30, 40), ("review", 40, 60), ("voting", 70, 90),
                   ("results", 100, 300)),
    "endorsement": (("submission", -20, -2), ("endorsement", -2, 30), ("review", 30, 60), ("voting", 70, 90),
                    ("results", 100, 300)),
    "voting": (("submission", -60, -40), ("review", -40, -10), ("voting", -2, 30), ("results", 40, 300)),
}


@dataclass(frozen=True)
class JourneyRound:
    city: str
    slug: str
    round_id: int
    districts: tuple[str, ...]
    proposals: dict[str, int]    # title -> proposal id, in the order given
    live: LiveServer = field(repr=False, compare=False)

    @property
    def path(self) -> str:
        """The round page, e.g. /taipei/e2e-3 (page.goto(r.path): the contexts have the server as base_url)."""
        return f"/{self.city}/{self.slug}"

    def access_codes(self, n: int = 1, district: str | None = None) -> list[str]:
        """`n` fresh one-time voter codes for `district` (default: the first), printed form."""
        from pb_engine import voting
        from pb_engine.store.tables import Round

        with self.live.db.write_session() as s:
            rnd = s.get(Round, self.round_id)
            return voting.generate_access_codes(s, rnd, district or self.districts[0], n, batch=f"e2e-{self.slug}")


def make_round(live: LiveServer, *, phase: str = "voting", city: str = "taipei",
               ballot: Mapping[str, Any] | None = None, rule: Mapping[str, Any] | None = None,
               districts: Iterable[tuple[str, str, int]] = (("north", "North 北區", 1_000_000),),
               proposals: Iterable[tuple[str, int] | tuple[str, int, str]] = (
                   ("Shade trees on the main street 主街遮蔭樹", 400_000),
                   ("Night lights in the park 公園夜間照明", 300_000),
                   ("A ramp at the library 圖書館無障礙坡道", 500_000),
               ),
               endorsement_threshold: int = 2, eligibility: Mapping[str, Any] | None = None,
               title: str | None = None, now: datetime | None = None) -> JourneyRound:
    """A new round of `city` that is in `phase` now (submission, endorsement or voting).

    districts: (slug, name, budget) in major units; the round's budget is their sum.
    proposals: (title, cost) for the first district, or (title, cost, district slug); costs in
    major units. In a voting round they are on the ballot (entered and reviewed by the city's
    staff before voting opened); in submission or endorsement they are residents' ideas with
    no endorsements yet.
    """
    from pb_engine import proposals as svc
    from pb_engine.config import parse_round, upsert_round
    from pb_engine.money import to_minor
    from pb_engine.staff import create_staff
    from pb_engine.store.lookup import city_by_slug
    from pb_engine.store.tables import Category
    from pb_engine.store.types import utcnow
    from sqlmodel import select

    if phase not in _PHASES:
        raise ValueError(f"make_round makes rounds in {', '.join(_PHASES)}, not {phase!r}")
    now = now or utcnow()
    slug = f"e2e-{next(_slugs)}"
    districts = tuple(districts)
    dates = _PHASES[phase]
    spec = {
        "slug": slug, "title": title or f"Journey round {slug} ({phase})",
        "description": f"A round made by the browser tests, in {phase}.",
        "budget": sum(b for _s, _n, b in districts), "districts_must_sum": True,
        "endorsement_threshold": endorsement_threshold,
        "districts": [{"slug": s, "name": n, "budget": b, "population": 100_000} for s, n, b in districts],
        "ballot": dict(ballot or {"kind": "knapsack"}), "rule": dict(rule or {"id": "greedy"}),
        "eligibility": dict(eligibility or {"methods": ["access_code", "resident"], "multi_district": False}),
        "tie_breaking": "id",
        "phases": [{"name": n, "starts_at": (now + a * DAY).isoformat(), "ends_at": (now + b * DAY).isoformat()}
                   for n, a, b in dates],
    }
    created = now + dates[0][1] * DAY - HOUR         # the round exists before its first phase
    submitted = now + dates[0][1] * DAY + HOUR       # residents' ideas: early in submission
    entered = now + (dates[1][1] + 1) * DAY          # on the ballot: entered and reviewed by staff in review
    titles: dict[str, int] = {}
    with live.db.write_session() as s:
        c = city_by_slug(s, city)
        categories = s.exec(select(Category.slug).where(Category.city_id == c.id)).all()
        cfg = parse_round(spec, timezone=c.timezone, currency=c.currency, categories=categories,
                          file=f"browser-tests:{city}/{slug}")
        rnd = upsert_round(s, c, cfg, "browser-tests", created)
        staff = None
        if phase == "voting":
            staff, _token = create_staff(s, c, name=f"Reviewer of {slug}", role="reviewer", actor="browser-tests")
        for i, item in enumerate(proposals):
            p_title, cost, district = (*item, districts[0][0])[:3]
            data = {"title": p_title, "summary": p_title, "description": f"{p_title}: made by the browser tests.",
                    "district": district, "categories": [], "estimated_cost": to_minor(cost, c.currency)}
            if staff is not None:
                at = entered + i * HOUR
                p = svc.submit(s, rnd, data, now=at, staff=staff)
                svc.review(s, rnd, p, {"reviewed_cost": to_minor(cost, c.currency), "feasible": True,
                                       "status": "on_ballot"}, staff=staff, now=at)
            else:
                p = svc.submit(s, rnd, data, now=submitted + i * timedelta(minutes=1),
                               voter_key=f"e2e-author-{slug}-{i}")
            titles[p_title] = p.id
        round_id = rnd.id
    return JourneyRound(city=city, slug=slug, round_id=round_id, districts=tuple(d for d, _n, _b in districts),
                        proposals=titles, live=live)


def make_staff(live: LiveServer, city: str = "taipei", role: str = "admin", name: str | None = None) -> str:
    """A staff member of `city`; returns their bearer token (for the staff console's journeys)."""
    from pb_engine.staff import create_staff
    from pb_engine.store.lookup import city_by_slug

    with live.db.write_session() as s:
        _row, token = create_staff(s, city_by_slug(s, city), name=name or f"Browser-test {role} {next(_slugs)}",
                                   role=role, actor="browser-tests")
    return token
