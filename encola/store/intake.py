"""Intake and the client's queue operations: storing accepted invoices (group commit), the
idempotency of external_reference, and compare-and-set state changes (eliminar, reenviar…)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from encola import jsontext
from encola.store import notify
from encola.store.bulk import insert_rows
from encola.store.rows import EnqueueResult, InvoiceRow, NewEvent, NewInvoice, QuotaExceeded, ReferenceInUse
from encola.store.schema import DISCARDED, HIDDEN_STATES, LIVE_STATES, QUEUED, invoices, pdvs

LIVE_EXTERNAL_REFERENCE_INDEX = "uq_invoices_live_external_reference"
LIVE_REFERENCE_INDEX = next(index for index in invoices.indexes if index.name == LIVE_EXTERNAL_REFERENCE_INDEX)


def buyer_document(view: dict) -> str | None:
    """The buyer's document number of a consulta ``view`` (TF writes it with a trailing space),
    kept in a column of its own so the console finds a buyer's invoices through an index."""
    number = str((view.get("cliente") or {}).get("documento_nro") or "").strip()
    return number or None


def _is_live_reference_violation(exc: IntegrityError) -> bool:
    """Recognise the idempotency index by name (PostgreSQL) or by its columns (SQLite)."""
    message = str(exc.orig)
    return LIVE_EXTERNAL_REFERENCE_INDEX in message or "invoices.pdv_id, invoices.external_reference" in message


_LIVE_BY_REFERENCES = select(invoices).where(
    invoices.c.pdv_id == bindparam("pdv_id"),
    invoices.c.external_reference.in_(bindparam("references", expanding=True)),
    invoices.c.state.in_(LIVE_STATES),
    invoices.c.recurrencia == 0,  # the one the idempotency index weighs a new request against
)




