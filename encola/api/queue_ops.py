"""eliminar_encolado, cambiar_fecha_encolado and reenviar_encolado (``04-…`` to ``06-…``).

Each change and its hook are written in one transaction. An invoice being emitted right now
("processing": its number is assigned and AFIP may have it) cannot be changed, and an emitted
one never can.
"""

from __future__ import annotations

from datetime import timedelta

from encola.api.envelope import error_envelope
from encola.clock import Clock
from encola.domain import fields as f
from encola.domain.errors import Error, err
from encola.domain.render import comprobante_nro
from encola.domain.validation import DATE_WINDOW_DAYS
from encola.store.schema import DELETED, EMITTED, ERROR, PROCESSING, QUEUED
from encola.store.store import InvoiceRow, NewEvent, Pdv, ReferenceInUse, Store

CHANGEABLE = (QUEUED, ERROR)


def _simple_error(errors: list[Error]) -> dict:
    return error_envelope(errors, None)


def _reference(body: dict) -> str | None:
    value = f.text(body.get("external_reference"))
    return None if f.absent(value) else value.strip()


def _name(row: InvoiceRow) -> str:
    return f"{row.tipo} {comprobante_nro(row.punto_venta, row.numero)}"


def _not_changeable(rows: list[InvoiceRow]) -> Error:
    if any(row.state == PROCESSING for row in rows):
        return err("TFC-7009")
    return err("TFC-7007")


def eliminar(store: Store, pdv: Pdv, body: dict) -> dict:
    reference = _reference(body)
    if reference is None:
        return {**_simple_error([err("TFC-7006", campo="external_reference")]), "procesados_cant": 0, "procesados": []}
    procesados: list[str] = []
    errors: list[Error] = []
    with store.writing() as connection:
        store.stop_abono(connection, pdv.id, reference)  # an abono's future recurrences end here
        rows = store.by_external_reference(connection, pdv.id, reference)
        for row in rows:
            if delete_invoice(store, connection, pdv.id, row):
                procesados.append(f"El comprobante {_name(row)} se ha eliminado correctamente. ")
            else:
                errors.append(err("TFC-7002", comprobante=_name(row)))
    if not rows:
        errors = [err("TFC-7001")]
    envelope = _simple_error(errors) if errors else {"error": "N", "errores": [], "error_cod": [], "error_details": []}
    if errors and procesados:
        envelope["error"] = "PARCIAL"
    return {**envelope, "procesados_cant": len(procesados), "procesados": procesados}


def _reference_in_use(reference: str) -> dict:
    return _simple_error([err("TFC-8010", external_reference=reference, estado="otro comprobante vigente")])


def cambiar_fecha(store: Store, clock: Clock, pdv: Pdv, body: dict) -> dict:
    try:
        return _cambiar_fecha(store, clock, pdv, body)
    except ReferenceInUse:
        return _reference_in_use(_reference(body) or "")


def reenviar(store: Store, clock: Clock, pdv: Pdv, body: dict) -> dict:
    try:
        return _reenviar(store, clock, pdv, body)
    except ReferenceInUse:
        return _reference_in_use(_reference(body) or "")


def _cambiar_fecha(store: Store, clock: Clock, pdv: Pdv, body: dict) -> dict:
    reference = _reference(body)
    if reference is None:
        return _simple_error([err("TFC-7006", campo="external_reference")])
    fecha = f.wire_date(body.get("fecha"))
    if fecha is None:
        return _simple_error([err("TFC-2001")])
    vencimiento = None
    if not f.absent(body.get("vencimiento")):
        vencimiento = f.wire_date(body.get("vencimiento"))
        if vencimiento is None:
            return _simple_error([err("TFC-2011", campo="vencimiento")])
    with store.writing() as connection:
        rows = store.by_external_reference(connection, pdv.id, reference)
        if not rows:
            return _simple_error([err("TFC-7001")])
        row = next((r for r in rows if r.state in CHANGEABLE), None)
        if row is None:
            return _simple_error([_not_changeable(rows)])
        problems = redate_invoice(store, clock, connection, pdv.id, row, fecha, vencimiento)
        if problems:
            return _simple_error(problems)
    return {"error": "N", "errores": []}


