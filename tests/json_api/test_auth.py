"""Tokens: staff tokens stored as hashes only; resident tokens signed, expiring, revoked by a new password."""

from __future__ import annotations

import time

from click.testing import CliRunner

from apihelp import city_config
from pb_engine import residents
from pb_engine.config import apply_city, parse_city_config
from pb_engine.staff import create_staff, hash_token, staff_by_token
from pb_engine.store.lookup import city_by_slug
from pb_engine.store.tables import StaffUser


def _city(db):
    with db.session() as s:
        apply_city(s, parse_city_config(city_config("alpha")), actor="test")


def test_staff_token_is_stored_hashed(db):
    _city(db)
    with db.session() as s:
        staff, token = create_staff(s, city_by_slug(s, "alpha"), name="Ann", role="admin")
    with db.session() as s:
        row = s.get(StaffUser, staff.id)
        assert row.token_hash == hash_token(token) and token not in row.token_hash
        assert staff_by_token(s, token).id == staff.id
        assert staff_by_token(s, token + "x") is None and staff_by_token(s, "pbr_" + token) is None


def test_staff_create_cli_prints_token_once(db, monkeypatch):
    _city(db)
    from pb_engine.cli import main

    out = CliRunner().invoke(main, ["staff", "create", "--city", "alpha", "--role", "reviewer", "--name", "Rita",
                                    "--database", db.url])
    assert out.exit_code == 0, out.output
    token = out.stdout.strip().splitlines()[-1]
    with db.session() as s:
        assert staff_by_token(s, token).role == "reviewer"
    bad = CliRunner().invoke(main, ["staff", "create", "--city", "nowhere", "--role", "admin", "--name", "X",
                                    "--database", db.url])
    assert bad.exit_code != 0 and "nowhere" in bad.output


def test_resident_tokens(db):
    _city(db)
    with db.session() as s:
        r = residents.register(s, city_by_slug(s, "alpha"), username="ada", password="correct horse")
    with db.session() as s:
        token = residents.issue_token(r)
        assert residents.resident_by_token(s, token).id == r.id
        assert residents.resident_by_token(s, token, secret="other key") is None
        forged = token[:-1] + ("0" if token[-1] != "0" else "1")
        assert residents.resident_by_token(s, forged) is None
        old = residents.issue_token(r, now=time.time() - residents.TOKEN_MAX_AGE - 10)
        assert residents.resident_by_token(s, old) is None
        row = residents.authenticate(s, city_by_slug(s, "alpha"), "ada", "correct horse")
        row.password_hash = "changed"
        s.add(row)
    with db.session() as s:
        assert residents.resident_by_token(s, token) is None  # a new password revokes old tokens


def test_compare_cli(db):
    _city(db)
    from pb_engine.cli import main

    with db.session() as s:
        from pb_engine.config import parse_round, upsert_round

        from apihelp import round_body

        c = city_by_slug(s, "alpha")
        upsert_round(s, c, parse_round(round_body(), timezone=c.timezone, currency=c.currency,
                                       categories=["parks", "streets"]), "test")
    out = CliRunner().invoke(main, ["compare", "alpha/2026", "--database", db.url])
    assert out.exit_code == 0, out.output
    import json

    entry = json.loads(out.output)["rounds"][0]
    assert entry["ref"] == "alpha/2026" and entry["figures"]["budget"] == 100_000
    out = CliRunner().invoke(main, ["compare", "alpha/2026", "--csv", "--database", db.url])
    assert out.output.startswith("city,round,")
    bad = CliRunner().invoke(main, ["compare", "alpha", "--database", db.url])
    assert bad.exit_code != 0 and "city/round" in bad.output
