"""TF's ``status`` strings for an invoice's state (``08-consulta-simple.md``)."""

from __future__ import annotations

from datetime import date

from encola.domain.fields import format_date

EMITIDO = "EMITIDO"
CON_ERROR = "ENVIADO A PROCESAR - CON ERROR"


def tf_status(state: str, fecha: date) -> str:
    if state == "emitted":
        return EMITIDO
    if state == "error":
        return CON_ERROR
    # queued or being emitted right now: both are still "in the queue" for the client
    return f"APROBADO Y EN COLA. SE EMITE EL {format_date(fecha)}"
