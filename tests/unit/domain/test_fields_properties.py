"""Properties of the field readers: they never raise, and digits mean ASCII 0-9 only."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from encola.domain import fields as f

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(st.characters(codec=None, exclude_categories=())),
    st.text("0123456789.+-/ ²٣１߁", max_size=30),
    st.decimals().map(str),
    st.lists(st.integers(), max_size=2),
)
NON_ASCII_DIGITS = "²³¹٠١٢٣٤٥٦٧٨٩０１２３４５６７８９߀߁𝟏"


@given(anything)
@example("0" * 5000 + "1")
@example("1" + "0" * 5000)
@example("²")
@example("999999999999999")
def test_the_readers_never_raise(value):
    f.integer(value)
    f.decimal(value)
    f.text(value)
    f.flag(value)
    f.wire_date(value)
    f.absent(value)


ascii_part = st.text("0123456789./ ", max_size=8)


@given(st.tuples(ascii_part, st.sampled_from(NON_ASCII_DIGITS), ascii_part).map("".join))
@example("１２３")
@example("12²")
@example("01/01/２０３０")
def test_numbers_and_dates_with_non_ascii_digits_are_not_read(value):
    assert f.integer(value) is None
    assert f.decimal(value) is None
    assert f.wire_date(value) is None
    assert not f.ascii_digits(value)


@given(st.integers(min_value=0, max_value=10**18 - 1), st.integers(min_value=0, max_value=5))
def test_an_ascii_integer_is_read_with_or_without_zeros(number, zeros):
    assert f.integer("0" * zeros + str(number)) == number
    assert f.integer(number) == number


@given(st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=Decimal("-1e14"), max_value=Decimal("1e14")))
def test_an_ascii_decimal_below_the_limit_is_read_and_can_be_rounded(number):
    read = f.decimal(format(number, "f"))
    assert read == number
    f.money(read)
    f.price(read)


@given(anything)
def test_what_decimal_reads_is_finite_and_bounded(value):
    read = f.decimal(value)
    assert read is None or (read.is_finite() and abs(read) < f.MAX_MAGNITUDE)
