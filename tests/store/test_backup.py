"""`pb-engine backup` / `pb-engine restore`: database-neutral, whole platform or one round.

SQLite -> (the parametrised database: SQLite or PostgreSQL) -> a fresh SQLite, and at every stop the
round gives the same published results, the same ballot digest, and a re-run of its rule funds the same
projects over the same digest. Refusals: a clash, another schema revision, a damaged file.
"""

from __future__ import annotations

import gzip
import json
import shutil

import pytest
from click.testing import CliRunner

from apihelp import Api, city_config, populated_round
from pb_engine.cli import main
from pb_engine.config import apply_city, parse_city_config
from pb_engine.staff import create_staff
from pb_engine.store.lookup import city_by_slug

BASE = "/api/v1/cities/alpha/rounds/2026"


def _app(url):
    from api import create_app

    return create_app({"TESTING": True, "DATABASE_URL": url})


def _fresh_sqlite(template, tmp_path, name):
    path = tmp_path / f"{name}.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


def _cli(args, url):
    result = CliRunner().invoke(main, args, env={"PB_DATABASE_URL": url})
    return result


def _published(app):
    api = Api(app.test_client())
    res = api.get(f"{BASE}/results").get_json()
    return {"input_hash": res["input_hash"], "outcome": res["outcome"],
            "funded": {d["district"]: sorted(p["id"] for p in d["funded"]) for d in res["districts"]},
            "receipts": res["receipts"]}


def _rerun(app, admin):
    """The round's rule run again on the stored ballots: its digest and what it funds."""
    r = Api(app.test_client()).post(f"{BASE}/outcomes", json={}, token=admin)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    return body["input_hash"], {d["district"]: sorted(d["selected"]) for d in body["districts"]}


@pytest.fixture
def source(_sqlite_template, tmp_path):
    """An SQLite platform with city alpha and a round with ballots and a published outcome."""
    url = _fresh_sqlite(_sqlite_template, tmp_path, "source")
    app = _app(url)
    db = app.extensions["pb_db"]
    with db.session() as s:
        apply_city(s, parse_city_config(city_config("alpha"), file="alpha.toml"), actor="test")
        s.flush()
        tokens = {"alpha_admin": create_staff(s, city_by_slug(s, "alpha"), name="admin", role="admin", actor="test")[1]}
    api = Api(app.test_client())
    world = populated_round(api, tokens, voters=3)
    r = api.post(f"{BASE}/outcomes/{world['outcome']['id']}/publish", token=tokens["alpha_admin"])
    assert r.status_code == 200, r.get_json()
    yield {"url": url, "app": app, "admin": tokens["alpha_admin"], "published": _published(app)}
    db.dispose()


def test_backup_restores_across_databases_with_same_outcome_and_digest(source, db_url, _sqlite_template, tmp_path):
    expected = source["published"]
    assert expected["input_hash"].startswith("sha256:")

    # 1. the whole SQLite platform into the other database (SQLite or PostgreSQL)
    platform = tmp_path / "platform.pbbackup"
    r = _cli(["backup", str(platform)], source["url"])
    assert r.exit_code == 0 and "backup of the whole platform" in r.output, r.output
    r = _cli(["restore", str(platform)], db_url)
    assert r.exit_code == 0 and "restored the whole platform" in r.output, r.output
    target = _app(db_url)
    try:
        assert _published(target) == expected
        assert _rerun(target, source["admin"]) == (expected["input_hash"], expected["funded"])
        # ids go on after the restored ones (PostgreSQL's sequences were moved past them)
        assert Api(target.test_client()).post(f"{BASE}/outcomes", json={}, token=source["admin"]).status_code == 201

        # the same platform again: refused whole, naming the clash
        r = _cli(["restore", str(platform)], db_url)
        assert r.exit_code == 1 and "restores into an empty platform" in r.output and "alpha" in r.output

        # 2. one round from there into a fresh SQLite where its city does not exist
        one = tmp_path / "round.pbbackup"
        r = _cli(["backup", str(one), "--round", "alpha/2026"], db_url)
        assert r.exit_code == 0, r.output
        r = _cli(["restore", str(one)], db_url)
        assert r.exit_code == 1 and "round alpha/2026 already exists" in r.output, r.output
    finally:
        target.extensions["pb_db"].dispose()
    back_url = _fresh_sqlite(_sqlite_template, tmp_path, "back")
    r = _cli(["restore", str(one)], back_url)
    assert r.exit_code == 0 and "restored round alpha/2026" in r.output, r.output
    back = _app(back_url)
    try:
        assert _published(back) == expected
        assert _rerun(back, source["admin"])[0] == expected["input_hash"]
    finally:
        back.extensions["pb_db"].dispose()

    # 3. the round into a platform where the city exists already (loaded from its config, other ids)
    other_url = _fresh_sqlite(_sqlite_template, tmp_path, "other")
    other = _app(other_url)
    db = other.extensions["pb_db"]
    try:
        with db.session() as s:
            apply_city(s, parse_city_config(city_config("zeta"), file="zeta.toml"), actor="test")
            apply_city(s, parse_city_config(city_config("alpha"), file="alpha.toml"), actor="test")
        r = _cli(["restore", str(one)], other_url)
        assert r.exit_code == 0 and "category: 2 of 2 already here" in r.output, r.output
        assert _published(other) == expected
        assert Api(other.test_client()).get("/api/v1/cities/zeta").status_code == 200
    finally:
        db.dispose()


def _rewrite(src, dst, change):
    with gzip.open(src, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    lines = change(lines)
    with gzip.open(dst, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def test_restore_refuses_another_revision_and_a_damaged_file(_sqlite_template, tmp_path):
    from pb_engine.store.backup import count_rows
    from pb_engine.store.db import Database

    source = _fresh_sqlite(_sqlite_template, tmp_path, "source")
    db = Database(source)
    with db.session() as s:
        apply_city(s, parse_city_config(city_config("alpha"), file="alpha.toml"), actor="test")
    db.dispose()
    good = tmp_path / "good.pbbackup"
    assert _cli(["backup", str(good)], source).exit_code == 0
    target = _fresh_sqlite(_sqlite_template, tmp_path, "target")

    def older(lines):
        header = json.loads(lines[0])
        header["alembic_revision"] = "0001_initial_schema"
        return [json.dumps(header), *lines[1:]]

    old = tmp_path / "old.pbbackup"
    _rewrite(good, old, older)
    r = _cli(["restore", str(old)], target)
    assert r.exit_code == 1
    assert "the backup is of schema revision 0001_initial_schema, this database is at" in r.output, r.output

    cut = tmp_path / "cut.pbbackup"
    _rewrite(good, cut, lambda lines: lines[:-3])
    r = _cli(["restore", str(cut)], target)
    assert r.exit_code == 1 and "cut off" in r.output, r.output
    r = _cli(["restore", source.removeprefix("sqlite:///")], target)  # not a backup at all
    assert r.exit_code == 1 and "not a readable pb_engine backup" in r.output, r.output
    db = Database(target)
    assert not any(count_rows(db.engine).values())  # nothing of the refused files was written
    db.dispose()
    assert _cli(["restore", str(good)], target).exit_code == 0
