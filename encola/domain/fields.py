"""Readers for the loosely typed scalars real TusFacturas clients send.

Numbers come as JSON numbers or strings, zero-padded or not, with any number of decimals;
``null`` means absent. Each reader returns ``None`` when the value cannot be read, and the
caller turns that into its own TFC error. JSON floats are read through ``repr`` so that
``0.1`` becomes ``Decimal("0.1")``, never the binary approximation.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")
MILL = Decimal("0.001")
# ASCII digits only: Python's \d (and str.isdigit) also match "²", "٣" and fullwidth "１", which
# int() then refuses or reads as a number the client never typed in ASCII.
_DECIMAL_RE = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_INT_RE = re.compile(r"^[0-9]+$")
_DATE_RE = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
# Far beyond any real amount (AFIP's ImpTotal has 13 integer digits), and small enough that
# quantizing never overflows the decimal context nor int() hits Python's digit limit.
MAX_MAGNITUDE = Decimal("1e15")
MAX_INT_DIGITS = 18


def ascii_digits(value: str) -> bool:
    """Only 0-9, at least one (``str.isdigit`` also accepts superscripts and other scripts' digits)."""
    return value.isascii() and value.isdigit()


def absent(value: object) -> bool:
    """A missing key, JSON null and an empty or blank string all mean "not sent"."""
    return value is None or (isinstance(value, str) and not value.strip())


def decimal(value: object) -> Decimal | None:
    """A finite Decimal below 10^15 in magnitude from a JSON number or numeric string, else None."""
    number = _decimal(value)
    if number is None or abs(number) >= MAX_MAGNITUDE:
        return None
    return number


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 64 or not _DECIMAL_RE.fullmatch(text):
            return None
        try:
            return Decimal(text)
        except InvalidOperation:  # pragma: no cover - the regex already filters
            return None
    return None


def integer(value: object) -> int | None:
    """A non-negative integer from ``7``, ``"0007"`` or ``7.0``; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 10**MAX_INT_DIGITS else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and 0 <= value < 10**MAX_INT_DIGITS else None
    if isinstance(value, str):
        text = value.strip()
        if _INT_RE.fullmatch(text):
            # Leading zeros count against int()'s 4300-digit limit too: strip them first.
            digits = text.lstrip("0") or "0"
            return int(digits) if len(digits) <= MAX_INT_DIGITS else None
        number = decimal(text)
        if number is not None and number == number.to_integral_value() and number >= 0:
            return int(number)
    return None


def text(value: object) -> str | None:
    """A string field; numbers are accepted and written as sent (clients send codes as ints)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return None


def flag(value: object, default: str | None = None) -> str | None:
    """An S/N flag; absent gives ``default``; anything else but S or N gives None."""
    if absent(value):
        return default
    word = text(value)
    if word is None:
        return None
    word = word.strip().upper()
    return word if word in ("S", "N") else None


def wire_date(value: object) -> date | None:
    """A dd/mm/aaaa date (single-digit day and month tolerated); else None."""
    word = text(value)
    if word is None:
        return None
    match = _DATE_RE.fullmatch(word.strip())
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def format_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime) -> str:
    return value.strftime("%d/%m/%Y %H:%M:%S")


def money(value: Decimal) -> Decimal:
    """Round half-even to 2 decimals, as TF and AFIP ask for totals."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def price(value: Decimal) -> Decimal:
    """Round half-even to 3 decimals, as TF keeps unit prices."""
    return value.quantize(MILL, rounding=ROUND_HALF_EVEN)


def plain(value: Decimal) -> int | float | str:
    """A JSON-friendly number for answers: integers stay ints, the rest become floats of 2-3 places.

    TF's consultas show ``"total": 138.90`` and ``"cantidad": 1``; JSON clients read both as numbers.
    """
    if value == value.to_integral_value():
        return int(value)
    return float(value)
