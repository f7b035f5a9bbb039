"""The hook sender: one POST of an outbox event to its point of sale's URL (the dispatcher's "hook" kind).

TF's headers and body, a Standard Webhooks signature, the URL checked before each request and its
names resolved only to checked addresses. A 2xx acknowledges; anything else (timeouts, redirects,
4xx/5xx, refused addresses) is a failed attempt, retried after the schedule's next delay (later if
a 429/503 says ``Retry-After``). A 410 disables the endpoint at once; a disabled endpoint's events
fail without a request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import aiohttp
from aiohttp.abc import AbstractResolver

from encola import jsontext
from encola.clock import Clock, to_argentina
from encola.domain.fields import format_datetime
from encola.settings import Settings
from encola.store.rows import Attempt, HookEvent
from encola.webhooks.retry import next_retry_at, retry_after_seconds
from encola.webhooks.signing import signature_headers, valid_secrets
from encola.webhooks.urls import AddressRefused, CheckingResolver, UrlRefused, delivery_refusal

log = logging.getLogger("encola.webhooks")
MAX_ANSWER_BYTES = 64 * 1024
GONE_REASON = "la direccion de webhook respondio HTTP 410 (Gone)"


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


def http_session(settings: Settings, resolver: AbstractResolver | None = None) -> aiohttp.ClientSession:
    """The HTTP client hooks go out through (call it inside the running event loop).

    aiohttp rather than httpx: delivering a hook with httpx cost more CPU than accepting the
    invoice it reports (≈40 % of an API process at 16 clients, measured with py-spy).
    Names are resolved through CheckingResolver around ``resolver`` (aiohttp's default when not
    given), so connections go only to checked addresses. Redirects are never followed (TF: the
    URL must not redirect) and proxies are not taken from the environment (``trust_env`` off).
    """
    checking = CheckingResolver(resolver or aiohttp.DefaultResolver(), settings.webhook_allow_private)
    connector = aiohttp.TCPConnector(limit=settings.webhook_concurrency * 2, resolver=checking)
    return aiohttp.ClientSession(connector=connector, auto_decompress=False)


class HookSender:
    """Delivers ``hook`` events; its endpoint is the point of sale (one URL each)."""

    kind = "hook"

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        session: aiohttp.ClientSession | None = None,
        resolver: AbstractResolver | None = None,
    ):
        self.settings = settings
        self.clock = clock
        self.session = session
        self._resolver = resolver
        self._owns_session = False
        self.concurrency = settings.webhook_concurrency
        self.endpoint_concurrency = settings.webhook_endpoint_concurrency
        self.longest_attempt = max(settings.webhook_first_timeout, settings.webhook_retry_timeout)

    @staticmethod
    def endpoint(event: HookEvent) -> int:
        return event.pdv_id

    async def open(self) -> None:
        if self.session is None:
            self.session = http_session(self.settings, self._resolver)
            self._owns_session = True

    async def close(self) -> None:
        if self._owns_session and self.session is not None:
            await self.session.close()
            self.session, self._owns_session = None, False

    async def attempt(self, event: HookEvent) -> Attempt:
        """POST the event once (unless its endpoint is disabled or its URL refused); the outcome, not yet recorded."""
        if event.webhook_disabled_at is not None:
            since = format_datetime(to_argentina(event.webhook_disabled_at))
            error = f"webhook deshabilitado desde {since}: {event.webhook_disabled_reason or ''}".rstrip(": ")
            return Attempt(event, event.webhook_url or "", None, error, 0, False, None, skipped=True)
        intento = event.attempts + 1
        timeout = self.settings.webhook_first_timeout if intento == 1 else self.settings.webhook_retry_timeout
        url = event.webhook_url or ""
        status_code, error, retry_after = None, None, None
        started = time.monotonic()
        try:
            refused = delivery_refusal(url, self.settings.webhook_allow_private)
            if refused is not None:
                raise refused
            body = jsontext.dumps(payload(event, intento))
            signing = signature_headers(valid_secrets(event, self.clock.now()), event.hook_id, int(time.time()), body)
            async with self.session.post(
                url,
                data=body,
                allow_redirects=False,  # TF: the URL must not redirect; a 3xx is a failed attempt
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": self.settings.webhook_user_agent,
                    "TF-WebhookToken": event.webhook_token,
                    **signing,
                },
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                status_code = response.status
                if status_code in (429, 503):
                    retry_after = retry_after_seconds(response.headers.get("Retry-After"), self.clock.now())
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
            if isinstance(exc.os_error, AddressRefused):
                error = f"URL rechazada: {exc.os_error}"
            else:
                error = f"no se pudo conectar: {exc.os_error}"
        except (aiohttp.ClientError, ValueError, OverflowError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivered = error is None
        duration_ms = int((time.monotonic() - started) * 1000)
        disable = GONE_REASON if status_code == 410 else None
        retry_at = None
        if not (delivered or disable):
            now = self.clock.now()
            retry_at = next_retry_at(now, intento - event.schedule_start, self.settings.webhook_retry_schedule)
            if retry_at is not None and retry_after is not None:
                waited = now + timedelta(seconds=min(retry_after, self.settings.webhook_retry_after_max))
                retry_at = max(retry_at, waited)
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
        return Attempt(event, url, status_code, error, duration_ms, delivered, retry_at, disable=disable)
