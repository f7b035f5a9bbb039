"""The simulator's FEParamGet* operations: AFIP's tables, AFIP's shapes, the cotización's rules."""

from __future__ import annotations

from datetime import datetime

import pytest

from encola.afip_sim import tables
from sim_soap import ART, FEV1, Clock, Sim, errors, get

pytestmark = pytest.mark.anyio
CUIT = 20123456786
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=ART)


@pytest.fixture
async def sim():
    s = Sim(Clock(MONDAY))
    await s.login(CUIT)
    yield s
    await s.aclose()


def rows(result, item: str) -> list[dict[str, str]]:
    return [{c.tag.split("}")[1]: c.text for c in row} for row in result.iterfind(f"{{{FEV1}}}ResultGet/{{{FEV1}}}{item}")]


async def test_cbte_tipos_include_afips_rg_1415_and_liquidaciones(sim):
    listed = rows(await sim.result("FEParamGetTiposCbte", cuit=CUIT), "CbteTipo")
    ids = [int(r["Id"]) for r in listed]
    assert {34, 35, 39, 40, 60, 61, 63, 64} <= set(ids) and len(ids) == len(set(ids)) == 36
    assert all(r["FchHasta"] == "NULL" and len(r["FchDesde"]) == 8 for r in listed)
    assert set(ids) <= tables.VALID_CBTE_TIPOS


async def test_doc_tipos_carry_afips_names(sim):
    listed = {int(r["Id"]): r["Desc"] for r in rows(await sim.result("FEParamGetTiposDoc", cuit=CUIT), "DocTipo")}
    assert listed[0] == "CI Policía Federal" and listed[24] == "CI Tierra del Fuego" and listed[99] == "Doc. (Otro)"
    assert 15 not in listed  # AFIP has no CI 15


async def test_the_fifty_currencies_and_the_opcionales(sim):
    monedas = rows(await sim.result("FEParamGetTiposMonedas", cuit=CUIT), "Moneda")
    assert len(monedas) == 50 and monedas[0]["Id"] == "PES" and {"DOL", "060", "012"} <= {m["Id"] for m in monedas}
    opcionales = {r["Id"] for r in rows(await sim.result("FEParamGetTiposOpcional", cuit=CUIT), "OpcionalTipo")}
    assert {"2101", "2102", "22", "27", "91", "92", "93"} <= opcionales


async def test_paises_and_actividades_have_the_wsdls_shapes(sim):
    paises = rows(await sim.result("FEParamGetTiposPaises", cuit=CUIT), "PaisTipo")
    assert all(set(p) == {"Id", "Desc"} for p in paises) and {"Id": "200", "Desc": "ARGENTINA"} in paises
    actividades = rows(await sim.result("FEParamGetActividades", cuit=CUIT), "ActividadesTipo")
    assert all(list(a) == ["Id", "Orden", "Desc"] for a in actividades) and actividades[0]["Orden"] == "1"


async def test_cotizacion_is_the_previous_business_day_rate_or_the_days_asked(sim):
    result = await sim.result("FEParamGetCotizacion", "<MonId>DOL</MonId>", cuit=CUIT)
    assert (get(result, "ResultGet/MonId"), get(result, "ResultGet/MonCotiz"), get(result, "ResultGet/FchCotiz")) \
        == ("DOL", "1450", "20261127")  # Monday asks Friday's
    dated = await sim.result("FEParamGetCotizacion", "<MonId>060</MonId><FchCotiz>20261102</FchCotiz>", cuit=CUIT)
    assert get(dated, "ResultGet/FchCotiz") == "20261102"


@pytest.mark.parametrize("inner, code", [
    ("", 1000), ("<MonId>XYZ</MonId>", 1001), ("<MonId>DOL</MonId><FchCotiz>20261201</FchCotiz>", 1002),
    ("<MonId>DOL</MonId><FchCotiz>2026-11-02</FchCotiz>", 1002), ("<MonId>007</MonId>", 602),
])
async def test_cotizacion_refuses_what_it_cannot_answer(sim, inner, code):
    result = await sim.result("FEParamGetCotizacion", inner, cuit=CUIT)
    assert [c for c, _ in errors(result)] == [code] and get(result, "ResultGet") is None


async def test_parameters_need_a_valid_ticket(sim):
    result = await sim.result("FEParamGetTiposPaises")
    assert [c for c, _ in errors(result)] == [500]


def test_the_simulator_answers_exactly_the_operations_of_afips_wsdl():
    from importlib import resources

    from lxml import etree

    from encola.afip_sim import wsfe
    wsdl = etree.fromstring(resources.files("encola.afip").joinpath("wsdl", "wsfev1.wsdl").read_bytes())
    declared = {op.get("name") for op in wsdl.iterfind("{http://schemas.xmlsoap.org/wsdl/}portType/"
                                                       "{http://schemas.xmlsoap.org/wsdl/}operation")}
    assert len(declared) == 22 and wsfe.OPERATION_NAMES == declared
