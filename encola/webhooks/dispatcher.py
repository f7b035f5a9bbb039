"""The outbox dispatcher: delivers hook events at least once, with a stable ``hook_id``.

Each event is leased from the store (so several dispatchers never send the same attempt),
POSTed to the point of sale's URL with the documented headers, and its attempt recorded.
A 2xx acknowledges it; anything else (timeouts, redirects, 4xx/5xx, refused addresses) is
retried after the schedule's next delay, and after the last one the event is marked failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

import aiohttp

from encola import jsontext
from encola.clock import Clock, to_argentina
from encola.domain.fields import format_datetime
from encola.settings import Settings
from encola.store.store import Attempt, HookEvent, Store
from encola.webhooks.urls import UrlRefused, check_url

log = logging.getLogger("encola.webhooks")
POLL_SECONDS = 0.5  # also picks up events written by other processes
GATHER_SECONDS = 0.05
MAX_ANSWER_BYTES = 64 * 1024


def next_retry_at(now: datetime, attempts_done: int, schedule: tuple[float, ...]) -> datetime | None:
    """When to try again after ``attempts_done`` failed attempts; None when the schedule is spent."""
    if attempts_done - 1 >= len(schedule):
        return None
    return now + timedelta(seconds=schedule[attempts_done - 1])


def payload(event: HookEvent, intento: int) -> dict:
    return {
        "creado": format_datetime(to_argentina(event.creado)),
        "evento": event.evento,
        "recurso": event.recurso,
        "external_reference": event.external_reference,
        "intento": intento,
        "msg": event.msg,
        "hook_id": event.hook_id,
    }


def http_session(settings: Settings) -> aiohttp.ClientSession:
    """The HTTP client hooks go out through (call it inside the running event loop).

    aiohttp rather than httpx: delivering a hook with httpx cost more CPU than accepting the
    invoice it reports (≈40 % of an API process at 16 clients, measured with py-spy).
    Redirects are never followed (TF: the URL must not redirect) and proxies are not taken from
    the environment (``trust_env`` stays off).
    """
    connector = aiohttp.TCPConnector(limit=settings.webhook_concurrency * 2)
    return aiohttp.ClientSession(connector=connector, auto_decompress=False)


class Dispatcher:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        session: aiohttp.ClientSession | None = None,
        poll_seconds: float = POLL_SECONDS,
    ):
        self.poll_seconds = poll_seconds
        self.store = store
        self.settings = settings
        self.clock = clock
        self._session = session
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Deliver now rather than at the next poll (called after an event is written here)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        owns_session = self._session is None
        if owns_session:
            self._session = http_session(self.settings)
        try:
            while not stop.is_set():
                try:
                    delivered = await self.run_once()
                except Exception:  # a database hiccup must not end the dispatcher
                    log.exception("webhook dispatch round failed", extra={"action": "dispatch"})
                    delivered = 0
                if delivered >= self.settings.webhook_concurrency:
                    continue  # a backlog: keep going
                if delivered:
                    # Let events gather for a moment, so a steady stream is sent in rounds rather
                    # than one claim-and-record transaction pair per hook.
                    await asyncio.sleep(GATHER_SECONDS)
                    continue
                self._wake.clear()
                waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
                await asyncio.wait(waiters, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
        finally:
            if owns_session:
                await self._session.close()

    async def run_once(self) -> int:
        """Lease the due events and deliver them concurrently; returns how many were attempted."""
        limit = self.settings.webhook_concurrency
        lease = self.settings.webhook_first_timeout + 30
        events = await asyncio.to_thread(self.store.claim_due_events, limit, lease)
        if events:
            refusals = await asyncio.to_thread(self._check_urls, {event.webhook_url or "" for event in events})
            attempts = await asyncio.gather(*(self.attempt(event, refusals) for event in events))
            # One transaction for the whole round: SQLite has one writer, and hooks are many.
            await asyncio.to_thread(self.store.record_attempts, attempts)
        return len(events)

    def _check_urls(self, urls: set[str]) -> dict[str, UrlRefused]:
        """Why each refused URL is refused; checked once per round, since resolving a name blocks."""
        refusals = {}
        for url in urls:
            try:
                if not url:
                    raise UrlRefused("el punto de venta no tiene direccion de webhook")
                check_url(url, self.settings.webhook_allow_private, require_resolution=False)
            except UrlRefused as refused:
                refusals[url] = refused
        return refusals

    async def attempt(self, event: HookEvent, refusals: dict[str, UrlRefused]) -> Attempt:
        """POST the event once (unless its URL is among ``refusals``); the outcome, not yet recorded."""
        intento = event.attempts + 1
        timeout = self.settings.webhook_first_timeout if intento == 1 else self.settings.webhook_retry_timeout
        url = event.webhook_url or ""
        status_code, error = None, None
        started = time.monotonic()
        try:
            if url in refusals:
                raise refusals[url]
            async with self._session.post(
                url,
                data=jsontext.dumps(payload(event, intento)),
                allow_redirects=False,  # TF: the URL must not redirect; a 3xx is a failed attempt
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": self.settings.webhook_user_agent,
                    "TF-WebhookToken": event.webhook_token,
                },
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                status_code = response.status
                # Read the (short) answer so the connection can carry the next hook; a longer one
                # is not kept in memory, and its connection is closed instead of reused.
                await response.content.read(MAX_ANSWER_BYTES)
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except UrlRefused as refused:
            error = f"URL rechazada: {refused.reason} {refused.host}".strip()
        except asyncio.TimeoutError:
            error = f"sin respuesta en {timeout:g} s"
        except aiohttp.ClientConnectorError as exc:
            error = f"no se pudo conectar: {exc.os_error}"
        except (aiohttp.ClientError, ValueError, OverflowError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivered = error is None
        duration_ms = int((time.monotonic() - started) * 1000)
        retry_at = None if delivered else next_retry_at(self.clock.now(), intento, self.settings.webhook_retry_schedule)
        # Every attempt is recorded in hook_attempts; the log tells of failures, and of
        # deliveries only at DEBUG (a line per hook was 2 % of an API process's CPU).
        log.log(
            logging.DEBUG if delivered else logging.INFO,
            "hook %s %s %s intento=%d %s",
            event.evento,
            event.external_reference,
            "entregado" if delivered else "fallido",
            intento,
            error or status_code,
            extra={"action": "webhook", "hook_id": event.hook_id},
        )
        return Attempt(event, url, status_code, error, duration_ms, delivered, retry_at)
