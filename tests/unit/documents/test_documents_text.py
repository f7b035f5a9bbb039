"""The Argentine number format (1.234,56) and the printable-text filter of the documents."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from encola.documents.text import ENCODING, amount, drawable, number, printable, rate

ARGENTINE = re.compile(r"^-?(0|[1-9]\d{0,2}(\.\d{3})*),\d{2}$")


def read_back(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


@pytest.mark.parametrize(
    "value,expected",
    [
        ("0", "0,00"), ("1234.56", "1.234,56"), ("1234567.891", "1.234.567,89"), ("-0.5", "-0,50"),
        ("999.995", "1.000,00"), ("0.125", "0,12"), ("100", "100,00"), ("-0.001", "0,00"),
        ("123456789012.34", "123.456.789.012,34"),
    ],
)
def test_amounts_print_in_the_argentine_form(value, expected):
    assert amount(Decimal(value)) == expected


@given(st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), allow_nan=False, allow_infinity=False))
def test_an_amount_reads_back_as_the_value_rounded_half_even_to_cents(value):
    text = amount(value)
    assert ARGENTINE.match(text), text
    assert read_back(text) == value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=6, allow_nan=False, allow_infinity=False))
def test_quantities_keep_their_decimals_and_at_least_two(value):
    text = number(value)
    whole, fraction = text.lstrip("-").split(",")
    assert len(fraction) >= 2
    assert read_back(text) == value


@pytest.mark.parametrize("value,expected", [("21", "21%"), ("10.5", "10,5%"), ("2.5", "2,5%"), ("0", "0%")])
def test_rates_print_as_afip_prints_them(value, expected):
    assert rate(Decimal(value)) == expected


@given(st.text())
def test_any_text_becomes_printable_in_the_standard_fonts(value):
    out = printable(value)
    out.encode(ENCODING)
    assert all(ord(c) >= 32 or c == "\n" for c in out)


def test_spanish_and_typographic_characters_are_kept():
    assert printable("Ñandú — “Año” 5º piso") == "Ñandú — “Año” 5º piso"
    assert printable(None) == ""


@given(st.one_of(st.text(), st.none(), st.integers()))
def test_drawable_is_the_printable_text_in_windows_1252(value):
    assert drawable(value) == printable(value).encode(ENCODING)
