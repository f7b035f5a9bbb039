"""WSAA: build the TRA, sign it (CMS), call loginCms, parse and cache the ticket."""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from lxml import etree

from encola.afip import soap, transport
from encola.afip.certs import load_certificate, load_private_key
from encola.afip.errors import (
    AfipBadResponseError,
    AfipServiceDownError,
    AlreadyAuthenticatedError,
    CertificateExpiredError,
    UntrustedCertificateError,
    WsaaError,
)
from encola.afip.models import Ticket

log = logging.getLogger("encola.afip.wsaa")
WSAA_NS = "http://wsaa.view.sua.dvadac.desein.afip.gov"
# After coe.alreadyAuthenticated with no ticket to reuse, how long loginCms is not asked again.
# AFIP's manual names a 10-minute window in homologación (2 in producción); a ticket lost for
# good keeps the certificate out until it expires (up to 12 h), so this is retried, never hammered.
ALREADY_AUTHENTICATED_WAIT = 600.0
# Before that, how long to look for the ticket another process (same certificate, same cache) is
# getting at that moment, and how often.
SHARED_TICKET_WAIT = 30.0
SHARED_TICKET_POLL = 0.25
ARGENTINA = timezone(timedelta(hours=-3), "ART")
WSFE_SERVICE = "wsfe"

Clock = Callable[[], datetime]


def now_argentina() -> datetime:
    return datetime.now(ARGENTINA)


# ------------------------------------------------------------------ pure parts


def build_tra(service: str, now: datetime, unique_id: int | None = None, *, ttl: timedelta = timedelta(minutes=10)) -> bytes:
    """A loginTicketRequest for `service`, valid from now-10 min to now+ttl (AR offset)."""
    now = now.astimezone(ARGENTINA).replace(microsecond=0)
    root = etree.Element("loginTicketRequest", version="1.0")
    header = etree.SubElement(root, "header")
    etree.SubElement(header, "uniqueId").text = str(unique_id if unique_id is not None else secrets.randbelow(2**32))
    etree.SubElement(header, "generationTime").text = (now - timedelta(minutes=10)).isoformat()
    etree.SubElement(header, "expirationTime").text = (now + ttl).isoformat()
    etree.SubElement(root, "service").text = service
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def sign_tra(tra: bytes, cert_pem: bytes | str, key_pem: bytes | str) -> bytes:
    """CMS SignedData (DER) with the TRA attached and the signer certificate included."""
    cert = load_certificate(cert_pem)
    key = load_private_key(key_pem)
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(tra)
        .add_signer(cert, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )


def login_cms_request(cms_der: bytes) -> etree._Element:
    """The loginCms operation element carrying the Base64 CMS."""
    op = etree.Element(f"{{{WSAA_NS}}}loginCms", nsmap={None: WSAA_NS})
    etree.SubElement(op, f"{{{WSAA_NS}}}in0").text = base64.b64encode(cms_der).decode("ascii")
    return op


def parse_ticket(login_ticket_response: str | bytes) -> Ticket:
    """Parse the TA XML (the text inside loginCmsReturn)."""
    data = login_ticket_response.encode() if isinstance(login_ticket_response, str) else login_ticket_response
    try:
        root = etree.fromstring(data.strip(), etree.XMLParser(resolve_entities=False, no_network=True))
        token = root.findtext("credentials/token")
        sign = root.findtext("credentials/sign")
        expiration = datetime.fromisoformat(root.findtext("header/expirationTime").strip())
        generation_text = root.findtext("header/generationTime")
        generation = datetime.fromisoformat(generation_text.strip()) if generation_text else None
    except (etree.XMLSyntaxError, AttributeError, ValueError) as exc:
        raise AfipBadResponseError(f"unreadable WSAA ticket: {exc}") from None
    if not token or not sign:
        raise AfipBadResponseError("WSAA ticket without token or sign")
    return Ticket(token=token.strip(), sign=sign.strip(), expiration_time=expiration, generation_time=generation)


_FAULT_CLASSES: dict[str, type[Exception]] = {
    "coe.alreadyAuthenticated": AlreadyAuthenticatedError,
    "cms.cert.expired": CertificateExpiredError,
    "cms.cert.untrusted": UntrustedCertificateError,
    "cms.cert.invalid": UntrustedCertificateError,
}
_DOWN_FAULTS = {"wsn.unavailable", "wsaa.unavailable", "wsaa.internalError"}


def fault_error(fault: soap.SoapFault) -> Exception:
    """The exception for a loginCms SOAP fault."""
    message = f"WSAA {fault.faultcode}: {fault.faultstring}"
    if fault.faultcode in _DOWN_FAULTS:
        return AfipServiceDownError(message)
    cls = _FAULT_CLASSES.get(fault.faultcode, WsaaError)
    return cls(message, faultcode=fault.faultcode)


def parse_login_answer(element: etree._Element) -> Ticket:
    """Ticket from a loginCmsResponse Body child; raise for a fault."""
    fault = soap.fault_of(element)
    if fault is not None:
        raise fault_error(fault)
    if etree.QName(element).localname != "loginCmsResponse":
        raise AfipBadResponseError(f"unexpected WSAA answer {element.tag}")
    returned = next((child.text for child in element if etree.QName(child).localname == "loginCmsReturn"), None)
    if not returned:
        raise AfipBadResponseError("loginCmsResponse without loginCmsReturn")
    return parse_ticket(returned)


