"""A small world for the read-model tests (tests/queries), made through the same services the CLI and API call.

Cities alpha and beta. Alpha's rounds are created in an order that differs from their creation
dates, so "oldest first" cannot pass by accident of id or slug order:

    slug   id  created_at   phases (NOW lies in ...)
    a      1   LATE         submission (started a day before NOW)
    b      2   EARLY        all in the future (upcoming)
    d      3   MID          all past (closed)
    c      4   MID          submission, same created_at as d: the id decides
    beta/x 5   EARLY        submission
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import event

from apihelp import city_config, round_body
from pb_engine.config import apply_city, parse_city_config, parse_round, upsert_round
from pb_engine.store.lookup import city_by_slug

NOW = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
EARLY, MID, LATE = NOW - timedelta(days=300), NOW - timedelta(days=200), NOW - timedelta(days=100)

ROUNDS = (  # (city, slug, created_at, first phase starts)
    ("alpha", "a", LATE, NOW - timedelta(days=1)),
    ("alpha", "b", EARLY, NOW + timedelta(days=30)),
    ("alpha", "d", MID, NOW - timedelta(days=400)),
    ("alpha", "c", MID, NOW - timedelta(days=2)),
    ("beta", "x", EARLY, NOW - timedelta(days=1)),
)


def _city(slug: str) -> dict:
    cfg = city_config(slug)
    # Stored out of slug order, so that "by slug" is something the query does.
    cfg["categories"] = [{"slug": "streets", "name": "Streets", "taxonomy": "transport"},
                         {"slug": "parks", "name": "Parks", "taxonomy": "environment"},
                         {"slug": f"art-{slug}", "name": "Art", "taxonomy": "culture"}]
    cfg["city"]["notes"] = f"Notes of {slug}."
    return cfg


@dataclass
class World:
    db: object
    round_ids: dict = field(default_factory=dict)   # "alpha/a" -> id
    city_ids: dict = field(default_factory=dict)


def build(db) -> World:
    w = World(db)
    with db.session() as s:
        for slug in ("alpha", "beta"):
            apply_city(s, parse_city_config(_city(slug), file=f"{slug}.toml"), actor="test", now=EARLY)
        s.flush()
        for city_slug, slug, created, start in ROUNDS:
            c = city_by_slug(s, city_slug)
            body = round_body(slug, start=start)
            cfg = parse_round(body, timezone=c.timezone, currency=c.currency, categories=["parks", "streets"],
                              file="test", prefix="")
            row = upsert_round(s, c, cfg, "test", created)
            s.flush()
            w.round_ids[f"{city_slug}/{slug}"] = row.id
            w.city_ids[city_slug] = c.id
    return w


class Statements:
    """Counts the SQL statements an engine runs inside a `with` block."""

    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def _seen(self, *_args, **_kw):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)
