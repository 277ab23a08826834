"""The dated, editable exchange-rates file of the comparison (pb_engine.analysis.currency)."""

from datetime import date
from fractions import Fraction as F

import pytest

from pb_engine.analysis.currency import DEFAULT_PATH, RatesFileError, load_rates, parse_rates
from pb_engine.errors import ValidationFailed

GOOD = 'base = "EUR"\ndate = 2024-12-31\nsource = "test"\n[rates]\nEUR = 1\nPLN = "4.25"\nTWD = 34.1\n'


def test_rates_convert_exactly_through_the_base():
    r = parse_rates(GOOD)
    assert (r.base, r.date, r.currencies) == ("EUR", date(2024, 12, 31), ("EUR", "PLN", "TWD"))
    assert r.convert(425, "PLN", "EUR") == 100
    assert r.convert(100, "EUR", "TWD") == F(3410)            # 34.1 read as the decimal written, not a float
    assert r.convert(425, "PLN", "TWD") == F(3410)
    assert r.convert(7, "TWD", "TWD") == 7
    with pytest.raises(ValidationFailed) as e:
        r.convert(1, "JPY", "EUR")
    assert "currency" in e.value.errors and "no exchange rate for JPY" in e.value.message and "2024-12-31" in e.value.message


@pytest.mark.parametrize("text,where", [
    ('base = "euro"\ndate = 2024-12-31\n[rates]\nPLN = 4', "base"),
    ('base = "EUR"\n[rates]\nPLN = 4', "date"),
    ('base = "EUR"\ndate = 2024-12-31\n', "[rates]"),
    ('base = "EUR"\ndate = 2024-12-31\n[rates]\npln = 4', "rates.pln"),
    ('base = "EUR"\ndate = 2024-12-31\n[rates]\nPLN = "four"', "rates.PLN: must be a number"),
    ('base = "EUR"\ndate = 2024-12-31\n[rates]\nPLN = 0', "rates.PLN: must be more than 0"),
    ('base = "EUR"\ndate = 2024-12-31\n[rates]\nEUR = 2', "rates.EUR"),
    ('base = "EUR" date', "not valid TOML"),
])
def test_bad_files_name_the_key(text, where):
    with pytest.raises(RatesFileError, match=None) as e:
        parse_rates(text, "rates.toml")
    assert e.value.args[0].startswith("rates.toml: ") and where in e.value.args[0]


def test_the_shipped_file_loads_and_a_missing_one_is_named(tmp_path):
    shipped = load_rates()
    assert shipped.path == str(DEFAULT_PATH) and {"EUR", "PLN", "TWD"} <= set(shipped.currencies)
    with pytest.raises(RatesFileError, match="nowhere.toml: cannot read"):
        load_rates(tmp_path / "nowhere.toml")
