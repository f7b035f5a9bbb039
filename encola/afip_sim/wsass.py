"""The simulator's WSASS (``/_sim/wsass``): what AFIP's "Autogestión de certificados de
homologación" does, over HTTP. POST a CSR (PEM), get the certificate (PEM); GET ``/_sim/wsass/ca``
for the CA certificate the strict WSAA trusts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from encola.afip_sim.ca import CsrRefused, SimulatorCA

PEM = "application/x-pem-file"
MAX_CSR_BYTES = 16 * 1024  # a 4096-bit CSR is under 2 KiB


def routes(ca: SimulatorCA) -> list[Route]:
    async def sign(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_CSR_BYTES:
            return PlainTextResponse("CSR demasiado grande\n", status_code=413)
        try:
            certificate = ca.sign_csr(body)
        except CsrRefused as exc:
            return PlainTextResponse(f"{exc}\n", status_code=400)
        return Response(certificate, media_type=PEM)

    async def authority(request: Request) -> Response:
        return Response(ca.certificate_pem(), media_type=PEM)

    return [
        Route("/_sim/wsass", sign, methods=["POST"]),
        Route("/_sim/wsass/ca", authority, methods=["GET"]),
    ]
