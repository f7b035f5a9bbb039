"""The simulator in-process (httpx.ASGITransport): WSAA strictness, drops, auth errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from encola.afip import (
    AfipClient,
    AfipConnectionError,
    AfipEndpoints,
    AlicIva,
    AlreadyAuthenticatedError,
    CaeDetail,
    Credentials,
    InMemoryTicketCache,
    TokenRejectedError,
    generate_test_certificate,
)
from encola.afip_sim import create_app
from encola.certificates.simulator import signed_by

pytestmark = pytest.mark.anyio
CUIT = 20123456786
ART = timezone(timedelta(hours=-3))
CERT = generate_test_certificate(CUIT, "ACME SA")
EP = AfipEndpoints.for_simulator("http://sim")


def detail(n: int) -> CaeDetail:
    return CaeDetail(concepto=1, doc_tipo=80, doc_nro=30000000007, cbte_desde=n, cbte_hasta=n,
                     cbte_fch=datetime.now(ART).date(), imp_total=Decimal("121"), imp_neto=Decimal("100"),
                     imp_iva=Decimal("21"), iva=(AlicIva(5, Decimal("100"), Decimal("21")),), condicion_iva_receptor_id=1)


def client_for(app, **kw) -> tuple[httpx.AsyncClient, AfipClient]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim")
    cert = CERT if not app.state.strict_wsaa else signed_by(app.state.ca, CUIT, "ACME SA")  # its WSASS's
    return http, AfipClient(http, EP, Credentials(*cert), CUIT, **kw)


async def test_strict_wsaa_refuses_a_second_login_while_a_ticket_is_valid():
    app = create_app(strict_wsaa=True)
    http, afip = client_for(app)
    async with http:
        await afip.wsaa.login()
        with pytest.raises(AlreadyAuthenticatedError):
            await afip.wsaa.login()


async def test_lenient_wsaa_issues_a_new_ticket_each_time():
    http, afip = client_for(create_app(strict_wsaa=False))
    async with http:
        assert (await afip.wsaa.login()).token != (await afip.wsaa.login()).token


async def test_a_ticket_past_its_expiry_is_refused_with_600():
    clock = {"now": datetime.now(ART)}
    app = create_app(clock=lambda: clock["now"])
    http, afip = client_for(app, clock=lambda: clock["now"], ticket_cache=InMemoryTicketCache())
    async with http:
        ticket = await afip.wsaa.ticket(CUIT)
        clock["now"] += timedelta(hours=13)
        afip.wsaa._clock = lambda: clock["now"] - timedelta(hours=13)  # the client believes its ticket is fresh
        with pytest.raises(TokenRejectedError) as info:
            await afip.last_authorized(1, 1)
    assert ticket.token and "No validaron las fechas" in info.value.errors[0].msg


async def test_dropped_response_in_process_is_a_connection_error_and_was_recorded():
    app = create_app()
    app.state.ledger.register_point_of_sale(CUIT, 1)
    http, afip = client_for(app)
    async with http:
        await http.post("/_sim/faults", json={"drop_responses": 1})
        with pytest.raises(AfipConnectionError):
            await afip.request_cae(1, 1, [detail(1)])
        assert (await afip.consult(1, 1, 1)) is not None


async def test_wsdl_is_served_at_afip_paths():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://sim") as http:
        assert b"FECAESolicitar" in (await http.get("/wsfev1/service.asmx?WSDL")).content
        assert b"loginCms" in (await http.get("/ws/services/LoginCms?wsdl")).content
