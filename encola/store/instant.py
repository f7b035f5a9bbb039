"""Instant requests (``nuevo``), abono recurrences, numeración and AFIP's health.

Two mixins: :class:`InstantQueries` joins the Store (what the API asks: store an instant request,
read its outcome, give up at the deadline, the last number, AFIP's recent health) and
:class:`InstantLaneQueries` joins the LaneStore (what the engine writes under a lane's lease:
discard an instant request AFIP certainly did not take, fail one AFIP rejected, create the next
recurrence of an abono once one is emitted).

An instant request is an invoice row like any other (so it has one numbering authority: the
lane), with ``instant`` "waiting" while its request waits, and "late" once the request was
answered that the outcome is unknown.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Connection, func, or_, select, update

from encola import jsontext
from encola.domain.abono import Abono, next_recurrence
from encola.store import notify
from encola.store.bulk import insert_rows
from encola.store.rows import EnqueueResult, InvoiceRow, NewEvent, NewInvoice, QuotaExceeded
from encola.store.schema import (
    DISCARDED,
    EMITTED,
    ERROR,
    INSTANT_LATE,
    INSTANT_WAITING,
    PROCESSING,
    QUEUED,
    afip_health,
    invoices,
    lane_leases,
)

# Columns a recurrence does not copy from the one before: set afresh or by the engine later.
_NOT_COPIED = {
    "id", "state", "attempts", "next_attempt_at", "numero", "cae", "cae_vencimiento", "afip_qr",
    "afip_codigo_barras", "errors", "observaciones", "created_at", "updated_at", "emitted_at", "issuer_id",
    "afip_env", "instant", "recurrencia", "abono_siguiente", "fecha", "vencimiento", "afip", "view",
    "mail_sent_at", "mail_sent_to",
}


class InstantQueries:
    """Mixed into Store."""

    def pdv_has_queued(self, pdv_id: int, today: date) -> bool:
        """TF's rule for instant requests: invoices waiting in the queue (any date, any tipo), not
        counting instant requests in flight, invoices in error, or an abono's future recurrences."""
        with self.reading() as connection:
            found = connection.execute(
                select(invoices.c.id)
                .where(
                    invoices.c.pdv_id == pdv_id,
                    invoices.c.state == QUEUED,
                    invoices.c.instant.is_(None),
                    or_(invoices.c.recurrencia == 0, invoices.c.fecha <= today),
                )
                .limit(1)
            ).first()
        return found is not None

    def insert_instant(self, new: NewInvoice, cupo: int | None, workspace_id: int) -> EnqueueResult | QuotaExceeded:
        """Store an instant request (``new.instant`` "waiting"), due now, without any event.

        With an external_reference, a live invoice holding it is returned instead (idempotency,
        as intake's); without one, the request is always a new invoice.
        """
        with self.writing() as connection:
            if new.external_reference:
                result = self._enqueue_one(connection, new, None, cupo, workspace_id)
            else:
                if cupo is not None:
                    try:
                        self._check_quota(connection, workspace_id, cupo)
                    except QuotaExceeded as exc:
                        return exc
                ids = self._insert_invoices(connection, [new])
                result = EnqueueResult(invoice_id=next(iter(ids.values())))
            if isinstance(result, EnqueueResult) and result.invoice_id is not None:
                notify.notify(connection)  # wake the workers of other processes
            return result

    def stop_abono(self, connection: Connection, pdv_id: int, reference: str) -> None:
        """No further recurrences of the abonos under ``reference`` (eliminar_encolado). Run first in
        the caller's transaction: it waits for a recurrence being created, which the caller then sees."""
        connection.execute(
            update(invoices)
            .where(
                invoices.c.pdv_id == pdv_id,
                invoices.c.external_reference == reference,
                invoices.c.abono_siguiente.is_not(None),
            )
            .values(abono_siguiente=None)
        )

    def invoices_by_id(self, ids: list[int]) -> list[InvoiceRow]:
        with self.reading() as connection:
            rows = connection.execute(select(invoices).where(invoices.c.id.in_(ids))).all()
        return [InvoiceRow.from_row(row) for row in rows]

    def give_up_instant(self, invoice_id: int, reason: str) -> str | None:
        """At the request's deadline: an instant invoice never numbered is discarded (AFIP cannot
        have it); one numbered (AFIP may have it) becomes "late", to be reconciled and notified.
        Returns "discarded", "late", or None when the engine settled it meanwhile (or it was
        already late): read it again."""
        now = self.clock.now()
        with self.writing() as connection:
            discarded = connection.execute(
                update(invoices)
                .where(invoices.c.id == invoice_id, invoices.c.state == QUEUED, invoices.c.instant == INSTANT_WAITING)
                .values(state=DISCARDED, errors=json.dumps([reason], ensure_ascii=False), updated_at=now)
            ).rowcount
            if discarded:
                return "discarded"
            late = connection.execute(
                update(invoices)
                .where(invoices.c.id == invoice_id, invoices.c.state == PROCESSING, invoices.c.instant == INSTANT_WAITING)
                .values(instant=INSTANT_LATE, updated_at=now)
            ).rowcount
        return "late" if late else None

    def last_known_numero(self, cuit: str, punto_venta: int, cbte_tipo: int, pdv_id: int) -> int:
        """encola's own record of a lane's last authorized number: what the lane last heard from
        AFIP, or the highest number it emitted, whichever is larger (0 if none)."""
        with self.reading() as connection:
            recorded = connection.execute(
                select(lane_leases.c.last_numero).where(
                    lane_leases.c.cuit == cuit,
                    lane_leases.c.punto_venta == punto_venta,
                    lane_leases.c.cbte_tipo == cbte_tipo,
                )
            ).scalar()
            emitted = connection.execute(
                select(func.max(invoices.c.numero)).where(
                    invoices.c.pdv_id == pdv_id, invoices.c.cbte_tipo == cbte_tipo, invoices.c.state == EMITTED
                )
            ).scalar()
        return max(recorded or 0, emitted or 0)

    # --- AFIP's health (estado_servicios) ------------------------------------------------------

    def record_afip_health(self, scope: str, ok: bool, error: str | None = None) -> None:
        """A call to AFIP for ``scope`` (a CUIT, or "afip" for FEDummy) succeeded or failed."""
        from sqlalchemy.dialects import postgresql, sqlite

        now = self.clock.now()
        error = None if ok else (error or "")[:1000]
        with self.writing() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(afip_health).values(
                scope=scope, checked_at=now, failing_since=None if ok else now, last_error=error
            )
            statement = statement.on_conflict_do_update(
                index_elements=["scope"],
                set_={
                    "checked_at": now,
                    "failing_since": None if ok else func.coalesce(afip_health.c.failing_since, now),
                    "last_error": error,
                },
            )
            connection.execute(statement)

    def afip_health_of(self, scopes: list[str]) -> dict[str, tuple[datetime | None, datetime]]:
        """(failing_since, checked_at) per known scope."""
        with self.reading() as connection:
            rows = connection.execute(select(afip_health).where(afip_health.c.scope.in_(scopes))).all()
        return {row.scope: (row.failing_since, row.checked_at) for row in rows}


