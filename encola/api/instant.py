"""Instant emission, ``facturacion/nuevo`` (``20-…``): the request is answered with the CAE.

There is one numbering authority, the lane. An instant request is validated as ``nuevo_encola``
is, stored as an invoice due now with ``instant`` "waiting" (no ``encolado`` hook), and the
request waits, up to ``ENCOLA_INSTANT_DEADLINE``, while the engine emits it in its lane, batched
with whatever else of the lane is due — in this process or in a worker. The answer follows the
row:

- emitted: ``error`` "N" with the CAE, its expiry, the number, QR, barcode and document links;
- rejected by AFIP: ``error`` "S" with AFIP's messages as hooks carry them (TFC-8013);
- AFIP certainly did not get it (down, refused the call, or it could not be sent in time):
  ``error`` "S" (TFC-8014) and nothing is kept: the row is discarded, its reference free;
- sent, outcome unknown at the deadline: ``error`` "S" (TFC-8015); the row turns "late", is
  reconciled like any queued invoice, and its result follows by hook and consulta.

A retried request with the same external_reference (and the same content) waits on, or answers
from, the original invoice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

from encola.api.envelope import error_envelope
from encola.api.intake import Intake
from encola.clock import Clock
from encola.domain import fields as f
from encola.domain.errors import Error, err
from encola.domain.render import comprobante_nro
from encola.domain.status import tf_status
from encola.domain.validation import external_reference_of
from encola.store.schema import DELETED, DISCARDED, EMITTED, ERROR, INSTANT_LATE, PROCESSING, QUEUED
from encola.store.store import InvoiceRow, NewInvoice, Pdv, QuotaExceeded, Store

log = logging.getLogger("encola.instant")
SETTLED = (EMITTED, ERROR, DISCARDED, DELETED)
POLL_SECONDS = 0.1  # the safety net: results normally wake the waiters (engine, LISTEN)
DEFAULT_DEADLINE = 60.0


class OutcomeWaiter:
    """Requests waiting for their invoices to settle, served by one reader per process: on every
    wake-up (results written here, or a PostgreSQL notification) and every ``POLL_SECONDS`` it
    reads all the invoices waited on in one query."""

    def __init__(self, store: Store, poll_seconds: float = POLL_SECONDS):
        self.store = store
        self.poll_seconds = poll_seconds
        self._waiting: dict[int, list[asyncio.Future]] = {}
        self._wake: asyncio.Event | None = None
        self._reader: asyncio.Task | None = None

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def wait(self, invoice_id: int, timeout: float) -> InvoiceRow | None:
        """The invoice once settled, or None when ``timeout`` passes first."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.setdefault(invoice_id, []).append(future)
        if self._wake is None:
            self._wake = asyncio.Event()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read())
        self._wake.set()
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout=max(0.0, timeout))
        except TimeoutError:
            return None
        finally:
            futures = self._waiting.get(invoice_id, [])
            if future in futures:
                futures.remove(future)
            if not futures:
                self._waiting.pop(invoice_id, None)

    async def _read(self) -> None:
        while self._waiting:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
            ids = list(self._waiting)
            if not ids:
                break
            try:
                rows = await asyncio.to_thread(self.store.invoices_by_id, ids)
            except Exception:  # the database may be briefly unavailable: try again next round
                log.warning("could not read instant invoices", exc_info=True, extra={"action": "instant_read"})
                await asyncio.sleep(self.poll_seconds)
                continue
            for row in rows:
                if row.state in SETTLED:
                    for future in self._waiting.pop(row.id, []):
                        if not future.done():
                            future.set_result(row)


