"""How many comprobantes one FECAESolicitar may carry: AFIP's ``FECompTotXRequest``, per environment.

AFIP publishes the limit (``RegXReq``: 250 in homologación in 2021; producción's is not
documented), and a request above it is refused whole (10003). Each process asks once per AFIP
environment (the WSFEv1 URL) and keeps the answer for a day; the configured
``ENCOLA_AFIP_BATCH_SIZE`` caps it. If AFIP cannot be asked, the configured size is used and
AFIP is asked again after ``RETRY_SECONDS``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from encola.afip import AfipError

log = logging.getLogger("encola.engine")
KEEP_SECONDS = 24 * 3600.0
RETRY_SECONDS = 300.0


class BatchSizes:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic):
        self.monotonic = monotonic
        self._known: dict[str, tuple[int | None, float]] = {}  # environment -> (RegXReq, valid until)
        self._lock = asyncio.Lock()

    async def limit(self, environment: str, ask: Callable[[], Awaitable[int]], configured: int) -> int:
        """The batch size for ``environment``: ``min(configured, RegXReq)``."""
        known = self._known.get(environment)
        if known is None or self.monotonic() >= known[1]:
            async with self._lock:  # a hundred lanes starting together ask once
                known = self._known.get(environment)
                if known is None or self.monotonic() >= known[1]:
                    known = await self._ask(environment, ask)
        reg_x_req = known[0]
        return configured if not reg_x_req else max(1, min(configured, reg_x_req))

    async def _ask(self, environment: str, ask: Callable[[], Awaitable[int]]) -> tuple[int | None, float]:
        try:
            value: int | None = await ask()
            known = (value if value and value > 0 else None, self.monotonic() + KEEP_SECONDS)
            log.info("AFIP %s takes up to %s comprobantes per FECAESolicitar", environment, value,
                     extra={"action": "reg_x_req"})
        except AfipError as exc:
            log.warning("FECompTotXRequest failed (%s); using the configured batch size", exc,
                        extra={"action": "reg_x_req"})
            known = (None, self.monotonic() + RETRY_SECONDS)
        self._known[environment] = known
        return known
