"""A certificate from a simulator's WSASS (``/_sim/wsass``), as encola gets one by itself for a
CUIT without a certificate when AFIP is a simulator (``encola afip-sim`` or the embedded one)."""

from __future__ import annotations

from datetime import datetime

import httpx
from cryptography import x509

from encola.afip import transport
from encola.afip.endpoints import WSAA_PATH
from encola.afip.errors import AfipHttpError
from encola.certificates.csr import key_and_csr

WSASS_PATH = "/_sim/wsass"
CA_PATH = "/_sim/wsass/ca"
TIMEOUT = httpx.Timeout(10.0)
SIMULATOR_ORGANIZATION = "encola afip-sim"  # the O of the simulator CA's name (encola/afip_sim/ca.py)


def simulator_base(wsaa_url: str) -> str:
    """The simulator's base URL from its WSAA URL (same paths as AFIP)."""
    return wsaa_url[: -len(WSAA_PATH)] if wsaa_url.endswith(WSAA_PATH) else wsaa_url.rstrip("/")


async def obtain(http: transport.Http, wsaa_url: str, cuit: int | str, razon_social: str,
                 alias: str | None = None) -> tuple[str, str]:
    """A new key, its CSR signed by the simulator: (cert_pem, key_pem)."""
    key_pem, csr_pem = key_and_csr(cuit, razon_social, alias)
    status, body = await transport.post(
        http, simulator_base(wsaa_url) + WSASS_PATH, csr_pem, {"Content-Type": "application/x-pem-file"}, TIMEOUT
    )
    if status != 200:
        raise AfipHttpError(f"the simulator's WSASS refused the CSR: HTTP {status} {body[:200]!r}", status_code=status)
    return body.decode("ascii"), key_pem.decode("ascii")


async def authority(http: transport.Http, wsaa_url: str) -> x509.Certificate | None:
    """The simulator's CA certificate, or None when it has no WSASS (an older or foreign simulator)."""
    status, body = await _get(http, simulator_base(wsaa_url) + CA_PATH)
    if status != 200:
        return None
    try:
        return x509.load_pem_x509_certificate(body)
    except ValueError:
        return None


async def _get(http: transport.Http, url: str) -> tuple[int, bytes]:
    """GET through either client (transport.py only POSTs)."""
    inner = getattr(http, "inner", http)  # ObservedHttp: the CA is not an AFIP call to observe
    if isinstance(inner, httpx.AsyncClient):
        try:
            response = await inner.get(url, timeout=TIMEOUT)
        except httpx.HTTPError:
            return 0, b""
        return response.status_code, response.content
    import aiohttp

    session = inner._session or inner._open()  # the transport's own pool and TLS settings
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
            return response.status, await response.read()
    except (aiohttp.ClientError, OSError, TimeoutError):
        return 0, b""


def signed_by(ca, cuit: int | str, razon_social: str, alias: str | None = None, *,
              now: datetime | None = None) -> tuple[bytes, bytes]:
    """A new key and its certificate signed by a simulator's CA in this process (``app.state.ca``),
    as (cert_pem, key_pem): for an in-process simulator, where there is no WSASS to call. ``now``:
    the simulator's time when its clock is not the real one (the certificate starts just before)."""
    key_pem, csr_pem = key_and_csr(cuit, razon_social, alias)
    return ca.sign_csr(csr_pem, now=now), key_pem


def obtain_blocking(base_url: str, cuit: int | str, razon_social: str, alias: str | None = None) -> tuple[bytes, bytes]:
    """``obtain`` from a simulator server, without an event loop: (cert_pem, key_pem)."""
    key_pem, csr_pem = key_and_csr(cuit, razon_social, alias)
    response = httpx.post(base_url.rstrip("/") + WSASS_PATH, content=csr_pem, timeout=TIMEOUT)
    if response.status_code != 200:
        raise AfipHttpError(f"the simulator's WSASS refused the CSR: HTTP {response.status_code} {response.text[:200]}",
                            status_code=response.status_code)
    return response.content, key_pem


SIMULATOR_ALIAS = "encola-simulador"


def provide_for_cuit(store, settings, cuit: str) -> str | None:
    """``pdv create`` without ``--cert`` against a simulator: a certificate it signed, stored now
    so the first emission does not wait for one. A line for the user, or None when nothing was
    needed (AFIP itself, or a certificate already stored)."""
    if not settings.simulated or store.credentials_of(cuit) is not None:
        return None
    razon_social = f"encola {cuit}"
    if settings.afip_mode == "embedded":
        from encola.afip_sim.ca import SimulatorCA

        # The embedded simulator's CA lives beside its ledger: the same file `encola serve` loads.
        cert_pem, key_pem = signed_by(SimulatorCA.beside(settings.afip_sim_ledger), cuit, razon_social, SIMULATOR_ALIAS)
        where = "the embedded simulator"
    else:
        try:
            cert_pem, key_pem = obtain_blocking(settings.afip_url, cuit, razon_social, SIMULATOR_ALIAS)
        except (httpx.HTTPError, AfipHttpError) as exc:
            return (f"the simulator at {settings.afip_url} did not sign a certificate for CUIT {cuit} ({exc}); "
                    "encola asks it again when it first emits")
        where = f"the simulator at {settings.afip_url}"
    store.save_credentials(cuit, cert_pem.decode(), key_pem.decode(), only_if_missing=True)
    return f"CUIT {cuit}: certificate signed by {where} (its WSASS), stored sealed"
