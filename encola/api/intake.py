"""nuevo_encola and lotes_encola: validate, store with the ``encolado`` event, or answer the errors.

The "basic requirements" rule (``00-…``): when the PDV has a webhook and the request carries an
external_reference, a validation failure is answered at once AND notified with an ``error``
hook; otherwise it is answered at once only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json

from encola.api.envelope import error_envelope
from encola.clock import Clock
from encola.domain.errors import Error, err
from encola.domain.abono import Abono, parse_hasta
from encola.domain.invoice import Issuer
from encola.domain.render import accepted_response, afip_template, consulta_view
from encola.domain.status import tf_status
from encola.domain.validation import external_reference_errors, external_reference_of, validate
from encola.mail.recipients import mail_to
from encola.store.schema import INSTANT_WAITING
from encola.store.store import NewEvent, NewInvoice, Pdv, QuotaExceeded, Store

MAX_LOTE = 100
LOTE_ERROR_RTA = "Eror. No se procesara"  # sic, as TusFacturas answers


def request_hash(request: dict) -> str:
    """The identity of a request for idempotency: its comprobante and cliente, canonically."""
    canonical = json.dumps(
        {"comprobante": request.get("comprobante"), "cliente": request.get("cliente")},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Intake:
    def __init__(self, store: Store, clock: Clock):
        self.store = store
        self.clock = clock

    async def submit(self, pdv: Pdv, request: dict) -> dict:
        """One request of nuevo_encola (or one element of a lote); returns the TF answer.

        Runs on the event loop: validating is pure computation, and the write waits for the
        group commit without holding a thread.
        """
        reference = external_reference_of(request.get("comprobante"))
        new = self.prepare(pdv, request)
        if not isinstance(new, NewInvoice):
            return await self._refuse(pdv, reference, new + [err("TFC-6001")])
        try:
            result = await self.store.enqueue(
                new, NewEvent("encolado", reference), cupo=pdv.cupo_mensual, workspace_id=pdv.workspace_id
            )
        except QuotaExceeded as exc:
            return await self._refuse(pdv, reference, [err("TFC-1009", usados=exc.used, cupo=exc.cupo)])
        if result.existing is None:
            return new.response
        if result.existing.request_hash == new.request_hash:
            return result.existing.response  # a client retrying after a lost answer
        # A different invoice under a live reference. No hook: an "error" hook under that reference
        # would tell the client its live invoice failed.
        estado = tf_status(result.existing.state, result.existing.fecha)
        duplicate = err("TFC-8010", external_reference=reference, estado=estado)
        return error_envelope([duplicate], reference)

    def prepare(self, pdv: Pdv, request: dict, *, instant: bool = False) -> NewInvoice | list[Error]:
        """The invoice to store for ``request``, or why it cannot be accepted.

        ``instant`` (``facturacion/nuevo``): no webhook needed, the external_reference optional."""
        errors: list[Error] = []
        if not pdv.webhook_url and not instant:
            errors.append(err("TFC-1012"))
        issuer = Issuer(pdv.cuit, pdv.punto_venta, pdv.condicion_iva, pdv.conceptos)
        validated = validate(request, issuer, self.clock.today(), reference_required=not instant)
        errors += validated.errors
        if errors:
            return errors
        invoice, totals = validated.invoice, validated.totals
        new = NewInvoice(
            pdv_id=pdv.id,
            cuit=pdv.cuit,
            punto_venta=pdv.punto_venta,
            cbte_tipo=invoice.tipo.cbte_tipo,
            tipo=invoice.tipo.name,
            external_reference=external_reference_of(request.get("comprobante")),
            request_hash=request_hash(request),
            fecha=invoice.fecha,
            vencimiento=invoice.vencimiento,
            total=f"{totals.total:.2f}",
            afip=afip_template(invoice, totals, issuer),
            view=consulta_view(invoice, totals),
            response=accepted_response(invoice),
            mail_to=mail_to(invoice.cliente.envia_por_mail, invoice.cliente.email),
        )
        return with_abono(new, invoice.extra.get("abono"), instant=instant)

    async def _refuse(self, pdv: Pdv, reference: str, errors: list[Error]) -> dict:
        if pdv.webhook_url and reference:
            await self._record_error(pdv, reference, errors)
        return error_envelope(errors, reference)

    async def _record_error(self, pdv: Pdv, reference: str, errors: list[Error]) -> None:
        event = NewEvent("error", reference, tuple(e.text for e in errors))
        await asyncio.to_thread(self.store.record_event, pdv.id, event)

    async def submit_lote(self, pdv: Pdv, body: dict) -> dict:
        """lotes_encola: up to 100 requests, each accepted or refused on its own."""
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            return _lote_envelope([err("TFC-9002")], [])
        if len(requests) > MAX_LOTE:
            count = len(requests)
            return _lote_envelope([err("TFC-9001", cantidad=count), err("TFC-9005", enviados=count)], [])
        if not pdv.webhook_url:
            return _lote_envelope([err("TFC-1012"), err("TFC-9005", enviados=len(requests))], [])
        # All at once, so they share group commits; each is queued before the next is validated,
        # so they are stored (and later emitted) in the lote's order.
        answers = await asyncio.gather(*(self._lote_item(pdv, order, request) for order, request in enumerate(requests)))
        accepted = sum(1 for a in answers if a.get("error") == "N")
        if accepted == len(answers):
            return {"error": "N", "errores": [], "error_cod": [], "error_details": [], "response": answers}
        if accepted == 0:
            return _lote_envelope([err("TFC-9005", enviados=len(answers))], answers)
        return _lote_envelope([err("TFC-9006", enviados=len(answers), aceptados=accepted)], answers)

    async def _lote_item(self, pdv: Pdv, order: int, request: object) -> dict:
        if not isinstance(request, dict):
            answer = error_envelope([err("TFC-9004", orden=order)], "")
            return {**answer, "rta": LOTE_ERROR_RTA}
        reference = external_reference_of(request.get("comprobante"))
        if external_reference_errors(reference):
            refusal = [err("TFC-9003", orden=order)]
            if reference:
                await self._record_error(pdv, reference, refusal)
            return {**error_envelope(refusal, reference), "rta": LOTE_ERROR_RTA}
        answer = await self.submit(pdv, request)
        if answer.get("error") == "N":
            return {**answer, "cae_vencimiento": None, "tfc_generacion_tipo": 3}
        return {**answer, "rta": LOTE_ERROR_RTA}


def with_abono(new: NewInvoice, abono: dict | None, *, instant: bool) -> NewInvoice:
    """The invoice with its abono (recurrence 0 of it, the next one's date) and instant flag."""
    values: dict = {"instant": INSTANT_WAITING} if instant else {}
    if abono is not None:
        started = Abono(abono["frecuencia"], parse_hasta(abono["hasta"]), abono["actualiza_precios"], new.fecha)
        values.update(abono=started.to_json(), abono_siguiente=started.siguiente(0))
    return dataclasses.replace(new, **values) if values else new


def _lote_envelope(errors: list[Error], answers: list[dict]) -> dict:
    return {**error_envelope(errors, None), "response": answers}
