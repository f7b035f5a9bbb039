"""The simulator's CAEA operations with AFIP's rules: one CAEA per CUIT and fortnight, requestable
from 5 days before it, reported only on CAEA points of sale, each CUIT seeing only its own."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sim_soap import ART, Clock, Sim, errors, get

pytestmark = pytest.mark.anyio
ACME, OTHER = 20123456786, 30712345675
TODAY = datetime(2026, 11, 28, 10, 0, tzinfo=ART)  # a Saturday, in November's second fortnight


@pytest.fixture
async def sim():
    s = Sim(Clock(TODAY))
    await s.login(ACME)
    await s.login(OTHER)
    s.register(ACME, 7, "CAEA")
    s.register(ACME, 8, "CAEA")
    s.register(ACME, 1, "CAE")
    s.register(OTHER, 7, "CAEA")
    yield s
    await s.aclose()


def periodo(p: int, o: int) -> str:
    return f"<Periodo>{p}</Periodo><Orden>{o}</Orden>"


def detail(numero: int, fecha: str, caea: str | None) -> str:
    code = f"<CAEA>{caea}</CAEA>" if caea is not None else "<CAEA></CAEA>"
    return (f"<FECAEADetRequest><Concepto>1</Concepto><DocTipo>80</DocTipo><DocNro>30000000007</DocNro>"
            f"<CbteDesde>{numero}</CbteDesde><CbteHasta>{numero}</CbteHasta><CbteFch>{fecha}</CbteFch>"
            "<ImpTotal>121</ImpTotal><ImpTotConc>0</ImpTotConc><ImpNeto>100</ImpNeto><ImpOpEx>0</ImpOpEx>"
            "<ImpTrib>0</ImpTrib><ImpIVA>21</ImpIVA><MonId>PES</MonId><MonCotiz>1</MonCotiz>"
            "<CondicionIVAReceptorId>1</CondicionIVAReceptorId>"
            "<Iva><AlicIva><Id>5</Id><BaseImp>100</BaseImp><Importe>21</Importe></AlicIva></Iva>"
            f"{code}<CbteFchHsGen>{fecha}120000</CbteFchHsGen></FECAEADetRequest>")


def informe(pto_vta: int, *details: str) -> str:
    return (f"<FeCAEARegInfReq><FeCabReq><CantReg>{len(details)}</CantReg><PtoVta>{pto_vta}</PtoVta>"
            f"<CbteTipo>1</CbteTipo></FeCabReq><FeDetReq>{''.join(details)}</FeDetReq></FeCAEARegInfReq>")


async def test_the_next_fortnight_is_granted_from_five_days_before_with_its_dates(sim):
    result = await sim.result("FECAEASolicitar", periodo(202612, 1), cuit=ACME)
    assert errors(result) == []
    caea = get(result, "ResultGet/CAEA")
    assert len(caea) == 14 and caea.isdigit()
    assert (get(result, "ResultGet/FchVigDesde"), get(result, "ResultGet/FchVigHasta")) == ("20261201", "20261215")
    assert get(result, "ResultGet/FchTopeInf") == "20261223"
    again = await sim.result("FECAEAConsultar", periodo(202612, 1), cuit=ACME)
    assert get(again, "ResultGet/CAEA") == caea


@pytest.mark.parametrize("p, o, window", [
    (202612, 2, "Del 12/11/2026 hasta 12/31/2026"),  # too early
    (202611, 1, "Del 10/27/2026 hasta 11/15/2026"),  # over
])
async def test_outside_its_window_a_fortnight_is_refused_with_15006_and_afips_text(sim, p, o, window):
    result = await sim.result("FECAEASolicitar", periodo(p, o), cuit=ACME)
    assert errors(result) == [(15006, "Fecha de envío podrá ser desde 5 días corridos anteriores al inicio hasta el "
                                      f"último dia de cada quincena. {window}")]
    assert get(result, "ResultGet") is None  # AFIP answers only Errors (recorded)


async def test_the_current_fortnight_can_be_asked_until_its_last_day(sim):
    assert errors(await sim.result("FECAEASolicitar", periodo(202611, 2), cuit=ACME)) == []


async def test_one_caea_per_cuit_and_fortnight(sim):
    first = await sim.result("FECAEASolicitar", periodo(202612, 1), cuit=ACME)
    second = await sim.result("FECAEASolicitar", periodo(202612, 1), cuit=ACME)
    assert [code for code, _ in errors(second)] == [15008]
    other = await sim.result("FECAEASolicitar", periodo(202612, 1), cuit=OTHER)
    assert errors(other) == [] and get(other, "ResultGet/CAEA") != get(first, "ResultGet/CAEA")


async def test_a_bad_periodo_is_15004_echoed_as_afip_does(sim):
    result = await sim.result("FECAEAConsultar", periodo(202100, 1), cuit=ACME)
    assert get(result, "ResultGet/Periodo") == "202100" and get(result, "ResultGet/Orden") == "1"
    assert errors(result) == [(15004, "El campo <Periodo> debe tener el formato AAAAMM, donde AAAA indica el año y "
                                      "MM el mes en números.")]
    assert [c for c, _ in errors(await sim.result("FECAEASolicitar", periodo(202612, 3), cuit=ACME))] == [15005]


async def test_a_cuit_never_sees_nor_uses_another_cuits_caea(sim):
    granted = await sim.result("FECAEASolicitar", periodo(202611, 2), cuit=ACME)
    caea = get(granted, "ResultGet/CAEA")
    assert [c for c, _ in errors(await sim.result("FECAEAConsultar", periodo(202611, 2), cuit=OTHER))] == [602]
    used = await sim.result("FECAEARegInformativo", informe(7, detail(1, "20261127", caea)), cuit=OTHER)
    assert get(used, "FeDetResp/FECAEADetResponse/Resultado") == "R"
    assert get(used, "FeDetResp/FECAEADetResponse/Observaciones/Obs/Code") == "1200"
    idle = await sim.result("FECAEASinMovimientoInformar", f"<PtoVta>7</PtoVta><CAEA>{caea}</CAEA>", cuit=OTHER)
    assert get(idle, "Resultado") == "R" and [c for c, _ in errors(idle)] == [1200]
    listed = await sim.result("FECAEASinMovimientoConsultar", f"<CAEA>{caea}</CAEA><PtoVta>0</PtoVta>", cuit=OTHER)
    assert [c for c, _ in errors(listed)] == [602]


async def test_comprobantes_are_reported_on_a_caea_point_of_sale_within_the_fortnight(sim):
    caea = get(await sim.result("FECAEASolicitar", periodo(202611, 2), cuit=ACME), "ResultGet/CAEA")
    result = await sim.result("FECAEARegInformativo", informe(7, detail(1, "20261120", caea), detail(2, "20261127", caea)),
                              cuit=ACME)
    assert get(result, "FeCabResp/Resultado") == "A", errors(result)
    assert [r.findtext("{*}CAEA") for r in result.iterfind("{*}FeDetResp/{*}FECAEADetResponse")] == [caea, caea]
    ultimo = await sim.result("FECompUltimoAutorizado", "<PtoVta>7</PtoVta><CbteTipo>1</CbteTipo>", cuit=ACME)
    assert get(ultimo, "CbteNro") == "2"
    found = await sim.result("FECompConsultar", "<FeCompConsReq><CbteTipo>1</CbteTipo><CbteNro>2</CbteNro>"
                                                "<PtoVta>7</PtoVta></FeCompConsReq>", cuit=ACME)
    assert (get(found, "ResultGet/CodAutorizacion"), get(found, "ResultGet/EmisionTipo")) == (caea, "CAEA")


async def test_reporting_is_refused_without_a_caea_on_a_cae_point_of_sale_or_out_of_the_fortnight(sim):
    caea = get(await sim.result("FECAEASolicitar", periodo(202611, 2), cuit=ACME), "ResultGet/CAEA")
    missing = await sim.result("FECAEARegInformativo", informe(7, detail(1, "20261120", None)), cuit=ACME)
    assert errors(missing) == [(782, "El <CAEA> es obligatorio informarlo.")]  # recorded
    assert get(missing, "FeDetResp/FECAEADetResponse/CAEA") == ""  # <CAEA /> as recorded
    on_cae = await sim.result("FECAEARegInformativo", informe(1, detail(1, "20261120", caea)), cuit=ACME)
    assert [c for c, _ in errors(on_cae)] == [10005] and get(on_cae, "FeCabResp/Resultado") == "R"
    early = await sim.result("FECAEARegInformativo", informe(7, detail(1, "20261115", caea)), cuit=ACME)
    assert get(early, "FeDetResp/FECAEADetResponse/Observaciones/Obs/Code") == "10016"


async def test_a_point_of_sale_without_movement_is_informed_once_and_listed(sim):
    caea = get(await sim.result("FECAEASolicitar", periodo(202611, 2), cuit=ACME), "ResultGet/CAEA")
    await sim.result("FECAEARegInformativo", informe(7, detail(1, "20261120", caea)), cuit=ACME)
    idle = await sim.result("FECAEASinMovimientoInformar", f"<PtoVta>8</PtoVta><CAEA>{caea}</CAEA>", cuit=ACME)
    assert (get(idle, "Resultado"), get(idle, "PtoVta"), get(idle, "FchProceso")) == ("A", "8", "20261128")
    twice = await sim.result("FECAEASinMovimientoInformar", f"<PtoVta>8</PtoVta><CAEA>{caea}</CAEA>", cuit=ACME)
    assert [c for c, _ in errors(twice)] == [1202]
    used = await sim.result("FECAEASinMovimientoInformar", f"<PtoVta>7</PtoVta><CAEA>{caea}</CAEA>", cuit=ACME)
    assert [c for c, _ in errors(used)] == [1201]
    not_caea = await sim.result("FECAEASinMovimientoInformar", "<PtoVta>8</PtoVta><CAEA>71293955911805</CAEA>", cuit=ACME)
    assert errors(not_caea) == [(1200, "El codigo de autorizacion debe ser del tipo CAEA")]  # recorded
    listed = await sim.result("FECAEASinMovimientoConsultar", f"<CAEA>{caea}</CAEA><PtoVta>0</PtoVta>", cuit=ACME)
    assert [(r.findtext("{*}CAEA"), r.findtext("{*}PtoVta")) for r in listed.iterfind("{*}ResultGet/{*}FECAEASinMov")] \
        == [(caea, "8")]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(p=150001, o=1)
@example(p=999912, o=2)
@example(p=99912, o=1)
@given(p=st.one_of(st.integers(-10, 10**7), st.text(max_size=8)), o=st.one_of(st.integers(-3, 5), st.text(max_size=3)))
async def test_any_periodo_and_orden_get_a_caea_or_afips_errors_never_a_crash(sim, p, o):
    answer = await sim.call("FECAEASolicitar", f"<Periodo>{p}</Periodo><Orden>{o}</Orden>".replace("&", "&amp;")
                            .replace("<>", ""), cuit=ACME)
    assert answer.status_code in (200, 400, 500)
    if answer.status_code == 200:
        assert b"<CAEA>" in answer.content or b"<Errors>" in answer.content


@pytest.mark.parametrize("p, o, expected", [
    (202402, 2, ("20240216", "20240229")), (202502, 2, ("20250216", "20250228")), (202612, 1, ("20261201", "20261215")),
    (202613, 1, None), (202612, 0, None), (202612, 3, None),
])
def test_a_fortnight_is_days_1_to_15_or_16_to_the_months_end(p, o, expected):
    from encola.afip_sim.caea import fortnight
    found = fortnight(p, o)
    assert (None if found is None else tuple(d.strftime("%Y%m%d") for d in found)) == expected
