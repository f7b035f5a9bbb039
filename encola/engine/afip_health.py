"""What encola's calls to AFIP say about it, recorded for ``estado_servicios/alertas``.

Every WSAA and WSFEv1 exchange of a CUIT's client reports whether AFIP answered (see
``encola.afip.transport.ObservedHttp``). The store keeps one row per CUIT (and one, "afip", for
FEDummy), shared by every process: the first failure marks it failing, the next success clears
it. To keep the hot path free of writes, a process writes a scope only when its state changes or,
while it stays the same, at most every ``REFRESH_SECONDS`` (so a success here clears a failure
another process recorded).
"""

from __future__ import annotations

import asyncio
import logging
import time

log = logging.getLogger("encola.afip_health")
REFRESH_SECONDS = 5.0
DUMMY_SCOPE = "afip"


class HealthRecorder:
    def __init__(self, store, refresh_seconds: float = REFRESH_SECONDS):
        self.store = store
        self.refresh_seconds = refresh_seconds
        self._last: dict[str, tuple[bool, float]] = {}

    def observe(self, scope: str, ok: bool, error: str | None = None) -> None:
        """Called on the event loop after each exchange; writes in a thread, never waits for it."""
        now = time.monotonic()
        last = self._last.get(scope)
        if last is not None and last[0] == ok and now - last[1] < self.refresh_seconds:
            return
        self._last[scope] = (ok, now)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.run_in_executor(None, self._write, scope, ok, error)

    def _write(self, scope: str, ok: bool, error: str | None) -> None:
        try:
            self.store.record_afip_health(scope, ok, error)
        except Exception:  # the database may be down too; the next call records again
            self._last.pop(scope, None)
            log.warning("could not record AFIP's health for %s", scope, exc_info=True, extra={"action": "afip_health"})

    async def record_now(self, scope: str, ok: bool, error: str | None = None) -> None:
        """Write at once (the probe of estado_servicios), and remember it."""
        self._last[scope] = (ok, time.monotonic())
        await asyncio.to_thread(self._write, scope, ok, error)
