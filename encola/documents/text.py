"""Small pure formatters for what a document prints: Argentine numbers, dates, printable text."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal

# Helvetica is one of PDF's 14 standard fonts: every reader has it, nothing is embedded, and
# with WinAnsiEncoding (Windows-1252) it has "—", "“", "º" and every Spanish letter.
ENCODING = "windows-1252"
_CONTEXT = Context(prec=60, rounding=ROUND_HALF_EVEN)  # room for any stored amount's digits
_STEPS = {places: Decimal(1).scaleb(-places) for places in range(13)}
_ARGENTINE = str.maketrans(",.", ".,")  # 1,234.56 → 1.234,56
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_CONTROL_BYTES = bytes.maketrans(bytes([*range(0x0A), *range(0x0B, 0x20)]), b" " * 0x1F)


def amount(value: Decimal, places: int = 2) -> str:
    """``value`` rounded half-even to ``places`` decimals in the Argentine form: 1.234.567,89."""
    step = _STEPS.get(places) or Decimal(1).scaleb(-places)
    rounded = value.quantize(step, context=_CONTEXT)
    if not rounded:
        rounded = abs(rounded)  # never "-0,00"
    return f"{rounded:,f}".translate(_ARGENTINE)


def number(value: Decimal, min_places: int = 2, max_places: int = 6) -> str:
    """A quantity, price or rate with as many decimals as it has (at least ``min_places``)."""
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return amount(value, max(min_places, min(places, max_places)))


def rate(value: Decimal) -> str:
    """An alícuota as AFIP prints it: 21%, 10,5%, 2,5%."""
    return number(value, 0, 4) + "%"


def day(value: date | None) -> str:
    """dd/mm/aaaa, or "" when there is no date."""
    return value.strftime("%d/%m/%Y") if value else ""


def printable(value: object) -> str:
    """Text the standard fonts can draw: Windows-1252, control characters dropped.

    A character outside the encoding is replaced by its compatibility decomposition's base
    letters when it has one ("ﬁ" → "fi", "ő" → "o"), else by "?", so a client's emoji never
    stops a document from rendering.
    """
    if value is None:
        return ""
    text = str(value)
    try:
        text.encode(ENCODING)
    except UnicodeEncodeError:
        text = "".join(_fallback(char) for char in text)
    return _CONTROL.sub(" ", text) if _CONTROL.search(text) else text


def drawable(value: object) -> bytes:
    """``printable(value)`` encoded in Windows-1252, as a page's content stream carries it: one
    encode where the text is drawn, instead of a trial encode and a second one."""
    if value is None:
        return b""
    if isinstance(value, bytes):  # already drawable (a line ``Canvas.wrap`` gave)
        return value
    text = str(value)
    if text.isascii():  # most of a document's text: encoded in C (Windows-1252 has a Python frame)
        return text.encode("ascii").translate(_CONTROL_BYTES)
    try:
        data = text.encode(ENCODING)
    except UnicodeEncodeError:
        data = "".join(map(_fallback, text)).encode(ENCODING)
    return data.translate(_CONTROL_BYTES)


def _fallback(char: str) -> str:
    try:
        char.encode(ENCODING)
        return char
    except UnicodeEncodeError:
        pass
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    try:
        return base.encode(ENCODING).decode(ENCODING) if base else "?"
    except UnicodeEncodeError:
        return "?"
