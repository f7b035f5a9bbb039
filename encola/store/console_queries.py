"""The console's reads: the queue summary, the invoice search, one invoice with its deliveries.

Every query takes the point-of-sale ids the operator may see and filters by them in SQL, so an id
from another workspace finds nothing. None of them grows with the whole invoices table:

- the queue summary reads the live backlog (queued, processing, error) from the covering index
  ``ix_invoices_console_queue`` and today's invoices through ``ix_invoices_pdv_fecha``; emitted
  history is never counted per request;
- the search pages by keyset (``id`` below the last one shown, never OFFSET): one sub-query per
  point of sale (and state, when asked for), each reading an index in id order and stopping after
  one page, merged by ``UNION ALL`` (see ``_ids_query``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, and_, bindparam, case, func, literal_column, select, text, union_all

from encola.store.rows import InvoiceRow
from encola.store.schema import (
    DELETED,
    DISCARDED,
    EMITTED,
    ERROR,
    PROCESSING,
    QUEUED,
    hook_attempts,
    hook_events,
    invoices,
)

BACKLOG_STATES = (QUEUED, PROCESSING, ERROR)
ALL_STATES = (QUEUED, PROCESSING, EMITTED, ERROR, DELETED, DISCARDED)
# Past this many (point of sale, state) pairs one plain query replaces the union of sub-queries.
_UNION_LIMIT = 400
# SQLite plans without statistics (nothing runs ANALYZE on an embedded database) and, for today's
# invoices, picked an index on pdv_id alone and walked every invoice of each point of sale (seconds
# over a million): it is told the index. PostgreSQL plans by its statistics and gets no hint.
_BY_FECHA = "INDEXED BY ix_invoices_pdv_fecha"
# The same blind spot the other way: a buyer's document within a date range made SQLite take the
# range on ix_invoices_pdv_fecha (a month of every buyer) over ix_invoices_console_doc (one buyer's
# invoices, already in id order). SQLAlchemy renders no table hints for SQLite, so the date bounds
# are written on ``+fecha``: the same value, and SQLite uses no index for an expression.
_FECHA_WITHOUT_INDEX = literal_column("+invoices.fecha", Date)


@dataclass(frozen=True)
class LaneSummary:
    """One lane (point of sale, comprobante type) as the queue page shows it."""

    pdv_id: int
    cbte_tipo: int
    queued: int = 0
    due: int = 0  # queued with fecha today or earlier
    processing: int = 0
    error: int = 0
    emitted_today: int = 0
    oldest_due: date | None = None
    next_attempt_due: datetime | None = None  # when the due ones are tried next (UTC)
    next_future: date | None = None  # the first fecha still to come


@dataclass(frozen=True)
class SearchFilters:
    states: tuple[str, ...] = ()
    desde: date | None = None
    hasta: date | None = None
    cbte_tipo: int | None = None
    external_reference: str | None = None
    documento: str | None = None
    pdv_id: int | None = None


@dataclass(frozen=True)
class SearchPage:
    rows: list[InvoiceRow]
    next_before: int | None  # the keyset of the next page; None on the last one


@dataclass(frozen=True)
class Delivery:
    """A hook or mail event of an invoice, with each attempt (status code, error, duration)."""

    hook_id: str
    kind: str
    evento: str
    state: str
    creado: datetime
    delivered_at: datetime | None
    last_error: str | None
    attempts: list[dict]


class ConsoleQueries:
    """Mixed into Store: the console's read-only queries, each scoped to the given points of sale."""

    def queue_summary(self, pdv_ids: list[int], today: date) -> list[LaneSummary]:
        """Per lane: the backlog by state, what is due, the oldest due, the next emission."""
        if not pdv_ids:
            return []
        due = and_(invoices.c.state == QUEUED, invoices.c.fecha <= today)
        future = and_(invoices.c.state == QUEUED, invoices.c.fecha > today)
        backlog = (
            select(
                invoices.c.pdv_id, invoices.c.cbte_tipo, invoices.c.state, func.count().label("n"),
                func.sum(case((due, 1), else_=0)).label("due"),
                func.min(case((due, invoices.c.fecha))).label("oldest_due"),
                func.min(case((due, invoices.c.next_attempt_at))).label("next_attempt_due"),
                func.min(case((future, invoices.c.fecha))).label("next_future"),
            )
            .where(invoices.c.state.in_(BACKLOG_STATES), invoices.c.pdv_id.in_(pdv_ids))
            .group_by(invoices.c.pdv_id, invoices.c.cbte_tipo, invoices.c.state)
        )
        # Today's invoices by state, through ix_invoices_pdv_fecha (named to SQLite, see _BY_FECHA).
        hint = _BY_FECHA if self.engine.dialect.name == "sqlite" else ""
        today_rows = text(
            f"SELECT pdv_id, cbte_tipo, state, count(*) AS n FROM invoices {hint} "
            "WHERE pdv_id IN :pdv_ids AND fecha = :today GROUP BY pdv_id, cbte_tipo, state"
        ).bindparams(bindparam("pdv_ids", value=list(pdv_ids), expanding=True), bindparam("today", value=today, type_=Date))
        lanes: dict[tuple[int, int], dict] = {}
        with self.reading() as connection:
            for row in connection.execute(backlog):
                lane = lanes.setdefault((row.pdv_id, row.cbte_tipo), {})
                lane[row.state] = row.n
                if row.state == QUEUED:
                    lane.update(due=row.due or 0, oldest_due=_as_date(row.oldest_due),
                                next_attempt_due=row.next_attempt_due, next_future=_as_date(row.next_future))
            for row in connection.execute(today_rows):
                if row.state == EMITTED:
                    lanes.setdefault((row.pdv_id, row.cbte_tipo), {})["emitted_today"] = row.n
        return [
            LaneSummary(pdv_id, cbte_tipo, **{("processing" if k == PROCESSING else k): v for k, v in values.items()})
            for (pdv_id, cbte_tipo), values in sorted(lanes.items())
        ]

    def search_invoices(self, pdv_ids: list[int], filters: SearchFilters, *, before: int | None, limit: int) -> SearchPage:
        """One page of the operator's invoices, newest first, below the keyset ``before``."""
        if filters.pdv_id is not None:
            pdv_ids = [pdv_id for pdv_id in pdv_ids if pdv_id == filters.pdv_id]
        if not pdv_ids:
            return SearchPage([], None)
        conditions = _filter_conditions(filters, sqlite=self.engine.dialect.name == "sqlite")
        if before is not None:
            conditions.append(invoices.c.id < before)
        ids_query = _ids_query(pdv_ids, filters, conditions, limit + 1)
        with self.reading() as connection:
            ids = list(connection.execute(ids_query).scalars())
            shown = ids[:limit]
            rows = connection.execute(select(invoices).where(invoices.c.id.in_(shown))).all() if shown else []
        by_id = {row.id: InvoiceRow.from_row(row) for row in rows}
        return SearchPage([by_id[i] for i in shown if i in by_id], shown[-1] if len(ids) > limit else None)

    def console_invoice(self, pdv_ids: list[int], invoice_id: int) -> InvoiceRow | None:
        """One invoice, if it belongs to one of the given points of sale."""
        if not pdv_ids:
            return None
        with self.reading() as connection:
            row = connection.execute(
                select(invoices).where(invoices.c.id == invoice_id, invoices.c.pdv_id.in_(pdv_ids))
            ).first()
        return InvoiceRow.from_row(row) if row else None

    def deliveries_of_invoice(self, invoice_id: int) -> list[Delivery]:
        """Every hook and mail event written for an invoice, oldest first, with its attempts."""
        with self.reading() as connection:
            events = connection.execute(
                select(hook_events).where(hook_events.c.invoice_id == invoice_id).order_by(hook_events.c.id)
            ).all()
            attempts = connection.execute(
                select(hook_attempts)
                .join(hook_events, hook_events.c.id == hook_attempts.c.event_id)
                .where(hook_events.c.invoice_id == invoice_id)
                .order_by(hook_attempts.c.id)
            ).all()
        by_event: dict[int, list[dict]] = {}
        for attempt in attempts:
            by_event.setdefault(attempt.event_id, []).append(dict(attempt._mapping))
        return [
            Delivery(event.hook_id, event.kind, event.evento, event.state, event.creado, event.delivered_at,
                     event.last_error, by_event.get(event.id, []))
            for event in events
        ]


