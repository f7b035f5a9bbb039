"""The comprobante block of ``nuevo_encola``: one test per rule, plus what must be accepted.

Cliente rules are in ``test_validation_cliente.py``; detalle, tributos and the other optional
blocks in ``test_validation_detalle.py``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from domain_requests import (
    MONOTRIBUTO_ISSUER,
    TODAY,
    assert_accepted,
    assert_refused,
    check,
    days_ago,
    factura_a,
    factura_b_cf,
    factura_c,
    issuer,
    item,
    nota_credito_a,
    text_of,
    wire,
)

from encola.domain.errors import MESSAGES
from encola.domain.validation import DEFAULTS

ER_INVALID = "La external reference enviada, posee caracteres no validos."
ER_MISSING = (
    "Cuando se envia un comprobante a la cola, debes enviar una referencia externa en el campo external_reference."
)


def test_the_docs_examples_made_current_are_accepted():
    assert_accepted(factura_a())
    assert_accepted(factura_c(), issuer=MONOTRIBUTO_ISSUER)
    assert_accepted(factura_b_cf())


# --- the request as a whole ------------------------------------------------------------------


def test_a_request_without_a_comprobante_object_is_refused_naming_the_block():
    body = factura_a()
    body["comprobante"] = "no"
    validated = assert_refused(body, "TFC-8002", "TFC-8002", "TFC-1013")
    assert "comprobante" in text_of(validated, "TFC-1013")


def test_a_request_without_a_cliente_object_is_refused_naming_the_block():
    body = factura_a()
    del body["cliente"]
    validated = assert_refused(body, "TFC-1013")
    assert text_of(validated, "TFC-1013") == "Debe enviar el bloque cliente como un objeto JSON."


# --- external_reference ----------------------------------------------------------------------


@pytest.mark.parametrize("missing", [None, "", "   "])
def test_a_missing_external_reference_is_refused_with_both_documented_texts_under_tfc_8002(missing):
    body = factura_a()
    body["comprobante"]["external_reference"] = missing
    validated = assert_refused(body, "TFC-8002", "TFC-8002")
    assert [e.text for e in validated.errors] == [ER_MISSING, ER_INVALID]


def test_an_absent_external_reference_key_is_refused_like_an_empty_one():
    body = factura_a()
    del body["comprobante"]["external_reference"]
    assert_refused(body, "TFC-8002", "TFC-8002")


@pytest.mark.parametrize("reference", ["con espacio", "punto.no", "ñandu", "a/b", "a+b", "€"])
def test_an_external_reference_with_characters_outside_letters_digits_dash_and_underscore_is_refused(reference):
    body = factura_a()
    body["comprobante"]["external_reference"] = reference
    validated = assert_refused(body, "TFC-8002")
    assert validated.errors[0].text == ER_INVALID


@pytest.mark.parametrize("reference", ["A", "abc-DEF_123", "x" * 255, 12345])
def test_an_external_reference_of_letters_digits_dash_and_underscore_up_to_255_is_accepted(reference):
    body = factura_a()
    body["comprobante"]["external_reference"] = reference
    validated = assert_accepted(body)
    assert validated.invoice.external_reference == str(reference)


def test_an_external_reference_of_256_characters_is_refused():
    body = factura_a()
    body["comprobante"]["external_reference"] = "x" * 256
    assert_refused(body, "TFC-8002")


def test_an_external_reference_ending_in_a_newline_is_refused():
    body = factura_a()
    body["comprobante"]["external_reference"] = "ref-1\n"
    assert_refused(body, "TFC-8002")


# --- fecha, tipo, operacion, idioma ------------------------------------------------------------


@pytest.mark.parametrize("fecha", [None, "2025-06-16", "31/02/2025", "16-06-2025", "hoy"])
def test_a_missing_or_malformed_fecha_is_refused(fecha):
    body = factura_a()
    body["comprobante"]["fecha"] = fecha
    assert_refused(body, "TFC-2001")


def test_a_product_invoice_dated_five_days_ago_is_accepted():
    body = factura_a()
    body["comprobante"]["fecha"] = days_ago(5)
    assert_accepted(body)


def test_a_product_invoice_dated_six_days_ago_is_refused_naming_the_oldest_date_allowed():
    body = factura_a()
    body["comprobante"]["fecha"] = days_ago(6)
    validated = assert_refused(body, "TFC-2018")
    assert f"({days_ago(5)})" in text_of(validated, "TFC-2018")


@pytest.mark.parametrize("conceptos", ["S", "PS"])
def test_a_service_invoice_may_be_dated_ten_days_ago_but_not_eleven(conceptos):
    body = factura_a()
    body["comprobante"].update(fecha=days_ago(10), vencimiento=wire(TODAY))
    assert_accepted(body, issuer=issuer(conceptos=conceptos))
    body["comprobante"]["fecha"] = days_ago(11)
    assert_refused(body, "TFC-2018", issuer=issuer(conceptos=conceptos))


def test_a_future_fecha_is_accepted_to_wait_in_the_queue():
    body = factura_a()
    body["comprobante"]["fecha"] = wire(TODAY.replace(month=TODAY.month + 1))
    assert_accepted(body)


def test_single_digit_day_and_month_are_accepted_in_dates():
    body = factura_a()
    body["comprobante"]["fecha"] = f"{TODAY.day}/{TODAY.month}/{TODAY.year}"
    assert_accepted(body)


@pytest.mark.parametrize("tipo", [None, "", "  "])
def test_a_missing_tipo_is_refused(tipo):
    body = factura_a()
    body["comprobante"]["tipo"] = tipo
    assert_refused(body, "TFC-2002")


def test_an_unknown_tipo_is_refused_naming_it():
    body = factura_a()
    body["comprobante"]["tipo"] = "FACTURA Z"
    validated = assert_refused(body, "TFC-2003")
    assert "(FACTURA Z)" in text_of(validated, "TFC-2003")


@pytest.mark.parametrize("tipo", ["FACTURA E", "NOTA DE CREDITO E", "NOTA DE DEBITO E", "FACTURA NO VALIDA EN AFIP"])
def test_tipo_e_and_non_fiscal_types_are_refused_by_the_queue(tipo):
    body = factura_a()
    body["comprobante"]["tipo"] = tipo
    assert_refused(body, "TFC-2004")


def test_tipo_is_read_regardless_of_case_and_repeated_spaces():
    body = factura_a()
    body["comprobante"]["tipo"] = " factura   a "
    assert assert_accepted(body).invoice.tipo.name == "FACTURA A"


@pytest.mark.parametrize("operacion", [None, "C", "X"])
def test_an_operacion_other_than_v_is_refused(operacion):
    body = factura_a()
    body["comprobante"]["operacion"] = operacion
    assert_refused(body, "TFC-2005")


def test_a_lower_case_operacion_v_is_accepted():
    body = factura_a()
    body["comprobante"]["operacion"] = "v"
    assert_accepted(body)


@pytest.mark.parametrize("idioma", [3, "0", "ES"])
def test_an_idioma_other_than_1_or_2_is_refused(idioma):
    body = factura_a()
    body["comprobante"]["idioma"] = idioma
    assert_refused(body, "TFC-2006")


# --- punto de venta, moneda, numero -------------------------------------------------------------


def test_a_punto_venta_other_than_the_credentials_one_is_refused_naming_both():
    body = factura_a()
    body["comprobante"]["punto_venta"] = "0003"
    validated = assert_refused(body, "TFC-2007")
    assert text_of(validated, "TFC-2007") == MESSAGES["TFC-2007"].format(enviado=3, esperado=2)


@pytest.mark.parametrize("punto_venta", [None, "dos", "100000", -2, 2.5])
def test_a_missing_or_malformed_punto_venta_is_refused(punto_venta):
    body = factura_a()
    body["comprobante"]["punto_venta"] = punto_venta
    assert_refused(body, "TFC-2035")


@pytest.mark.parametrize("moneda", [None, "USD", "ARS"])
def test_an_unknown_moneda_is_refused(moneda):
    body = factura_a()
    body["comprobante"]["moneda"] = moneda
    assert_refused(body, "TFC-2008")


@pytest.mark.parametrize("cotizacion", [None, 0, "-1", "abc"])
def test_a_foreign_currency_needs_a_positive_cotizacion(cotizacion):
    body = factura_a()
    body["comprobante"]["cotizacion"] = cotizacion
    assert_refused(body, "TFC-2009")


def test_pesos_with_a_cotizacion_other_than_1_is_refused():
    body = factura_b_cf()
    body["comprobante"]["cotizacion"] = "2"
    assert_refused(body, "TFC-2009")


@pytest.mark.parametrize("cotizacion", [None, "", 1, "1.00", 1.0, "0001"])
def test_pesos_take_cotizacion_1_when_omitted_or_written_any_way(cotizacion):
    body = factura_b_cf()
    body["comprobante"]["cotizacion"] = cotizacion
    assert assert_accepted(body).invoice.cotizacion == DEFAULTS["comprobante.cotizacion (PES)"] == 1


@pytest.mark.parametrize("numero", ["missing", None, "", 0, "0", "00000000", 0.0])
def test_numero_absent_empty_or_zero_is_accepted(numero):
    body = factura_a()
    if numero == "missing":
        del body["comprobante"]["numero"]
    else:
        body["comprobante"]["numero"] = numero
    assert_accepted(body)


@pytest.mark.parametrize("numero", ["00000012", 1, "-1", "x"])
def test_a_numero_other_than_zero_is_refused(numero):
    body = factura_a()
    body["comprobante"]["numero"] = numero
    assert_refused(body, "TFC-2010")


# --- vencimiento and periodo facturado ---------------------------------------------------------


@pytest.mark.parametrize("vencimiento", [None, "2025/06/30"])
def test_a_missing_or_malformed_vencimiento_is_refused(vencimiento):
    body = factura_a()
    body["comprobante"]["vencimiento"] = vencimiento
    validated = assert_refused(body, "TFC-2011")
    assert "vencimiento" in text_of(validated, "TFC-2011")


def test_a_malformed_periodo_facturado_date_is_refused_naming_the_field():
    body = factura_a()
    body["comprobante"]["periodo_facturado_hasta"] = "28-02-2018"
    validated = assert_refused(body, "TFC-2011")
    assert "periodo_facturado_hasta" in text_of(validated, "TFC-2011")


def test_a_product_invoice_needs_no_periodo_and_may_fall_due_before_its_fecha():
    body = factura_a()
    body["comprobante"].update(periodo_facturado_desde=None, periodo_facturado_hasta=None, vencimiento=days_ago(30))
    assert assert_accepted(body).invoice.periodo_facturado is None


@pytest.mark.parametrize("conceptos", ["S", "PS"])
def test_a_service_invoice_with_periodo_and_vencimiento_from_its_fecha_on_is_accepted(conceptos):
    body = factura_a()
    body["comprobante"]["vencimiento"] = wire(TODAY)
    validated = assert_accepted(body, issuer=issuer(conceptos=conceptos))
    assert validated.invoice.concepto == {"S": 2, "PS": 3}[conceptos]


@pytest.mark.parametrize("conceptos", ["S", "PS"])
def test_a_service_invoice_whose_vencimiento_precedes_its_fecha_is_refused(conceptos):
    body = factura_a()
    body["comprobante"]["vencimiento"] = days_ago(1)
    validated = assert_refused(body, "TFC-2019", issuer=issuer(conceptos=conceptos))
    assert text_of(validated, "TFC-2019") == MESSAGES["TFC-2019"].format(vencimiento=days_ago(1), fecha=wire(TODAY))


@pytest.mark.parametrize("conceptos", ["S", "PS"])
def test_a_service_invoice_without_one_periodo_date_is_refused(conceptos):
    body = factura_a()
    body["comprobante"].update(vencimiento=wire(TODAY), periodo_facturado_hasta=None)
    validated = check(body, issuer(conceptos=conceptos))
    assert "TFC-2012" in [e.code for e in validated.errors]
    assert {e.code for e in validated.errors} <= {"TFC-2011", "TFC-2012"}


def test_a_service_invoice_without_periodo_is_refused_only_with_tfc_2012():
    body = factura_a()
    body["comprobante"].update(vencimiento=wire(TODAY), periodo_facturado_desde=None, periodo_facturado_hasta=None)
    assert_refused(body, "TFC-2012", issuer=issuer(conceptos="S"))


def test_a_periodo_facturado_ending_before_it_starts_is_refused():
    body = factura_a()
    body["comprobante"].update(periodo_facturado_desde="28/02/2018", periodo_facturado_hasta="27/02/2018")
    assert_refused(body, "TFC-2021")


# --- rubro, total -------------------------------------------------------------------------------


@pytest.mark.parametrize("campo", ["rubro", "rubro_grupo_contable"])
@pytest.mark.parametrize("value", [None, " ", "x" * 256])
def test_rubro_and_rubro_grupo_contable_are_required_up_to_255_characters(campo, value):
    body = factura_a()
    body["comprobante"][campo] = value
    validated = assert_refused(body, "TFC-2013")
    assert campo in text_of(validated, "TFC-2013")


@pytest.mark.parametrize("total", [None, "", "ciento", "-151"])
def test_a_missing_malformed_or_negative_total_is_refused(total):
    body = factura_a()
    body["comprobante"]["total"] = total
    assert_refused(body, "TFC-2025")


@pytest.mark.parametrize("total", ["150.99", "151.01", 151.01, "151.0100000"])
def test_a_total_within_a_cent_of_the_expected_one_is_accepted(total):
    body = factura_a()
    body["comprobante"]["total"] = total
    validated = assert_accepted(body)
    assert validated.totals.total == Decimal("151.00")


@pytest.mark.parametrize("total", ["150.98", "151.02", "1510"])
def test_a_total_off_by_more_than_a_cent_is_refused_naming_the_expected_total(total):
    body = factura_a()
    body["comprobante"]["total"] = total
    validated = assert_refused(body, "TFC-2026")
    assert "sumatorias finales (151.00)" in text_of(validated, "TFC-2026")


def test_the_expected_total_is_written_with_two_decimals_and_a_dot():
    body = factura_b_cf()
    body["comprobante"]["detalle"] = [item(precio="1234.5")]
    body["comprobante"]["total"] = "1"
    validated = assert_refused(body, "TFC-2026")
    # 1234.50 + IVA 259.245, rounded half-even to 259.24
    assert "sumatorias finales (1493.74)" in text_of(validated, "TFC-2026")
    assert "El total enviado (1.00)" in text_of(validated, "TFC-2026")


def test_a_bonificacion_larger_than_the_items_is_refused_as_a_negative_total():
    body = factura_b_cf()
    body["comprobante"].update(bonificacion="200", total="0")
    validated = assert_refused(body, "TFC-2027")
    assert "total" in text_of(validated, "TFC-2027")


@pytest.mark.parametrize("campo", ["bonificacion", "impuestos_internos", "impuestos_internos_base", "impuestos_internos_alicuota"])
def test_negative_or_non_numeric_amounts_of_the_comprobante_are_refused_naming_the_field(campo):
    for value in ("-1", "mucho"):
        body = factura_a()
        body["comprobante"][campo] = value
        validated = assert_refused(body, "TFC-2027")
        assert campo in text_of(validated, "TFC-2027")


@pytest.mark.parametrize(
    "campo,value,allowed",
    [
        ("total", "1" + "0" * 30, {"TFC-2025", "TFC-2026"}),
        ("total", 1e300, {"TFC-2025", "TFC-2026"}),
        ("cotizacion", "1" * 30, {"TFC-2009"}),
        ("punto_venta", "1" * 5000, {"TFC-2035"}),
    ],
    ids=["total-31-digits", "total-1e300", "cotizacion-30-digits", "punto_venta-5000-digits"],
)
def test_absurdly_large_numbers_are_refused_with_a_tfc_code_not_an_exception(campo, value, allowed):
    body = factura_a()
    body["comprobante"][campo] = value
    reported = {e.code for e in check(body).errors}
    assert reported and reported <= allowed


# --- letters: issuer condition, client condition, CUIT -------------------------------------------


def test_a_factura_b_to_a_responsable_inscripto_is_refused_with_the_docs_message():
    body = factura_a()
    body["comprobante"]["tipo"] = "FACTURA B"
    validated = assert_refused(body, "TFC-8004")
    assert validated.errors[0].text == "Para la condicion de IVA seleccionada no se permite realizar comprobantes de tipo B."


@pytest.mark.parametrize("condicion", ["CF", "E", "CDEX", "IVNA"])
def test_a_factura_a_to_a_client_that_is_not_ri_or_monotributo_is_refused(condicion):
    body = factura_a()
    body["cliente"]["condicion_iva"] = condicion
    validated = assert_refused(body, "TFC-8004")
    assert validated.errors[0].text.endswith("comprobantes de tipo A.")


def test_a_factura_a_to_a_monotributista_is_accepted():
    body = factura_a()
    body["cliente"]["condicion_iva"] = "M"
    assert_accepted(body)


def test_condicion_iva_operacion_decides_the_letters_when_sent():
    body = factura_a()
    body["cliente"]["condicion_iva_operacion"] = "CF"
    assert_refused(body, "TFC-8004")
    body = factura_b_cf()
    body["cliente"].update(condicion_iva="RI", condicion_iva_operacion="CF")
    assert_accepted(body)


@pytest.mark.parametrize(
    "condicion,tipo,body",
    [("RI", "FACTURA C", factura_c), ("M", "FACTURA A", factura_a), ("E", "FACTURA B", factura_b_cf)],
)
def test_an_issuer_may_only_emit_the_letters_of_its_iva_condition(condicion, tipo, body):
    request = body()
    request["comprobante"]["tipo"] = tipo
    validated = assert_refused(request, "TFC-2032", issuer=issuer(condicion_iva=condicion))
    assert text_of(validated, "TFC-2032") == MESSAGES["TFC-2032"].format(condicion=condicion, letra=tipo[-1])


@pytest.mark.parametrize("condicion", ["M", "E"])
def test_monotributo_and_exento_issuers_emit_class_c(condicion):
    assert_accepted(factura_c(), issuer=issuer(condicion_iva=condicion))


@pytest.mark.parametrize("tipo", ["FACTURA A", "FACTURA M"])
def test_class_a_and_m_require_a_client_identified_by_cuit(tipo):
    body = factura_a()
    body["comprobante"]["tipo"] = tipo
    body["cliente"].update(documento_tipo="DNI", documento_nro="12345678")
    validated = assert_refused(body, "TFC-3014")
    assert text_of(validated, "TFC-3014") == MESSAGES["TFC-3014"].format(letra=tipo[-1])


# --- notas de credito y debito --------------------------------------------------------------------


@pytest.mark.parametrize("tipo", ["NOTA DE CREDITO A", "NOTA DE DEBITO A"])
def test_a_nota_without_comprobantes_asociados_or_periodo_is_refused(tipo):
    body = factura_a()
    body["comprobante"].update(tipo=tipo, comprobantes_asociados=[], comprobantes_asociados_periodo={})
    assert_refused(body, "TFC-2022")


def test_a_nota_referencing_a_comprobante_is_accepted_and_keeps_it():
    validated = assert_accepted(nota_credito_a())
    (asociado,) = validated.invoice.asociados
    assert (asociado.tipo.cbte_tipo, asociado.punto_venta, asociado.numero) == (1, 2, 349)


def test_a_nota_referencing_a_periodo_is_accepted():
    body = nota_credito_a()
    body["comprobante"].update(
        comprobantes_asociados=None,
        comprobantes_asociados_periodo={"fecha_desde": "01/05/2025", "fecha_hasta": "31/05/2025"},
    )
    assert assert_accepted(body).invoice.periodo_asociado is not None


@pytest.mark.parametrize(
    "field,value,detalle",
    [
        ("tipo_comprobante", "FACTURA Z", "tipo_comprobante no valido"),
        ("punto_venta", "0", "punto_venta no valido"),
        ("numero", "123456789", "numero no valido"),
        ("comprobante_fecha", "2025-06-01", "comprobante_fecha debe tener el formato dd/mm/aaaa"),
        ("comprobante_fecha", wire(TODAY.replace(day=TODAY.day + 1)), "posterior a la fecha del comprobante"),
        ("cuit", "30712293841", "el cuit debe ser el del emisor"),
    ],
)
def test_an_invalid_comprobante_asociado_is_refused_saying_why(field, value, detalle):
    body = nota_credito_a()
    body["comprobante"]["comprobantes_asociados"][0][field] = value
    validated = assert_refused(body, "TFC-2023")
    assert detalle in text_of(validated, "TFC-2023")


def test_comprobantes_asociados_that_is_not_a_list_is_refused():
    body = nota_credito_a()
    body["comprobante"]["comprobantes_asociados"] = {"tipo_comprobante": "FACTURA A"}
    assert_refused(body, "TFC-2023")


@pytest.mark.parametrize(
    "periodo",
    [{"fecha_desde": "01/05/2025"}, {"fecha_desde": "31/05/2025", "fecha_hasta": "01/05/2025"}, "mayo"],
)
def test_an_invalid_comprobantes_asociados_periodo_is_refused(periodo):
    body = nota_credito_a()
    body["comprobante"].update(comprobantes_asociados=[], comprobantes_asociados_periodo=periodo)
    assert_refused(body, "TFC-2024")


# --- tags -------------------------------------------------------------------------------------------


def test_fifty_tags_are_accepted():
    body = factura_a()
    body["comprobante"]["tags"] = [f"tag{i}" for i in range(50)]
    assert len(assert_accepted(body).invoice.tags) == 50


@pytest.mark.parametrize(
    "tags", [[f"tag{i}" for i in range(51)], ["x" * 256], "etiqueta", [{"nombre": "x"}]], ids=["51", "long", "str", "obj"]
)
def test_more_than_fifty_tags_or_a_malformed_tag_is_refused(tags):
    body = factura_a()
    body["comprobante"]["tags"] = tags
    assert_refused(body, "TFC-2017")


# --- liberal reading ---------------------------------------------------------------------------------


def test_unknown_extra_fields_are_ignored_everywhere():
    body = factura_a()
    body["otro"] = {"a": 1}
    body["comprobante"]["campo_nuevo"] = [1, 2]
    body["cliente"]["campo_nuevo"] = "x"
    body["comprobante"]["detalle"][0]["campo_nuevo"] = None
    body["comprobante"]["detalle"][0]["producto"]["campo_nuevo"] = True
    assert_accepted(body)


def test_json_null_means_absent_for_optional_fields():
    body = factura_a()
    body["comprobante"].update(
        idioma=None, numero=None, bonificacion=None, tributos=None, tags=None, leyenda_gral=None,
        impuestos_internos=None, impuestos_internos_base=None, impuestos_internos_alicuota=None,
        comprobantes_asociados=None, rg_especiales=None, datos_informativos=None, pagos=None, total="121",
    )
    body["cliente"].update(codigo=None, rg5329=None, email=None, condicion_iva_operacion=None)
    body["comprobante"]["detalle"][0].update(afecta_stock=None, bonificacion_porcentaje=None, leyenda=None)
    body["comprobante"]["detalle"][0]["producto"].update(
        unidad_medida=None, actualiza_precio=None, rg5329=None, lista_precios=None, codigo=None, unidad_bulto=None
    )
    assert_accepted(body)


def test_numbers_are_read_from_json_numbers_or_strings_alike():
    as_strings, as_numbers = factura_b_cf(), factura_b_cf()
    as_strings["comprobante"].update(punto_venta="2", idioma="1", total="121", bonificacion="0")
    as_strings["comprobante"]["detalle"] = [item(precio="100", alicuota="21", cantidad="1")]
    as_numbers["comprobante"].update(punto_venta=2, idioma=1, total=121, bonificacion=0)
    as_numbers["comprobante"]["detalle"] = [item(precio=100, alicuota=21, cantidad=1)]
    as_numbers["cliente"].update(provincia=2, condicion_pago=211, documento_nro=12345678)
    assert assert_accepted(as_strings).totals == assert_accepted(as_numbers).totals


def test_zero_padded_integers_are_accepted():
    body = factura_a()
    body["comprobante"].update(punto_venta="00002", idioma="01")
    body["cliente"].update(provincia="002", condicion_pago="0211")
    body["comprobante"]["detalle"][0]["producto"].update(unidad_medida="007", unidad_bulto="0001")
    assert_accepted(body)


def test_amounts_with_any_number_of_decimals_are_accepted():
    body = factura_a()
    body["comprobante"].update(total="151.000000", bonificacion="0.0000", cotizacion="1234.550000")
    body["comprobante"]["detalle"][0]["cantidad"] = "1.000000"
    body["comprobante"]["detalle"][0]["producto"].update(precio_unitario_sin_iva="100.0000000", alicuota="21.00")
    assert assert_accepted(body).totals.total == Decimal("151.00")


def test_omitted_optional_fields_take_the_documented_defaults():
    body = factura_a()
    for name in ("idioma",):
        body["comprobante"].pop(name, None)
    for name in ("codigo", "rg5329"):
        body["cliente"].pop(name, None)
    line = body["comprobante"]["detalle"][0]
    line.pop("afecta_stock", None)
    for name in ("unidad_medida", "actualiza_precio", "rg5329", "lista_precios", "codigo"):
        line["producto"].pop(name, None)
    invoice = assert_accepted(body).invoice
    (first,) = invoice.items
    assert invoice.idioma == DEFAULTS["comprobante.idioma"] == 1
    assert invoice.cliente.codigo == DEFAULTS["cliente.codigo"] == ""
    assert invoice.cliente.rg5329 == DEFAULTS["cliente.rg5329"] == "N"
    assert first.afecta_stock == DEFAULTS["detalle.afecta_stock"] == "N"
    assert first.unidad_medida == DEFAULTS["producto.unidad_medida"] == 7
    assert first.actualiza_precio == DEFAULTS["producto.actualiza_precio"] == "N"
    assert first.rg5329 == DEFAULTS["producto.rg5329"] == "N"
    assert first.lista_precios == DEFAULTS["producto.lista_precios"] == ""
    assert first.codigo == DEFAULTS["producto.codigo"] == ""


def test_every_default_is_covered_by_a_test():
    covered = {
        "cliente.codigo", "cliente.rg5329", "comprobante.idioma", "comprobante.cotizacion (PES)",
        "detalle.afecta_stock", "producto.unidad_medida", "producto.actualiza_precio", "producto.rg5329",
        "producto.lista_precios", "producto.codigo",
    }
    assert set(DEFAULTS) == covered


def test_every_problem_is_reported_at_once():
    body = factura_a()
    body["comprobante"].update(operacion="C", idioma=9, moneda="XXX", numero=5)
    body["cliente"].update(provincia=99, envia_por_mail="quizas")
    assert_refused(body, "TFC-2005", "TFC-2006", "TFC-2008", "TFC-2010", "TFC-3005", "TFC-3006")
