"""Every query encola runs, one named method per statement or transaction.

Nothing outside this package writes SQL. Rows leave as frozen dataclasses (``from_row``), never
as SQLAlchemy objects. Writes on SQLite open with ``BEGIN IMMEDIATE`` (see ``db.py``).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Iterator

from sqlalchemy import Connection, Engine, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from encola import jsontext
from encola.clock import Clock
from encola.store import notify
from encola.store.bulk import insert_rows
from encola.store.group_commit import GroupCommit
from encola.store.schema import (
    DELETED,
    EMITTED,
    ERROR,
    LIVE_STATES,
    PROCESSING,
    QUEUED,
    hook_attempts,
    hook_events,
    invoices,
    pdvs,
    workspaces,
)

LIVE_EXTERNAL_REFERENCE_INDEX = "uq_invoices_live_external_reference"
LIVE_REFERENCE_INDEX = next(index for index in invoices.indexes if index.name == LIVE_EXTERNAL_REFERENCE_INDEX)
PDV_CACHE_SECONDS = 1.0


def _from_mapping(cls, mapping, **computed):
    """A frozen row dataclass from a result row: same-named columns, plus computed fields."""
    return cls(**{f.name: computed[f.name] if f.name in computed else mapping[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Pdv:
    id: int
    workspace_id: int
    cuit: str
    punto_venta: int
    razon_social: str
    condicion_iva: str
    conceptos: str
    webhook_url: str | None
    webhook_token: str
    apikey: str
    usertoken_hash: str
    apitoken_hash: str
    activo: bool
    workspace_activo: bool
    cupo_mensual: int | None
    has_certificate: bool

    @classmethod
    def from_row(cls, row) -> "Pdv":
        return _from_mapping(
            cls,
            row._mapping,
            activo=bool(row.activo),
            workspace_activo=bool(row.workspace_activo),
            has_certificate=row.cert_pem is not None,
        )


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    pdv_id: int
    cuit: str
    punto_venta: int
    cbte_tipo: int
    tipo: str
    external_reference: str
    request_hash: str
    fecha: date
    vencimiento: date | None
    state: str
    attempts: int
    next_attempt_at: datetime
    numero: int | None
    cae: str | None
    cae_vencimiento: date | None
    afip_qr: str | None
    afip_codigo_barras: str | None
    errors: list
    total: str
    afip: dict
    view: dict | None
    response: dict | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row) -> "InvoiceRow":
        # The engine selects without the (large) view and response; they stay None then.
        mapping = row._mapping
        decoded = {name: jsontext.loads(mapping[name]) if name in mapping else None for name in ("errors", "afip", "view", "response")}
        return _from_mapping(cls, mapping, **decoded)


@dataclass(frozen=True)
class HookEvent:
    id: int
    hook_id: str
    pdv_id: int
    recurso: str
    evento: str
    external_reference: str
    msg: list
    creado: datetime
    state: str
    attempts: int
    webhook_url: str | None = None
    webhook_token: str = ""

    @classmethod
    def from_row(cls, row) -> "HookEvent":
        mapping = row._mapping
        return _from_mapping(
            cls,
            mapping,
            msg=jsontext.loads(mapping["msg"]),
            webhook_url=mapping.get("webhook_url"),
            webhook_token=mapping.get("webhook_token") or "",
        )


@dataclass(frozen=True)
class Attempt:
    """The outcome of one delivery attempt, as the dispatcher hands it to the store."""

    event: HookEvent
    url: str
    status_code: int | None
    error: str | None
    duration_ms: int
    delivered: bool
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class NewEvent:
    """An outbox event to write in the same transaction as the state change it reports."""

    evento: str
    external_reference: str
    msg: tuple[str, ...] = ()
    recurso: str = "facturacion"


@dataclass(frozen=True)
class NewInvoice:
    pdv_id: int
    cuit: str
    punto_venta: int
    cbte_tipo: int
    tipo: str
    external_reference: str
    request_hash: str
    fecha: date
    vencimiento: date | None
    total: str
    afip: dict
    view: dict
    response: dict


@dataclass(frozen=True)
class EnqueueResult:
    """Either the new invoice's id, or the live invoice that already holds the reference."""

    invoice_id: int | None = None
    existing: InvoiceRow | None = None


@dataclass(frozen=True)
class Page:
    total: int
    rows: list[InvoiceRow]


class ReferenceInUse(Exception):
    """Another live invoice of the PDV holds the external_reference (the partial unique index)."""


