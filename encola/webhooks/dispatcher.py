"""The outbox dispatcher: delivers hook events at least once, with a stable ``hook_id``.

Events are leased from the store (so several dispatchers never send the same attempt), POSTed
to the point of sale's URL with TF's headers and a Standard Webhooks signature, and each attempt
recorded. A 2xx acknowledges; anything else (timeouts, redirects, 4xx/5xx, refused addresses) is
retried after the schedule's next delay (later if a 429/503 says ``Retry-After``), and after the
last one the event is failed. A 410 disables the endpoint at once, and so does failing for longer
than ``webhook_disable_after``; a disabled endpoint's events fail without a request.

The loop is a pipeline, not rounds. Each delivery is a task of its own: at most
``webhook_concurrency`` are sent at once, at most ``webhook_endpoint_concurrency`` to one point of
sale. Events are leased LEASE_DEPTH per sending slot (one sent, the others waiting behind it), and the
claim leases at most LEASE_DEPTH × ``webhook_endpoint_concurrency`` per point of sale, counted in
the database over every dispatcher, so a slow endpoint holds only its own slots. The claim asks
for as many events as there are free slots, again as soon as some free up; finished attempts are
recorded by one recorder in batches (whatever finished while the last batch was being written),
and each batch frees its endpoints' leases for the next claim.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import aiohttp
from aiohttp.abc import AbstractResolver

from encola import jsontext
from encola.clock import Clock, to_argentina
from encola.domain.fields import format_datetime
from encola.settings import Settings
from encola.store.store import Attempt, HookEvent, Store
from encola.webhooks.signing import signature_headers, valid_secrets
from encola.webhooks.urls import AddressRefused, CheckingResolver, UrlRefused, delivery_refusal

log = logging.getLogger("encola.webhooks")
POLL_SECONDS = 0.5  # also picks up events written by other processes
GATHER_SECONDS = 0.05  # a steady stream is claimed in batches, not one claim per event
BACKLOG_GATHER_SECONDS = 0.005  # with a backlog, claim again once a few slots have freed
RECORD_GATHER_SECONDS = 0.005  # attempts finishing together are recorded in one transaction
STOP_GRACE_SECONDS = 5.0  # deliveries in flight at shutdown get this long, then are dropped
RECORD_RETRY_SECONDS = 1.0
MAX_ANSWER_BYTES = 64 * 1024
# Events leased per sending slot: one being sent and three waiting behind it, so an endpoint's next
# hook goes out the moment one is answered, while its attempt is recorded and more are claimed.
LEASE_DEPTH = 4
GONE_REASON = "la direccion de webhook respondio HTTP 410 (Gone)"


def next_retry_at(now: datetime, attempts_done: int, schedule: tuple[float, ...]) -> datetime | None:
    """When to try again after ``attempts_done`` failed attempts; None when the schedule is spent."""
    if attempts_done - 1 >= len(schedule):
        return None
    return now + timedelta(seconds=schedule[attempts_done - 1])


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date); None if unusable."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value[:12])  # bounded by the caller; a longer number would only overflow
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now.replace(tzinfo=timezone.utc)).total_seconds())


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


class Dispatcher:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        session: aiohttp.ClientSession | None = None,
        poll_seconds: float = POLL_SECONDS,
        resolver: AbstractResolver | None = None,
    ):
        self.poll_seconds = poll_seconds
        self.store = store
        self.settings = settings
        self.clock = clock
        self._session = session
        self._resolver = resolver
        self._wake = asyncio.Event()  # an event was written here
        self._changed = asyncio.Event()  # a slot freed or a batch was recorded
        self._finished_ready = asyncio.Event()
        self._inflight: set[asyncio.Task] = set()  # leased events: being sent or waiting to be
        self._sending = asyncio.Semaphore(settings.webhook_concurrency)
        self._endpoints: dict[int, list] = {}  # pdv_id -> [its sending slots, tasks using them]
        self._finished: list[Attempt] = []
        self._closing = False

    def wake(self) -> None:
        """Deliver now rather than at the next poll (called after an event is written here)."""
        self._wake.set()

    @property
    def _lease_seconds(self) -> float:
        # As short as one attempt allows: the hooks of a dispatcher that died go out again soon.
        return self._longest_attempt + 30

    @property
    def _longest_attempt(self) -> float:
        return max(self.settings.webhook_first_timeout, self.settings.webhook_retry_timeout)

    async def _claim(self, limit: int) -> list[HookEvent]:
        return await asyncio.to_thread(
            self.store.claim_due_events, limit, self._lease_seconds, LEASE_DEPTH * self.settings.webhook_endpoint_concurrency
        )

    async def _record(self, attempts: list[Attempt]) -> None:
        await asyncio.to_thread(self.store.record_attempts, attempts, self.settings.webhook_disable_after)

    async def run(self, stop: asyncio.Event) -> None:
        owns_session = self._session is None
        if owns_session:
            self._session = http_session(self.settings, self._resolver)
        self._closing = False
        recorder = asyncio.create_task(self._record_loop())
        try:
            await self._claim_loop(stop)
        finally:
            await self._finish_inflight()
            self._closing = True
            self._finished_ready.set()
            await recorder
            if owns_session:
                await self._session.close()

    async def _claim_loop(self, stop: asyncio.Event) -> None:
        capacity = LEASE_DEPTH * self.settings.webhook_concurrency
        while not stop.is_set():
            free = capacity - len(self._inflight)
            events: list[HookEvent] = []
            if free > 0:
                self._wake.clear()
                self._changed.clear()
                try:
                    events = await self._claim(free)
                except Exception:  # a database hiccup must not end the dispatcher
                    log.exception("webhook claim failed", extra={"action": "dispatch"})
                for event in events:
                    self._start(event)
            if free <= 0 or len(events) == free or getattr(events, "more_due", False):
                # A backlog (everywhere, or at an endpoint at its limit): claim again as soon
                # as slots free or a recorded batch releases leases.
                await _first(stop, self._changed, timeout=self.poll_seconds)
                await asyncio.sleep(BACKLOG_GATHER_SECONDS)
            elif events:
                # A stream: let events gather for a moment, so they are claimed in batches
                # rather than one claim transaction per hook.
                await _first(stop, timeout=GATHER_SECONDS)
            else:
                await _first(stop, self._wake, self._changed, timeout=self.poll_seconds)

    def _start(self, event: HookEvent) -> None:
        send_by = asyncio.get_running_loop().time() + self._lease_seconds - self._longest_attempt - 1
        task = asyncio.create_task(self._deliver(event, send_by))
        self._inflight.add(task)
        task.add_done_callback(self._delivered)

    async def _deliver(self, event: HookEvent, send_by: float) -> None:
        endpoint = self._endpoints.setdefault(event.pdv_id, [asyncio.Semaphore(self.settings.webhook_endpoint_concurrency), 0])
        endpoint[1] += 1
        try:
            async with endpoint[0], self._sending:
                if asyncio.get_running_loop().time() > send_by:
                    # It waited so long behind a slow endpoint that its lease could lapse mid-send:
                    # leave it, unsent and unrecorded; it is claimed again when the lease lapses.
                    return
                attempt = await self.attempt(event)
        finally:
            endpoint[1] -= 1
            if not endpoint[1]:
                del self._endpoints[event.pdv_id]
        self._finished.append(attempt)  # not before the await: the recorder swaps the list meanwhile
        self._finished_ready.set()

    def _delivered(self, task: asyncio.Task) -> None:
        self._inflight.discard(task)
        if len(self._inflight) < self.settings.webhook_concurrency:
            self._changed.set()  # when busy, the next recorded batch wakes the claim: fewer, larger claims
        if not task.cancelled() and task.exception() is not None:
            # Not recorded: its lease lapses and the event is attempted again.
            log.error("webhook delivery crashed", exc_info=task.exception(), extra={"action": "webhook"})

    async def _record_loop(self) -> None:
        """Record finished attempts in batches: whatever finished while the last batch was written."""
        while True:
            await self._finished_ready.wait()
            if not self._closing and len(self._finished) < self.settings.webhook_concurrency:
                await asyncio.sleep(RECORD_GATHER_SECONDS)
            self._finished_ready.clear()
            batch, self._finished = self._finished, []
            if batch:
                try:
                    await self._record(batch)
                except Exception:
                    log.exception("recording webhook attempts failed", extra={"action": "dispatch"})
                    if not self._closing:  # at shutdown the leases lapse and the events go again
                        self._finished[:0] = batch
                        await asyncio.sleep(RECORD_RETRY_SECONDS)
                        self._finished_ready.set()
                else:
                    self._changed.set()
            if self._closing and not self._finished:
                return

    async def _finish_inflight(self) -> None:
        if not self._inflight:
            return
        _, pending = await asyncio.wait(set(self._inflight), timeout=STOP_GRACE_SECONDS)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def run_once(self) -> int:
        """Lease the due events, deliver them concurrently, record them; returns how many (tests)."""
        events = await self._claim(self.settings.webhook_concurrency)
        if events:
            await self._record(list(await asyncio.gather(*(self.attempt(event) for event in events))))
        return len(events)

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
            async with self._session.post(
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


async def _first(*events: asyncio.Event, timeout: float) -> None:
    """Wait until any of ``events`` is set, or ``timeout`` seconds."""
    if not events:
        await asyncio.sleep(timeout)
        return
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
