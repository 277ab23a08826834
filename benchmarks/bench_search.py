"""Time the proposal list's search in the database against the Python filtering it replaced, in the same process.

    .venv/bin/python benchmarks/bench_search.py                       # SQLite, 20 000 proposals in one round
    .venv/bin/python benchmarks/bench_search.py --proposals 50000 --repeat 5
    .venv/bin/python benchmarks/bench_search.py --postgres postgresql://postgres@127.0.0.1:5432/test

The reference is pb_engine.proposals.search as it was before migration 0004 (every proposal of the round
loaded, LIKE over the three columns, the category filter and the page slice in Python), copied below. Both
run on the same database, built with `--proposals` generated proposals (English and Traditional Chinese
words, a fixed seed) in one round, and `--other` more in another city's round. With --postgres, a scratch
database is created next to the given URL and dropped at the end. Times are the best of `--repeat` runs, in
milliseconds; `total` is how many proposals matched. The two can differ: the reference matches any
substring ("ark" finds "park") and the whole query as one string ("Bike lanes" only where the two words
stand side by side), the database search word starts, every word anywhere (substrings for CJK only).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, or_, text  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from pb_engine import proposals  # noqa: E402
from pb_engine.store.db import Database, normalise_url, upgrade  # noqa: E402
from pb_engine.store.search import search_all  # noqa: E402
from pb_engine.store.tables import City, District, Proposal, Round  # noqa: E402

EN = ("bike lanes park playground library trees bench street light crossing school garden river walk bus stop "
      "shelter market square sports court pool clinic repair paint sidewalk ramp toilets wifi music stage").split()
ZH = ("公園 綠地 人行道 自行車道 圖書館 路燈 公車站 遮雨棚 市場 廣場 運動場 游泳池 無障礙 坡道 公廁 溜滑梯 樹蔭 座椅 "
      "河濱 步道 改善 拓寬 新建 修繕 社區 大安區 信義區 兒童 長者 照明").split()
CATEGORIES = ("parks", "streets", "culture", "sports", "environment", "health")
QUERIES = [
    ("no filter, page 1", {}),
    ("category=parks, page 5", {"category": "parks", "page": 5}),
    ("q=bike", {"q": "bike"}),
    ("q=Bike lanes, page 3", {"q": "Bike lanes", "page": 3}),
    ("q=人行道", {"q": "人行道"}),
    ("q=綠 (1 CJK char)", {"q": "綠"}),
    ("q=大安區 公園 + category", {"q": "大安區 公園", "category": "parks"}),
    ("q=zzz (no match)", {"q": "zzz"}),
]


def reference_search(session, rnd, *, district=None, category=None, status=None, q=None, page=1, per_page=20):
    """pb_engine.proposals.search before migration 0004 (the district filter left out: unused here)."""
    query = select(Proposal).where(Proposal.round_id == rnd.id)
    if status:
        query = query.where(Proposal.status == status)
    if q:
        like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(Proposal.title).like(like, escape="\\"),
                                func.lower(Proposal.summary).like(like, escape="\\"),
                                func.lower(Proposal.description).like(like, escape="\\")))
    rows = list(session.exec(query.order_by(Proposal.id)))
    if category:
        rows = [p for p in rows if category in (p.categories or [])]
    total = len(rows)
    start = (page - 1) * per_page
    return rows[start:start + per_page], total


def fill(db: Database, n: int, other: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    # The named words above make 1 word in 10; the rest come from 3 000 made-up ones per language, so a
    # named word is in a few per cent of the proposals, as a street name or "playground" would be.
    filler_en = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9)))
                 for _ in range(3000)]
    filler_zh = ["".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(2)) for _ in range(3000)]

    def words(k: int) -> str:
        named, filler, sep = (EN, filler_en, " ") if rng.random() < 0.5 else (ZH, filler_zh, rng.choice(("", " ")))
        return sep.join(rng.choice(named) if rng.random() < 0.1 else rng.choice(filler) for _ in range(k))

    round_ids = []
    with db.session() as s:
        for slug, count in (("taipei", n), ("kaohsiung", other)):
            city = City(slug=slug, name=slug, country="TW", currency="TWD", locales=["zh-TW"], timezone="Asia/Taipei")
            s.add(city)
            s.flush()
            rnd = Round(city_id=city.id, slug="2026", title="2026", budget=10 ** 9, ballot={}, rule={})
            s.add(rnd)
            s.flush()
            d = District(round_id=rnd.id, slug="all", name="all", budget=10 ** 9, position=0)
            s.add(d)
            s.flush()
            round_ids.append(rnd.id)
            rows = [dict(round_id=rnd.id, district_id=d.id, title=words(3), summary=words(8), description=words(30),
                         categories=rng.sample(CATEGORIES, rng.randint(0, 2)), status="submitted",
                         endorsement_count=0, created_at=now, updated_at=now) for _ in range(count)]
            for i in range(0, len(rows), 2000):
                s.execute(insert(Proposal), rows[i:i + 2000])
    if db.dialect == "postgresql":
        with db.engine.connect() as c:  # fresh statistics, as autovacuum would give a live database
            c.execute(text("ANALYZE proposal"))
            c.commit()
    return round_ids[0]


def best(fn, repeat: int) -> tuple[float, int]:
    times, total = [], 0
    for _ in range(repeat):
        t = time.perf_counter()
        total = fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1000, total


def run(db: Database, label: str, args) -> None:
    t = time.perf_counter()
    round_id = fill(db, args.proposals, args.other)
    print(f"\n{label}: {args.proposals} proposals in the round, {args.other} in another city's; "
          f"filled in {time.perf_counter() - t:.1f} s")
    print(f"{'query':32} {'reference ms':>13} {'total':>7} {'database ms':>12} {'total':>7} {'speed-up':>9}")
    with Session(db.engine) as s:
        rnd = s.get(Round, round_id)
        for name, kw in QUERIES:
            ref_ms, ref_total = best(lambda: reference_search(s, rnd, **kw)[1], args.repeat)
            new_ms, new_total = best(lambda: proposals.search(s, rnd, **kw)[1], args.repeat)
            print(f"{name:32} {ref_ms:13.1f} {ref_total:7} {new_ms:12.1f} {new_total:7} {ref_ms / new_ms:8.1f}x")
        for q in ("人行道", "bike lanes"):
            ms, found = best(lambda: len(search_all(s, q)), args.repeat)
            print(f"{'search_all ' + q:32} {'':13} {'':7} {ms:12.1f} {found:7}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--proposals", type=int, default=20_000)
    ap.add_argument("--other", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--postgres", help="a PostgreSQL URL; a scratch database is made beside it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database(url)
        run(db, "SQLite", args)
        db.dispose()
    if args.postgres:
        admin = create_engine(normalise_url(args.postgres), isolation_level="AUTOCOMMIT")
        name = f"pb_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = normalise_url(args.postgres).rsplit("/", 1)[0] + "/" + name
        try:
            upgrade(url)
            db = Database(url)
            run(db, "PostgreSQL", args)
            db.dispose()
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()


if __name__ == "__main__":
    main()
