"""Exchange rates for comparing budgets across currencies: a dated TOML file the analyst edits.

    base = "EUR"                  # the currency the rates are quoted against
    date = 2024-12-31             # the day the rates are of (shown beside every converted figure)
    source = "..."                # where they come from
    [rates]                       # units of each currency that one unit of `base` buys
    PLN = "4.275"                 # a string or a number; read as the exact decimal it is written as

`load_rates(path)` reads and checks the file (a problem names the file, the key and the rule
broken); `Rates.convert(amount, currency, to)` converts exactly (Fractions: a chosen currency
never decides anything, but a figure should not drift with float noise either).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date as Date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Mapping

from pb_engine.errors import PBError, ValidationFailed

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "data" / "currency_rates.toml"
CODE = re.compile(r"^[A-Z]{3}$")


class RatesFileError(PBError, ValueError):
    """The rates file is missing or malformed; the message names the file and the key. Over HTTP a 503:
    the service is fine, the analyst's file needs fixing."""

    status = 503
    code = "rates_file_broken"


@dataclass(frozen=True)
class Rates:
    base: str
    date: Date
    rates: Mapping[str, Fraction]   # per unit of base; base itself is 1
    source: str = ""
    path: str = ""

    def rate(self, currency: str) -> Fraction:
        if currency == self.base:
            return Fraction(1)
        r = self.rates.get(currency)
        if r is None:
            raise ValidationFailed.field(
                "currency", f"no exchange rate for {currency} in {Path(self.path).name or 'the rates file'} "
                f"(dated {self.date.isoformat()}); it has {', '.join(self.currencies)}",
                "compare_no_rate", currency=currency)
        return r

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(sorted({self.base, *self.rates}))

    def convert(self, amount, currency: str, to: str) -> Fraction:
        """`amount` of `currency` in `to`, exactly."""
        return Fraction(amount) * self.rate(to) / self.rate(currency)


def parse_rates(text: str, path: str = "<rates>") -> Rates:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RatesFileError(f"{path}: not valid TOML: {exc}") from None
    base = data.get("base")
    if not isinstance(base, str) or not CODE.match(base):
        raise RatesFileError(f"{path}: base must be a currency code such as \"EUR\"")
    day = data.get("date")
    if isinstance(day, datetime):
        day = day.date()
    if not isinstance(day, Date):
        raise RatesFileError(f"{path}: date must be the day the rates are of, e.g. date = 2024-12-31")
    table = data.get("rates")
    if not isinstance(table, dict) or not table:
        raise RatesFileError(f"{path}: [rates] must list at least one currency, e.g. PLN = \"4.275\"")
    rates: dict[str, Fraction] = {}
    for code, value in table.items():
        if not CODE.match(code):
            raise RatesFileError(f"{path}: rates.{code}: a key must be a currency code such as PLN")
        try:
            if isinstance(value, bool):
                raise ValueError
            r = Fraction(repr(value) if isinstance(value, float) else value)
        except (TypeError, ValueError, ZeroDivisionError):
            raise RatesFileError(f"{path}: rates.{code}: must be a number, got {value!r}") from None
        if r <= 0:
            raise RatesFileError(f"{path}: rates.{code}: must be more than 0")
        rates[code] = r
    if rates.get(base, 1) != 1:
        raise RatesFileError(f"{path}: rates.{base}: the base currency's rate is 1")
    rates.pop(base, None)
    return Rates(base, day, rates, str(data.get("source", "")), path)


def load_rates(path: str | Path | None = None) -> Rates:
    p = Path(path) if path else DEFAULT_PATH
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RatesFileError(f"{p}: cannot read the exchange rates file ({exc.strerror})") from None
    return parse_rates(text, str(p))


__all__ = ["DEFAULT_PATH", "Rates", "RatesFileError", "load_rates", "parse_rates"]
