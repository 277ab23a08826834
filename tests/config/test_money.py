"""Money is exact: major units in configs, integer minor units in storage."""

from decimal import Decimal

import pytest

from pb_engine.money import MoneyError, format_money, major_json, minor_digits, to_major, to_minor
from pb_engine.taxonomy import TAXONOMY


def test_minor_digits_follow_iso_4217():
    assert (minor_digits("TWD"), minor_digits("PLN"), minor_digits("EUR"), minor_digits("JPY")) == (2, 2, 2, 0)


@pytest.mark.parametrize("amount,currency,minor", [
    (24186815, "PLN", 2418681500), (Decimal("0.1"), "EUR", 10), (0.1, "EUR", 10), ("1234.56", "TWD", 123456),
    (Decimal("1500"), "JPY", 1500),
])
def test_to_minor_is_exact(amount, currency, minor):
    assert to_minor(amount, currency) == minor
    assert to_major(minor, currency) == Decimal(str(amount))


@pytest.mark.parametrize("amount,currency", [
    (Decimal("1.005"), "EUR"), (Decimal("1.5"), "JPY"), (True, "EUR"), ("lots", "EUR"), (1, "XXX"),
])
def test_to_minor_refuses_what_it_cannot_store_exactly(amount, currency):
    with pytest.raises(MoneyError):
        to_minor(amount, currency)


def test_json_and_formatting():
    assert major_json(2418681500, "PLN") == 24186815 and isinstance(major_json(2418681500, "PLN"), int)
    assert major_json(150, "EUR") == 1.5
    assert format_money(1_500_000_000, "TWD") == "NT$15,000,000"
    assert format_money(12345, "PLN") == "123.45 zł"
    assert format_money(12345, "EUR", symbol=False) == "123.45 EUR"


def test_taxonomy_is_short_and_described():
    assert {"transport", "environment", "education", "culture", "sport", "health", "social", "safety",
            "public-space", "infrastructure", "digital", "other"} == set(TAXONOMY)
    assert all(TAXONOMY.values())