class IntakeQueries:
    """Mixed into Store: writing invoices as clients send and manage them."""

    async def enqueue(self, new: NewInvoice, event: NewEvent, cupo: int | None, workspace_id: int) -> EnqueueResult:
        """Store an accepted invoice and its ``encolado`` event in one transaction.

        When a live invoice already holds the external_reference, nothing is written and that
        invoice is returned, so the caller can replay the original answer or refuse. Concurrent
        calls are committed together (see group_commit.py); raises QuotaExceeded.
        """
        return await self._intake_writer.submit((new, event, cupo, workspace_id))

    def _enqueue_many(self, items: list[tuple]) -> list[EnqueueResult | Exception]:
        """Every waiting intake in one transaction (the group-commit writer's job)."""
        with self.writing() as connection:
            return self._enqueue_in(connection, items)

    def _enqueue_in(self, connection: Connection, items: list[tuple]) -> list[EnqueueResult | Exception]:
        """The invoices of ``items`` and their events, in the caller's transaction.

        Most items are written together, in one insert that the live-reference index arbitrates:
        an invoice whose reference is held by a live one (stored before, or by another process
        at this very moment) is left out, and the holder is looked up for the answer. An item
        whose reference already came earlier in the batch, or whose workspace has a monthly
        quota, is written after them on its own, so it sees what the batch wrote before it.
        """
        results: list[EnqueueResult | Exception | None] = [None] * len(items)
        together, alone, seen = [], [], set()
        for index, (new, _, cupo, _) in enumerate(items):
            key = (new.pdv_id, new.external_reference)
            (alone if key in seen or cupo is not None else together).append(index)
            seen.add(key)
        ids = self._insert_invoices(connection, [items[i][0] for i in together])
        held = [items[i][0] for i in together if (items[i][0].pdv_id, items[i][0].external_reference) not in ids]
        live = self._live_by_references(connection, held) if held else {}
        for index in together:
            new = items[index][0]
            key = (new.pdv_id, new.external_reference)
            if key in ids:
                results[index] = EnqueueResult(invoice_id=ids[key])
            elif key in live:
                results[index] = EnqueueResult(existing=live[key])
            else:  # its holder stopped being live in between: try again on its own
                alone.append(index)
        for index in alone:
            results[index] = self._enqueue_one(connection, *items[index])
        events = [
            (new.pdv_id, event, result.invoice_id)
            for (new, event, _, _), result in zip(items, results)
            if isinstance(result, EnqueueResult) and result.invoice_id is not None
        ]
        self.add_events(connection, events)
        return results

    def _enqueue_one(self, connection: Connection, new: NewInvoice, event: NewEvent, cupo, workspace_id) -> EnqueueResult | Exception:
        key = (new.pdv_id, new.external_reference)
        for _ in range(3):
            existing = self._live_by_references(connection, [new]).get(key)
            if existing is not None:
                return EnqueueResult(existing=existing)
            if cupo is not None:
                try:
                    self._check_quota(connection, workspace_id, cupo)
                except QuotaExceeded as exc:
                    return exc
            ids = self._insert_invoices(connection, [new])
            if key in ids:
                return EnqueueResult(invoice_id=ids[key])
            # Another process made the reference live between our look and our insert: look again.
        return RuntimeError("the external_reference kept changing hands while it was being stored")

    def _live_by_references(self, connection: Connection, news: list[NewInvoice]) -> dict[tuple[int, str], InvoiceRow]:
        """The live invoices holding any of these references, by (pdv_id, reference)."""
        by_pdv: dict[int, list[str]] = {}
        for new in news:
            by_pdv.setdefault(new.pdv_id, []).append(new.external_reference)
        live = {}
        for pdv_id, references in by_pdv.items():
            for row in connection.execute(_LIVE_BY_REFERENCES, {"pdv_id": pdv_id, "references": references}):
                found = InvoiceRow.from_row(row)
                live[(found.pdv_id, found.external_reference)] = found
        return live

    def _check_quota(self, connection: Connection, workspace_id: int, cupo: int) -> None:
        """Refuse when the workspace has used its monthly quota (calendar month, UTC-3)."""
        today = self.clock.today()
        month_start = datetime(today.year, today.month, 1, 3)  # 00:00 in Argentina, as naive UTC
        used = connection.execute(
            select(func.count())
            .select_from(invoices.join(pdvs))
            .where(
                pdvs.c.workspace_id == workspace_id,
                invoices.c.created_at >= month_start,
                invoices.c.state != DISCARDED,  # an instant request AFIP never took is no comprobante
            )
        ).scalar_one()
        if used >= cupo:
            raise QuotaExceeded(used, cupo)

    def _insert_invoices(self, connection: Connection, news: list[NewInvoice]) -> dict[tuple[int, str], int]:
        """Insert queued invoices in one statement, in arrival order (so ids, a lane's order among
        invoices of one date, follow it), leaving out those whose reference a live invoice holds.

        The new ids by (pdv_id, external_reference), unique among ``news``.
        """
        if not news:
            return {}
        now = self.clock.now()
        rows = [
            {
                "pdv_id": new.pdv_id,
                "cuit": new.cuit,
                "punto_venta": new.punto_venta,
                "cbte_tipo": new.cbte_tipo,
                "tipo": new.tipo,
                "external_reference": new.external_reference,
                "request_hash": new.request_hash,
                "fecha": new.fecha,
                "vencimiento": new.vencimiento,
                "state": QUEUED,
                "attempts": 0,
                "next_attempt_at": now,
                "errors": "[]",
                "total": new.total,
                "afip": jsontext.dumps_text(new.afip),
                "view": jsontext.dumps_text(new.view),
                "doc_nro": buyer_document(new.view),
                "response": jsontext.dumps_text(new.response),
                "mail_to": new.mail_to,
                "instant": new.instant,
                "abono": new.abono,
                "recurrencia": new.recurrencia,
                "abono_siguiente": new.abono_siguiente,
                "created_at": now,
                "updated_at": now,
            }
            for new in news
        ]
        inserted = insert_rows(
            connection, invoices, rows, returning=("id", "pdv_id", "external_reference"), skip_conflicts_on=LIVE_REFERENCE_INDEX
        )
        return {(row.pdv_id, row.external_reference): row.id for row in inserted}

    def by_external_reference(self, connection: Connection, pdv_id: int, reference: str) -> list[InvoiceRow]:
        """The caller's not-deleted invoices with a reference, first sent first."""
        rows = connection.execute(
            select(invoices)
            .where(
                invoices.c.pdv_id == pdv_id,
                invoices.c.external_reference == reference,
                invoices.c.state.not_in(HIDDEN_STATES),
            )
            .order_by(invoices.c.id)
        ).all()
        return [InvoiceRow.from_row(row) for row in rows]

    def set_state(self, connection: Connection, invoice_id: int, expected: str, **values) -> bool:
        """Move an invoice on, only if it is still in ``expected`` state (a compare-and-set).

        Raises ReferenceInUse when reviving it would give its reference two live invoices.
        """
        try:
            result = connection.execute(
                update(invoices)
                .where(invoices.c.id == invoice_id, invoices.c.state == expected)
                .values(updated_at=self.clock.now(), **values)
            )
        except IntegrityError as exc:
            if _is_live_reference_violation(exc):
                raise ReferenceInUse() from None
            raise
        if values.get("state") == QUEUED:
            notify.notify(connection)
        return result.rowcount == 1

