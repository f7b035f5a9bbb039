"""Raw SOAP against an in-process simulator: a logged-in CUIT and calls in SOAP 1.1 or 1.2."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
from lxml import etree

from encola.afip import AfipClient, AfipEndpoints, Credentials
from encola.afip_sim import create_app
from encola.certificates.simulator import signed_by

ART = timezone(timedelta(hours=-3))
FEV1 = "http://ar.gov.afip.dif.FEV1/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


class Clock:
    """The simulator's clock, movable by the test (Argentina time)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(ART)

    def __call__(self) -> datetime:
        return self.now


class Sim:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.app = create_app(clock=self.clock)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://sim")
        self.auth: dict[int, str] = {}

    async def login(self, cuit: int) -> None:
        """A ticket for `cuit` through the simulator's own WSAA, with a certificate its CA signed."""
        # Signed at the simulator's time: a test's fixed date may lie before the real one, and
        # the simulator's WSAA refuses a certificate that starts after its own now.
        cert = signed_by(self.app.state.ca, cuit, f"Empresa {cuit}", now=self.clock())
        client = AfipClient(self.http, AfipEndpoints.for_simulator("http://sim"), Credentials(*cert), cuit,
                            clock=self.clock)
        ticket = await client.wsaa.login()
        self.auth[cuit] = f"<Auth><Token>{ticket.token}</Token><Sign>{ticket.sign}</Sign><Cuit>{cuit}</Cuit></Auth>"

    def register(self, cuit: int, nro: int, emision_tipo: str = "CAE") -> None:
        self.app.state.ledger.register_point_of_sale(cuit, nro, emision_tipo)

    async def call(self, operation: str, inner: str = "", *, cuit: int | None = None, version: str = "1.1",
                   headers: dict | None = None) -> httpx.Response:
        auth = self.auth[cuit] if cuit else ""
        ns = SOAP12 if version == "1.2" else SOAP11
        body = (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{ns}"><s:Body>'
                f'<{operation} xmlns="{FEV1}">{auth}{inner}</{operation}></s:Body></s:Envelope>')
        if headers is None:
            headers = ({"content-type": f'application/soap+xml; charset=utf-8; action="{FEV1}{operation}"'}
                       if version == "1.2" else
                       {"content-type": "text/xml; charset=utf-8", "soapaction": f'"{FEV1}{operation}"'})
        return await self.http.post("/wsfev1/service.asmx", content=body.encode("utf-8"), headers=headers)

    async def result(self, operation: str, inner: str = "", *, cuit: int | None = None, version: str = "1.1") -> etree._Element:
        """The `<Operation>Result` element of a successful (HTTP 200) answer."""
        answer = await self.call(operation, inner, cuit=cuit, version=version)
        assert answer.status_code == 200, answer.text
        return etree.fromstring(answer.content).find(f".//{{{FEV1}}}{operation}Result")

    async def aclose(self) -> None:
        await self.http.aclose()


def errors(result: etree._Element) -> list[tuple[int, str]]:
    return [(int(e.findtext(f"{{{FEV1}}}Code")), e.findtext(f"{{{FEV1}}}Msg"))
            for e in result.iterfind(f"{{{FEV1}}}Errors/{{{FEV1}}}Err")]


def get(result: etree._Element, path: str) -> str | None:
    return result.findtext("/".join(f"{{{FEV1}}}{p}" for p in path.split("/")))
