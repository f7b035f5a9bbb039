"""One AFIP client per CUIT: credentials from the store, tickets shared through the store.

Against the simulator, a CUIT without a certificate gets a self-signed one generated and kept,
so the WSAA signing path always runs; against AFIP, a CUIT needs the certificate AFIP issued
(``encola pdv cert``).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from encola.afip import (
    AfipClient,
    AfipEndpoints,
    AfipTimeouts,
    AiohttpTransport,
    Credentials,
    Ticket,
    generate_test_certificate,
)
from encola.afip.transport import Http, ObservedHttp
from typing import Callable
from encola.store.lanes import LaneStore, StoredTicket


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
        self._lock = asyncio.Lock()

    async def client(self, cuit: str) -> AfipClient:
        async with self._lock:
            if cuit not in self._clients:
                cert_pem, key_pem = await self._credentials(cuit)
                self._clients[cuit] = AfipClient(
                    self._http_for(cuit),
                    self.endpoints,
                    Credentials(cert_pem.encode(), key_pem.encode()),
                    int(cuit),
                    ticket_cache=self.cache,
                    timeouts=self.timeouts,
                )
            return self._clients[cuit]

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
        if found is not None:
            return found
        if not self.simulated:
            raise MissingCertificate(cuit)
        cert_pem, key_pem = await asyncio.to_thread(generate_test_certificate, int(cuit), f"encola {cuit}")
        await asyncio.to_thread(
            self.lanes.save_credentials, cuit, cert_pem.decode(), key_pem.decode(), only_if_missing=True
        )
        # Another process may have won the race; use whatever is stored now.
        return await asyncio.to_thread(self.lanes.credentials_of, cuit)