# --------------------------------------------------------------------- caching


class TicketCache(Protocol):
    """Where tickets live between calls (and, in the store, between processes)."""

    async def get(self, cuit: int, service: str) -> Ticket | None: ...

    # Optional: ``reload(cuit, service)``, the shared copy past any per-process memory.

    async def put(self, cuit: int, service: str, ticket: Ticket) -> None: ...


class InMemoryTicketCache:
    """A TicketCache for one process."""

    def __init__(self) -> None:
        self._tickets: dict[tuple[int, str], Ticket] = {}

    async def get(self, cuit: int, service: str) -> Ticket | None:
        return self._tickets.get((int(cuit), service))

    async def put(self, cuit: int, service: str, ticket: Ticket) -> None:
        self._tickets[(int(cuit), service)] = ticket


# ---------------------------------------------------------------------- client


@dataclass(frozen=True)
class Credentials:
    """A certificate (PEM) and its private key (PEM). Never logged."""

    cert_pem: bytes
    key_pem: bytes

    def __repr__(self) -> str:
        return "Credentials(<redacted>)"


DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class WsaaClient:
    """Obtains tickets for one certificate, reusing cached ones until close to expiry."""

    def __init__(
        self,
        http: transport.Http,
        url: str,
        credentials: Credentials,
        cache: TicketCache | None = None,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        renew_margin: timedelta = timedelta(minutes=10),
        clock: Clock = now_argentina,
    ) -> None:
        self._http = http
        self._url = url
        self._credentials = credentials
        self._cache = cache if cache is not None else InMemoryTicketCache()
        self._timeout = timeout
        self._margin = renew_margin.total_seconds()
        self._clock = clock
        self._lock = asyncio.Lock()
        self._not_before: dict[str, float] = {}  # service -> monotonic time loginCms may be asked again

    async def ticket(self, cuit: int, service: str = WSFE_SERVICE) -> Ticket:
        """A valid ticket for (cuit, service): from the cache, or a new loginCms."""
        async with self._lock:
            now = self._clock()
            cached = await self._cache.get(cuit, service)
            if cached is not None and cached.valid_at(now, self._margin):
                return cached
            waiting = self._not_before.get(service, 0.0) - time.monotonic()
            if waiting > 0:
                raise self._locked_out(service, waiting)
            try:
                fresh = await self.login(service)
            except AlreadyAuthenticatedError as exc:
                return await self._after_already_authenticated(cuit, service, cached, now, exc)
            self._not_before.pop(service, None)
            await self._cache.put(cuit, service, fresh)
            return fresh

    async def _after_already_authenticated(
        self, cuit: int, service: str, cached: Ticket | None, now: datetime, exc: AlreadyAuthenticatedError
    ) -> Ticket:
        """WSAA holds a valid ticket for this certificate: use ours, or wait without asking again."""
        if cached is not None and cached.valid_at(now):
            return cached  # inside the renewal margin: keep using it
        reload = getattr(self._cache, "reload", None)
        if reload is not None:
            # Another process sharing the cache may be logging in with this certificate right now:
            # its ticket is stored once its answer arrives, within a WSAA round trip.
            deadline = time.monotonic() + min(self._timeout.read or SHARED_TICKET_WAIT, SHARED_TICKET_WAIT)
            while True:
                shared = await reload(cuit, service)
                if shared is not None and shared.valid_at(now):
                    return shared
                if time.monotonic() >= deadline:
                    break
                await asyncio.sleep(SHARED_TICKET_POLL)
        self._not_before[service] = time.monotonic() + ALREADY_AUTHENTICATED_WAIT
        log.error(
            "WSAA says a valid %s ticket already exists for CUIT %s's certificate and encola has none "
            "(another system using the same certificate, or a lost ticket): not asking again for %d minutes. "
            "Use a certificate of encola's own for this CUIT (docs/going-live.md)",
            service, cuit, ALREADY_AUTHENTICATED_WAIT // 60, extra={"action": "wsaa_already_authenticated"},
        )
        raise self._locked_out(service, ALREADY_AUTHENTICATED_WAIT, str(exc)) from None

    def _locked_out(self, service: str, seconds: float, reason: str = "") -> AlreadyAuthenticatedError:
        error = AlreadyAuthenticatedError(
            reason or f"WSAA coe.alreadyAuthenticated: waiting {seconds:.0f} s before asking for a {service} ticket again",
            faultcode="coe.alreadyAuthenticated",
        )
        error.retry_after = seconds
        return error

    async def login(self, service: str = WSFE_SERVICE) -> Ticket:
        """Always ask WSAA for a new ticket (prefer `ticket`, which caches)."""
        tra = build_tra(service, self._clock())
        cms = sign_tra(tra, self._credentials.cert_pem, self._credentials.key_pem)
        element = await soap.call(self._http, self._url, "", login_cms_request(cms), self._timeout)
        return parse_login_answer(element)
