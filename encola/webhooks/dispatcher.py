"""The outbox dispatcher: delivers outbox events at least once, each with a stable ``hook_id``.

One delivery machinery for every kind of event, with a sender per kind: ``hook`` (encola/webhooks/
sender.py: a POST to the point of sale's URL) and, when SMTP is configured, ``mail`` (encola/mail/
sender.py: the buyer's e-mail). Events are leased from the store (so several dispatchers never send
the same attempt), handed to the sender of their kind, and each attempt recorded; the sender says
whether it was delivered and, if not, when to try again (its kind's schedule), and after the last
one the event is failed.

The loop is a pipeline, not rounds. Each delivery is a task of its own: per kind, at most the
sender's ``concurrency`` are sent at once, at most its ``endpoint_concurrency`` to one endpoint
(a point of sale's URL for hooks, the SMTP server for mail). Events are leased LEASE_DEPTH per
sending slot (one sent, the others waiting behind it), and the claim leases at most LEASE_DEPTH ×
``endpoint_concurrency`` per endpoint, counted in the database over every dispatcher, so a slow
endpoint holds only its own slots — and one kind never holds back another: mail waiting for an
SMTP server that is down takes no hook's slot. The claim asks for as many events as there are
free slots, again as soon as some free up; finished attempts of every kind are recorded by one
recorder in batches (whatever finished while the last batch was being written), and each batch
frees its endpoints' leases for the next claim.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Hashable, Protocol

import aiohttp
from aiohttp.abc import AbstractResolver

from encola.clock import Clock
from encola.ops import health, metrics
from encola.settings import Settings
from encola.store.store import Attempt, HookEvent, Store
from encola.webhooks.retry import next_retry_at, retry_after_seconds  # noqa: F401 — re-exported
from encola.webhooks.sender import GONE_REASON, HookSender, http_session, payload  # noqa: F401 — re-exported

log = logging.getLogger("encola.webhooks")
POLL_SECONDS = 0.5  # also picks up events written by other processes
GATHER_SECONDS = 0.05  # a steady stream is claimed in batches, not one claim per event
BACKLOG_GATHER_SECONDS = 0.005  # with a backlog, claim again once a few slots have freed
RECORD_GATHER_SECONDS = 0.005  # attempts finishing together are recorded in one transaction
RECORD_RETRY_SECONDS = 1.0
# Events leased per sending slot: one being sent and three waiting behind it, so an endpoint's next
# event goes out the moment one is answered, while its attempt is recorded and more are claimed.
LEASE_DEPTH = 4


class Sender(Protocol):
    """What the dispatcher needs of a kind's sender."""

    kind: str  # the events' ``kind`` column
    concurrency: int  # attempts in flight at once, per process
    endpoint_concurrency: int  # attempts in flight at once to one endpoint
    longest_attempt: float  # seconds one attempt may take (the leases are this + 30 s)

    def endpoint(self, event: HookEvent) -> Hashable: ...
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def attempt(self, event: HookEvent) -> Attempt: ...


class _Kind:
    """The dispatcher's state for one kind: its sender, sending slots, leased events, endpoints."""

    def __init__(self, sender: Sender):
        self.sender = sender
        self.sending = asyncio.Semaphore(sender.concurrency)
        self.inflight: set[asyncio.Task] = set()  # leased events: being sent or waiting to be
        self.endpoints: dict[Hashable, list] = {}  # endpoint -> [its sending slots, tasks using them]

    @property
    def lease_seconds(self) -> float:
        # As short as one attempt allows: the events of a dispatcher that died go out again soon.
        return self.sender.longest_attempt + 30

    @property
    def capacity(self) -> int:
        return LEASE_DEPTH * self.sender.concurrency


def default_senders(
    store: Store,
    settings: Settings,
    clock: Clock,
    session: aiohttp.ClientSession | None = None,
    resolver: AbstractResolver | None = None,
) -> list[Sender]:
    """Hooks always; the buyer's mail when SMTP is configured."""
    senders: list[Sender] = [HookSender(settings, clock, session, resolver)]
    if settings.smtp is not None:
        from encola.mail.sender import MailSender

        senders.append(MailSender(store, settings, clock))
    return senders


