"""The detalle block and the optional blocks of a comprobante: one test per rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from domain_requests import (
    MONOTRIBUTO_ISSUER,
    assert_accepted,
    assert_refused,
    factura_a,
    factura_b_cf,
    factura_c,
    item,
    text_of,
)


def _one_line(body: dict) -> dict:
    return body["comprobante"]["detalle"][0]


# --- detalle ------------------------------------------------------------------------------------


@pytest.mark.parametrize("detalle", [None, [], {"cantidad": 1}])
def test_a_comprobante_without_detalle_lines_is_refused(detalle):
    body = factura_b_cf()
    body["comprobante"]["detalle"] = detalle
    assert_refused(body, "TFC-2015")


def test_a_comprobante_with_130_lines_is_accepted():
    body = factura_b_cf()
    body["comprobante"].update(detalle=[item(precio="1")] * 130, total="157.30")
    assert len(assert_accepted(body).invoice.items) == 130


def test_a_comprobante_with_more_than_130_lines_is_refused_saying_how_many():
    body = factura_b_cf()
    body["comprobante"]["detalle"] = [item(precio="1")] * 131
    validated = assert_refused(body, "TFC-2016")
    assert text_of(validated, "TFC-2016").endswith("Se enviaron 131.")


def test_a_detalle_line_that_is_not_an_object_is_refused_naming_its_position():
    body = factura_b_cf()
    body["comprobante"]["detalle"] = [item(), "linea"]
    validated = assert_refused(body, "TFC-4001")
    assert "concepto 2 " in text_of(validated, "TFC-4001")


@pytest.mark.parametrize("cantidad", [None, "0", "-1", "uno"])
def test_a_line_needs_a_cantidad_above_zero(cantidad):
    body = factura_b_cf()
    _one_line(body)["cantidad"] = cantidad
    assert_refused(body, "TFC-4002")


def test_a_fractional_cantidad_with_many_decimals_is_accepted():
    body = factura_b_cf()
    _one_line(body)["cantidad"] = "0.50000"
    body["comprobante"]["total"] = "60.50"
    assert_accepted(body)


@pytest.mark.parametrize("producto", [None, "Producto", []])
def test_a_line_needs_a_producto_object(producto):
    body = factura_b_cf()
    _one_line(body)["producto"] = producto
    assert_refused(body, "TFC-4003")


@pytest.mark.parametrize("descripcion", [None, " ", "x" * 256])
def test_a_producto_needs_a_descripcion_up_to_255_characters(descripcion):
    body = factura_b_cf()
    _one_line(body)["producto"]["descripcion"] = descripcion
    assert_refused(body, "TFC-4004")


@pytest.mark.parametrize("precio", [None, "", "cien", "1,5"])
def test_a_producto_needs_a_numeric_precio_unitario_sin_iva(precio):
    body = factura_b_cf()
    _one_line(body)["producto"]["precio_unitario_sin_iva"] = precio
    assert_refused(body, "TFC-4005")


def test_a_negative_precio_unitario_is_accepted_as_an_adjustment_line():
    body = factura_b_cf()
    body["comprobante"]["detalle"] = [item(precio="1000"), item(precio="-150")]
    body["comprobante"]["total"] = "1028.50"
    assert assert_accepted(body).totals.neto_gravado == Decimal("850.00")


@pytest.mark.parametrize("alicuota", [None, "20", "10", "iva"])
def test_an_alicuota_outside_the_table_is_refused(alicuota):
    body = factura_b_cf()
    _one_line(body)["producto"]["alicuota"] = alicuota
    assert_refused(body, "TFC-4006")


@pytest.mark.parametrize("alicuota,total", [("27", "127"), ("21", "121"), ("10.5", "110.50"), ("10.50", "110.50"),
                                            ("5", "105"), ("2.5", "102.50"), ("0", "100"), ("-1", "100"), ("-2", "100")])
def test_every_alicuota_of_the_table_is_accepted(alicuota, total):
    body = factura_b_cf()
    _one_line(body)["producto"]["alicuota"] = alicuota
    body["comprobante"]["total"] = total
    assert_accepted(body)


def test_a_class_c_line_with_iva_is_refused():
    body = factura_c()
    _one_line(body)["producto"]["alicuota"] = "21"
    assert_refused(body, "TFC-4007", issuer=MONOTRIBUTO_ISSUER)


def test_a_class_c_line_may_omit_the_alicuota():
    body = factura_c()
    del _one_line(body)["producto"]["alicuota"]
    assert assert_accepted(body, issuer=MONOTRIBUTO_ISSUER).invoice.items[0].alicuota == 0


@pytest.mark.parametrize("unidad", [0, 12, "kg"])
def test_an_unknown_unidad_medida_is_refused(unidad):
    body = factura_b_cf()
    _one_line(body)["producto"]["unidad_medida"] = unidad
    assert_refused(body, "TFC-4008")


@pytest.mark.parametrize("porcentaje", ["-1", "100.01", "diez"])
def test_a_bonificacion_porcentaje_outside_0_to_100_is_refused(porcentaje):
    body = factura_b_cf()
    _one_line(body)["bonificacion_porcentaje"] = porcentaje
    assert_refused(body, "TFC-4009")


@pytest.mark.parametrize("bulto", [0, "-1", "1.5", "caja"])
def test_unidad_bulto_must_be_an_integer_of_at_least_1(bulto):
    body = factura_b_cf()
    _one_line(body)["producto"]["unidad_bulto"] = bulto
    assert_refused(body, "TFC-4010")


def test_a_line_leyenda_longer_than_1000_characters_is_refused():
    body = factura_b_cf()
    _one_line(body)["leyenda"] = "x" * 1001
    assert_refused(body, "TFC-4011")
    _one_line(body)["leyenda"] = "x" * 1000
    assert_accepted(body)


@pytest.mark.parametrize("where,campo", [("line", "afecta_stock"), ("producto", "actualiza_precio"), ("producto", "rg5329")])
def test_line_flags_must_be_s_or_n(where, campo):
    body = factura_b_cf()
    target = _one_line(body) if where == "line" else _one_line(body)["producto"]
    target[campo] = "X"
    validated = assert_refused(body, "TFC-4012")
    assert campo in text_of(validated, "TFC-4012")


def test_a_producto_with_rg5329_needs_actualiza_precio():
    body = factura_b_cf()
    _one_line(body)["producto"].update(rg5329="S", actualiza_precio="N")
    assert_refused(body, "TFC-4013")
    _one_line(body)["producto"]["actualiza_precio"] = "S"
    assert_accepted(body)


def test_a_producto_codigo_longer_than_20_characters_is_refused():
    body = factura_b_cf()
    _one_line(body)["producto"]["codigo"] = "x" * 21
    assert_refused(body, "TFC-4014")


@pytest.mark.parametrize("rate", ["-1", "mucho"])
def test_a_negative_or_non_numeric_impuestos_internos_alicuota_of_a_producto_is_refused(rate):
    body = factura_b_cf()
    _one_line(body)["producto"]["impuestos_internos_alicuota"] = rate
    assert_refused(body, "TFC-4015")


def test_line_errors_name_the_position_of_the_line():
    body = factura_b_cf()
    body["comprobante"]["detalle"] = [item(), item(cantidad="0")]
    validated = assert_refused(body, "TFC-4002")
    assert "concepto 2 " in text_of(validated, "TFC-4002")


# --- tributos -----------------------------------------------------------------------------------


def _tributo(**fields) -> dict:
    return {"tipo": 7, "regimen": 5, "base_imponible": 100, "alicuota": 10, "total": 10, **fields}


@pytest.mark.parametrize(
    "tributo,detalle",
    [
        (_tributo(tipo=2), "el tipo debe ser 1, 6 o 7"),
        (_tributo(regimen=1), "el regimen no corresponde al tipo de tributo"),
        (_tributo(total="-10"), "total debe ser un numero mayor o igual a cero"),
        (_tributo(base_imponible=None), "base_imponible debe ser"),
        ("tributo", "debe ser un objeto JSON"),
    ],
)
def test_an_invalid_tributo_is_refused_saying_why(tributo, detalle):
    body = factura_b_cf()
    body["comprobante"].update(tributos=[tributo], total="131")
    validated = assert_refused(body, "TFC-2028")
    assert detalle in text_of(validated, "TFC-2028")


def test_tributos_that_is_not_a_list_is_refused():
    body = factura_b_cf()
    body["comprobante"]["tributos"] = _tributo()
    assert_refused(body, "TFC-2028")


def test_seven_tributos_are_accepted_and_eight_refused():
    body = factura_b_cf()
    body["comprobante"].update(tributos=[_tributo(total=1)] * 7, total="128")
    assert_accepted(body)
    body["comprobante"]["tributos"] = [_tributo(total=1)] * 8
    assert_refused(body, "TFC-2034")


# --- rg_especiales, pagos, datos_informativos, abono ---------------------------------------------


@pytest.mark.parametrize("rg", ["texto", {"regimen": "x", "datos": "no"}, {"regimen": "x", "datos": ["no"]}])
def test_a_malformed_rg_especiales_block_is_refused(rg):
    body = factura_a()
    body["comprobante"]["rg_especiales"] = rg
    assert_refused(body, "TFC-2029")


def test_rg_especiales_items_with_an_empty_value_are_dropped_not_refused():
    body = factura_a()
    body["comprobante"]["rg_especiales"] = {"regimen": "RG", "datos": [{"id": 2, "valor": "x"}, {"id": 27, "valor": " "}]}
    opcionales = assert_accepted(body).invoice.opcionales
    assert [(o.id, o.valor) for o in opcionales] == [("2", "x")]


@pytest.mark.parametrize(
    "pagos",
    [
        "efectivo",
        {"formas_pago": [{"descripcion": "Efectivo"}], "total": 151},
        {"formas_pago": [{"descripcion": "Efectivo", "importe": 100}], "total": 151},
        {"formas_pago": [{"descripcion": "Efectivo", "importe": 200}], "total": 200},
    ],
    ids=["not-an-object", "no-importe", "sum-differs", "above-total"],
)
def test_a_malformed_pagos_block_is_refused(pagos):
    body = factura_a()
    body["comprobante"]["pagos"] = pagos
    assert_refused(body, "TFC-2030")


def test_a_pagos_block_adding_up_is_kept_for_the_consultas():
    body = factura_a()
    body["comprobante"]["pagos"] = {"formas_pago": [{"descripcion": "Efectivo", "importe": "151"}], "total": "151.00"}
    assert assert_accepted(body).invoice.extra["pagos"]["total"] == "151.00"


@pytest.mark.parametrize("datos", ["S", {"paga_misma_moneda": "Q"}])
def test_a_malformed_datos_informativos_block_is_refused(datos):
    body = factura_a()
    body["comprobante"]["datos_informativos"] = datos
    assert_refused(body, "TFC-2031")


def test_paga_misma_moneda_s_needs_a_foreign_currency():
    body = factura_b_cf()
    body["comprobante"]["datos_informativos"] = {"paga_misma_moneda": "S"}
    assert_refused(body, "TFC-2031")
    body = factura_a()
    body["comprobante"]["datos_informativos"] = {"paga_misma_moneda": "S"}
    assert assert_accepted(body).invoice.paga_misma_moneda == "S"


@pytest.mark.parametrize(
    "abono",
    [{}, {"abono_frecuencia": 1, "abono_hasta": "2025-12", "abono_actualiza_precios": "N"},
     {"abono_frecuencia": 1, "abono_hasta": "12/2025"}],
)
def test_an_abono_needs_frecuencia_hasta_and_actualiza_precios(abono):
    body = factura_a()
    body["comprobante"].update(abono="S", **abono)
    assert_refused(body, "TFC-2020")


def test_a_complete_abono_is_accepted():
    body = factura_a()
    body["comprobante"].update(abono="S", abono_frecuencia=1, abono_hasta="12/2025", abono_actualiza_precios="N")
    assert assert_accepted(body).invoice.extra["abono"]["hasta"] == "12/2025"