class InstantEmission:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        intake: Intake,
        *,
        deadline: float = DEFAULT_DEADLINE,
        wake: Callable[[], None] = lambda: None,
        links: Callable[[InvoiceRow], dict] | None = None,
    ):
        self.store = store
        self.clock = clock
        self.intake = intake
        self.deadline = deadline
        self.wake_engine = wake
        self.links = links
        self.waiter = OutcomeWaiter(store)

    def wake(self) -> None:
        """Results were written (engine in this process, or a notification): look now."""
        self.waiter.wake()

    async def submit(self, pdv: Pdv, body: dict) -> dict:
        started = time.monotonic()
        reference = external_reference_of(body.get("comprobante"))
        errors = self._fecha_errors(body)
        new = self.intake.prepare(pdv, body, instant=True)
        if not isinstance(new, NewInvoice) or errors:
            return error_envelope(errors + (new if isinstance(new, list) else []), reference)
        if await asyncio.to_thread(self.store.pdv_has_queued, pdv.id, self.clock.today()):
            return error_envelope([err("TFC-8011")], reference)
        result = await asyncio.to_thread(self.store.insert_instant, new, pdv.cupo_mensual, pdv.workspace_id)
        if isinstance(result, QuotaExceeded):
            return error_envelope([err("TFC-1009", usados=result.used, cupo=result.cupo)], reference)
        if result.existing is not None:
            existing = result.existing
            if existing.request_hash != new.request_hash or (existing.instant is None and existing.state != EMITTED):
                estado = tf_status(existing.state, existing.fecha)
                return error_envelope([err("TFC-8010", external_reference=reference, estado=estado)], reference)
            invoice_id = existing.id  # the same request again: its original result
        else:
            invoice_id = result.invoice_id
            self.wake_engine()
        return await self._outcome(pdv, invoice_id, reference, started)

    def _fecha_errors(self, body: dict) -> list[Error]:
        """``01-…``: an instant comprobante is dated today (a malformed date is validation's)."""
        comprobante = body.get("comprobante")
        fecha = f.wire_date(comprobante.get("fecha")) if isinstance(comprobante, dict) else None
        today = self.clock.today()
        if fecha is not None and fecha != today:
            return [err("TFC-8012", fecha=f.format_date(fecha), hoy=f.format_date(today))]
        return []

    async def _outcome(self, pdv: Pdv, invoice_id: int, reference: str, started: float) -> dict:
        remaining = self.deadline - (time.monotonic() - started)
        row = await self.waiter.wait(invoice_id, remaining)
        if row is None:
            reason = f"no se pudo enviar a AFIP dentro de los {self.deadline:g} segundos de espera"
            given_up = await asyncio.to_thread(self.store.give_up_instant, invoice_id, reason)
            (row,) = await asyncio.to_thread(self.store.invoices_by_id, [invoice_id])
            if given_up == "late" or (row.state in (QUEUED, PROCESSING) and row.instant == INSTANT_LATE):
                return error_envelope([err("TFC-8015", segundos=f"{self.deadline:g}")], reference)
        return self.answer(pdv, row, reference)

    def answer(self, pdv: Pdv, row: InvoiceRow, reference: str) -> dict:
        """The answer for a settled instant invoice (``20-…``)."""
        if row.state == EMITTED:
            return self._emitted(pdv, row)
        if row.state == ERROR:
            details = [{"code": "TFC-8013", "text": text} for text in row.errors]
            return {**error_envelope([], reference), "errores": list(row.errors), "error_details": details}
        if row.state in (QUEUED, PROCESSING):  # late: still being reconciled
            return error_envelope([err("TFC-8015", segundos=f"{self.deadline:g}")], reference)
        detalle = row.errors[0] if row.errors else "el comprobante fue eliminado"
        return error_envelope([err("TFC-8014", detalle=detalle)], reference)

    def _emitted(self, pdv: Pdv, row: InvoiceRow) -> dict:
        answer = dict(row.response or {})
        answer.pop("tfc_generacion_tipo", None)
        numero = row.numero or 0
        answer.update(
            error="N",
            errores=[],
            error_cod=[],
            error_details=[],
            rta=f"El comprobante {row.tipo} {rta_number(row.punto_venta, numero)} ({pdv.razon_social}) se ha guardado correctamente",
            cae=(row.cae or "") + " ",
            vencimiento_cae=f.format_date(row.cae_vencimiento) if row.cae_vencimiento else "",
            vencimiento_pago=f.format_date(row.vencimiento) if row.vencimiento else "",
            comprobante_nro=comprobante_nro(row.punto_venta, numero),
            comprobante_tipo=row.tipo,
            afip_qr=(row.afip_qr or "") + " ",
            afip_codigo_barras=(row.afip_codigo_barras or "") + " ",
            external_reference=row.external_reference,
            comprobante_pdf_url="",
            comprobante_ticket_url="",
            micrositios={"cliente": "", "descarga": ""},
        )
        if row.recurrencia or row.abono:
            answer["abono_recurrencia"] = row.recurrencia + 1
        if self.links is not None:
            try:
                answer.update(self.links(row))
            except Exception:  # the links are a convenience; the CAE answer must not fail for them
                log.warning("no document links for invoice %s", row.id, exc_info=True, extra={"action": "instant_links"})
        return answer


def rta_number(punto_venta: int, numero: int) -> str:
    """TF's "0002-00000006" in ``rta`` (four digits of point of sale while they suffice)."""
    return f"{punto_venta:04d}-{numero:08d}"
