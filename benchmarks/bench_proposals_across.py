"""Time the proposals across cities and the similar proposals on a few thousand real proposals.

Makes a fresh SQLite file (or, with --db postgresql://..., a new database on that server, dropped
afterwards), imports every Pabulib file of the folders given (default: ../shared/data/pabulib and
tests/data/pabulib), then imports the small files again under other city slugs until there are at
least --proposals proposals. Then, in one process, each figure beside a reference measured in the
same run (the machine is shared):

- fitting the TF-IDF model on every public proposal (cold), and the similar proposals of a sample
  of proposals with the model warm (the proposal page's cost), against the home page's full-text
  search (`/search?q=...`) as the reference;
- GET /proposals (the analysts' page), GET /api/v1/proposals (JSON page, CSV) and /by-city.

    .venv/bin/python benchmarks/bench_proposals_across.py
    .venv/bin/python benchmarks/bench_proposals_across.py --db postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _timed(fn, n=1):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def _ms(times):
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    return f"median {1000 * statistics.median(times):.1f} ms, p95 {1000 * p95:.1f} ms (n={len(times)})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folders", nargs="*", default=[str(ROOT.parent / "shared/data/pabulib"), str(ROOT / "tests/data/pabulib")])
    ap.add_argument("--proposals", type=int, default=3000)
    ap.add_argument("--db", default=None, help="a PostgreSQL server URL (a new database is made and dropped)")
    ap.add_argument("--sample", type=int, default=40)
    args = ap.parse_args()

    from sqlalchemy import create_engine, text
    from sqlmodel import func, select

    from pb_engine import importer
    from pb_engine.store.db import Database, normalise_url, upgrade
    from pb_engine.store.tables import Proposal

    tmp = Path(tempfile.mkdtemp(prefix="bench-across-"))
    drop = None
    if args.db:
        admin = create_engine(normalise_url(args.db), isolation_level="AUTOCOMMIT")
        name = f"pb_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = normalise_url(args.db).rsplit("/", 1)[0] + "/" + name
        drop = (admin, name)
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    try:
        upgrade(url)
        db = Database(url)
        files = sorted(p for f in args.folders for p in Path(f).glob("*.pb"))
        t = time.perf_counter()
        for p in files:
            try:
                importer.import_file(db, p)
            except Exception as exc:  # noqa: BLE001 - a refused file is reported, the others go on
                print(f"  skipped {p.name}: {exc}")
        small = [p for p in files if p.stat().st_size < 2_000_000]
        copy = 0
        with db.session() as s:
            count = s.exec(select(func.count(Proposal.id))).one()
        while count < args.proposals and small:
            copy += 1
            for p in small:
                try:
                    importer.import_file(db, p, city=f"copy{copy}-{importer.slugify(p.stem)[:40]}")
                except Exception:  # noqa: BLE001
                    continue
            with db.session() as s:
                count = s.exec(select(func.count(Proposal.id))).one()
        print(f"imported {len(files)} files (+{copy} copies of the small ones): {count} proposals "
              f"in {time.perf_counter() - t:.1f} s; database {'PostgreSQL' if args.db else 'SQLite'}")

        os.environ.setdefault("PB_INSTANCE_DIR", str(tmp / "instance"))
        from api import create_app
        from api.resources.proposals_across import rates
        from pb_engine.queries import similar_proposals
        from pb_engine.store.types import utcnow

        app = create_app({"TESTING": True, "DATABASE_URL": url})
        client = app.test_client()
        with app.test_request_context():
            r = rates()
            with db.session() as s:
                ids = list(s.exec(select(Proposal.id).order_by(Proposal.id)).all())
                sample = ids[:: max(1, len(ids) // args.sample)][: args.sample]
                print(f"{len(ids)} proposals")
                fits = []
                for _ in range(3):
                    similar_proposals._models.clear()
                    fits.extend(_timed(lambda: similar_proposals.model(s)))
                print(f"TF-IDF fit, cold: {_ms(fits)}")
                found = []
                sims = []
                for pid in sample:
                    t = time.perf_counter()
                    found.append(len(similar_proposals.similar(s, pid, r, now=utcnow())))
                    sims.append(time.perf_counter() - t)
                print(f"similar proposals, warm model: {_ms(sims)}; {sum(1 for n in found if n)} of {len(found)} "
                      f"sampled proposals have some (mean {statistics.mean(found):.1f})")
            # A resident edits an idea: the model takes the new text without a refit.
            updates = []
            for i, pid in enumerate(sample[:10]):
                with db.write_session() as w:
                    q = w.get(Proposal, pid)
                    q.title, q.updated_at = q.title + f" ({i})", utcnow()
                with db.session() as s:
                    updates.extend(_timed(lambda: similar_proposals.model(s)))
            print(f"similar-proposals model after one edited proposal (added in place): {_ms(updates)}")
        ref = _timed(lambda: client.get("/search?q=plac"), 10)
        print(f"reference GET /search?q=plac: {_ms(ref)}")
        for path in ("/proposals", "/proposals?category=sport", "/api/v1/proposals", "/api/v1/proposals?q=plac",
                     "/api/v1/proposals/by-city?category=environment", "/api/v1/proposals?format=csv&category=sport"):
            client.get(path)  # warm the per-round vote counts and rule runs
            print(f"GET {path}: {_ms(_timed(lambda: client.get(path), 5))}")
        one = sample[len(sample) // 2]
        with db.session() as s:
            p = s.get(Proposal, one)
            from pb_engine.store.tables import City, Round

            rnd = s.get(Round, p.round_id)
            city = s.get(City, rnd.city_id)
            page = f"/{city.slug}/{rnd.slug}/proposals/{one}"
        client.get(page)
        print(f"GET {page} (proposal page with similar ideas): {_ms(_timed(lambda: client.get(page), 10))}")
        app.extensions["pb_db"].dispose()
        db.dispose()
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        if drop:
            admin, name = drop
            with admin.connect() as c:
                c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
                               "AND pid <> pg_backend_pid()"))
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
