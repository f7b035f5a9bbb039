"""Totals and IVA (``totals.compute``) and AFIP's arithmetic on ``render.afip_template``."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

import pytest
from domain_requests import CLIENT_CUIT, RI_ISSUER, TODAY

from encola.domain import tables as t
from encola.domain.invoice import Cliente, Invoice, Item, Tributo
from encola.domain.render import afip_template
from encola.domain.totals import compute, line_total

D = Decimal
CLIENTE = Cliente("CUIT", CLIENT_CUIT, "Cliente SA", "Calle 1", 2, "N", 211, "RI", "RI")


def invoice(*items: Item, tipo: str = "FACTURA A", **fields) -> Invoice:
    return Invoice(
        tipo=t.tipo_comprobante(tipo), fecha=TODAY, vencimiento=TODAY, punto_venta=2, moneda="PES",
        cotizacion=D("1"), idioma=1, concepto=1, rubro="r", rubro_grupo_contable="g", cliente=CLIENTE,
        items=items, total=D("0"), external_reference="ref", **fields,
    )


def line(precio: str, alicuota: str = "21", cantidad: str = "1", **fields) -> Item:
    return Item(cantidad=D(cantidad), descripcion="x", precio_unitario=D(precio), alicuota=D(alicuota), **fields)


def iva_by_rate(totals) -> dict[Decimal, tuple[Decimal, Decimal]]:
    return {g.rate: (g.base, g.importe) for g in totals.iva}


# --- rounding --------------------------------------------------------------------------------------


@pytest.mark.parametrize("precio,expected", [("0.125", "0.12"), ("0.135", "0.14"), ("0.145", "0.14"), ("2.675", "2.68")])
def test_line_totals_round_half_even_to_cents(precio, expected):
    assert line_total(line(precio)) == D(expected)


def test_half_even_and_half_up_differ_on_the_cases_chosen():
    assert D("0.125").quantize(D("0.01"), ROUND_HALF_UP) == D("0.13")
    assert D("2.625").quantize(D("0.01"), ROUND_HALF_UP) == D("2.63")


@pytest.mark.parametrize(
    "base,alicuota,iva",
    [("2.50", "5", "0.12"), ("12.50", "21", "2.62"), ("2.50", "27", "0.68"), ("1.50", "10.5", "0.16"), ("0.50", "2.5", "0.01")],
)
def test_iva_per_alicuota_rounds_half_even(base, alicuota, iva):
    totals = compute(invoice(line(base, alicuota)))
    assert iva_by_rate(totals) == {D(alicuota): (D(base), D(iva))}


def test_iva_is_computed_on_the_sum_of_each_alicuota_not_line_by_line():
    # Three lines of 0.50 at 21 %: 0.105 each would round to 0.10 three times (0.30); on 1.50 it is 0.315 → 0.32.
    totals = compute(invoice(line("0.50"), line("0.50"), line("0.50")))
    assert iva_by_rate(totals) == {D("21"): (D("1.50"), D("0.32"))}


def test_each_alicuota_gets_its_own_afip_iva_entry():
    totals = compute(invoice(line("100", "21"), line("100", "10.5"), line("100", "27"), line("100", "0")))
    assert {g.afip_id: g.importe for g in totals.iva} == {5: D("21.00"), 4: D("10.50"), 6: D("27.00"), 3: D("0.00")}
    assert totals.neto_gravado == D("400")
    assert totals.total == D("458.50")


# --- bonificaciones ---------------------------------------------------------------------------------


def test_bonificacion_porcentaje_applies_per_line_before_iva():
    totals = compute(invoice(line("100", bonificacion_porcentaje=D("20"))))
    assert totals.line_totals == (D("80.00"),)
    assert totals.total == D("96.80")  # the docs' example


def test_a_bonificacion_porcentaje_of_100_leaves_the_line_at_zero():
    assert line_total(line("99.99", cantidad="3", bonificacion_porcentaje=D("100"))) == D("0")


def test_a_global_bonificacion_is_taken_from_the_base_before_iva():
    totals = compute(invoice(line("100"), bonificacion=D("20")))
    assert iva_by_rate(totals) == {D("21"): (D("80"), D("16.80"))}
    assert totals.total == D("96.80")  # the docs' example


def test_a_global_bonificacion_is_spread_over_alicuotas_in_proportion_and_adds_up_exactly():
    totals = compute(invoice(line("10", "21"), line("10", "10.5"), line("10", "27"), bonificacion=D("1.00")))
    bases = iva_by_rate(totals)
    discounts = {rate: D("10") - base for rate, (base, _) in bases.items()}
    assert sorted(discounts.values()) == [D("0.33"), D("0.33"), D("0.34")]
    assert sum(discounts.values()) == D("1.00")
    assert totals.neto_gravado == D("29.00")


def test_a_global_bonificacion_also_reduces_exento_and_no_gravado_in_proportion():
    totals = compute(invoice(line("100", "21"), line("100", "-1"), line("100", "-2"), bonificacion=D("30")))
    assert (totals.neto_gravado, totals.exento, totals.no_gravado) == (D("90"), D("90"), D("90"))


# --- exento, no gravado, class C ---------------------------------------------------------------------


def test_exento_lines_go_to_imp_op_ex_without_iva():
    totals = compute(invoice(line("100", "21"), line("50", "-1")))
    assert totals.exento == D("50.00")
    assert list(iva_by_rate(totals)) == [D("21")]
    assert afip_template(invoice(line("50", "-1")), compute(invoice(line("50", "-1"))), RI_ISSUER)["ImpOpEx"] == "50.00"


def test_no_gravado_lines_go_to_imp_tot_conc_without_iva():
    inv = invoice(line("100", "21"), line("40", "-2"))
    totals = compute(inv)
    assert totals.no_gravado == D("40.00")
    assert afip_template(inv, totals, RI_ISSUER)["ImpTotConc"] == "40.00"
    assert [entry["Id"] for entry in afip_template(inv, totals, RI_ISSUER)["Iva"]] == [5]


def test_class_c_has_no_iva_array_and_everything_is_net():
    inv = invoice(line("100", "0"), line("10", "0"), tipo="FACTURA C")
    totals = compute(inv)
    template = afip_template(inv, totals, RI_ISSUER)
    assert totals.iva == ()
    assert template["Iva"] == []
    assert (template["ImpNeto"], template["ImpIVA"], template["ImpTotal"]) == ("110.00", "0.00", "110.00")


# --- tributos and impuestos internos -------------------------------------------------------------------


def test_tributos_are_added_to_the_total_with_their_afip_ids():
    inv = invoice(line("100"), tributos=(Tributo(6, 2, D("100"), D("10"), D("10")), Tributo(7, 5, D("200"), D("10"), D("20")),))
    totals = compute(inv)
    assert [(tr.afip_id, tr.importe) for tr in totals.tributos] == [(6, D("10.00")), (7, D("20.00"))]
    assert totals.total == D("151.00")  # the docs' FACTURA A


def test_impuestos_internos_of_the_comprobante_become_afip_tributo_4():
    inv = invoice(line("100"), impuestos_internos=D("8"), impuestos_internos_base=D("100"), impuestos_internos_alicuota=D("8"))
    totals = compute(inv)
    assert [(tr.afip_id, tr.base, tr.importe) for tr in totals.tributos] == [(4, D("100"), D("8.00"))]
    assert totals.total == D("129.00")


def test_impuestos_internos_rates_of_the_lines_are_applied_to_each_line():
    inv = invoice(line("100", impuestos_internos_alicuota=D("8")), line("0.125", impuestos_internos_alicuota=D("4")), line("10"))
    (internos,) = compute(inv).tributos
    assert (internos.afip_id, internos.base, internos.importe, internos.alicuota) == (4, D("100.12"), D("8.00"), D("0"))


# --- AFIP's arithmetic ---------------------------------------------------------------------------------


def assert_afip_arithmetic(template: dict) -> None:
    amount = lambda key: D(template[key])  # noqa: E731
    for key in ("ImpTotal", "ImpTotConc", "ImpNeto", "ImpOpEx", "ImpIVA", "ImpTrib"):
        assert D(template[key]) == D(template[key]).quantize(D("0.01")), key
    assert amount("ImpTotal") == (
        amount("ImpTotConc") + amount("ImpNeto") + amount("ImpOpEx") + amount("ImpTrib") + amount("ImpIVA")
    )
    assert sum((D(entry["Importe"]) for entry in template["Iva"]), D("0")) == amount("ImpIVA")
    assert sum((D(entry["Importe"]) for entry in template["Tributos"]), D("0")) == amount("ImpTrib")
    if template["Iva"]:
        assert sum((D(entry["BaseImp"]) for entry in template["Iva"]), D("0")) == amount("ImpNeto")
    assert len({entry["Id"] for entry in template["Iva"]}) == len(template["Iva"])


def test_the_docs_factura_a_satisfies_afip_arithmetic():
    inv = invoice(line("100"), tributos=(Tributo(6, 2, D("100"), D("10"), D("10")), Tributo(7, 5, D("200"), D("10"), D("20")),))
    template = afip_template(inv, compute(inv), RI_ISSUER)
    assert_afip_arithmetic(template)
    assert template["ImpTotal"] == "151.00"


RATES = ["27", "21", "10.5", "5", "2.5", "0", "-1", "-2"]


def random_invoice(rng: random.Random) -> Invoice:
    tipo = rng.choice(["FACTURA A", "FACTURA B", "FACTURA C", "NOTA DE CREDITO A"])
    items = []
    for _ in range(rng.randint(1, 12)):
        items.append(
            line(
                precio=str(D(rng.randint(-500, 500_000)) / 1000),
                alicuota="0" if tipo == "FACTURA C" else rng.choice(RATES),
                cantidad=str(D(rng.randint(1, 50_000)) / rng.choice([1, 10, 100, 1000])),
                bonificacion_porcentaje=rng.choice([D("0"), D("0"), D("12.5"), D(rng.randint(0, 100))]),
                impuestos_internos_alicuota=rng.choice([D("0"), D("0"), D("0"), D("8"), D("4.5")]),
            )
        )
    positive = sum((max(line_total(i), D("0")) for i in items), D("0"))
    bonificacion = D(rng.randint(0, int(positive * 100) // 3)) / 100 if rng.random() < 0.5 else D("0")
    tributos = tuple(
        Tributo(tipo_tributo, regimen, D(rng.randint(0, 100_000)) / 100, D("3"), D(rng.randint(0, 10_000)) / 1000)
        for tipo_tributo, regimen in rng.sample([(6, 1), (7, 5), (1, 31)], rng.randint(0, 3))
    )
    return invoice(*items, tipo=tipo, bonificacion=bonificacion, tributos=tributos)


def test_random_invoices_always_satisfy_afip_arithmetic():
    rng = random.Random(20250616)
    for _ in range(400):
        inv = random_invoice(rng)
        totals = compute(inv)
        template = afip_template(inv, totals, RI_ISSUER)
        assert_afip_arithmetic(template)
        assert D(template["ImpTotal"]) == totals.total
        if inv.tipo.letter == "C":
            assert template["Iva"] == [] and template["ImpIVA"] == "0.00"
        discounts = sum(totals.line_totals, D("0")) - (totals.neto_gravado + totals.exento + totals.no_gravado)
        assert discounts == inv.bonificacion
