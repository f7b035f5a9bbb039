"""What AFIP is sure to reject is refused at intake (TFC-2038, TFC-3016), never queued to fail later;
and the simulator, which enforces the same AFIP rules, agrees with the intake's limit."""

from __future__ import annotations

from decimal import Decimal

from domain_requests import assert_accepted, assert_refused, check, factura_a, factura_b_cf, item, text_of
from hypothesis import given, settings
from hypothesis import strategies as st

from encola.afip_sim import rules as simulator_rules
from encola.domain.validation import CONSUMIDOR_FINAL_LIMIT, STRONG_CURRENCIES


def factura_b_otro(precio: str, cotizacion: str = "1", moneda: str = "PES") -> dict:
    """A FACTURA B of one item at 21 % to an unidentified consumidor final (documento OTRO)."""
    body = factura_b_cf()
    body["cliente"].update(documento_tipo="OTRO", documento_nro="0")
    total = (Decimal(precio) * Decimal("1.21")).quantize(Decimal("0.01"))
    body["comprobante"].update(detalle=[item(precio=precio)], total=str(total), moneda=moneda, cotizacion=cotizacion)
    return body


def test_the_docs_factura_a_in_dollars_left_at_the_pesos_cotizacion_is_refused():
    body = factura_a()
    assert body["comprobante"]["moneda"] == "DOL"
    assert_accepted(body)
    body["comprobante"]["cotizacion"] = 1
    validated = assert_refused(body, "TFC-2038")
    assert text_of(validated, "TFC-2038") == (
        "La cotizacion enviada (1) no es valida para la moneda DOL: AFIP rechaza una cotizacion inferior al 2% de la oficial.")


def test_a_factura_b_to_an_unidentified_buyer_is_refused_from_ten_million_pesos():
    assert_accepted(factura_b_otro("8264462.80"))  # 9,999,999.99 with IVA
    validated = assert_refused(factura_b_otro("8264462.81"), "TFC-3016")  # 10,000,000.00
    assert "10000000.00 pesos" in text_of(validated, "TFC-3016") and "RG 5700" in text_of(validated, "TFC-3016")
    identified = factura_b_otro("8264462.81")
    identified["cliente"].update(documento_tipo="DNI", documento_nro="12345678")
    assert_accepted(identified)


def test_the_limit_counts_pesos_for_a_foreign_currency():
    assert_accepted(factura_b_otro("1000", cotizacion="1450", moneda="DOL"))  # 1,754,500 pesos
    assert_refused(factura_b_otro("10000", cotizacion="1450", moneda="DOL"), "TFC-3016")  # 17,545,000 pesos


def test_intake_and_simulator_share_the_identification_limit():
    assert CONSUMIDOR_FINAL_LIMIT == simulator_rules.CONSUMIDOR_FINAL_LIMIT


@settings(max_examples=60, deadline=None)
@given(centavos=st.integers(min_value=1, max_value=10**11), documento=st.sampled_from(["OTRO", "DNI"]))
def test_an_unidentified_b_is_refused_exactly_when_its_pesos_reach_the_limit(centavos, documento):
    body = factura_b_otro(f"{Decimal(centavos) / 100:.2f}")
    if documento == "DNI":
        body["cliente"].update(documento_tipo="DNI", documento_nro="12345678")
    validated = check(body)
    total = Decimal(body["comprobante"]["total"])
    refused = any(e.code == "TFC-3016" for e in validated.errors)
    assert refused == (documento == "OTRO" and total >= CONSUMIDOR_FINAL_LIMIT)
    assert refused or validated.errors == [] or {e.code for e in validated.errors} == {"TFC-2036"}


@settings(max_examples=60, deadline=None)
@given(moneda=st.sampled_from(sorted(STRONG_CURRENCIES) + ["011", "033"]),
       cotizacion=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("3000"), places=6))
def test_a_strong_currency_is_refused_exactly_at_a_cotizacion_of_one_or_less(moneda, cotizacion):
    body = factura_a()
    body["comprobante"].update(moneda=moneda, cotizacion=str(cotizacion))
    codes = {e.code for e in check(body).errors}
    assert ("TFC-2038" in codes) == (moneda in STRONG_CURRENCIES and cotizacion <= 1)
    assert codes <= {"TFC-2038"}
