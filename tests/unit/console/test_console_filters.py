"""The search form's query string read into filters: anything at all gives filters and messages,
never an exception, and a value is either used as given or named as not used."""

from __future__ import annotations

from datetime import date

from hypothesis import given, strategies as st

from encola.console.filters import PAGE_SIZES, parse_search
from encola.store.console_queries import ALL_STATES

KEYS = ["estado", "desde", "hasta", "tipo", "referencia", "documento", "pdv", "antes", "por_pagina", "otro"]


@given(st.dictionaries(st.sampled_from(KEYS), st.text(max_size=400)))
def test_any_query_string_gives_filters_and_messages_never_an_exception(params):
    parsed = parse_search(params)
    filters = parsed.filters
    assert set(filters.states) <= set(ALL_STATES)
    assert parsed.limit in PAGE_SIZES
    assert parsed.before is None or parsed.before > 0
    assert filters.pdv_id is None or filters.pdv_id > 0
    assert filters.external_reference is None or len(filters.external_reference) <= 255
    assert filters.documento is None or (filters.documento.isascii() and len(filters.documento) <= 30)
    for day in (filters.desde, filters.hasta):
        assert day is None or 2000 <= day.year <= 2100
    assert all(isinstance(problem, str) and problem for problem in parsed.problems)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_both_date_spellings_read_the_same_day(day):
    assert parse_search({"desde": day.isoformat()}).filters.desde == day
    assert parse_search({"desde": day.strftime("%d/%m/%Y")}).filters.desde == day


def test_a_value_not_understood_is_named_and_left_out():
    parsed = parse_search({"estado": "borrado", "tipo": "999", "antes": "0", "documento": "12 34"})
    assert parsed.filters.states == () and parsed.filters.cbte_tipo is None and parsed.before is None
    assert parsed.filters.documento is None
    assert len(parsed.problems) == 4


def test_good_values_are_used_as_given():
    parsed = parse_search({"estado": "error", "tipo": "6", "referencia": " R-1 ", "documento": "20-12345678-3",
                           "pdv": "4", "antes": "1000", "por_pagina": "100"})
    f = parsed.filters
    assert (f.states, f.cbte_tipo, f.external_reference, f.documento, f.pdv_id) == (("error",), 6, "R-1", "20-12345678-3", 4)
    assert (parsed.before, parsed.limit, parsed.problems) == (1000, 100, [])
