"""The cliente block of ``nuevo_encola``: one test per rule (TFC-3xxx)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from domain_requests import assert_accepted, assert_refused, factura_a, factura_b_cf, text_of

from encola.domain.validation import cuit_is_valid


@pytest.mark.parametrize("tipo", [None, "RUT", "LE"])
def test_an_unknown_documento_tipo_is_refused(tipo):
    body = factura_b_cf()
    body["cliente"]["documento_tipo"] = tipo
    assert_refused(body, "TFC-3001")


@pytest.mark.parametrize("tipo", ["CUIT", "CUIL", "CDI", "PASAPORTE", "DNI", "OTRO", "dni"])
def test_every_documented_documento_tipo_is_accepted(tipo):
    body = factura_b_cf()
    body["cliente"].update(documento_tipo=tipo, documento_nro="30712293841")
    assert_accepted(body)


@pytest.mark.parametrize("numero", [None, "", "30-71229384-1", "30.712.293", "123456789012", "abc"])
def test_a_documento_nro_that_is_not_up_to_11_digits_is_refused(numero):
    body = factura_b_cf()
    body["cliente"]["documento_nro"] = numero
    validated = assert_refused(body, "TFC-3002")
    assert "hasta 11 digitos" in text_of(validated, "TFC-3002")


@pytest.mark.parametrize("cuit", ["30712293842", "20111111111", "3071229384"])
def test_a_cuit_with_a_wrong_check_digit_is_refused(cuit):
    body = factura_a()
    body["cliente"]["documento_nro"] = cuit
    validated = assert_refused(body, "TFC-3002")
    assert "no es valido" in text_of(validated, "TFC-3002")


def test_a_cuil_with_a_wrong_check_digit_is_refused():
    body = factura_b_cf()
    body["cliente"].update(documento_tipo="CUIL", documento_nro="20111111111")
    assert_refused(body, "TFC-3002")


@pytest.mark.parametrize(
    "number,valid",
    [
        ("30712293841", True),
        ("27285051466", True),
        ("20111111112", True),
        ("30712293842", False),
        ("3071229384", False),
        ("307122938411", False),
        ("3071229384a", False),
        ("23200000039", True),  # módulo 11 gives 10: taken as 9, as python-stdnum does
    ],
)
def test_the_cuit_check_digit_is_modulo_11(number, valid):
    assert cuit_is_valid(number) is valid


def test_documento_nro_zero_is_only_for_tipo_otro():
    body = factura_b_cf()
    body["cliente"].update(documento_tipo="DNI", documento_nro="0")
    validated = assert_refused(body, "TFC-3002")
    assert "OTRO" in text_of(validated, "TFC-3002")
    body["cliente"]["documento_tipo"] = "OTRO"
    assert_accepted(body)


@pytest.mark.parametrize("campo,code", [("razon_social", "TFC-3003"), ("domicilio", "TFC-3004")])
@pytest.mark.parametrize("value", [None, "   ", "x" * 256])
def test_razon_social_and_domicilio_are_required_up_to_255_characters(campo, code, value):
    body = factura_a()
    body["cliente"][campo] = value
    assert_refused(body, code)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_consumidor_final_may_come_without_domicilio(value):
    body = factura_b_cf()
    body["cliente"]["domicilio"] = value
    assert_accepted(body)
    del body["cliente"]["domicilio"]
    assert_accepted(body)


def test_a_consumidor_final_domicilio_still_has_its_maximum_length():
    body = factura_b_cf()
    body["cliente"]["domicilio"] = "x" * 256
    assert_refused(body, "TFC-3004")


@pytest.mark.parametrize("provincia", [None, 0, 27, "Buenos Aires"])
def test_an_unknown_provincia_is_refused(provincia):
    body = factura_b_cf()
    body["cliente"]["provincia"] = provincia
    assert_refused(body, "TFC-3005")


@pytest.mark.parametrize("envia", [None, "SI", 1])
def test_envia_por_mail_must_be_s_or_n(envia):
    body = factura_b_cf()
    body["cliente"]["envia_por_mail"] = envia
    assert_refused(body, "TFC-3006")


@pytest.mark.parametrize("condicion_pago", [None, 200, "contado"])
def test_an_unknown_condicion_pago_is_refused(condicion_pago):
    body = factura_b_cf()
    body["cliente"]["condicion_pago"] = condicion_pago
    assert_refused(body, "TFC-3007")


@pytest.mark.parametrize("otra", [None, " ", "x" * 101])
def test_condicion_pago_otra_is_required_for_214_up_to_100_characters(otra):
    body = factura_b_cf()
    body["cliente"].update(condicion_pago=214, condicion_pago_otra=otra)
    assert_refused(body, "TFC-3008")


def test_condicion_pago_214_with_its_description_is_accepted():
    body = factura_b_cf()
    body["cliente"].update(condicion_pago=214, condicion_pago_otra="Canje")
    assert_accepted(body)


@pytest.mark.parametrize("condicion", [None, "XX", "MONOTRIBUTO"])
def test_an_unknown_condicion_iva_is_refused(condicion):
    body = factura_b_cf()
    body["cliente"]["condicion_iva"] = condicion
    assert_refused(body, "TFC-3009")


@pytest.mark.parametrize("email", ["sin-arroba", "a@b", "a@b.com,malo", ",".join(f"u{i}@x.com" for i in range(16))])
def test_a_malformed_email_or_more_than_15_addresses_is_refused(email):
    body = factura_b_cf()
    body["cliente"]["email"] = email
    assert_refused(body, "TFC-3010")


@pytest.mark.parametrize("email", ["", None, "a@b.com", " a@b.com , c@d.com.ar ", ",".join(f"u{i}@x.com" for i in range(15))])
def test_no_email_or_up_to_15_addresses_are_accepted(email):
    body = factura_b_cf()
    body["cliente"]["email"] = email
    assert_accepted(body)


def test_a_cliente_codigo_longer_than_20_characters_is_refused():
    body = factura_b_cf()
    body["cliente"]["codigo"] = "x" * 21
    assert_refused(body, "TFC-3011")
    body["cliente"]["codigo"] = "x" * 20
    assert_accepted(body)


@pytest.mark.parametrize("campo", ["rg5329", "reclama_deuda"])
def test_cliente_flags_must_be_s_or_n(campo):
    body = factura_b_cf()
    body["cliente"][campo] = "Y"
    validated = assert_refused(body, "TFC-3012")
    assert campo in text_of(validated, "TFC-3012")


def test_an_unknown_condicion_iva_operacion_is_refused():
    body = factura_b_cf()
    body["cliente"]["condicion_iva_operacion"] = "XX"
    assert_refused(body, "TFC-3013")


@pytest.mark.parametrize("campo", ["reclama_deuda_dias", "reclama_deuda_repite_dias"])
@pytest.mark.parametrize("value", ["-1", "diez", 1.5])
def test_reclama_deuda_days_must_be_non_negative_integers(campo, value):
    body = factura_b_cf()
    body["cliente"][campo] = value
    validated = assert_refused(body, "TFC-3015")
    assert campo in text_of(validated, "TFC-3015")


def test_a_cliente_reports_all_its_problems_at_once():
    body = factura_b_cf()
    body["cliente"].update(documento_tipo="X", razon_social="", domicilio="", condicion_iva="X")
    assert_refused(body, "TFC-3001", "TFC-3003", "TFC-3004", "TFC-3009")


@pytest.mark.parametrize(
    "email",
    [
        "a@b.com\r\nBcc: otro@x.com",  # a header injected through the address
        "a@b.com;c@d.com",
        "a b@c.com",
        "@b.com",
        "a@-b.com",
        ("x" * 120) + "@b.com," + ("y" * 120) + "@c.com,z@d.com",  # each fine, the field over 255
    ],
)
def test_addresses_that_could_not_be_mailed_safely_are_refused(email):
    body = factura_b_cf()
    body["cliente"]["email"] = email
    assert_refused(body, "TFC-3010")


@given(st.text(max_size=300))
def test_the_email_reader_never_raises_and_keeps_at_most_15_plain_addresses(value):
    from encola.domain.validation import email_addresses

    found = email_addresses(value)
    if found is not None:
        assert 1 <= len(found) <= 15 and len(value) <= 255
        assert all("@" in a and "," not in a and not any(c in a for c in "\r\n\t ") for a in found)
