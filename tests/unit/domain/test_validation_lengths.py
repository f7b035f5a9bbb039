"""TF's documented maximum lengths: a longer text is refused (TFC-2037 and the fields' own codes),
never cut and stored, and a huge value is not echoed back whole."""

from __future__ import annotations

import pytest
from domain_requests import assert_accepted, assert_refused, check, factura_b_cf, text_of

LIMITS = [
    (("comprobante", "leyenda_gral"), 500),
    (("comprobante", "comentario"), 255),
    (("cliente", "nombre_fantasia"), 255),
]


@pytest.mark.parametrize("path,limit", LIMITS)
def test_a_text_at_its_maximum_is_kept_whole_and_one_more_character_is_refused(path, limit):
    block, name = path
    body = factura_b_cf()
    body[block][name] = "x" * limit
    assert check(body).invoice is not None
    body[block][name] = "x" * (limit + 1)
    validated = assert_refused(body, "TFC-2037")
    assert f"{block}.{name}" in text_of(validated, "TFC-2037")
    assert f"hasta {limit} caracteres (se enviaron {limit + 1})" in text_of(validated, "TFC-2037")


def test_a_multi_megabyte_leyenda_gral_is_refused():
    body = factura_b_cf()
    body["comprobante"]["leyenda_gral"] = "a" * (3 * 1024 * 1024)
    validated = assert_refused(body, "TFC-2037")
    assert len(text_of(validated, "TFC-2037")) < 200


def test_the_stored_leyenda_is_the_one_sent():
    body = factura_b_cf()
    body["comprobante"]["leyenda_gral"] = "Aplica plan 12 cuotas#@#" + "x" * 476
    assert check(body).invoice.leyenda_gral == body["comprobante"]["leyenda_gral"]


def test_lista_precios_has_its_maximum_of_255():
    body = factura_b_cf()
    body["comprobante"]["detalle"][0]["producto"]["lista_precios"] = "L" * 256
    validated = assert_refused(body, "TFC-2037")
    assert "lista_precios del concepto 1" in text_of(validated, "TFC-2037")


@pytest.mark.parametrize("dato", [{"id": "12345", "valor": "x"}, {"id": "27", "valor": "v" * 251}])
def test_rg_especiales_datos_have_afip_lengths(dato):
    body = factura_b_cf()
    body["comprobante"]["rg_especiales"] = {"regimen": "RG", "datos": [dato]}
    assert_refused(body, "TFC-2029")


@pytest.mark.parametrize("field,code", [("tipo", "TFC-2003"), ("moneda", "TFC-2008")])
def test_a_huge_unknown_code_is_not_echoed_whole(field, code):
    body = factura_b_cf()
    body["comprobante"][field] = "Z" * 100_000
    validated = check(body)
    assert code in [e.code for e in validated.errors]
    assert len(text_of(validated, code)) < 200


def test_every_limit_accepts_an_empty_value():
    body = factura_b_cf()
    for (block, name), _ in LIMITS:
        body[block][name] = ""
    assert_accepted(body)
