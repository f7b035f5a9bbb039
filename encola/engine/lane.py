"""Emission for one lane (CUIT, PDV, CbteTipo) while this worker holds its lease.

The protocol, in order, every time a worker takes a lane:

1. **Reconcile.** Ask AFIP for the last authorized number. Invoices left "processing" (numbered,
   outcome unknown: a timeout, a dropped answer, a crash) are settled before anything is sent:
   a number AFIP has is checked with FECompConsultar against what we sent and its CAE adopted;
   a number AFIP does not have goes back to the queue (after a grace period, in case the request
   is still travelling).
2. **Batch.** Take the due invoices in (fecha, arrival) order, up to AFIP's per-request limit;
   write their numbers (the intent) and commit; only then call FECAESolicitar. One batch is kept
   ahead: the next is sent while this one is at AFIP (see ``LaneRun.run``), unless AFIP has shown
   it refuses or reorders a lane's concurrent calls (``pipelining.py``).
3. **Record.** Accepted → emitted with CAE, QR and barcode. Rejected for its data → error, with
   AFIP's messages. Rejected only because an earlier one in the batch was (10016) → back to the
   queue, no attempt counted. AFIP busy with another call of the lane (502 "Transaccion Activa")
   → back to the queue, no attempt counted, sent again. A call that failed without an answer →
   reconcile next time. Every call is kept per invoice in ``afip_attempts`` (``attempts.py``).

No database transaction is open across an AFIP call, and every write is fenced by the lease.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from encola.afip import (
    Accepted,
    AfipAuthError,
    AfipClient,
    AfipError,
    AfipLaneBusyError,
    AfipNotSentError,
    AfipServiceDownError,
    AlreadyAuthenticatedError,
    Rejected,
)
from encola.afip.errors import AfipHttpError
from encola.clock import Clock
from encola.domain.qr import barcode, qr_url
from encola.engine import attempts as outcomes
from encola.engine import messages, policy
from encola.engine.attempts import AttemptLog, Call
from encola.engine.batch_size import BatchSizes
from encola.engine.mapping import cae_detail, same_comprobante
from encola.engine.pipelining import PipelinePolicy
from encola.store.lanes import Lane, LaneStore, Lease
from encola.store.schema import INSTANT_WAITING, PROCESSING, QUEUED
from encola.store.store import InvoiceRow

log = logging.getLogger("encola.engine")


@dataclass(frozen=True)
class LaneConfig:
    batch_size: int = 250  # the most per FECAESolicitar; AFIP's FECompTotXRequest lowers it (batch_size.py)
    unknown_grace_seconds: float = 35.0  # wait this long before assuming AFIP never got a request
    busy_retry_seconds: float = 1.0  # a lane someone else keeps busy at AFIP (502) is tried again after this


CONSULT_CONCURRENCY = 16  # FECompConsultar calls in flight per lane while reconciling


@dataclass
class _Sent:
    """A batch numbered and sent, whose answer is awaited."""

    assigned: list[tuple[InvoiceRow, int]]
    call: asyncio.Task
    pipelined: bool
    attempt: Call

    @property
    def last_numero(self) -> int:
        return self.assigned[-1][1]


class LaneBackoff(Exception):
    """AFIP could not be reached for this lane; try it again no sooner than ``seconds``."""

    def __init__(self, seconds: float, reason: str):
        super().__init__(reason)
        self.seconds, self.reason = seconds, reason


def _not_processed(exc: AfipError) -> bool:
    """Failures that prove AFIP did not process a FECAESolicitar (safe to renumber at once)."""
    if isinstance(exc, (AfipNotSentError, AfipAuthError, AfipServiceDownError)):
        return True
    # The simulator and IIS answer 503 Service Unavailable before the application sees the call.
    return isinstance(exc, AfipHttpError) and exc.status_code == 503


class LaneRun:
    def __init__(
        self,
        lease: Lease,
        lanes: LaneStore,
        client: AfipClient,
        clock: Clock,
        config: LaneConfig,
        on_results=lambda: None,
        *,
        pipelining: PipelinePolicy | None = None,
        batch_sizes: BatchSizes | None = None,
    ):
        self.on_results = on_results
        self.pipelining = pipelining or PipelinePolicy()
        self.batch_sizes = batch_sizes or BatchSizes()  # an engine shares one across its lanes
        self.batch_size = config.batch_size
        self.attempts = AttemptLog(lease.lane.cuit, lease.lane.punto_venta, lease.lane.cbte_tipo)
        self._was_busy = False  # set by _settle when AFIP refused a batch as busy (502)
        self.lease = lease
        self.lane: Lane = lease.lane
        self.lanes = lanes
        self.client = client
        self.clock = clock
        self.config = config
        self.emitted = 0
        self._first_position_10016: dict[int, int] = {}
        self._unrecorded: list[tuple[InvoiceRow, int, Accepted]] = []
        self._last_to_remember: int | None = None

    async def _db(self, function, *args, **kwargs):
        return await asyncio.to_thread(function, *args, **kwargs)

    async def run(self) -> int:
        """Emit everything due in the lane; returns how many were emitted. Raises LaneBackoff.

        Batches are pipelined one deep: batch N+1 is numbered as if N is accepted in full and sent
        while N is still at AFIP, so a lane runs at AFIP's latency rather than latency plus our
        own work. If N is not accepted in full, N+1 can only get 10016: its invoices go back to
        the queue uncounted and the lane asks AFIP for its last number before going on. Where
        AFIP shows it does not serve a lane's calls in order (502 busy, or N+1 processed first),
        the lane sends one batch at a time for a while (``pipelining.py``).
        """
        try:
            if await self._db(self.lanes.abonos_to_renew, self.lane):
                await self._db(self.lanes.create_recurrences, self.lease)  # left by a crash after an emission
            # AFIP's batch limit is asked alongside the reconciliation, not after it: a lane starting
            # cold would otherwise wait two AFIP round trips in a row before its first batch.
            limit = asyncio.ensure_future(self._batch_limit())
            try:
                last = await self._reconcile()
            except BaseException:
                limit.cancel()
                raise
            self.batch_size = await limit
            ahead: _Sent | None = None
            while True:
                if ahead is not None and not self.pipelining.allowed(self.lane):
                    # AFIP showed it does not serve this lane's calls in order: one at a time.
                    last, _ = await self._settle_ahead(ahead, None, last)
                    ahead = None
                start = ahead.last_numero if ahead is not None else last
                batch = await self._db(self.lanes.next_batch, self.lane, self.clock.today(), self.batch_size)
                sent = await self._send(batch, start, pipelined=ahead is not None) if batch else None
                if ahead is None and sent is None:
                    break
                if sent is None:
                    # Nothing new to send while `ahead` travels: record the last results now rather
                    # than after `ahead` (their clients — instant requests — are waiting for them).
                    await self._flush()
                if ahead is not None:
                    last, keep = await self._settle_ahead(ahead, sent, last)
                    if not keep:
                        sent = None
                ahead = sent
        except AfipError as exc:  # a consulta during reconciliation failed
            raise LaneBackoff(policy.backoff_seconds(1), str(exc)) from None
        finally:
            await self._flush()
            await self._write_attempts()
        return self.emitted

    async def _settle_ahead(self, ahead: "_Sent", behind: "_Sent | None", last: int) -> tuple[int, bool]:
        """Settle the batch at AFIP; the new last number, and whether ``behind`` (sent after it,
        numbered as if ``ahead`` were accepted in full) still stands."""
        try:
            settled = await self._settle(ahead, last)
        except BaseException:
            await self._settle_quietly(behind)
            raise
        if self._was_busy:
            # AFIP refused `ahead` without processing it: no number moved, AFIP's last is still
            # `last`, and whatever was numbered behind it can only get 10016.
            self._was_busy = False
            self._doom(behind)
            await self._settle_quietly(behind)
            await self._flush()
            if behind is None:
                return last, False
            # If the answer to `behind` was lost, its invoices are still numbered beyond `last`:
            # the reconciliation waits for them before anything else takes those numbers.
            return await self._reconcile(ask_afip=True), False
        if settled is None or settled != ahead.last_numero:
            # `ahead` was not accepted in full (or numbering is off): whatever was sent
            # behind it can only get 10016. Settle that, and ask AFIP where we stand.
            self._doom(behind)
            await self._settle_quietly(behind)
            await self._flush()
            return await self._reconcile(ask_afip=True), False
        return settled, True

    async def _batch_limit(self) -> int:
        """``ENCOLA_AFIP_BATCH_SIZE`` capped by AFIP's FECompTotXRequest (asked once per environment)."""
        return await self.batch_sizes.limit(self.client.url, self.client.max_records_per_request, self.config.batch_size)

    async def _write_attempts(self) -> None:
        """Attempts no result write has carried yet (errors, requeues, a run that failed)."""
        pending = self.attempts.take()
        if pending:
            try:
                await self._db(self.lanes.store.record_afip_attempts, pending)
            except Exception:  # history only: never let it fail the lane
                log.exception("could not record AFIP attempts for lane %s", self.lane)

    # --- reconciliation ----------------------------------------------------------------------

    async def _last_authorized(self, pending: list[InvoiceRow]) -> int:
        try:
            return await self.client.last_authorized(self.lane.punto_venta, self.lane.cbte_tipo)
        except AfipError as exc:
            due = await self._db(self.lanes.next_batch, self.lane, self.clock.today(), self.batch_size)
            await self._postpone(due, exc)
            raise LaneBackoff(self._backoff_for(due + pending, exc), str(exc)) from None

    async def _reconcile(self, *, ask_afip: bool = False) -> int:
        in_flight = await self._db(self.lanes.in_flight, self.lane)
        if not in_flight and not ask_afip and self.lease.last_numero is not None:
            # Nothing in doubt: trust the number recorded with the lane's last results. If
            # someone emitted outside encola meanwhile, AFIP answers 10016 and we ask it.
            return self.lease.last_numero
        last = await self._last_authorized(in_flight)
        if not in_flight:
            self._last_to_remember = last  # written with the next numbers, in the same transaction
            return last
        await self._db(self.lanes.remember_last, self.lease, last)
        adopt, release, wait = [], [], []
        adopt_rows: list = []
        now = self.clock.now()
        known = [row for row in in_flight if row.numero <= last]
        # A lost answer can leave a whole batch in doubt: look its numbers up side by side
        # (FECompConsultar is read-only at AFIP, never "busy"), a few at a time.
        gate = asyncio.Semaphore(CONSULT_CONCURRENCY)

        async def look_up(row: InvoiceRow):
            async with gate:
                call = Call("FECompConsultar", self.clock.now())
                stored = await self.client.consult(self.lane.punto_venta, self.lane.cbte_tipo, row.numero)
                return call, call.duration_ms(), stored

        found = await asyncio.gather(*(look_up(row) for row in known))
        for row, (call, duration_ms, stored) in zip(known, found):
            matches = stored is not None and stored.cae and same_comprobante(cae_detail(row, row.numero), stored)
            outcome = outcomes.ADOPTED if matches else (outcomes.NOT_FOUND if stored is None else outcomes.MISMATCH)
            self.attempts.add(call, row.id, row.numero, outcome, [], duration_ms)
            if matches:
                adopt_rows.append((row, stored))
                adopt.append(self._emitted_values(row, row.numero, stored.cae, stored.fch_vto, stored.observaciones))
            else:
                log.warning(
                    "number %s of lane %s holds another comprobante; renumbering invoice %s",
                    row.numero, self.lane, row.id, extra={"action": "reconcile"},
                )
                release.append(row)
        for row in in_flight:
            if row.numero <= last:
                continue
            if (now - row.updated_at).total_seconds() >= self.config.unknown_grace_seconds:
                release.append(row)
            else:
                wait.append(row)
        if adopt:
            await self._db(self.lanes.mark_emitted, self.lease, adopt, None, self.attempts.take())
            self.emitted += len(adopt)
            self.on_results()
        # Sent behind a batch AFIP refused or did not accept in full: such a batch could only get
        # 10016, whatever became of its answer. That is encola's own pipelining, not the invoice.
        doomed = [row for row in release if self.pipelining.take_doomed(row.id)]
        if doomed:
            await self._db(self.lanes.release_numbers, self.lease, doomed, next_attempt_at=self.clock.now(), count_attempt=False)
        release = [row for row in release if row not in doomed]
        for row, _ in adopt_rows:
            self.pipelining.take_doomed(row.id)
        if release:
            await self._release_after_failure(release, "AFIP no registro el comprobante enviado", retry_at=self.clock.now())
        log.info(
            "lane %s reconciled: last=%s adopted=%d released=%d waiting=%d",
            self.lane, last, len(adopt), len(release), len(wait), extra={"action": "reconcile"},
        )
        if wait:
            # A request of ours may still be on its way to AFIP; numbering past it could emit twice.
            raise LaneBackoff(self.config.unknown_grace_seconds / 4, "waiting for an unknown outcome")
        return last

    # --- one batch -----------------------------------------------------------------------------

    async def _send(self, batch: list[InvoiceRow], last: int, *, pipelined: bool) -> "_Sent | None":
        """Number the batch after ``last`` (the intent, committed) and send it; None if none numbered."""
        numbered = [(row, last + 1 + i) for i, row in enumerate(batch)]
        remember, self._last_to_remember = self._last_to_remember, None
        assigned = await self._db(self.lanes.assign_numbers, self.lease, numbered, remember)
        if not assigned:
            return None
        details = [cae_detail(row, numero) for row, numero in assigned]
        attempt = Call("FECAESolicitar", self.clock.now())
        call = asyncio.create_task(self.client.request_cae(self.lane.punto_venta, self.lane.cbte_tipo, details))
        try:
            # While AFIP works on this batch, record the ones already answered.
            await self._flush()
        except BaseException:
            call.cancel()
            raise
        return _Sent(assigned, call, pipelined, attempt)

    async def _settle(self, sent: "_Sent", last: int, *, quiet: bool = False) -> int | None:
        """Wait for a sent batch's answer and record it; the new last number, or None to re-sync."""
        try:
            result = await sent.call
        except AfipLaneBusyError as exc:
            # AFIP was processing another call of this lane and did not process this one. Back to
            # the queue, no attempt counted: it is sent again as soon as the other is answered.
            self.attempts.failed(sent.attempt, sent.assigned, outcomes.BUSY, exc)
            self.pipelining.forget(row.id for row, _ in sent.assigned)
            rows = [row for row, _ in sent.assigned]
            await self._db(self.lanes.release_numbers, self.lease, rows, next_attempt_at=self.clock.now(), count_attempt=False)
            if sent.pipelined:  # our own concurrency: stop overlapping this lane's calls for a while
                self.pipelining.conflict(self.lane, "busy (502 Transaccion Activa)")
                self._was_busy = not quiet
                return last
            # Nothing of ours was in flight: someone else is using the lane at AFIP.
            raise LaneBackoff(self.config.busy_retry_seconds, f"lane busy at AFIP: {exc}") from None
        except AfipError as exc:
            self.attempts.failed(
                sent.attempt, sent.assigned, outcomes.NOT_SENT if _not_processed(exc) else outcomes.UNKNOWN, exc
            )
            if _not_processed(exc):
                rows = await self._discard_instant([row for row, _ in sent.assigned], exc)
                backoff = self._backoff_for(rows, exc)
                await self._release_after_failure(rows, str(exc), retry_at=self.clock.now() + timedelta(seconds=backoff))
                raise LaneBackoff(backoff, str(exc)) from None
            # Unknown outcome: leave them "processing"; the next run reconciles them.
            raise LaneBackoff(1.0, f"unknown outcome: {exc}") from None
        self.attempts.answered(sent.attempt, sent.assigned, result.details)
        self.pipelining.forget(row.id for row, _ in sent.assigned)  # answered: nothing left in doubt
        return await self._record(sent.assigned, result.details, last, pipelined=sent.pipelined, quiet=quiet)

    def _doom(self, behind: "_Sent | None") -> None:
        """``behind`` can only get 10016: should its answer be lost, the invoices AFIP then does
        not have go back to the queue without an attempt counted (see ``_reconcile``)."""
        if behind is not None:
            self.pipelining.doom(row.id for row, _ in behind.assigned)

    async def _settle_quietly(self, sent: "_Sent | None") -> None:
        """Settle a pipelined batch behind one that failed or was not accepted in full.

        Whatever its outcome, it is recorded or left for reconciliation; nothing is raised.
        """
        if sent is None:
            return
        try:
            await self._settle(sent, sent.assigned[0][1] - 1, quiet=True)
        except (LaneBackoff, AfipError):
            pass

    async def _record(
        self, assigned: list[tuple[InvoiceRow, int]], results, last: int, *, pipelined: bool = False, quiet: bool = False
    ) -> int | None:
        by_number = {r.numero: r for r in results}
        accepted = [(row, numero, by_number.get(numero)) for row, numero in assigned]
        if pipelined and not quiet:
            first = accepted[0][2]
            if isinstance(first, Rejected) and first.is_sequence_error:
                # The batch ahead was accepted in full, yet this one was not the next number:
                # AFIP processed it first (reordered). Harmless, but a wasted call.
                self.pipelining.conflict(self.lane, "out of order (10016)")
            elif all(isinstance(outcome, Accepted) for _, _, outcome in accepted):
                self.pipelining.worked(self.lane)
        if all(isinstance(outcome, Accepted) for _, _, outcome in accepted):
            # The common case: record it while the next batch is at AFIP (see _emit, _flush).
            self._unrecorded.extend(accepted)
            return max(last, assigned[-1][1])
        await self._flush()
        requeue = []
        numbering_off = False
        for position, (row, numero) in enumerate(assigned):
            outcome = by_number.get(numero)
            if isinstance(outcome, Accepted):
                self._unrecorded.append((row, numero, outcome))
                last = max(last, numero)
            elif isinstance(outcome, Rejected) and outcome.is_sequence_error:
                # A pipelined batch gets 10016 whenever the one ahead was not accepted in full:
                # that says nothing about this invoice, so it is no strike against it.
                if position == 0 and not pipelined and self._repeated_first_10016(row):
                    # Re-synced numbering and still out of sequence: its date is before the lane's last.
                    await self._db(
                        self._fail_row, row,
                        messages.afip_rejection(outcome.errors, outcome.observaciones), from_state=PROCESSING,
                    )
                    continue
                numbering_off = numbering_off or position == 0
                requeue.append(row)
            elif isinstance(outcome, Rejected):
                await self._db(
                    self._fail_row, row,
                    messages.afip_rejection(outcome.errors, outcome.observaciones), from_state=PROCESSING,
                )
            else:  # AFIP said nothing about this number: settle it by reconciliation
                numbering_off = True
        await self._flush()
        self.on_results()  # the errors written above have hooks too
        if requeue:
            await self._db(
                self.lanes.release_numbers, self.lease, requeue, next_attempt_at=self.clock.now(), count_attempt=False
            )
        return None if numbering_off else last

    async def _flush(self) -> None:
        """Record the accepted invoices not yet written (CAE, QR, barcode, ``emitido`` hooks)."""
        if not self._unrecorded:
            return
        pending, self._unrecorded = self._unrecorded, []

        def write() -> None:
            values = [
                self._emitted_values(row, numero, outcome.cae, outcome.cae_fch_vto, outcome.observaciones)
                for row, numero, outcome in pending
            ]
            self.lanes.mark_emitted(
                self.lease, values, last_numero=max(numero for _, numero, _ in pending), attempts=self.attempts.take()
            )
            if any(row.abono_siguiente for row, _, _ in pending):
                self.lanes.create_recurrences(self.lease)  # the abono's next comprobante, queued on its date

        await self._db(write)
        self.emitted += len(pending)
        self.on_results()

    def _repeated_first_10016(self, row: InvoiceRow) -> bool:
        self._first_position_10016[row.id] = self._first_position_10016.get(row.id, 0) + 1
        return self._first_position_10016[row.id] >= 2

    # --- helpers --------------------------------------------------------------------------------

    def _emitted_values(self, row: InvoiceRow, numero: int, cae: str, vencimiento, observaciones) -> dict:
        t = row.afip
        return {
            "id": row.id,
            "pdv_id": row.pdv_id,
            "reference": row.external_reference,
            "cae": cae,
            "cae_vencimiento": vencimiento,
            "afip_qr": qr_url(
                fecha=row.fecha,
                cuit=row.cuit,
                punto_venta=row.punto_venta,
                cbte_tipo=row.cbte_tipo,
                numero=numero,
                importe=Decimal(t["ImpTotal"]),
                moneda=t["MonId"],
                cotizacion=Decimal(t["MonCotiz"]),
                doc_tipo=t["DocTipo"],
                doc_nro=t["DocNro"],
                cae=cae,
            ),
            "afip_codigo_barras": barcode(
                cuit=row.cuit, cbte_tipo=row.cbte_tipo, punto_venta=row.punto_venta, cae=cae, cae_vencimiento=vencimiento
            ),
            "observaciones": [f"{o.code} - {o.msg}" for o in observaciones],
        }

    def _fail_row(self, row: InvoiceRow, messages_: list[str], *, from_state: str) -> None:
        """To error with its messages; an instant request's ``error`` hook follows TF's rule."""
        if row.instant:
            self.lanes.mark_instant_failed(self.lease, row, messages_, from_state=from_state)
        else:
            self.lanes.mark_failed(self.lease, row, messages_, from_state=from_state)

    async def _discard_instant(self, rows: list[InvoiceRow], exc: AfipError) -> list[InvoiceRow]:
        """AFIP certainly did not take these: instant requests still waiting are discarded (their
        request answers the reason, nothing is kept); the rest are returned to be retried."""
        if not any(row.instant == INSTANT_WAITING for row in rows):
            return rows
        discarded = await self._db(self.lanes.discard_instant, self.lease, rows, str(exc))
        if discarded:
            self.on_results()
        return [row for row in rows if row.id not in discarded]

    async def _release_after_failure(self, rows: list[InvoiceRow], reason: str, *, retry_at) -> None:
        """Numbered invoices AFIP did not authorize: back to the queue with an attempt counted,
        or to error once they have used all their attempts."""
        exhausted = [row for row in rows if policy.exhausted(row.attempts + 1)]
        for row in exhausted:
            await self._db(
                self._fail_row, row, messages.attempts_exhausted(row.attempts + 1, reason),
                from_state=PROCESSING,
            )
        rest = [row for row in rows if row not in exhausted]
        if rest:
            await self._db(self.lanes.release_numbers, self.lease, rest, next_attempt_at=retry_at, count_attempt=True)

    def _backoff_for(self, rows: list[InvoiceRow], exc: AfipError) -> float:
        attempts = max((row.attempts for row in rows), default=0) + 1
        seconds = policy.backoff_seconds(attempts)
        if isinstance(exc, AlreadyAuthenticatedError):
            seconds = max(seconds, getattr(exc, "retry_after", 600))
        return seconds

    async def _postpone(self, rows: list[InvoiceRow], exc: AfipError) -> None:
        """Count an attempt on due invoices AFIP could not be asked about; fail those out of attempts."""
        queued = await self._discard_instant([row for row in rows if row.state == QUEUED], exc)
        if not queued:
            return
        exhausted = [row for row in queued if policy.exhausted(row.attempts + 1)]
        for row in exhausted:
            await self._db(
                self._fail_row, row, messages.attempts_exhausted(row.attempts + 1, str(exc)),
                from_state=QUEUED,
            )
        rest = [row for row in queued if row not in exhausted]
        if rest:
            retry_at = self.clock.now() + timedelta(seconds=self._backoff_for(rest, exc))
            await self._db(self.lanes.postpone, self.lease, rest, retry_at)
