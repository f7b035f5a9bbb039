"""One AFIP client per CUIT: credentials from the store, tickets shared through the store.

Against a simulator, a CUIT without a certificate gets one by itself: a new key whose CSR the
simulator's WSASS signs (as AFIP's does for homologación), kept sealed like any other; a
certificate encola got that way (or self-signed by an older encola) that the simulator no longer
trusts (a new simulator CA) is replaced the same way. Against AFIP, a CUIT needs the certificate
ARCA issued (``encola cert new`` then ``encola pdv cert``; docs/going-live.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from typing import Callable

from cryptography.x509.oid import NameOID

from encola.afip import (
    AfipClient,
    AfipEndpoints,
    AfipTimeouts,
    AiohttpTransport,
    Credentials,
    Ticket,
    load_certificate,
)
from encola.afip.certs import cuit_of
from encola.afip.transport import Http, ObservedHttp
from encola.certificates import simulator as sim_wsass
from encola.store.lanes import LaneStore, StoredTicket

log = logging.getLogger("encola.afip_access")
CERTIFICATE_RECHECK_SECONDS = 60.0


class MissingCertificate(Exception):
    """A CUIT has no AFIP certificate and key configured."""


def _utc_naive(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


class StoreTicketCache:
    """The WSAA ticket cache, kept in the database so every process reuses one ticket per CUIT."""

    def __init__(self, lanes: LaneStore):
        self.lanes = lanes
        # Every WSFEv1 call asks for the ticket, under the WSAA client's lock: answering from
        # memory keeps a hundred lanes of one CUIT from queueing on a database read each time.
        # The database copy is for other processes and restarts.
        self._memory: dict[tuple[str, str], Ticket] = {}

    async def get(self, cuit, service: str) -> Ticket | None:
        key = (str(cuit), service)
        if key in self._memory:
            return self._memory[key]
        stored = await asyncio.to_thread(self.lanes.ticket, str(cuit), service)
        if stored is None:
            return None
        generated = stored.generated_at.replace(tzinfo=timezone.utc) if stored.generated_at else None
        ticket = Ticket(stored.token, stored.sign, stored.expires_at.replace(tzinfo=timezone.utc), generated)
        self._memory[key] = ticket
        return ticket

    async def reload(self, cuit, service: str) -> Ticket | None:
        """The database's ticket, past this process's memory (another process may have stored one)."""
        self._memory.pop((str(cuit), service), None)
        return await self.get(cuit, service)

    async def put(self, cuit, service: str, ticket: Ticket) -> None:
        stored = StoredTicket(
            ticket.token, ticket.sign, _utc_naive(ticket.expiration_time), _utc_naive(ticket.generation_time)
        )
        await asyncio.to_thread(self.lanes.save_ticket, str(cuit), service, stored)
        self._memory[(str(cuit), service)] = ticket


class AfipAccess:
    def __init__(
        self,
        lanes: LaneStore,
        http: Http,
        endpoints: AfipEndpoints,
        *,
        simulated: bool,
        timeouts: AfipTimeouts = AfipTimeouts(),
    ):
        self.lanes = lanes
        self.http = http
        self.endpoints = endpoints
        self.simulated = simulated
        self.timeouts = timeouts
        self.cache = StoreTicketCache(lanes)
        # Told how each call to AFIP went, per CUIT (estado_servicios: see engine/afip_health.py).
        self.observe: Callable[[str, bool, str | None], None] | None = None
        self._clients: dict[str, AfipClient] = {}
        self._cert_in_use: dict[str, str] = {}  # the certificate (PEM) each client signs in with
        self._checked_at: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def client(self, cuit: str) -> AfipClient:
        async with self._lock:
            if cuit in self._clients and await self._certificate_changed(cuit):
                log.info("CUIT %s: new certificate, used from now on", cuit, extra={"action": "certificate_changed"})
                del self._clients[cuit]
            if cuit not in self._clients:
                cert_pem, key_pem = await self._credentials(cuit)
                self._cert_in_use[cuit] = cert_pem
                self._checked_at[cuit] = time.monotonic()
                self._clients[cuit] = AfipClient(
                    self._http_for(cuit),
                    self.endpoints,
                    Credentials(cert_pem.encode(), key_pem.encode()),
                    int(cuit),
                    ticket_cache=self.cache,
                    timeouts=self.timeouts,
                )
            return self._clients[cuit]

    async def _certificate_changed(self, cuit: str) -> bool:
        """Whether `encola pdv cert` (or the console) stored another certificate since this
        process began using one: looked up at most every CERTIFICATE_RECHECK_SECONDS per CUIT, so a
        renewed certificate is used without a restart."""
        now = time.monotonic()
        if now - self._checked_at.get(cuit, 0.0) < CERTIFICATE_RECHECK_SECONDS:
            return False
        self._checked_at[cuit] = now
        stored = await asyncio.to_thread(self.lanes.store.certificate_of, cuit)
        return stored is not None and stored != self._cert_in_use.get(cuit)

    def _http_for(self, cuit: str):
        if self.observe is None:
            return self.http
        observe = self.observe
        return ObservedHttp(self.http, lambda ok, error: observe(cuit, ok, error))

    async def aclose(self) -> None:
        """Close the HTTP connections this process holds to AFIP (an httpx client is the caller's)."""
        if isinstance(self.http, AiohttpTransport):
            await self.http.aclose()

    async def _credentials(self, cuit: str) -> tuple[str, str]:
        found = await asyncio.to_thread(self.lanes.credentials_of, cuit)
        if not self.simulated:
            if found is None:
                raise MissingCertificate(cuit)
            return found
        if found is not None and not await self._distrusted_by_simulator(found[0]):
            return found
        cert_pem, key_pem = await sim_wsass.obtain(self.http, self.endpoints.wsaa, cuit, f"encola {cuit}", "encola-simulador")
        log.info("CUIT %s: certificate signed by the simulator's WSASS", cuit, extra={"action": "sim_certificate"})
        await asyncio.to_thread(
            self.lanes.save_credentials, cuit, cert_pem, key_pem, only_if_missing=found is None
        )
        # Another process may have won the race; use whatever is stored now.
        stored = await asyncio.to_thread(self.lanes.credentials_of, cuit)
        if stored is None:  # no workspace holds the CUIT: nothing to emit for
            raise MissingCertificate(cuit)
        return stored

    async def _distrusted_by_simulator(self, cert_pem: str) -> bool:
        """Whether a certificate encola made for itself is one the simulator's CA did not sign.

        A certificate the user gave (anything else) is never replaced: the simulator's answer to
        it is what the user needs to see."""
        try:
            certificate = load_certificate(cert_pem)
        except ValueError:
            return False
        issuer_orgs = [a.value for a in certificate.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        self_made = certificate.issuer == certificate.subject and any(
            str(a.value).startswith("encola ") for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        )
        if not self_made and sim_wsass.SIMULATOR_ORGANIZATION not in issuer_orgs:
            return False
        authority = await sim_wsass.authority(self.http, self.endpoints.wsaa)
        if authority is None:  # a simulator without WSASS: keep what works with it
            return False
        if certificate.issuer == authority.subject:
            return False
        log.warning("CUIT %s: the simulator no longer trusts the certificate encola got for it; getting a new one",
                    cuit_of(certificate), extra={"action": "sim_certificate"})
        return True