# The rules on one invoice, in the caller's transaction: the API's endpoints above apply them to
# the invoices of an external_reference, the console (encola/console/actions.py) to one invoice.


def delete_invoice(store: Store, connection, pdv_id: int, row: InvoiceRow) -> bool:
    """Delete the invoice if it is queued or in error, with its ``eliminado`` hook; whether it was."""
    deleted = row.state in CHANGEABLE and store.set_state(connection, row.id, row.state, state=DELETED)
    if deleted:
        store.add_event(connection, pdv_id, NewEvent("eliminado", row.external_reference), invoice_id=row.id)
    return deleted


def redate_invoice(store: Store, clock: Clock, connection, pdv_id: int, row: InvoiceRow, fecha, vencimiento) -> list[Error]:
    """Give a queued or errored invoice a new fecha (and vencimiento) and queue it, with its
    ``cambio_fecha`` hook; the errors when the rules refuse. Raises ReferenceInUse when an errored
    invoice's reference is live again elsewhere."""
    if row.state not in CHANGEABLE:
        return [_not_changeable([row])]
    problems = _date_problems(row, fecha, vencimiento or row.vencimiento, clock)
    if problems:
        return problems
    changed = store.set_state(
        connection,
        row.id,
        row.state,
        state=QUEUED,
        fecha=fecha,
        vencimiento=vencimiento or row.vencimiento,
        attempts=0,
        next_attempt_at=clock.now(),
        errors="[]",
    )
    if not changed:
        return [err("TFC-7009")]
    store.add_event(connection, pdv_id, NewEvent("cambio_fecha", row.external_reference), invoice_id=row.id)
    return []


def requeue_invoice(store: Store, clock: Clock, connection, pdv_id: int, row: InvoiceRow) -> Error | None:
    """Queue an errored invoice again, with its ``encolado`` hook; the error when it is not in error.
    Raises ReferenceInUse when its reference is live again elsewhere."""
    if row.state != ERROR:
        return err("TFC-7007") if row.state == EMITTED else err("TFC-7008")
    store.set_state(connection, row.id, ERROR, state=QUEUED, attempts=0, next_attempt_at=clock.now(), errors="[]")
    store.add_event(connection, pdv_id, NewEvent("encolado", row.external_reference), invoice_id=row.id)
    return None


def _date_problems(row: InvoiceRow, fecha, vencimiento, clock: Clock) -> list[Error]:
    concepto = row.afip.get("Concepto", 1)
    today = clock.today()
    minima = today - timedelta(days=DATE_WINDOW_DAYS[concepto])
    problems = []
    if fecha < minima:
        problems.append(err("TFC-2018", fecha=f.format_date(fecha), minima=f.format_date(minima)))
    if row.afip.get("SendFchVtoPago") and vencimiento and vencimiento < fecha:
        problems.append(err("TFC-2019", vencimiento=f.format_date(vencimiento), fecha=f.format_date(fecha)))
    return problems


def _reenviar(store: Store, clock: Clock, pdv: Pdv, body: dict) -> dict:
    reference = _reference(body)
    if reference is None:
        return _simple_error([err("TFC-7006", campo="external_reference")])
    with store.writing() as connection:
        rows = store.by_external_reference(connection, pdv.id, reference)
        if not rows:
            return _simple_error([err("TFC-7001")])
        row = next((r for r in rows if r.state == ERROR), None)
        if row is None:
            emitted = any(r.state == EMITTED for r in rows)
            return _simple_error([err("TFC-7007") if emitted else err("TFC-7008")])
        requeue_invoice(store, clock, connection, pdv.id, row)
    return {"error": "N", "errores": []}
