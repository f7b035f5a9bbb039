"""The aiohttp transport against real sockets on 127.0.0.1: answers arrive, and every failure is
classified as "certainly not sent" or "outcome unknown", as the engine's exactly-once needs."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager

from datetime import datetime, timezone

import httpx
import pytest

from encola.afip import (
    AfipConnectionError,
    AfipEndpoints,
    AfipHttpError,
    AfipNotSentError,
    AiohttpTransport,
    Ticket,
    WsfeClient,
)

pytestmark = pytest.mark.anyio
CUIT = 20123456786
LAST_41 = (
    b'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<soap:Body><FECompUltimoAutorizadoResponse xmlns="http://ar.gov.afip.dif.FEV1/"><FECompUltimoAutorizadoResult>'
    b"<PtoVta>3</PtoVta><CbteTipo>6</CbteTipo><CbteNro>41</CbteNro>"
    b"</FECompUltimoAutorizadoResult></FECompUltimoAutorizadoResponse></soap:Body></soap:Envelope>"
)
QUICK = httpx.Timeout(0.3, connect=1.0)


async def fixed_ticket() -> Ticket:
    return Ticket(token="T", sign="S", expiration_time=datetime(2100, 1, 1, tzinfo=timezone.utc))


class Server:
    """A one-route HTTP/1.1 server; ``answer(request_body)`` returns (status, body) or None to hang up."""

    def __init__(self, answer, delay: float = 0.0):
        self.answer, self.delay = answer, delay
        self.requests: list[tuple[bytes, bytes]] = []  # (head, body) as received

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.lower().split(b"\r\n")
                length = next(int(line.split(b":")[1]) for line in lines if line.startswith(b"content-length:"))
                body = await reader.readexactly(length)
                self.requests.append((head, body))
                await asyncio.sleep(self.delay)
                reply = self.answer(body)
                if reply is None:
                    break
                status, content = reply
                head = b"HTTP/1.1 %d X\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n" % (status, len(content))
                writer.write(head + content)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def running(server: Server):
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        listener.close()


@asynccontextmanager
async def aiohttp_transport(max_connections: int = 4):
    transport = AiohttpTransport(max_connections=max_connections)
    try:
        yield transport
    finally:
        await transport.aclose()


def wsfe(transport: AiohttpTransport, base: str, timeout: httpx.Timeout = QUICK) -> WsfeClient:
    return WsfeClient(transport, AfipEndpoints.for_simulator(base).wsfe, CUIT, fixed_ticket, timeout=timeout)


async def test_an_answer_comes_back_through_aiohttp():
    server = Server(lambda body: (200, LAST_41))
    async with running(server) as base, aiohttp_transport() as transport:
        client = wsfe(transport, base)
        assert await client.last_authorized(3, 6) == 41
        assert await client.last_authorized(3, 6) == 41
    [(head, body), _] = server.requests
    assert b'SOAPAction: "http://ar.gov.afip.dif.FEV1/FECompUltimoAutorizado"' in head
    assert b"<PtoVta>3</PtoVta>" in body and b"<CbteTipo>6</CbteTipo>" in body


async def test_a_refused_connection_was_certainly_not_sent():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with aiohttp_transport() as transport:
        with pytest.raises(AfipNotSentError):
            await wsfe(transport, f"http://127.0.0.1:{port}").last_authorized(3, 6)


async def test_an_answer_that_does_not_come_in_time_is_an_unknown_outcome():
    server = Server(lambda body: (200, LAST_41), delay=2.0)
    async with running(server) as base, aiohttp_transport() as transport:
        with pytest.raises(AfipConnectionError) as info:
            await wsfe(transport, base).last_authorized(3, 6)
    assert not isinstance(info.value, AfipNotSentError)
    assert len(server.requests) == 1  # AFIP had it: it may have acted on it


async def test_a_connection_dropped_before_the_answer_is_an_unknown_outcome():
    server = Server(lambda body: None)
    async with running(server) as base, aiohttp_transport() as transport:
        with pytest.raises(AfipConnectionError) as info:
            await wsfe(transport, base).last_authorized(3, 6)
    assert not isinstance(info.value, AfipNotSentError)
    assert len(server.requests) == 1


async def test_no_free_connection_in_time_means_not_sent():
    server = Server(lambda body: (200, LAST_41), delay=1.0)
    patient = httpx.Timeout(5.0, connect=1.0)
    impatient = httpx.Timeout(5.0, connect=1.0, pool=0.2)
    async with running(server) as base, aiohttp_transport(max_connections=1) as transport:
        first = asyncio.create_task(wsfe(transport, base, patient).last_authorized(3, 6))
        await asyncio.sleep(0.3)  # the only connection is now busy
        with pytest.raises(AfipNotSentError):
            await wsfe(transport, base, impatient).last_authorized(3, 6)
        assert await first == 41
    assert len(server.requests) == 1


async def test_an_http_503_page_is_transient():
    server = Server(lambda body: (503, b"<html>Service Unavailable</html>"))
    async with running(server) as base, aiohttp_transport() as transport:
        with pytest.raises(AfipHttpError) as info:
            await wsfe(transport, base).dummy()
    assert info.value.status_code == 503
