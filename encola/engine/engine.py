"""The processing loop: find due lanes, take their leases, run them concurrently.

One lane is worked by one worker at a time (the lease); different lanes run in parallel, up to
``max_lanes`` per process. A lane whose AFIP calls fail is left alone for a back-off period.
Intake wakes the loop so an invoice dated today leaves at once rather than at the next poll.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import socket
import time
import uuid
from datetime import timedelta
from typing import Callable

from encola.clock import Clock
from encola.engine.afip_access import AfipAccess, MissingCertificate
from encola.engine.batch_size import BatchSizes
from encola.engine.lane import LaneBackoff, LaneConfig, LaneRun
from encola.engine.pipelining import PipelinePolicy
from encola.ops import health, metrics
from encola.store.lanes import Lane, LaneStore, Lease, LeaseLost

log = logging.getLogger("encola.engine")
POLL_SECONDS = 0.25  # without notifications (SQLite); PostgreSQL workers LISTEN and poll rarely
MIN_TICK_SECONDS = 0.02
EXECUTOR_THREADS = 32
MISSING_CERTIFICATE_BACKOFF = 60.0
ATTEMPTS_KEPT_DAYS = 90  # afip_attempts older than this are pruned (the console's history)
PRUNE_EVERY_SECONDS = 3600.0
SHUTDOWN_GRACE_SECONDS = 20.0  # at a stop, lanes finish the batch at AFIP within this, or are handed back


class Engine:
    def __init__(
        self,
        lanes: LaneStore,
        afip: AfipAccess,
        clock: Clock,
        *,
        config: LaneConfig = LaneConfig(),
        max_lanes: int = 128,
        holder: str | None = None,
        poll_seconds: float = POLL_SECONDS,
        on_results: Callable[[], None] = lambda: None,
    ):
        self.lanes = lanes
        self.afip = afip
        self.clock = clock
        self.config = config
        self.max_lanes = max_lanes
        self.poll_seconds = poll_seconds
        self.on_results = on_results  # e.g. wake the dispatcher: new hooks were written
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._running: dict[Lane, asyncio.Task] = {}
        self._not_before: dict[Lane, float] = {}
        self._wake = asyncio.Event()
        self.pipelining = PipelinePolicy()  # per lane, learned from AFIP's answers (pipelining.py)
        self.batch_sizes = BatchSizes()  # AFIP's FECompTotXRequest per environment
        self._next_prune = 0.0
        self.shutdown_grace = SHUTDOWN_GRACE_SECONDS
        self._draining = False

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        # Lanes spend their time waiting on AFIP and on short database calls made in threads;
        # asyncio's default pool (cores + 4 threads) would queue a hundred lanes behind six.
        asyncio.get_running_loop().set_default_executor(
            concurrent.futures.ThreadPoolExecutor(max_workers=EXECUTOR_THREADS, thread_name_prefix="encola-engine")
        )
        log.info("engine started as %s", self.holder, extra={"action": "engine_start"})
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:  # the loop must survive a database hiccup
                    log.exception("engine tick failed", extra={"action": "engine_tick"})
                else:
                    health.beat("engine")
                self._wake.clear()
                waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
                await asyncio.wait(waiters, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
                await asyncio.sleep(MIN_TICK_SECONDS)  # many wake-ups in a burst make one tick
        finally:
            # A stop: running lanes take no new batch (see _Draining) and settle the one at AFIP;
            # those still running after the grace are cancelled and their leases released, so
            # another worker reconciles their numbered invoices with AFIP (nothing lost or doubled).
            self._draining = True
            if self._running:
                log.info("stopping: %d lanes finish their batches", len(self._running), extra={"action": "shutdown"})
                await asyncio.wait(list(self._running.values()), timeout=self.shutdown_grace)
            for task in self._running.values():
                task.cancel()
            await asyncio.gather(*self._running.values(), return_exceptions=True)
            await self.afip.aclose()

    async def tick(self) -> None:
        """Start a task for every due lane this worker can take."""
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            older_than = self.clock.now() - timedelta(days=ATTEMPTS_KEPT_DAYS)
            await asyncio.to_thread(self.lanes.store.prune_afip_attempts, older_than)
        if len(self._running) >= self.max_lanes:
            return
        due = await asyncio.to_thread(self.lanes.due_lanes, self.clock.today(), self.holder)
        now = time.monotonic()
        waiting = [lane for lane in due if lane not in self._running]
        urgent: set[Lane] = set()
        if any(self._not_before.get(lane, 0) > now for lane in waiting):
            # A lane backing off is still tried at once for an instant request: its client waits,
            # and should hear promptly that AFIP is unreachable rather than at its deadline.
            urgent = await asyncio.to_thread(self.lanes.lanes_with_instant_waiting)
        wanted = [lane for lane in waiting if self._not_before.get(lane, 0) <= now or lane in urgent]
        wanted = wanted[: self.max_lanes - len(self._running)]
        if not wanted:
            return
        for lease in await asyncio.to_thread(self.lanes.acquire_many, wanted, self.holder):
            if lease is not None:  # None: another worker has it
                self._running[lease.lane] = asyncio.create_task(self._run_lane(lease))

    async def run_until_idle(self, timeout: float = 30.0) -> None:
        """Tick until no lane is running or due (tests and the demo use it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await self.tick()
            if not self._running:
                return
            await asyncio.wait(list(self._running.values()), timeout=POLL_SECONDS)
        raise TimeoutError("the engine still had work after the timeout")

    async def _run_lane(self, lease: Lease) -> None:
        lane = lease.lane
        heartbeat = asyncio.create_task(self._heartbeat(lease))
        try:
            client = await self.afip.client(lane.cuit)
            emitted = await LaneRun(lease, _Draining(self.lanes, self), client, self.clock, self.config, self.on_results,
                                   pipelining=self.pipelining, batch_sizes=self.batch_sizes).run()
            if emitted:
                log.info("lane %s emitted %d", lane, emitted, extra={"action": "emit", "lane": str(lane)})
            self._not_before.pop(lane, None)
        except LaneBackoff as backoff:
            log.warning("lane %s backs off %.1fs: %s", lane, backoff.seconds, backoff.reason, extra={"action": "backoff"})
            self._not_before[lane] = time.monotonic() + backoff.seconds
        except MissingCertificate:
            log.error("CUIT %s has no AFIP certificate: use `encola pdv cert`", lane.cuit, extra={"action": "no_cert"})
            self._not_before[lane] = time.monotonic() + MISSING_CERTIFICATE_BACKOFF
            reason = f"el CUIT {lane.cuit} no tiene un certificado de AFIP configurado"
            if await asyncio.to_thread(self.lanes.discard_waiting_in_lane, lease, reason):
                self.on_results()
        except LeaseLost:
            metrics.LEASE_TAKEOVERS.inc()
            log.warning("lane %s: lease lost, another worker continues", lane, extra={"action": "lease_lost"})
        except Exception:
            log.exception("lane %s failed", lane, extra={"action": "lane_error"})
            self._not_before[lane] = time.monotonic() + 5.0
        finally:
            heartbeat.cancel()
            try:
                await asyncio.to_thread(self.lanes.release, lease)
            except Exception:
                log.exception("could not release lane %s", lane)
            self._running.pop(lane, None)
            self._wake.set()  # the lane may have more work or a neighbour may be waiting

    async def _heartbeat(self, lease: Lease) -> None:
        while True:
            await asyncio.sleep(self.lanes.lease_seconds / 3)
            try:
                await asyncio.to_thread(self.lanes.heartbeat, lease)
            except LeaseLost:
                return


class _Draining:
    """The lane store as a lane run sees it: once the engine is stopping, no further batch is due,
    so the run settles what it sent and returns."""

    def __init__(self, lanes: LaneStore, engine: Engine):
        self._lanes = lanes
        self._engine = engine

    def __getattr__(self, name):
        return getattr(self._lanes, name)

    def next_batch(self, *args, **kwargs):
        return [] if self._engine._draining else self._lanes.next_batch(*args, **kwargs)
