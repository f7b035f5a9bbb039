"""AFIP's answers as the ``msg`` of an ``error`` hook, in the shape TusFacturas clients parse.

TF's hooks read ``" AFIP Factura electronica, informa el siguiente error: Cod. Error:
#6661145.10036 - El campo FchVtoPago no puede ser anterior a la fecha del comprobante. ..."``;
the code after ``#6661145.`` is AFIP's own, and the text is AFIP's, verbatim.
"""

from __future__ import annotations

from encola.afip import AfipMessage

PREFIX = " AFIP Factura electronica, informa el siguiente error: Cod. Error: #6661145."
REJECTED = PREFIX + "0 - AFIP rechazo la generacion del comprobante"


def afip_rejection(errors: tuple[AfipMessage, ...], observaciones: tuple[AfipMessage, ...]) -> list[str]:
    return [REJECTED] + [f"{PREFIX}{m.code} - {m.msg}" for m in (*errors, *observaciones)]


def attempts_exhausted(attempts: int, last_error: str) -> list[str]:
    return [
        f"No se pudo emitir el comprobante luego de {attempts} intentos: los servicios de AFIP no respondieron. "
        f"Ultimo error: {last_error}"
    ]
