"""FECompConsultar's fields beyond the 2021 recordings (CanMisMonExt, Compradores, PeriodoAsoc,
Actividades), the reconciliation's comparison of every field AFIP returns, AFIP's Latin-1
mojibake, and 502 "Transaccion Activa" told apart from AFIP being down."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from afip_cassettes import interactions
from encola.afip import (
    Actividad,
    AfipEndpoints,
    AfipLaneBusyError,
    AfipServiceDownError,
    AlicIva,
    CaeDetail,
    Comprador,
    PeriodoAsoc,
    Tributo,
    WsfeClient,
)
from encola.afip import wsfe_xml as x
from encola.afip.errors import AfipMessage
from encola.afip.wsfe import is_lane_busy, raise_for_call_errors
from encola.engine.mapping import differences, same_comprobante
from test_afip_every_cassette import fixed_ticket
from test_afip_wsdl_validity import assert_valid, auth, full_detail, wsfe_schema

pytestmark = pytest.mark.anyio
RECORDED = next(
    i["response"]["body"]["string"] for i in interactions("wsfev1_consulta")
    if "FECompConsultar" in str(i["request"]["headers"])
)
# What RG 4109, 4540, 5259 and 5616 added, placed where the WSDL puts them in ResultGet.
ADDED = (
    "<CanMisMonExt>N</CanMisMonExt>"
    "<Compradores><Comprador><DocTipo>80</DocTipo><DocNro>30000000007</DocNro><Porcentaje>60</Porcentaje></Comprador>"
    "<Comprador><DocTipo>80</DocTipo><DocNro>20111111112</DocNro><Porcentaje>40</Porcentaje></Comprador></Compradores>"
    "<PeriodoAsoc><FchDesde>20210601</FchDesde><FchHasta>20210630</FchHasta></PeriodoAsoc>"
    "<Actividades><Actividad><Id>620100</Id></Actividad></Actividades>"
)


def answer(body: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(
        lambda request: httpx.Response(200, content=body.encode("utf-8"), headers={"content-type": "text/xml"})
    ))


def sent() -> CaeDetail:
    """What encola would have sent for the recorded comprobante 1837, with the added fields."""
    return CaeDetail(
        concepto=3, doc_tipo=80, doc_nro=30000000007, cbte_desde=1837, cbte_hasta=1837, cbte_fch=date(2021, 7, 1),
        imp_total=Decimal("122"), imp_neto=Decimal("100"), imp_trib=Decimal("1"), imp_iva=Decimal("21"),
        fch_serv_desde=date(2021, 7, 1), fch_serv_hasta=date(2021, 7, 1), fch_vto_pago=date(2021, 7, 1),
        tributos=(Tributo(99, Decimal("100"), Decimal("1"), Decimal("1"), "Impuesto Municipal Matanza"),),
        iva=(AlicIva(5, Decimal("100"), Decimal("21")),),
        compradores=(Comprador(80, 20111111112, Decimal("40")), Comprador(80, 30000000007, Decimal("60"))),
        periodo_asoc=PeriodoAsoc(date(2021, 6, 1), date(2021, 6, 30)),
        actividades=(Actividad(620100),),
    )


async def consult(body: str):
    async with answer(body) as http:
        return await WsfeClient(http, AfipEndpoints.homologacion().wsfe, 20267565393, fixed_ticket).consult(4000, 1, 1837)


async def test_consultar_reads_the_fields_later_resolutions_added():
    stored = await consult(RECORDED.replace("<Tributos>", ADDED + "<Tributos>"))
    assert stored.can_mis_mon_ext == "N"
    assert stored.compradores == (Comprador(80, 30000000007, Decimal("60")), Comprador(80, 20111111112, Decimal("40")))
    assert stored.periodo_asoc == PeriodoAsoc(date(2021, 6, 1), date(2021, 6, 30))
    assert stored.actividades == (Actividad(620100),)
    assert differences(sent(), stored) == [] and same_comprobante(sent(), stored)


async def test_reconciliation_notices_any_returned_field_that_differs():
    stored = await consult(RECORDED.replace("<Tributos>", ADDED + "<Tributos>"))
    changes = {
        "doc_nro": dict(doc_nro=30000000008),
        "imp_tot_conc": dict(imp_tot_conc=Decimal("1")),
        "fch_vto_pago": dict(fch_vto_pago=date(2021, 7, 2)),
        "mon_cotiz": dict(mon_cotiz=Decimal("2")),
        "can_mis_mon_ext": dict(can_mis_mon_ext="S"),
        "compradores": dict(compradores=(Comprador(80, 30000000007, Decimal("100")),)),
        "periodo_asoc": dict(periodo_asoc=PeriodoAsoc(date(2021, 5, 1), date(2021, 5, 31))),
        "actividades": dict(actividades=(Actividad(1),)),
        "tributos": dict(tributos=(Tributo(99, Decimal("100"), Decimal("2"), Decimal("2"), "x"),)),
        "iva": dict(iva=(AlicIva(4, Decimal("100"), Decimal("21")),)),
    }
    for name, change in changes.items():
        assert differences(replace(sent(), **change), stored) == [name], name


async def test_a_field_afip_leaves_out_is_not_held_against_the_record():
    stored = await consult(RECORDED)  # 2021: no Compradores, PeriodoAsoc, Actividades, CanMisMonExt
    assert stored.compradores == () and stored.periodo_asoc is None and stored.can_mis_mon_ext is None
    assert differences(sent(), stored) == []


def test_a_request_with_compradores_and_actividades_is_valid_for_the_wsdl():
    detail = replace(full_detail(1), compradores=(Comprador(80, 30000000007, Decimal("50")),
                                                  Comprador(96, 12345678, Decimal("50"))),
                     actividades=(Actividad(620100), Actividad(631100)))
    assert_valid(x.cae_request(auth("FECAESolicitar"), 1, 1, [detail]), wsfe_schema())


async def test_mojibake_in_an_answer_is_repaired_and_correct_text_is_kept():
    body = RECORDED.replace("Impuesto Municipal Matanza", "DescripciÃ³n del tributo Ã±")
    stored = await consult(body)
    assert stored.tributos[0].desc == "Descripción del tributo ñ"
    stored = await consult(RECORDED.replace("Impuesto Municipal Matanza", "Descripción"))
    assert stored.tributos[0].desc == "Descripción"


@given(st.text())
def test_repairing_mojibake_undoes_exactly_a_latin1_misreading(text):
    assert x.repair_mojibake(text.encode("utf-8").decode("latin-1")) == text


@given(st.text(alphabet=st.characters(max_codepoint=0xFF)))
def test_text_that_is_not_mojibake_is_left_alone_or_reads_as_utf8(text):
    repaired = x.repair_mojibake(text)
    assert repaired == text or repaired.encode("utf-8") == text.encode("latin-1")


@pytest.mark.parametrize("msg", [
    "Error interno de base de datos - Autorizador CAE / Regimen CAEA - Transaccion Activa",
    "Error interno de base de datos – Autorizador CAE / Régimen CAEA – Transacción Activa",
    x.repair_mojibake("Error interno de base de datos - Transacci\u00c3\u00b3n Activa"),
])
def test_502_transaccion_activa_means_the_lane_is_busy(msg):
    assert is_lane_busy(AfipMessage(502, msg))
    with pytest.raises(AfipLaneBusyError):
        raise_for_call_errors((AfipMessage(502, msg),))


def test_other_internal_errors_are_afip_down_not_busy():
    for code, msg in [(502, "Error interno de base de datos"), (501, "Error interno de base de datos - Transaccion Activa")]:
        with pytest.raises(AfipServiceDownError) as info:
            raise_for_call_errors((AfipMessage(code, msg),))
        assert not isinstance(info.value, AfipLaneBusyError)