def _ids_query(pdv_ids: list[int], filters: SearchFilters, conditions: list, size: int):
    """The ids of one page, newest first.

    - An external_reference names a handful of rows: one query through ix_invoices_pdv_ext_ref.
    - Otherwise one sub-query per stream, each reading an index in id order and stopping after a
      page: per (point of sale, state) on ix_invoices_console_state when states are asked for, per
      point of sale on ix_invoices_console_pdv when not; UNION ALL merges them. Past
      ``_UNION_LIMIT`` streams, one plain query.
    """
    newest = invoices.c.id.desc()
    if filters.external_reference:
        where = [invoices.c.pdv_id.in_(pdv_ids), invoices.c.external_reference == filters.external_reference, *conditions]
        if filters.states:
            where.append(invoices.c.state.in_(filters.states))
        return select(invoices.c.id).where(*where).order_by(newest).limit(size)
    if filters.states:
        streams = [and_(invoices.c.pdv_id == pdv_id, invoices.c.state == state) for pdv_id in pdv_ids for state in filters.states]
    else:
        streams = [invoices.c.pdv_id == pdv_id for pdv_id in pdv_ids]
    if len(streams) > _UNION_LIMIT:
        where = [invoices.c.pdv_id.in_(pdv_ids), *conditions]
        if filters.states:
            where.append(invoices.c.state.in_(filters.states))
        return select(invoices.c.id).where(*where).order_by(newest).limit(size)
    parts = [select(invoices.c.id).where(stream, *conditions).order_by(newest).limit(size).subquery() for stream in streams]
    merged = union_all(*[select(part.c.id) for part in parts]).subquery()
    return select(merged.c.id).order_by(merged.c.id.desc()).limit(size)


def _filter_conditions(filters: SearchFilters, *, sqlite: bool) -> list:
    conditions = []
    fecha = _FECHA_WITHOUT_INDEX if sqlite and filters.documento else invoices.c.fecha
    if filters.desde is not None:
        conditions.append(fecha >= filters.desde)
    if filters.hasta is not None:
        conditions.append(fecha <= filters.hasta)
    if filters.cbte_tipo is not None:
        conditions.append(invoices.c.cbte_tipo == filters.cbte_tipo)
    if filters.documento:
        # Through ix_invoices_console_doc (pdv_id, doc_nro, id): each point of sale's stream
        # reads only that buyer's invoices, newest first (migration 0011).
        conditions.append(invoices.c.doc_nro == filters.documento)
    return conditions


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