class QuotaExceeded(Exception):
    def __init__(self, used: int, cupo: int):
        super().__init__(f"{used} of {cupo}")
        self.used, self.cupo = used, cupo


def _is_live_reference_violation(exc: IntegrityError) -> bool:
    """Recognise the idempotency index by name (PostgreSQL) or by its columns (SQLite)."""
    message = str(exc.orig)
    return LIVE_EXTERNAL_REFERENCE_INDEX in message or "invoices.pdv_id, invoices.external_reference" in message


_PDV_COLUMNS = [pdvs, workspaces.c.activo.label("workspace_activo"), workspaces.c.cupo_mensual]

# Hot-path statements are built once with bound parameters: constructing a statement per call
# (``.values(**row)``, fresh ``where`` clauses) cost more CPU than the query itself.
_PDV_BY_APIKEY = select(*_PDV_COLUMNS).join(workspaces).where(pdvs.c.apikey == bindparam("apikey"))
_LIVE_BY_REFERENCES = select(invoices).where(
    invoices.c.pdv_id == bindparam("pdv_id"),
    invoices.c.external_reference.in_(bindparam("references", expanding=True)),
    invoices.c.state.in_(LIVE_STATES),
)


def _claim_events(skip_locked: bool):
    """Lease the earliest due events in one statement; another dispatcher's claims are skipped."""
    due = (
        select(hook_events.c.id)
        .where(
            hook_events.c.state == "pending",
            hook_events.c.next_attempt_at <= bindparam("now"),
            or_(hook_events.c.locked_until.is_(None), hook_events.c.locked_until <= bindparam("now")),
        )
        .order_by(hook_events.c.next_attempt_at, hook_events.c.id)
        .limit(bindparam("limit"))
    )
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    return (
        update(hook_events)
        .where(hook_events.c.id.in_(due.scalar_subquery()))
        .values(locked_until=bindparam("lease_until"))
        .returning(hook_events.c.id)
    )


