"""Money: exact conversion between a config's major units and stored minor units.

Configs and the JSON API speak major units (NT$ 1,500,000 or 1500000.50 PLN);
storage and rules use integer minor units. Conversions go through Decimal and
refuse anything that is not exact: 12.345 EUR is an error, never a rounding.

Minor digits follow ISO 4217. TWD has 2 there (although coins below NT$1 are
no longer in circulation), so NT$ 100 is stored as 10000; configs may still
write whole dollars, and pages show decimals only when there are any.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# ISO 4217 minor units of the currencies our cities use (and a few neighbours).
MINOR_DIGITS: dict[str, int] = {
    "TWD": 2, "PLN": 2, "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "CZK": 2, "HUF": 2,
    "SEK": 2, "NOK": 2, "DKK": 2, "CAD": 2, "AUD": 2, "NZD": 2, "BRL": 2, "MXN": 2,
    "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "KWD": 3, "BHD": 3, "TND": 3,
}

SYMBOLS: dict[str, str] = {"TWD": "NT$", "PLN": "zł", "EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


class MoneyError(ValueError):
    """A config or API amount that cannot be stored exactly."""


def minor_digits(currency: str) -> int:
    try:
        return MINOR_DIGITS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency {currency!r}; known: {', '.join(sorted(MINOR_DIGITS))}") from None


def to_minor(amount, currency: str) -> int:
    """Major units (int, Decimal, decimal string, or float as written) to integer minor units, exactly."""
    digits = minor_digits(currency)
    if isinstance(amount, bool) or amount is None:
        raise MoneyError(f"must be an amount of {currency}, got {amount!r}")
    if isinstance(amount, int):
        value = Decimal(amount)
    elif isinstance(amount, Decimal):
        value = amount
    elif isinstance(amount, float):
        value = Decimal(repr(amount))  # the shortest text that gives this float: what the writer typed
    elif isinstance(amount, str):
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            raise MoneyError(f"must be an amount of {currency}, got {amount!r}") from None
    else:
        raise MoneyError(f"must be an amount of {currency}, got {amount!r}")
    if not value.is_finite():
        raise MoneyError(f"must be a finite amount, got {amount!r}")
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{amount} has more than {digits} decimal digit(s), the minor unit of {currency}")
    return int(scaled)


def to_major(minor: int, currency: str) -> Decimal:
    """Integer minor units to an exact Decimal in major units."""
    return Decimal(int(minor)).scaleb(-minor_digits(currency))


def major_json(minor: int, currency: str) -> int | float:
    """For JSON: an int when whole, else a float (exact for any budget below 2**53 minor units)."""
    value = to_major(minor, currency)
    return int(value) if value == value.to_integral_value() else float(value)


def format_money(minor: int, currency: str, *, symbol: bool = True) -> str:
    """1500000000 TWD minor -> 'NT$15,000,000'; 12345 PLN -> '123.45 zł'. Decimals only when not whole."""
    value = to_major(minor, currency)
    digits = minor_digits(currency)
    whole = value == value.to_integral_value()
    number = f"{value:,.0f}" if whole else f"{value:,.{digits}f}"
    if not symbol or currency not in SYMBOLS:
        return f"{number} {currency}"
    sym = SYMBOLS[currency]
    return f"{sym}{number}" if currency in ("TWD", "USD", "GBP", "JPY") else f"{number} {sym}"
