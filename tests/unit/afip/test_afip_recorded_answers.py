"""The client understands AFIP's real recorded answers (homologación, July 2021)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from afip_cassettes import transport
from encola.afip import (
    Accepted,
    AfipEndpoints,
    AlicIva,
    CaeDetail,
    Credentials,
    Rejected,
    Ticket,
    Tributo,
    WsaaClient,
    WsfeClient,
    generate_test_certificate,
)

pytestmark = pytest.mark.anyio
HOMO = AfipEndpoints.homologacion()
CUIT = 20267565393


async def fixed_ticket() -> Ticket:
    return Ticket(token="T", sign="S", expiration_time=datetime(2100, 1, 1, tzinfo=timezone.utc))


def wsfe(cassette: str) -> tuple[httpx.AsyncClient, WsfeClient]:
    http = httpx.AsyncClient(transport=transport(cassette))
    return http, WsfeClient(http, HOMO.wsfe, CUIT, fixed_ticket)


def detail(numero: int, cbte_fch: date = date(2021, 7, 1)) -> CaeDetail:
    return CaeDetail(
        concepto=3, doc_tipo=80, doc_nro=30000000007, cbte_desde=numero, cbte_hasta=numero, cbte_fch=cbte_fch,
        imp_total=Decimal("122"), imp_neto=Decimal("100"), imp_trib=Decimal("1"), imp_iva=Decimal("21"),
        fch_serv_desde=cbte_fch, fch_serv_hasta=cbte_fch, fch_vto_pago=cbte_fch,
        tributos=(Tributo(99, Decimal("100"), Decimal("1"), Decimal("1"), "Impuesto Municipal Matanza"),),
        iva=(AlicIva(5, Decimal("100"), Decimal("21")),),
    )


async def test_login_cms_answer_becomes_a_ticket_of_twelve_hours():
    cert, key = generate_test_certificate(CUIT, "reingart2021")
    async with httpx.AsyncClient(transport=transport("wsaa_login_cms")) as http:
        ticket = await WsaaClient(http, HOMO.wsaa, Credentials(cert, key)).login()
    assert ticket.token.startswith("PD94bWwgdmVyc2lvbj0iMS4wIiBlbmNvZGluZz0i")
    assert ticket.sign.startswith("Jdnq3wqgGJv4ffsyGYZAG45f")
    assert ticket.expiration_time == datetime(2021, 7, 26, 21, 22, 0, 396000, tzinfo=timezone(timedelta(hours=-3)))
    assert ticket.expiration_time - ticket.generation_time == timedelta(hours=12)


async def test_approved_comprobante_with_an_observation_is_accepted():
    http, client = wsfe("wsfev1_autorizar_comprobante")
    async with http:
        assert await client.last_authorized(4000, 1) == 1835
        result = await client.request_cae(4000, 1, [detail(1836)])
    assert result.resultado == "A"
    [accepted] = result.details
    assert isinstance(accepted, Accepted)
    assert (accepted.numero, accepted.cae, accepted.cae_fch_vto) == (1836, "71263951827464", date(2021, 7, 11))
    assert accepted.observaciones[0].code == 10217
    assert accepted.observaciones[0].msg.startswith("El credito fiscal discriminado")
    assert result.fch_proceso == datetime(2021, 7, 1, 17, 21, 1)


async def test_consulta_returns_the_stored_comprobante():
    http, client = wsfe("wsfev1_consulta")
    async with http:
        stored = await client.consult(4000, 1, 1837)
    assert stored is not None
    assert (stored.cbte_tipo, stored.pto_vta, stored.numero) == (1, 4000, 1837)
    assert stored.cae == stored.cod_autorizacion == "71263951827477"
    assert (stored.emision_tipo, stored.resultado) == ("CAE", "A")
    assert stored.fch_vto == date(2021, 7, 11)
    assert stored.imp_total == Decimal("122") and stored.imp_iva == Decimal("21")
    assert stored.iva == (AlicIva(5, Decimal("100"), Decimal("21")),)
    assert stored.tributos[0].desc == "Impuesto Municipal Matanza"
    assert stored.fch_proceso == datetime(2021, 7, 1, 17, 21, 6)


async def test_sequence_error_rejects_the_detail_with_10016_and_consulta_602_is_none():
    http, client = wsfe("wsfev1_main_prueba")
    async with http:
        assert await client.last_authorized(3, 3) == 503
        result = await client.request_cae(3, 3, [detail(504)])
        missing = await client.consult(3, 3, 504)
    assert result.resultado == "R"
    [rejected] = result.details
    assert isinstance(rejected, Rejected) and rejected.is_sequence_error
    assert rejected.errors[0].msg.startswith("El numero o fecha del comprobante no se corresponde")
    assert missing is None


async def test_date_out_of_range_is_rejected_with_its_observation_verbatim():
    http, client = wsfe("wsfev1_main_prueba_usados")
    async with http:
        await client.last_authorized(3, 49)
        result = await client.request_cae(3, 49, [detail(1)])
    [rejected] = result.details
    assert isinstance(rejected, Rejected) and not rejected.is_sequence_error
    assert rejected.codes == (10016,)
    assert "N-5 y N+5" in rejected.observaciones[0].msg


async def test_dummy_totxrequest_and_puntos_de_venta():
    http, client = wsfe("wsfev1_main")
    async with http:
        assert (await client.dummy()).ok
    http, client = wsfe("wsfev1_main_comptox")
    async with http:
        assert await client.max_records_per_request() == 250
    http, client = wsfe("wsfev1_main_ptos_venta")
    async with http:
        pvs = await client.puntos_venta()
    assert [p.nro for p in pvs] == [3, 4, 6] and not pvs[0].bloqueado and pvs[0].fch_baja is None


async def test_parameter_tables():
    http, client = wsfe("wsfev1_main_parametros")
    async with http:
        cbtes = await client.tipos_cbte()
        docs = await client.tipos_doc()
        ivas = await client.tipos_iva()
        monedas = await client.tipos_monedas()
    assert ("1", "Factura A") == (cbtes[0].id, cbtes[0].desc) and cbtes[0].fch_hasta is None
    assert any(d.id == "80" and d.desc == "CUIT" for d in docs)
    assert [i.id for i in ivas] == ["3", "4", "5", "6", "8", "9"]
    assert monedas[0].id == "PES"
