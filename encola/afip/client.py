"""AfipClient: WSAA and WSFEv1 together, for one CUIT and one certificate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx

from encola.afip.endpoints import AfipEndpoints
from encola.afip.models import Ticket
from encola.afip.transport import Http
from encola.afip.wsaa import WSFE_SERVICE, Clock, Credentials, TicketCache, WsaaClient, now_argentina
from encola.afip.wsfe import WsfeClient


@dataclass(frozen=True)
class AfipTimeouts:
    """Seconds per call; never infinite. `wsfe_read` bounds a FECAESolicitar round trip."""

    connect: float = 10.0
    wsaa_read: float = 30.0
    wsfe_read: float = 60.0

    def wsaa(self) -> httpx.Timeout:
        return httpx.Timeout(self.wsaa_read, connect=self.connect)

    def wsfe(self) -> httpx.Timeout:
        return httpx.Timeout(self.wsfe_read, connect=self.connect)


class AfipClient(WsfeClient):
    """Every WSFEv1 operation for `cuit`, with tickets from WSAA through `ticket_cache`."""

    def __init__(
        self,
        http: Http,
        endpoints: AfipEndpoints,
        credentials: Credentials,
        cuit: int,
        *,
        ticket_cache: TicketCache | None = None,
        timeouts: AfipTimeouts = AfipTimeouts(),
        renew_margin: timedelta = timedelta(minutes=10),
        clock: Clock = now_argentina,
    ) -> None:
        self.wsaa = WsaaClient(
            http,
            endpoints.wsaa,
            credentials,
            ticket_cache,
            timeout=timeouts.wsaa(),
            renew_margin=renew_margin,
            clock=clock,
        )
        super().__init__(http, endpoints.wsfe, cuit, self._ticket, timeout=timeouts.wsfe())

    async def _ticket(self) -> Ticket:
        return await self.wsaa.ticket(self.cuit, WSFE_SERVICE)
