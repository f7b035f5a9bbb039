"""Whole-call failures become the right exception; no httpx/lxml exception escapes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from encola.afip import (
    AfipBadResponseError,
    AfipCallError,
    AfipConnectionError,
    AfipEndpoints,
    AfipHttpError,
    AfipNotSentError,
    AfipServiceDownError,
    AfipTransientError,
    AlreadyAuthenticatedError,
    CertificateExpiredError,
    Credentials,
    InMemoryTicketCache,
    Ticket,
    TokenRejectedError,
    UntrustedCertificateError,
    WsaaClient,
    WsaaError,
    WsfeClient,
    generate_test_certificate,
)

pytestmark = pytest.mark.anyio
EP = AfipEndpoints.for_simulator("http://afip.test")
ART = timezone(timedelta(hours=-3))


async def fixed_ticket() -> Ticket:
    return Ticket(token="T", sign="S", expiration_time=datetime(2100, 1, 1, tzinfo=timezone.utc))


def fe_answer(operation: str, inner: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<soap:Body><{operation}Response xmlns="http://ar.gov.afip.dif.FEV1/"><{operation}Result>{inner}'
        f"</{operation}Result></{operation}Response></soap:Body></soap:Envelope>"
    ).encode()


def errors(code: int, msg: str) -> str:
    return f"<Errors><Err><Code>{code}</Code><Msg>{msg}</Msg></Err></Errors>"


def wsfe_with(handler) -> tuple[httpx.AsyncClient, WsfeClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return http, WsfeClient(http, EP.wsfe, 20123456786, fixed_ticket, timeout=httpx.Timeout(1.0))


def raising(exc: Exception):
    def handler(request):
        raise exc
    return handler


@pytest.mark.parametrize("exc", [
    httpx.ConnectError("refused"),
    httpx.ReadTimeout("slow"),
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ConnectionResetError("reset"),
])
async def test_network_failures_are_connection_errors(exc):
    http, client = wsfe_with(raising(exc))
    async with http:
        with pytest.raises(AfipConnectionError):
            await client.last_authorized(1, 1)


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("busy")])
async def test_failures_before_anything_was_sent_say_so(exc):
    http, client = wsfe_with(raising(exc))
    async with http:
        with pytest.raises(AfipNotSentError):
            await client.last_authorized(1, 1)


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped"), ConnectionResetError()])
async def test_failures_after_sending_are_not_taken_for_unsent(exc):
    http, client = wsfe_with(raising(exc))
    async with http:
        with pytest.raises(AfipConnectionError) as info:
            await client.last_authorized(1, 1)
    assert not isinstance(info.value, AfipNotSentError)


async def test_http_503_html_page_is_transient():
    http, client = wsfe_with(lambda r: httpx.Response(503, content=b"<html>Service Unavailable</html>"))
    async with http:
        with pytest.raises(AfipHttpError) as info:
            await client.dummy()
    assert info.value.status_code == 503 and isinstance(info.value, AfipTransientError)


async def test_unparseable_200_is_a_bad_response():
    http, client = wsfe_with(lambda r: httpx.Response(200, content=b"<<not xml"))
    async with http:
        with pytest.raises(AfipBadResponseError):
            await client.dummy()


@pytest.mark.parametrize("code", [500, 501, 502])
async def test_afip_internal_errors_mean_the_service_is_down(code):
    body = fe_answer("FECAESolicitar", errors(code, "Error interno de base de datos"))
    http, client = wsfe_with(lambda r: httpx.Response(200, content=body))
    async with http:
        with pytest.raises(AfipServiceDownError) as info:
            await client.request_cae(1, 1, [])
    assert info.value.errors[0].code == code


@pytest.mark.parametrize("code", [600, 601])
async def test_token_errors_are_auth_errors(code):
    body = fe_answer("FECompUltimoAutorizado", "<PtoVta>0</PtoVta><CbteTipo>0</CbteTipo><CbteNro>0</CbteNro>"
                     + errors(code, "ValidacionDeToken: Error al verificar hash: "))
    http, client = wsfe_with(lambda r: httpx.Response(200, content=body))
    async with http:
        with pytest.raises(TokenRejectedError):
            await client.last_authorized(1, 1)


async def test_soap_client_fault_is_a_call_error():
    body = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>'
            b"<faultcode>soap:Client</faultcode><faultstring>Server was unable to read request.</faultstring>"
            b"</soap:Fault></soap:Body></soap:Envelope>")
    http, client = wsfe_with(lambda r: httpx.Response(500, content=body))
    async with http:
        with pytest.raises(AfipCallError):
            await client.dummy()


def wsaa_fault(code: str, message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        '<soapenv:Body><soapenv:Fault><faultcode xmlns:ns1="http://xml.apache.org/axis/">ns1:' + code
        + "</faultcode><faultstring>" + message + "</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    ).encode()


@pytest.mark.parametrize("code, cls", [
    ("coe.alreadyAuthenticated", AlreadyAuthenticatedError),
    ("cms.cert.expired", CertificateExpiredError),
    ("cms.cert.untrusted", UntrustedCertificateError),
    ("cms.sign.invalid", WsaaError),
    ("wsaa.unavailable", AfipServiceDownError),
])
async def test_wsaa_faults_are_classified(code, cls):
    cert, key = generate_test_certificate(20123456786, "ACME")
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500, content=wsaa_fault(code, "x")))) as http:
        with pytest.raises(cls):
            await WsaaClient(http, EP.wsaa, Credentials(cert, key)).ticket(20123456786)


async def test_already_authenticated_falls_back_to_a_cached_ticket_inside_the_renewal_margin():
    cert, key = generate_test_certificate(20123456786, "ACME")
    now = datetime(2026, 3, 10, 12, 0, tzinfo=ART)
    cache = InMemoryTicketCache()
    almost = Ticket(token="old", sign="s", expiration_time=now + timedelta(minutes=5))
    await cache.put(20123456786, "wsfe", almost)
    handler = lambda r: httpx.Response(500, content=wsaa_fault("coe.alreadyAuthenticated", "ya posee un TA valido"))
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = WsaaClient(http, EP.wsaa, Credentials(cert, key), cache, clock=lambda: now)
        assert await client.ticket(20123456786) == almost


async def test_cached_ticket_is_reused_without_calling_wsaa():
    cert, key = generate_test_certificate(20123456786, "ACME")
    now = datetime(2026, 3, 10, 12, 0, tzinfo=ART)
    cache = InMemoryTicketCache()
    fresh = Ticket(token="t", sign="s", expiration_time=now + timedelta(hours=11))
    await cache.put(20123456786, "wsfe", fresh)
    async with httpx.AsyncClient(transport=httpx.MockTransport(raising(AssertionError("WSAA called")))) as http:
        client = WsaaClient(http, EP.wsaa, Credentials(cert, key), cache, clock=lambda: now)
        assert await client.ticket(20123456786) is fresh


def test_credentials_never_show_the_key():
    assert "PRIVATE" not in repr(Credentials(b"cert", b"-----BEGIN PRIVATE KEY-----"))
