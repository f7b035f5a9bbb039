"""Abono dates: recurrences anchored on the first date, clamped to short months, ending at
abono_hasta; abono_hasta parsed strictly (mm/aaaa, 7 characters)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from encola.domain.abono import Abono, add_months, next_recurrence, parse_hasta


def test_a_series_on_the_31st_stays_at_the_end_of_each_month():
    abono = Abono(1, date(2026, 6, 1), "N", date(2026, 1, 31))
    assert [abono.fecha(k) for k in range(5)] == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31),
    ]


def test_the_series_ends_in_the_month_of_abono_hasta():
    abono = Abono(2, date(2026, 5, 1), "N", date(2026, 1, 15))
    assert abono.siguiente(0) == date(2026, 3, 15)
    assert abono.siguiente(1) == date(2026, 5, 15)
    assert abono.siguiente(2) is None


def test_the_next_recurrence_moves_the_service_period_and_vencimiento():
    abono = Abono(1, date(2026, 12, 1), "S", date(2026, 1, 10))
    view = {"comprobante": {"fecha": "10/01/2026", "periodo_facturado_desde": "01/01/2026", "periodo_facturado_hasta": "31/01/2026"}}
    afip = {"FchServDesde": "20260101", "FchServHasta": "20260131"}
    changes = next_recurrence(abono, 0, vencimiento=date(2026, 1, 20), afip=afip, view=view)
    assert changes["fecha"] == date(2026, 2, 10) and changes["vencimiento"] == date(2026, 2, 20)
    assert changes["afip"] == {"FchServDesde": "20260201", "FchServHasta": "20260228"}
    assert changes["view"]["comprobante"]["periodo_facturado_hasta"] == "28/02/2026"
    assert changes["abono_siguiente"] == date(2026, 3, 10)
    assert afip["FchServDesde"] == "20260101"  # the previous one's template is not changed


@pytest.mark.parametrize("text,expected", [("10/2019", date(2019, 10, 1)), (" 01/2030 ", date(2030, 1, 1))])
def test_abono_hasta_is_mm_aaaa(text, expected):
    assert parse_hasta(text) == expected


@pytest.mark.parametrize("text", ["", "2019-10", "13/2019", "00/2019", "1/2019", "10/19", "１０/2019", "10/2019x", "10/1999"])
def test_anything_else_is_not_abono_hasta(text):
    assert parse_hasta(text) is None


@given(st.text(max_size=12))
def test_parse_hasta_never_raises(text):
    parsed = parse_hasta(text)
    assert parsed is None or (parsed.day == 1 and len(text.strip()) == 7)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31)), st.integers(0, 240))
def test_add_months_lands_in_the_right_month_never_after_the_day(day, months):
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day <= day.day


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(1, 120), st.integers(0, 60))
def test_recurrences_are_increasing_and_within_abono_hasta(desde, frecuencia, months_until):
    hasta = add_months(date(desde.year, desde.month, 1), months_until)
    abono = Abono(frecuencia, hasta, "N", desde)
    k, dates = 0, [abono.fecha(0)]
    while (following := abono.siguiente(k)) is not None:
        dates.append(following)
        k += 1
    assert dates == sorted(set(dates))
    assert all((d.year, d.month) <= (hasta.year, hasta.month) for d in dates[1:])
    assert len(dates) == months_until // frecuencia + 1
    assert Abono.from_json(abono.to_json()) == abono