_CLAIM_EVENTS = _claim_events(skip_locked=False)  # SQLite: one writer, nothing to skip
_CLAIM_EVENTS_PG = _claim_events(skip_locked=True)
_CLAIMED_EVENTS = (
    select(hook_events, pdvs.c.webhook_url, pdvs.c.webhook_token)
    .join(pdvs, pdvs.c.id == hook_events.c.pdv_id)
    .where(hook_events.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(hook_events.c.id)
)
_NEXT_EVENT_DUE = select(func.min(hook_events.c.next_attempt_at)).where(hook_events.c.state == "pending")
_MOVE_EVENT = (
    update(hook_events)
    .where(
        hook_events.c.id == bindparam("event_id"),
        hook_events.c.state == "pending",
        hook_events.c.attempts == bindparam("attempts_before"),
    )
    .values(
        attempts=bindparam("attempts_after"),
        locked_until=None,
        last_error=bindparam("last_error"),
        state=bindparam("new_state"),
        next_attempt_at=func.coalesce(bindparam("new_next_attempt_at"), hook_events.c.next_attempt_at),
        delivered_at=bindparam("new_delivered_at"),
    )
)

_MOVE_EVENTS_PG = """
UPDATE hook_events AS e SET
    attempts = m.attempts_after,
    locked_until = NULL,
    last_error = m.last_error,
    state = m.new_state,
    next_attempt_at = coalesce(m.new_next_attempt_at, e.next_attempt_at),
    delivered_at = m.new_delivered_at
FROM unnest(%(event_id)b::integer[], %(attempts_before)b::integer[], %(attempts_after)b::integer[],
            %(last_error)b::text[], %(new_state)b::text[], %(new_next_attempt_at)b::timestamp[],
            %(new_delivered_at)b::timestamp[])
    AS m(event_id, attempts_before, attempts_after, last_error, new_state, new_next_attempt_at, new_delivered_at)
WHERE e.id = m.event_id AND e.state = 'pending' AND e.attempts = m.attempts_before
"""  # _MOVE_EVENT for a whole round, PostgreSQL only


class Store:
    def __init__(self, engine: Engine, clock: Clock | None = None):
        self.engine = engine
        self.clock = clock or Clock()
        # SQLite has one writer. Threads of this process take turns here instead of colliding
        # in BEGIN IMMEDIATE, where SQLite's busy handler would make them sleep for milliseconds.
        self._write_turn = threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        self._pdv_cache: dict[str, tuple[Pdv, float]] = {}
        self._intake_writer = GroupCommit(self._enqueue_many)

    # --- transactions ----------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on success."""
        with self._write_turn, self.engine.connect() as connection:
            connection = connection.execution_options(write=True)
            with connection.begin():
                yield connection

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            with connection.begin():
                yield connection

    # --- workspaces and points of sale ------------------------------------------------------

    def create_workspace(self, connection: Connection, nombre: str) -> int:
        """Insert a workspace (active, no monthly limit)."""
        return connection.execute(
            insert(workspaces).values(nombre=nombre, activo=True, created_at=self.clock.now())
        ).inserted_primary_key[0]

    def workspace_of_cuit(self, connection: Connection, cuit: str) -> int | None:
        """The workspace that already holds a CUIT, if any."""
        return connection.execute(
            select(pdvs.c.workspace_id).where(pdvs.c.cuit == cuit).order_by(pdvs.c.id).limit(1)
        ).scalar()

    def update_workspace(self, connection: Connection, workspace_id: int, **values) -> None:
        """Change a workspace's activo / cupo_mensual."""
        connection.execute(update(workspaces).where(workspaces.c.id == workspace_id).values(**values))
        self._pdv_cache.clear()

    def insert_pdv(self, connection: Connection, **values) -> int:
        """Insert a point of sale; raises IntegrityError when (cuit, punto_venta) exists."""
        now = self.clock.now()
        return connection.execute(
            insert(pdvs).values(created_at=now, updated_at=now, **values)
        ).inserted_primary_key[0]

    def update_pdv(self, connection: Connection, pdv_id: int, **values) -> None:
        """Change a point of sale's settings or keys."""
        connection.execute(
            update(pdvs).where(pdvs.c.id == pdv_id).values(updated_at=self.clock.now(), **values)
        )
        self._pdv_cache.clear()

    def pdv_by_apikey(self, apikey: str) -> Pdv | None:
        """The point of sale an apikey names (the credentials' lookup key).

        Every request looks its point of sale up, so answers are kept for PDV_CACHE_SECONDS:
        a change made in this process is seen at once, one made by another process within
        that time.
        """
        cached = self._cached_pdv(apikey)
        return cached[0] if cached is not None else self._load_pdv(apikey)

    def pdv_is_cached(self, apikey: str) -> bool:
        """Whether pdv_by_apikey would answer from memory (so it can run on the event loop)."""
        return self._cached_pdv(apikey) is not None

    def _cached_pdv(self, apikey: str) -> tuple[Pdv, float] | None:
        cached = self._pdv_cache.get(apikey)
        return cached if cached is not None and cached[1] > time.monotonic() else None

    def _load_pdv(self, apikey: str) -> Pdv | None:
        now = time.monotonic()
        with self.reading() as connection:
            row = connection.execute(_PDV_BY_APIKEY, {"apikey": apikey}).first()
        pdv = Pdv.from_row(row) if row else None
        if pdv is not None:
            if len(self._pdv_cache) > 10_000:
                self._pdv_cache.clear()
            self._pdv_cache[apikey] = (pdv, now + PDV_CACHE_SECONDS)
        return pdv

    def pdv(self, connection: Connection, *, cuit: str, punto_venta: int) -> Pdv | None:
        """The point of sale (cuit, punto_venta)."""
        row = connection.execute(
            select(*_PDV_COLUMNS)
            .join(workspaces)
            .where(pdvs.c.cuit == cuit, pdvs.c.punto_venta == punto_venta)
        ).first()
        return Pdv.from_row(row) if row else None

    def all_pdvs(self) -> list[Pdv]:
        with self.reading() as connection:
            rows = connection.execute(select(*_PDV_COLUMNS).join(workspaces).order_by(pdvs.c.id)).all()
        return [Pdv.from_row(row) for row in rows]

    # --- intake ------------------------------------------------------------------------------

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
            .where(pdvs.c.workspace_id == workspace_id, invoices.c.created_at >= month_start)
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
                "response": jsontext.dumps_text(new.response),
                "created_at": now,
                "updated_at": now,
            }
            for new in news
        ]
        inserted = insert_rows(
            connection, invoices, rows, returning=("id", "pdv_id", "external_reference"), skip_conflicts_on=LIVE_REFERENCE_INDEX
        )
        return {(row.pdv_id, row.external_reference): row.id for row in inserted}

    # --- outbox ------------------------------------------------------------------------------

    def add_event(self, connection: Connection, pdv_id: int, event: NewEvent, invoice_id: int | None = None) -> str:
        """Write an outbox event (in the caller's transaction); returns its stable hook_id."""
        return self.add_events(connection, [(pdv_id, event, invoice_id)])[0]

    def add_events(self, connection: Connection, events: list[tuple[int, NewEvent, int | None]]) -> list[str]:
        """Write outbox events, each (pdv_id, event, invoice_id), in one statement."""
        now = self.clock.now()
        rows = [
            {
                "hook_id": str(uuid.uuid4()),
                "pdv_id": pdv_id,
                "invoice_id": invoice_id,
                "recurso": event.recurso,
                "evento": event.evento,
                "external_reference": event.external_reference,
                "msg": jsontext.dumps_text(list(event.msg)),
                "creado": now,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
            }
            for pdv_id, event, invoice_id in events
        ]
        if rows:
            insert_rows(connection, hook_events, rows)
            notify.notify(connection)
        return [row["hook_id"] for row in rows]

    def record_event(self, pdv_id: int, event: NewEvent) -> str:
        """Write an outbox event in a transaction of its own (validation errors, test hooks)."""
        with self.writing() as connection:
            return self.add_event(connection, pdv_id, event)

    def claim_due_events(self, limit: int, lease_seconds: float) -> list[HookEvent]:
        """Lease up to ``limit`` due events to this dispatcher; a lease that lapses frees them again."""
        now = self.clock.now()
        lease_until = now + timedelta(seconds=lease_seconds)
        due_at = self.next_event_due_at()
        if due_at is None or due_at > now:
            return []  # the idle case costs one indexed read, no write lock
        with self.writing() as connection:
            claim = _CLAIM_EVENTS_PG if connection.dialect.name == "postgresql" else _CLAIM_EVENTS
            ids = connection.execute(claim, {"now": now, "limit": limit, "lease_until": lease_until}).scalars().all()
            if not ids:
                return []
            rows = connection.execute(_CLAIMED_EVENTS, {"ids": ids}).all()
        return [HookEvent.from_row(row) for row in rows]

    def next_event_due_at(self) -> datetime | None:
        """When the earliest pending event falls due (the dispatcher sleeps until then)."""
        with self.reading() as connection:
            return connection.execute(_NEXT_EVENT_DUE).scalar()

    def record_attempt(
        self,
        event: HookEvent,
        *,
        url: str,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        delivered: bool,
        next_attempt_at: datetime | None,
    ) -> None:
        """Record one delivery attempt (see record_attempts)."""
        self.record_attempts([Attempt(event, url, status_code, error, duration_ms, delivered, next_attempt_at)])

    def record_attempts(self, attempts: list["Attempt"]) -> None:
        """Record delivery attempts and move each event on: delivered, retry later, or failed.

        An event moves only if nobody moved it meanwhile: a dispatcher whose lease lapsed must
        not undo the delivery another one made.
        """
        if not attempts:
            return
        now = self.clock.now()
        attempt_rows, moves = [], []
        for attempt in attempts:
            event = attempt.event
            attempt_rows.append(
                {
                    "event_id": event.id,
                    "intento": event.attempts + 1,
                    "url": attempt.url,
                    "status_code": attempt.status_code,
                    "error": attempt.error,
                    "duration_ms": attempt.duration_ms,
                    "created_at": now,
                }
            )
            if attempt.delivered:
                state, next_at, delivered_at = "delivered", None, now
            elif attempt.next_attempt_at is None:
                state, next_at, delivered_at = "failed", None, None
            else:
                state, next_at, delivered_at = "pending", attempt.next_attempt_at, None
            moves.append(
                {
                    "event_id": event.id,
                    "attempts_before": event.attempts,
                    "attempts_after": event.attempts + 1,
                    "last_error": attempt.error,
                    "new_state": state,
                    "new_next_attempt_at": next_at,
                    "new_delivered_at": delivered_at,
                }
            )
        with self.writing() as connection:
            insert_rows(connection, hook_attempts, attempt_rows)
            if connection.dialect.name == "postgresql":
                # One statement for the round, not one per event (each a statement on the server).
                columns = {name: [move[name] for move in moves] for name in moves[0]}
                connection.exec_driver_sql(_MOVE_EVENTS_PG, columns)
            else:
                connection.execute(_MOVE_EVENT, moves)

    def events(self, pdv_id: int | None = None, limit: int = 100) -> list[HookEvent]:
        """Newest events first (dashboard and tests)."""
        query = select(hook_events).order_by(hook_events.c.id.desc()).limit(limit)
        if pdv_id is not None:
            query = query.where(hook_events.c.pdv_id == pdv_id)
        with self.reading() as connection:
            return [HookEvent.from_row(row) for row in connection.execute(query).all()]

    def attempts_of(self, hook_id: str) -> list[dict]:
        """Every recorded delivery attempt of one event."""
        with self.reading() as connection:
            rows = connection.execute(
                select(hook_attempts)
                .join(hook_events)
                .where(hook_events.c.hook_id == hook_id)
                .order_by(hook_attempts.c.id)
            ).all()
        return [dict(row._mapping) for row in rows]

    # --- queue management --------------------------------------------------------------------

    def by_external_reference(self, connection: Connection, pdv_id: int, reference: str) -> list[InvoiceRow]:
        """The caller's not-deleted invoices with a reference, first sent first."""
        rows = connection.execute(
            select(invoices)
            .where(
                invoices.c.pdv_id == pdv_id,
                invoices.c.external_reference == reference,
                invoices.c.state != DELETED,
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

    # --- consultas ---------------------------------------------------------------------------

    def _page(self, where, pagina: int, limite: int) -> Page:
        with self.reading() as connection:
            total = connection.execute(select(func.count()).select_from(invoices).where(where)).scalar_one()
            rows = connection.execute(
                select(invoices)
                .where(where)
                .order_by(invoices.c.fecha.desc(), invoices.c.id.desc())
                .offset(pagina * limite)
                .limit(limite)
            ).all()
        return Page(total, [InvoiceRow.from_row(row) for row in rows])

    def search_by_fecha(self, pdv_id: int, fecha: date, pagina: int, limite: int) -> Page:
        """Consulta avanzada F: the PDV's invoices of one date, newest first."""
        return self._page(
            and_(invoices.c.pdv_id == pdv_id, invoices.c.fecha == fecha, invoices.c.state != DELETED),
            pagina,
            limite,
        )

    def search_by_external_reference(self, pdv_id: int, reference: str, pagina: int, limite: int) -> Page:
        """Consulta avanzada EXT_REF."""
        return self._page(
            and_(
                invoices.c.pdv_id == pdv_id,
                invoices.c.external_reference == reference,
                invoices.c.state != DELETED,
            ),
            pagina,
            limite,
        )

    def search_by_numbers(self, pdv_id: int, cbte_tipo: int, desde: int, hasta: int, pagina: int, limite: int) -> Page:
        """Consulta avanzada TN: one type's numbers in a range (only numbered invoices match)."""
        return self._page(
            and_(
                invoices.c.pdv_id == pdv_id,
                invoices.c.cbte_tipo == cbte_tipo,
                invoices.c.numero.between(desde, hasta),
                invoices.c.state != DELETED,
            ),
            pagina,
            limite,
        )

    def invoice_by_number(self, pdv_id: int, cbte_tipo: int, numero: int) -> InvoiceRow | None:
        """Consulta simple: one emitted comprobante by type and number."""
        with self.reading() as connection:
            row = connection.execute(
                select(invoices).where(
                    invoices.c.pdv_id == pdv_id,
                    invoices.c.cbte_tipo == cbte_tipo,
                    invoices.c.numero == numero,
                    invoices.c.state == EMITTED,
                )
            ).first()
        return InvoiceRow.from_row(row) if row else None

    def invoice(self, invoice_id: int) -> InvoiceRow:
        with self.reading() as connection:
            return InvoiceRow.from_row(connection.execute(select(invoices).where(invoices.c.id == invoice_id)).one())

    def queue_summary(self) -> list[dict]:
        """Counts per PDV and state (the dashboard)."""
        with self.reading() as connection:
            rows = connection.execute(
                select(pdvs.c.cuit, pdvs.c.punto_venta, invoices.c.state, func.count())
                .join(pdvs)
                .group_by(pdvs.c.cuit, pdvs.c.punto_venta, invoices.c.state)
                .order_by(pdvs.c.cuit, pdvs.c.punto_venta)
            ).all()
        return [dict(cuit=r[0], punto_venta=r[1], state=r[2], count=r[3]) for r in rows]


__all__ = [
    "Attempt",
    "DELETED",
    "EMITTED",
    "ERROR",
    "PROCESSING",
    "QUEUED",
    "EnqueueResult",
    "HookEvent",
    "InvoiceRow",
    "NewEvent",
    "NewInvoice",
    "Page",
    "Pdv",
    "QuotaExceeded",
    "ReferenceInUse",
    "Store",
]
