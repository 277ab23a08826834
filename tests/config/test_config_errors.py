"""A bad city config is refused with a message naming file, key and problem, and nothing of it is written."""

from __future__ import annotations

import pytest

from cfg_helpers import BEFORE, GOOD, counts, edit
from pb_engine.config import load_path, parse_city_config
from pb_engine.config.load import read_config
from pb_engine.errors import ConfigError

pytestmark = pytest.mark.db

EMPTY = {"City": 0, "Category": 0, "Round": 0, "District": 0, "Phase": 0, "AuditEvent": 0}


def refused(db, path, key: str, words: str) -> str:
    """Load `path`; assert it failed naming file and key, the problem contains `words`, and nothing was written."""
    report = load_path(db, path, now=BEFORE)
    assert not report.ok
    [failed] = report.failed
    message = failed.error
    assert str(path) in message
    line = next((ln for ln in message.splitlines() if f": {key}: " in ln), None)
    assert line is not None, f"key {key!r} not named in:\n{message}"
    assert line.startswith(f"{path}: {key}: ")
    assert words in line, line
    assert counts(db) == EMPTY
    return message


def test_unknown_key(db, write):
    path = write(edit(GOOD, 'country = "Taiwan"', 'country = "Taiwan"\nmayor = "Ko"'))
    refused(db, path, "city.mayor", "unknown key")


def test_unknown_key_in_ballot(db, write):
    path = write(edit(GOOD, "max_projects = 3", "max_projets = 3"))
    refused(db, path, "rounds.2030.ballot.max_projets", "unknown key")


def test_wrong_type(db, write):
    path = write(edit(GOOD, "districts_must_sum = true", 'districts_must_sum = "yes"'))
    refused(db, path, "rounds.2030.districts_must_sum", "must be true or false")


def test_wrong_type_money(db, write):
    path = write(edit(GOOD, "budget = 1_000_000", 'budget = "a lot"'))
    refused(db, path, "rounds.2030.budget", "must be an amount of TWD")


def test_money_with_more_digits_than_the_currency(db, write):
    path = write(edit(GOOD, "budget = 400_000", "budget = 399_999.995"))
    refused(db, path, "rounds.2030.districts.south.budget", "more than 2 decimal digit")


def test_phases_out_of_order(db, write):
    text = edit(GOOD, 'name = "submission"\n  starts_at = 2030-02-01\n  ends_at = 2030-02-28',
                'name = "implementation"\n  starts_at = 2030-02-01\n  ends_at = 2030-02-28')
    path = write(text)
    refused(db, path, "rounds.2030.phases.review", "phases must follow the order")


def test_phases_overlapping(db, write):
    path = write(edit(GOOD, "ends_at = 2030-02-28", "ends_at = 2030-03-05"))
    refused(db, path, "rounds.2030.phases.review", "overlap")


def test_phase_ending_before_it_starts(db, write):
    path = write(edit(GOOD, "ends_at = 2030-06-30T17:00:00+08:00", "ends_at = 2030-05-30T17:00:00+08:00"))
    refused(db, path, "rounds.2030.phases.voting", "is not after starts_at")


def test_district_budgets_do_not_add_up(db, write):
    path = write(edit(GOOD, "budget = 400_000", "budget = 300_000"))
    message = refused(db, path, "rounds.2030.districts", "add up to 900,000 TWD")
    assert "1,000,000 TWD" in message


def test_district_budgets_need_not_add_up_when_allowed(db, write):
    text = edit(edit(GOOD, "budget = 400_000", "budget = 300_000"), "districts_must_sum = true", "districts_must_sum = false")
    report = load_path(db, write(text), now=BEFORE)
    assert report.ok, report.files[0].error


def test_unknown_taxonomy_term(db, write):
    path = write(edit(GOOD, 'taxonomy = "transport"', 'taxonomy = "roads-and-bridges"'))
    message = refused(db, path, "categories.roads.taxonomy", "unknown category 'roads-and-bridges'")
    assert "transport" in message  # lists the terms that exist


def test_round_category_not_in_city(db, write):
    path = write(edit(GOOD, 'categories = ["parks", "roads"]', 'categories = ["parks", "libraries"]'))
    refused(db, path, "rounds.2030.categories", "unknown category 'libraries'")


def test_unknown_rule(db, write):
    path = write(edit(GOOD, 'id = "greedy"', 'id = "borda-magic"'))
    message = refused(db, path, "rounds.2030.rule.id", "unknown rule 'borda-magic'")
    assert "mes" in message  # lists the rules that exist


def test_unknown_time_zone(db, write):
    path = write(edit(GOOD, 'timezone = "Asia/Taipei"', 'timezone = "Asia/Taipie"'))
    refused(db, path, "city.timezone", "unknown time zone")


def test_toml_syntax_error(db, write):
    path = write(edit(GOOD, 'slug = "testville"', 'slug = "testville'))
    refused(db, path, "(syntax)", "not valid TOML")


def test_every_problem_of_a_file_is_listed(db, write):
    text = edit(GOOD, 'country = "Taiwan"', 'country = "Taiwan"\nmayor = "Ko"')
    text = edit(text, "budget = 400_000", "budget = 300_000")
    text = edit(text, 'id = "greedy"', 'id = "borda-magic"')
    text = edit(text, 'taxonomy = "transport"', 'taxonomy = "roads-and-bridges"')
    path = write(text)
    message = refused(db, path, "city.mayor", "unknown key")
    for key in ("rounds.2030.districts", "rounds.2030.rule.id", "categories.roads.taxonomy"):
        assert f"{path}: {key}: " in message
    data, _ = read_config(path)
    with pytest.raises(ConfigError) as info:
        parse_city_config(data, str(path))
    err = info.value
    assert (err.file, err.key) == (str(path), "city.mayor")  # the first problem
    assert len(err.problems) == 4
    assert set(err.errors) == {"city.mayor", "rounds.2030.districts", "rounds.2030.rule.id", "categories.roads.taxonomy"}


def test_bad_file_does_not_stop_good_ones(db, write):
    good = write(GOOD, "a-testville.toml")
    bad = write(edit(GOOD.replace("testville", "badville"), 'id = "greedy"', 'id = "nope"'), "b-badville.toml")
    report = load_path(db, good.parent, now=BEFORE)
    assert [f.status for f in report.files] == ["created", "failed"]
    assert str(bad) in report.failed[0].error
    assert counts(db)["City"] == 1


def test_date_outside_supported_years(db, write):
    # Near year 9999 the time-zone arithmetic overflows: refused with a message, never a crash.
    path = write(edit(GOOD, 'name = "submission"\n  starts_at = 2030-02-01',
                      'name = "submission"\n  starts_at = 9999-12-31T23:00:00'))
    refused(db, path, "rounds.2030.phases.submission.starts_at", "outside the years 1900 to 9000")