class Dispatcher:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        session: aiohttp.ClientSession | None = None,
        poll_seconds: float = POLL_SECONDS,
        resolver: AbstractResolver | None = None,
        senders: list[Sender] | None = None,
    ):
        self.poll_seconds = poll_seconds
        self.store = store
        self.settings = settings
        self.clock = clock
        if senders is None:
            senders = default_senders(store, settings, clock, session, resolver)
        self.kinds = {sender.kind: _Kind(sender) for sender in senders}
        self._wake = asyncio.Event()  # an event was written here
        self._changed = asyncio.Event()  # a slot freed or a batch was recorded
        self._finished_ready = asyncio.Event()
        self._finished: list[Attempt] = []
        self._closing = False

    def wake(self) -> None:
        """Deliver now rather than at the next poll (called after an event is written here)."""
        self._wake.set()

    async def _claim(self, kind: _Kind, limit: int) -> list[HookEvent]:
        per_endpoint = LEASE_DEPTH * kind.sender.endpoint_concurrency
        return await asyncio.to_thread(
            self.store.claim_due_events, limit, kind.lease_seconds, per_endpoint, kind.sender.kind
        )

    async def _record(self, attempts: list[Attempt]) -> None:
        await asyncio.to_thread(self.store.record_attempts, attempts, self.settings.webhook_disable_after)

    async def run(self, stop: asyncio.Event) -> None:
        for kind in self.kinds.values():
            await kind.sender.open()
        self._closing = False
        recorder = asyncio.create_task(self._record_loop())
        try:
            await self._claim_loop(stop)
        finally:
            await self._finish_inflight()
            self._closing = True
            self._finished_ready.set()
            await recorder
            for kind in self.kinds.values():
                await kind.sender.close()

    async def _claim_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            health.beat("dispatcher")
            backlogged, claimed = 0, False
            if any(kind.capacity > len(kind.inflight) for kind in self.kinds.values()):
                self._wake.clear()
                self._changed.clear()
            for kind in self.kinds.values():
                free = kind.capacity - len(kind.inflight)
                if free <= 0:
                    backlogged += 1
                    continue
                events: list[HookEvent] = []
                try:
                    events = await self._claim(kind, free)
                except Exception:  # a database hiccup must not end the dispatcher
                    log.exception("%s claim failed", kind.sender.kind, extra={"action": "dispatch"})
                for event in events:
                    self._start(kind, event)
                claimed = claimed or bool(events)
                if len(events) == free or getattr(events, "more_due", False):
                    backlogged += 1
            if backlogged:
                # A backlog (everywhere, or at an endpoint at its limit): claim again as soon
                # as slots free or a recorded batch releases leases — or, while another kind has
                # none (hooks while the SMTP server hangs), as soon as an event is written.
                others = (self._wake,) if backlogged < len(self.kinds) else ()
                await _first(stop, self._changed, *others, timeout=self.poll_seconds)
                await asyncio.sleep(BACKLOG_GATHER_SECONDS)
            elif claimed:
                # A stream: let events gather for a moment, so they are claimed in batches
                # rather than one claim transaction per event.
                await _first(stop, timeout=GATHER_SECONDS)
            else:
                await _first(stop, self._wake, self._changed, timeout=self.poll_seconds)

    def _start(self, kind: _Kind, event: HookEvent) -> None:
        send_by = asyncio.get_running_loop().time() + kind.lease_seconds - kind.sender.longest_attempt - 1
        task = asyncio.create_task(self._deliver(kind, event, send_by))
        kind.inflight.add(task)
        task.add_done_callback(lambda done: self._delivered(kind, done))

    async def _deliver(self, kind: _Kind, event: HookEvent, send_by: float) -> None:
        key = kind.sender.endpoint(event)
        endpoint = kind.endpoints.setdefault(key, [asyncio.Semaphore(kind.sender.endpoint_concurrency), 0])
        endpoint[1] += 1
        try:
            async with endpoint[0], kind.sending:
                if asyncio.get_running_loop().time() > send_by:
                    # It waited so long behind a slow endpoint that its lease could lapse mid-send:
                    # leave it, unsent and unrecorded; it is claimed again when the lease lapses.
                    return
                attempt = await kind.sender.attempt(event)
                metrics.delivery_outcome(kind.sender.kind, attempt.delivered, attempt.next_attempt_at)
        finally:
            endpoint[1] -= 1
            if not endpoint[1]:
                del kind.endpoints[key]
        self._finished.append(attempt)  # not before the await: the recorder swaps the list meanwhile
        self._finished_ready.set()

    def _delivered(self, kind: _Kind, task: asyncio.Task) -> None:
        kind.inflight.discard(task)
        if len(kind.inflight) < kind.sender.concurrency:
            self._changed.set()  # when busy, the next recorded batch wakes the claim: fewer, larger claims
        if not task.cancelled() and task.exception() is not None:
            # Not recorded: its lease lapses and the event is attempted again.
            log.error("%s delivery crashed", kind.sender.kind, exc_info=task.exception(), extra={"action": "dispatch"})

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
                    log.exception("recording delivery attempts failed", extra={"action": "dispatch"})
                    if not self._closing:  # at shutdown the leases lapse and the events go again
                        self._finished[:0] = batch
                        await asyncio.sleep(RECORD_RETRY_SECONDS)
                        self._finished_ready.set()
                else:
                    self._changed.set()
            if self._closing and not self._finished:
                return

    async def _finish_inflight(self) -> None:
        inflight = {task for kind in self.kinds.values() for task in kind.inflight}
        if not inflight:
            return
        _, pending = await asyncio.wait(inflight, timeout=self.settings.shutdown_grace)  # then dropped: leases lapse, sent again
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def run_once(self) -> int:
        """Lease the due events of every kind, deliver them concurrently, record them; returns how many (tests)."""
        count = 0
        for kind in self.kinds.values():
            await kind.sender.open()
            events = await self._claim(kind, kind.sender.concurrency)
            if events:
                await self._record(list(await asyncio.gather(*(kind.sender.attempt(event) for event in events))))
            count += len(events)
        return count

    async def attempt(self, event: HookEvent) -> Attempt:
        """Attempt one event with the sender of its kind; the outcome, not yet recorded."""
        return await self.kinds[event.kind].sender.attempt(event)


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
