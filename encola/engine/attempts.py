"""The AFIP attempts of a lane run, kept for the operators' console (table ``afip_attempts``).

One row per invoice per call that carried it (FECAESolicitar) or looked it up (FECompConsultar).
Rows wait here and are written with the next results the lane records (same transaction, one
more statement), or on their own when a run ends with nothing else to write.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from encola.afip import Accepted, AfipError, Rejected
from encola.afip.errors import AfipMessage

# Outcomes, as the console shows them.
ACCEPTED = "accepted"  # CAE granted
REJECTED = "rejected"  # AFIP refused the comprobante for its data
SEQUENCE = "sequence"  # 10016: not the next number (nothing held against the invoice)
BUSY = "busy"  # 502 Transaccion Activa: the call was not processed
UNKNOWN = "unknown"  # no answer (timeout, dropped): reconciled later
NOT_SENT = "not_sent"  # certainly never processed (refused connection, 503, auth)
ADOPTED = "adopted"  # FECompConsultar found it as sent: its CAE adopted
MISMATCH = "mismatch"  # FECompConsultar found another comprobante under the number
NOT_FOUND = "not_found"


def _messages(messages: tuple[AfipMessage, ...]) -> list[dict]:
    return [{"code": m.code, "msg": m.msg} for m in messages]


@dataclass
class Call:
    """One AFIP call of the lane: when it started and a batch id its rows share."""

    method: str
    started_at: datetime
    started: float = field(default_factory=time.monotonic)
    batch_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def duration_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


class AttemptLog:
    def __init__(self, cuit: str, punto_venta: int, cbte_tipo: int):
        self.lane = {"cuit": cuit, "punto_venta": punto_venta, "cbte_tipo": cbte_tipo}
        self.pending: list[dict] = []

    def add(self, call: Call, invoice_id: int, numero: int | None, outcome: str, messages: list[dict],
            duration_ms: int) -> None:
        self.pending.append({
            "invoice_id": invoice_id, **self.lane, "numero": numero, "batch_id": call.batch_id,
            "method": call.method, "started_at": call.started_at, "duration_ms": duration_ms,
            "outcome": outcome, "messages": messages,
        })

    def answered(self, call: Call, assigned, results) -> None:
        """A FECAESolicitar answered: one row per invoice, from its detail's result."""
        duration = call.duration_ms()
        by_number = {r.numero: r for r in results}
        for row, numero in assigned:
            outcome = by_number.get(numero)
            if isinstance(outcome, Accepted):
                self.add(call, row.id, numero, ACCEPTED, _messages(outcome.observaciones), duration)
            elif isinstance(outcome, Rejected):
                kind = SEQUENCE if outcome.is_sequence_error else REJECTED
                self.add(call, row.id, numero, kind, _messages(outcome.errors + outcome.observaciones), duration)
            else:
                self.add(call, row.id, numero, UNKNOWN, [], duration)

    def failed(self, call: Call, assigned, outcome: str, exc: AfipError) -> None:
        """A call without an answer for its comprobantes (busy, unknown, not sent)."""
        duration = call.duration_ms()
        messages = _messages(exc.errors) or [{"code": 0, "msg": str(exc)}]
        for row, numero in assigned:
            self.add(call, row.id, numero, outcome, messages, duration)

    def take(self) -> list[dict]:
        taken, self.pending = self.pending, []
        return taken
