"""`pb-engine import-pabulib` of Warszawa 2026 (83 projects, 61,668 ballots), on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_import.py                       # Poland_Warszawa_2026.pb
    .venv/bin/python benchmarks/bench_import.py FILE.pb --pg postgresql://postgres@127.0.0.1:5432/postgres

Each database is fresh: a SQLite file in a temporary folder, and on PostgreSQL a database
`pb_bench_import_<pid>` created on the given server and dropped afterwards. Printed side by side
with the reference in the same process: parsing the file alone (the part no database can speed up).
Wall-clock seconds (the database server's work counts), with the cyclic GC paused as the CLI does.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from pb_engine import pabulib  # noqa: E402
from pb_engine.commands import paused_gc  # noqa: E402
from pb_engine.importer import import_file  # noqa: E402
from pb_engine.store.db import Database, upgrade  # noqa: E402


def timed_import(url: str, path: Path) -> tuple[float, int]:
    upgrade(url)
    db = Database(url)
    try:
        t = time.perf_counter()
        with paused_gc():
            result = import_file(db, path)
        return time.perf_counter() - t, result.ballots
    finally:
        db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", default=str(ROOT / "tests/data/pabulib/Poland_Warszawa_2026.pb"))
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres",
                    help="an admin URL of the PostgreSQL server ('' to skip)")
    args = ap.parse_args()
    path = Path(args.file)

    t = time.perf_counter()
    with paused_gc():
        pb = pabulib.parse_path(path)
    parse_s = time.perf_counter() - t
    print(f"{path.name}: {len(pb.instance.projects)} projects, {len(pb.profile)} ballots")
    print(f"{'':12}{'seconds':>10}{'ballots/s':>12}")
    print(f"{'parse only':12}{parse_s:10.2f}{len(pb.profile) / parse_s:12,.0f}")

    with tempfile.TemporaryDirectory() as tmp:
        secs, n = timed_import(f"sqlite:///{tmp}/bench.db", path)
        print(f"{'sqlite':12}{secs:10.2f}{n / secs:12,.0f}")

    if args.pg:
        name = f"pb_bench_import_{os.getpid()}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = args.pg.rsplit("/", 1)[0] + "/" + name
            secs, n = timed_import(url, path)
            print(f"{'postgresql':12}{secs:10.2f}{n / secs:12,.0f}")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