class InstantLaneQueries:
    """Mixed into LaneStore: the engine's writes for instant requests and abonos, fenced."""

    def lanes_with_instant_waiting(self, limit: int = 500) -> set:
        from encola.store.lanes import Lane

        with self.store.reading() as connection:
            rows = connection.execute(
                select(invoices.c.cuit, invoices.c.punto_venta, invoices.c.cbte_tipo)
                .where(invoices.c.state == QUEUED, invoices.c.instant == INSTANT_WAITING)
                .distinct()
                .limit(limit)
            ).all()
        return {Lane(*row) for row in rows}

    def discard_instant(self, lease, rows: list[InvoiceRow], reason: str) -> set[int]:
        """Instant requests still waiting that AFIP certainly did not emit: discarded, number
        freed, no hook (their request answers the reason). Returns the ids discarded; the others
        (answered "late" meanwhile) are left for the caller to treat like any invoice."""
        ids = [row.id for row in rows if row.instant == INSTANT_WAITING]
        if not ids:
            return set()
        with self.fenced(lease) as connection:
            discarded = connection.execute(
                update(invoices)
                .where(
                    invoices.c.id.in_(ids),
                    invoices.c.state.in_((QUEUED, PROCESSING)),
                    invoices.c.instant == INSTANT_WAITING,
                )
                .values(
                    state=DISCARDED,
                    numero=None,
                    errors=json.dumps([reason], ensure_ascii=False),
                    updated_at=self.clock.now(),
                )
                .returning(invoices.c.id)
            ).all()
        return {row.id for row in discarded}

    def discard_waiting_in_lane(self, lease, reason: str) -> int:
        """Every instant request of the lane still queued and waiting (none was sent): discarded."""
        lane = lease.lane
        with self.fenced(lease) as connection:
            return connection.execute(
                update(invoices)
                .where(
                    invoices.c.cuit == lane.cuit,
                    invoices.c.punto_venta == lane.punto_venta,
                    invoices.c.cbte_tipo == lane.cbte_tipo,
                    invoices.c.state == QUEUED,
                    invoices.c.instant == INSTANT_WAITING,
                )
                .values(state=DISCARDED, errors=json.dumps([reason], ensure_ascii=False), updated_at=self.clock.now())
            ).rowcount

    def mark_instant_failed(self, lease, row: InvoiceRow, messages: list[str], *, from_state: str) -> None:
        """An instant invoice AFIP rejected (or out of attempts): error, number freed. Its ``error``
        hook goes out only once its request was answered that the outcome was unknown (TF)."""
        with self.fenced(lease) as connection:
            changed = connection.execute(
                update(invoices)
                .where(invoices.c.id == row.id, invoices.c.state == from_state)
                .values(
                    state=ERROR, numero=None, errors=json.dumps(messages, ensure_ascii=False), updated_at=self.clock.now()
                )
                .returning(invoices.c.instant)
            ).first()
            if changed is not None and changed.instant == INSTANT_LATE and row.external_reference:
                self.store.add_event(
                    connection, row.pdv_id, NewEvent("error", row.external_reference, tuple(messages)), invoice_id=row.id
                )

    def _abono_filter(self, lane):
        return (
            invoices.c.cuit == lane.cuit,
            invoices.c.punto_venta == lane.punto_venta,
            invoices.c.cbte_tipo == lane.cbte_tipo,
            invoices.c.abono_siguiente.is_not(None),
        )

    def abonos_to_renew(self, lane) -> bool:
        """Whether an emitted comprobante of the lane still has to get its next recurrence."""
        with self.store.reading() as connection:
            found = connection.execute(
                select(invoices.c.id).where(*self._abono_filter(lane), invoices.c.state == EMITTED).limit(1)
            ).first()
        return found is not None

    def create_recurrences(self, lease) -> int:
        """For every emitted comprobante of the lane whose abono goes on: its next recurrence,
        queued on its own date (fenced, idempotent). Returns how many were created."""
        now = self.clock.now()
        with self.fenced(lease) as connection:
            claimed = connection.execute(
                update(invoices)
                .where(*self._abono_filter(lease.lane), invoices.c.state == EMITTED)
                .values(abono_siguiente=None)
                .returning(*invoices.c)
            ).all()
            rows = [self._next_of(row._mapping, now) for row in claimed]
            if rows:
                insert_rows(connection, invoices, rows, skip_conflicts_on=_live_reference_index())
                notify.notify(connection)
        return len(rows)

    @staticmethod
    def _next_of(previous, now: datetime) -> dict:
        abono = Abono.from_json(previous["abono"])
        changes = next_recurrence(
            abono,
            previous["recurrencia"],
            vencimiento=previous["vencimiento"],
            afip=jsontext.loads(previous["afip"]),
            view=jsontext.loads(previous["view"]),
        )
        row = {name: value for name, value in previous.items() if name not in _NOT_COPIED}
        row.update(
            state=QUEUED,
            attempts=0,
            next_attempt_at=now,
            errors="[]",
            created_at=now,
            updated_at=now,
            recurrencia=previous["recurrencia"] + 1,
            abono_siguiente=changes["abono_siguiente"],
            fecha=changes["fecha"],
            vencimiento=changes["vencimiento"],
            afip=jsontext.dumps_text(changes["afip"]),
            view=jsontext.dumps_text(changes["view"]),
        )
        return row


def _live_reference_index():
    return next(index for index in invoices.indexes if index.name == "uq_invoices_live_external_reference")
