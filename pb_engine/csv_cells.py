"""CSV that a spreadsheet opens as data: a text cell starting with =, +, -, @, tab or carriage return
is a formula to Excel, LibreOffice and Google Sheets (`=HYPERLINK("http://x","y")` in a proposal
title would be a live link, or worse), so such a cell gets a leading single quote, which the
spreadsheet shows as text and does not evaluate (OWASP's advice for CSV injection).

Only text is touched: numbers the service writes (ids, counts) are not strings and stay as they are;
money is written as text in major units and never starts with one of those characters.
"""

from __future__ import annotations

import csv
from typing import Any, Iterable, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose rows have every text cell neutralised."""

    def __init__(self, out: TextIO, **kwargs):
        self._w = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]):
        return self._w.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: TextIO, **kwargs) -> SafeWriter:
    return SafeWriter(out, **kwargs)
