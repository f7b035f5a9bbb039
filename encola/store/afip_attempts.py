"""AFIP attempts per invoice: written by the engine with its results, read by the console.

The engine hands over plain dicts (see ``AttemptLog`` in ``encola/engine/attempts.py``) and they
are inserted in the transaction the lane is already writing, so recording them costs one more
statement per batch, not one per invoice: on PostgreSQL an ``INSERT … SELECT FROM unnest``,
on SQLite an ``executemany`` (in-process).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from encola.store.schema import afip_attempts

_COLUMNS = (
    "invoice_id", "cuit", "punto_venta", "cbte_tipo", "numero", "batch_id",
    "method", "started_at", "duration_ms", "outcome", "messages",
)
_INSERT_PG = (
    "INSERT INTO afip_attempts (" + ", ".join(_COLUMNS) + ") "
    "SELECT * FROM unnest("
    "%(invoice_id)s::integer[], %(cuit)s::varchar[], %(punto_venta)s::integer[], %(cbte_tipo)s::integer[], "
    "%(numero)s::integer[], %(batch_id)s::varchar[], %(method)s::varchar[], %(started_at)s::timestamp[], "
    "%(duration_ms)s::integer[], %(outcome)s::varchar[], %(messages)s::text[])"
)
_INSERT = insert(afip_attempts)


def insert_attempts(connection: Connection, attempts: list[dict]) -> None:
    """Insert attempt rows (dicts with the table's columns; ``messages`` a list) in the caller's transaction."""
    if not attempts:
        return
    rows = [dict(a, messages=json.dumps(a["messages"], ensure_ascii=False)) for a in attempts]
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_INSERT_PG, {c: [row[c] for row in rows] for c in _COLUMNS})
    else:
        connection.execute(_INSERT, rows)


class AfipAttemptQueries:
    """Mixed into ``Store``."""

    def afip_attempts_for_invoice(self, invoice_id: int) -> list[dict]:
        """Every recorded AFIP attempt for an invoice, oldest first.

        Each: method, batch_id, lane (cuit, punto_venta, cbte_tipo), numero, started_at (naive
        UTC), duration_ms, outcome and messages (``[{"code", "msg"}]``, AFIP's, verbatim).
        """
        with self.reading() as connection:
            rows = connection.execute(
                select(afip_attempts)
                .where(afip_attempts.c.invoice_id == invoice_id)
                .order_by(afip_attempts.c.started_at, afip_attempts.c.id)
            ).all()
        return [
            {
                "id": row.id,
                "invoice_id": row.invoice_id,
                "cuit": row.cuit,
                "punto_venta": row.punto_venta,
                "cbte_tipo": row.cbte_tipo,
                "numero": row.numero,
                "batch_id": row.batch_id,
                "method": row.method,
                "started_at": row.started_at,
                "duration_ms": row.duration_ms,
                "outcome": row.outcome,
                "messages": json.loads(row.messages),
            }
            for row in rows
        ]

    def record_afip_attempts(self, attempts: list[dict]) -> None:
        """Insert attempts in a transaction of their own (when no result write carries them)."""
        if attempts:
            with self.writing() as connection:
                insert_attempts(connection, attempts)

    def prune_afip_attempts(self, older_than: datetime, limit: int = 10_000) -> int:
        """Delete attempts started before ``older_than``, at most ``limit`` per call (short
        transactions); how many were deleted."""
        with self.writing() as connection:
            ids = select(afip_attempts.c.id).where(afip_attempts.c.started_at < older_than).limit(limit)
            return connection.execute(delete(afip_attempts).where(afip_attempts.c.id.in_(ids))).rowcount
