"""Shared by the city config tests: a good config as TOML text, and row counts to prove nothing was written."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlmodel import func, select

from pb_engine.store.tables import AuditEvent, Category, City, District, Phase, Round

# Before the phases of GOOD below: nothing is frozen.
BEFORE = datetime(2030, 1, 1, tzinfo=timezone.utc)
# Voting of GOOD has started.
DURING_VOTING = datetime(2030, 6, 10, tzinfo=timezone.utc)

GOOD = """
[city]
name = "Testville"
slug = "testville"
country = "Taiwan"
population = 100000
currency = "TWD"
locales = ["zh-TW", "en"]
timezone = "Asia/Taipei"

[[categories]]
slug = "parks"
name = "Parks"
taxonomy = "environment"

[[categories]]
slug = "roads"
name = "Roads"
taxonomy = "transport"

[[rounds]]
slug = "2030"
title = "Testville 2030"
budget = 1_000_000
districts_must_sum = true
endorsement_threshold = 10
categories = ["parks", "roads"]
tie_breaking = "id"

  [[rounds.districts]]
  slug = "north"
  name = "North"
  budget = 600_000
  population = 40000

  [[rounds.districts]]
  slug = "south"
  name = "South"
  budget = 400_000

  [[rounds.phases]]
  name = "submission"
  starts_at = 2030-02-01
  ends_at = 2030-02-28

  [[rounds.phases]]
  name = "review"
  starts_at = 2030-03-01T00:00:00+08:00
  ends_at = 2030-05-31T23:00:00

  [[rounds.phases]]
  name = "voting"
  starts_at = 2030-06-01T09:00:00+08:00
  ends_at = 2030-06-30T17:00:00+08:00

  [rounds.ballot]
  kind = "approval"
  min_projects = 1
  max_projects = 3

  [rounds.rule]
  id = "greedy"

  [rounds.eligibility]
  methods = ["access_code", "resident"]
  multi_district = false
  min_age = 16
"""

TABLES = (City, Category, Round, District, Phase, AuditEvent)


def counts(db) -> dict[str, int]:
    with db.session() as s:
        return {t.__name__: s.exec(select(func.count()).select_from(t)).one() for t in TABLES}


def edit(text: str, old: str, new: str) -> str:
    assert old in text, f"{old!r} not in the config"
    return text.replace(old, new, 1)
