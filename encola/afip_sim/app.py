"""The simulator as an ASGI app: WSAA and WSFEv1 at AFIP's paths, plus `/_sim/*` controls."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from encola.afip_sim import points_of_sale, soap_version, wsaa
from encola.afip_sim import concurrency
from encola.afip_sim import wsass
from encola.afip_sim.ca import SimulatorCA
from encola.afip_sim.faults import FaultState
from encola.afip_sim.ledger import Ledger
from encola.afip_sim.wsfe import Answer, WsfeService

ARGENTINA = timezone(timedelta(hours=-3))
XML = "text/xml; charset=utf-8"
TRANSPORT_KEY = "encola.transport"
DOWN_BODY = (
    b'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n'
    b"<HTML><HEAD><TITLE>Service Unavailable</TITLE></HEAD><BODY><h2>Service Unavailable</h2>"
    b"<hr><p>HTTP Error 503. The service is unavailable.</p></BODY></HTML>\r\n"
)


class ResponseDropped(ConnectionResetError):
    """Raised in-process (no socket to close) where a real server would drop the connection."""


def now_argentina() -> datetime:
    return datetime.now(ARGENTINA)


def create_app(
    *,
    ledger_path: str | None = None,
    latency_ms: int = 0,
    strict_wsaa: bool = True,
    max_records: int = 250,
    clock: Callable[[], datetime] = now_argentina,
    concurrency_mode: str = concurrency.DEFAULT_MODE,
    latency_p99_ms: int = 0,
    drop_ratio: float = 0.0,
) -> Starlette:
    """A simulator app. `ledger_path`: SQLite file (in memory when None). `strict_wsaa`: trust
    only certificates its CA (WSASS, beside the ledger) signed, one ticket at a time (see wsaa.py)."""
    ledger = Ledger(ledger_path)
    ca = SimulatorCA.beside(ledger_path)
    faults = FaultState(latency_ms=latency_ms)
    service = WsfeService(ledger, faults, clock, max_records=max_records)
    lanes = concurrency.LaneConcurrency(concurrency_mode, concurrency.Latency(latency_p99_ms), drop_ratio)

    async def delay() -> None:
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)

    async def login_cms(request: Request) -> Response:
        if request.method == "GET":
            return _wsdl("wsaa")
        request_body = await request.body()
        soap = soap_version.read_request(None, None, request_body)  # Axis: the envelope says which SOAP
        status, body = wsaa.login(request_body, ledger, clock(), strict=strict_wsaa, ca=ca)
        await delay()
        return Response(soap_version.in_version(body, soap.version), status_code=status,
                        media_type=soap_version.CONTENT_TYPE[soap.version])

    async def wsfe(request: Request) -> Response:
        if request.method == "GET":
            return _wsdl("wsfev1")
        body = await request.body()
        soap = soap_version.read_request(request.headers.get("content-type"), request.headers.get("soapaction"), body)
        if soap.mismatch:
            return Response(soap_version.version_mismatch_fault(soap), status_code=500,
                            media_type=soap_version.CONTENT_TYPE[soap.version])
        if faults.down:
            await delay()
            return Response(DOWN_BODY, status_code=503, media_type="text/html")
        # service.handle is synchronous: one request at a time touches the ledger. The lane rules
        # (inorder | reorder | busy) and the latency are concurrency.py's.
        answer: Answer = await lanes.serve(
            body, lambda raw: service.handle(raw, soap.action), faults.latency_ms,
            lambda: Answer(200, concurrency.busy_body(clock(), service.ambiente)),
        )
        if answer.drop:
            await _drop(request)
        return Response(soap_version.in_version(answer.body, soap.version), status_code=answer.status,
                        media_type=soap_version.CONTENT_TYPE[soap.version])

    async def comprobantes(request: Request) -> Response:
        return JSONResponse([
            {"cuit": a.cuit, "pto_vta": a.pto_vta, "cbte_tipo": a.cbte_tipo, "numero": a.numero, "cae": a.cae,
             "imp_total": float(a.imp_total), "fecha": a.cbte_fch}
            for a in ledger.all()
        ])

    async def faults_endpoint(request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = json.loads(await request.body() or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("expected a JSON object")
                faults.update(changes)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(faults.as_dict())

    async def puntos_venta(request: Request) -> Response:
        if request.method == "POST":
            return _register_point_of_sale(ledger, await request.body())
        cuit = request.query_params.get("cuit")
        if cuit is not None and not (cuit.isascii() and cuit.isdigit() and len(cuit) == 11):
            return JSONResponse({"error": "cuit must have 11 digits"}, status_code=400)
        return JSONResponse([pos.as_json() for pos in ledger.points_of_sale(int(cuit) if cuit else None)])

    app = Starlette(routes=[
        Route("/ws/services/LoginCms", login_cms, methods=["GET", "POST"]),
        Route("/wsfev1/service.asmx", wsfe, methods=["GET", "POST"]),
        Route("/_sim/comprobantes", comprobantes, methods=["GET"]),
        Route("/_sim/faults", faults_endpoint, methods=["GET", "POST"]),
        Route("/_sim/puntos_venta", puntos_venta, methods=["GET", "POST"]),
        *wsass.routes(ca),
        *concurrency.routes(lanes),
    ])
    app.state.ledger = ledger
    app.state.faults = faults
    app.state.concurrency = lanes
    app.state.ca = ca
    app.state.strict_wsaa = strict_wsaa
    return app


def _register_point_of_sale(ledger: Ledger, body: bytes) -> Response:
    """ARCA's "ABM de puntos de venta" for the simulator: register or change one point of sale."""
    try:
        pos = points_of_sale.parse_registration(json.loads(body or b"null"))
    except (ValueError, RecursionError) as exc:  # RegistrationError and JSONDecodeError are ValueErrors
        return JSONResponse({"error": str(exc)}, status_code=400)
    ledger.register_point_of_sale(pos.cuit, pos.nro, pos.emision_tipo, bloqueado=pos.bloqueado, fch_baja=pos.fch_baja)
    return JSONResponse(pos.as_json())


def _wsdl(name: str) -> Response:
    body = resources.files("encola.afip").joinpath("wsdl", f"{name}.wsdl").read_bytes()
    return Response(body, media_type=XML)


async def _drop(request: Request) -> None:
    """Close the connection without answering; the work is already committed."""
    transport = request.scope.get(TRANSPORT_KEY)
    if transport is None:
        raise ResponseDropped("simulated dropped response")
    transport.close()
    while (await request.receive())["type"] != "http.disconnect":
        pass
