"""The engine's queries: due lanes, lane leases with fencing, numbering intents and results.

Every write the engine makes goes through :meth:`LaneStore.fenced`, which renews the lane's
lease in the same transaction and fails (``LeaseLost``) when another worker has taken it since:
a worker that lost its lane can never write a number or a CAE.
"""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterator

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from encola.store.schema import (
    EMITTED,
    ERROR,
    PROCESSING,
    QUEUED,
    afip_tickets,
    invoices,
    lane_leases,
    pdvs,
)
from encola.store import notify
from encola.store.afip_attempts import insert_attempts
from encola.store.instant import InstantLaneQueries
from encola.store.store import InvoiceRow, NewEvent, Store


@dataclass(frozen=True, order=True)
class Lane:
    cuit: str
    punto_venta: int
    cbte_tipo: int

    def __str__(self) -> str:
        return f"{self.cuit}/{self.punto_venta:05d}/{self.cbte_tipo:03d}"


@dataclass(frozen=True)
class Lease:
    lane: Lane
    holder: str
    token: int
    last_numero: int | None = None  # AFIP's last number as last recorded for the lane


class _SomeChanged(Exception):
    """An invoice of a batch changed between reading and numbering (deleted, re-dated)."""


class LeaseLost(Exception):
    """The lane's lease expired or another worker took it: stop writing for this lane."""


@dataclass(frozen=True)
class StoredTicket:
    token: str
    sign: str
    expires_at: datetime
    generated_at: datetime | None


# What the engine reads of an invoice: everything but the consulta view and the intake answer.
_ENGINE_COLUMNS = [c for c in invoices.c if c.name not in ("view", "response")]

# Statements the engine runs per invoice, built once with bound parameters (see store.py).
_ASSIGN_NUMBER = (
    update(invoices)
    .where(
        invoices.c.id == bindparam("invoice_id"),
        invoices.c.state == QUEUED,
        invoices.c.fecha == bindparam("expected_fecha"),
    )
    .values(state=PROCESSING, numero=bindparam("new_numero"), updated_at=bindparam("now"))
)
_MARK_EMITTED = (
    update(invoices)
    .where(invoices.c.id == bindparam("invoice_id"), invoices.c.state == PROCESSING)
    .values(
        state=EMITTED,
        cae=bindparam("new_cae"),
        cae_vencimiento=bindparam("new_cae_vencimiento"),
        afip_qr=bindparam("new_afip_qr"),
        afip_codigo_barras=bindparam("new_afip_codigo_barras"),
        observaciones=bindparam("new_observaciones"),
        emitted_at=bindparam("now"),
        updated_at=bindparam("now"),
        # What documents need to stay as they were: the issuer version and where the CAE came from.
        issuer_id=select(pdvs.c.issuer_id).where(pdvs.c.id == invoices.c.pdv_id).scalar_subquery(),
        afip_env=bindparam("afip_env"),
    )
)
# On PostgreSQL a batch's numbers and its results each go as one statement over arrays (unnest):
# psycopg runs an executemany as one statement per invoice and its thread waits for every answer,
# and under a busy event loop each wait ends with a wait for the GIL (100–200 ms per batch of 250
# measured in the worker). SQLite runs in-process, where executemany is the cheaper path.
# Arrays go in binary (``%b``), which psycopg sends without escaping each element (store/bulk.py).
_ASSIGN_NUMBERS_PG = """
UPDATE invoices SET state = 'processing', numero = v.numero, updated_at = %(now)s
FROM unnest(%(ids)b::integer[], %(fechas)b::date[], %(numeros)b::integer[]) AS v(id, fecha, numero)
WHERE invoices.id = v.id AND invoices.state = 'queued' AND invoices.fecha = v.fecha
"""
# The results and their ``emitido`` events in one statement: a hook for each invoice emitted, and
# the buyer's mail for those that ask for it (when this process sends mail).
_MARK_EMITTED_PG = """
WITH emitted AS (
    UPDATE invoices SET state = 'emitted', cae = v.cae, cae_vencimiento = v.cae_vencimiento,
        afip_qr = v.afip_qr, afip_codigo_barras = v.afip_codigo_barras, observaciones = v.observaciones,
        emitted_at = %(now)s, updated_at = %(now)s, afip_env = %(afip_env)s,
        issuer_id = (SELECT pdvs.issuer_id FROM pdvs WHERE pdvs.id = invoices.pdv_id)
    FROM unnest(%(ids)b::integer[], %(caes)b::text[], %(vencimientos)b::date[], %(qrs)b::text[],
                %(barcodes)b::text[], %(observaciones)b::text[], %(hook_ids)b::text[], %(mail_ids)b::text[])
        AS v(id, cae, cae_vencimiento, afip_qr, afip_codigo_barras, observaciones, hook_id, mail_id)
    WHERE invoices.id = v.id AND invoices.state = 'processing'
    RETURNING invoices.id, invoices.pdv_id, invoices.external_reference, invoices.mail_to, v.hook_id, v.mail_id
), hooks AS (
    INSERT INTO hook_events (hook_id, pdv_id, invoice_id, recurso, evento, external_reference, msg, creado, state,
                             attempts, next_attempt_at)
    SELECT hook_id, pdv_id, id, 'facturacion', 'emitido', external_reference, '[]', %(now)s, 'pending', 0, %(now)s
    FROM emitted WHERE external_reference <> '' ORDER BY id
)
INSERT INTO hook_events (hook_id, kind, pdv_id, invoice_id, recurso, evento, external_reference, msg, creado, state,
                         attempts, next_attempt_at)
SELECT mail_id, 'mail', pdv_id, id, 'facturacion', 'emitido', external_reference, '[]', %(now)s, 'pending', 0, %(now)s
FROM emitted WHERE %(mail)s AND mail_to IS NOT NULL ORDER BY id
"""

# The invoices just emitted (SQLite) whose buyer asked for the mail.
_TO_MAIL = (
    select(invoices.c.id, invoices.c.pdv_id, invoices.c.external_reference)
    .where(
        invoices.c.id.in_(bindparam("ids", expanding=True)),
        invoices.c.state == EMITTED,
        invoices.c.emitted_at == bindparam("now"),
        invoices.c.mail_to.is_not(None),
    )
    .order_by(invoices.c.id)
)

_RELEASE_NUMBER = (
    update(invoices)
    .where(invoices.c.id == bindparam("invoice_id"), invoices.c.state == PROCESSING)
    .values(
        state=QUEUED,
        numero=None,
        attempts=bindparam("new_attempts"),
        next_attempt_at=bindparam("new_next_attempt_at"),
        updated_at=bindparam("now"),
    )
)


class LaneStore(InstantLaneQueries):
    def __init__(self, store: Store, lease_seconds: float = 30.0, afip_env: str = "simulador", mail: bool = False):
        self.store = store
        self.afip_env = afip_env  # simulador | homologacion | produccion: recorded with each CAE
        self.mail = mail  # SMTP is configured: emission also writes the buyer's mail (docs/mail.md)
        self.postgres = store.engine.dialect.name == "postgresql"
        self.clock = store.clock
        self.lease_seconds = lease_seconds

    # --- finding work --------------------------------------------------------------------------

    def due_lanes(self, today: date, holder: str = "", limit: int = 500) -> list[Lane]:
        """Lanes with invoices due now, or with numbered invoices whose outcome is unknown,
        leaving out lanes another worker holds (so idle workers do not fight over them)."""
        now = self.clock.now()
        lane_columns = (invoices.c.cuit, invoices.c.punto_venta, invoices.c.cbte_tipo)
        due = (
            select(*lane_columns)
            .where(invoices.c.state == QUEUED, invoices.c.fecha <= today, invoices.c.next_attempt_at <= now)
            .distinct()
            .limit(limit)
        )
        unknown = select(*lane_columns).where(invoices.c.state == PROCESSING).distinct().limit(limit)
        with self.store.reading() as connection:
            rows = set(connection.execute(due).all()) | set(connection.execute(unknown).all())
            if not rows:
                return []
            held = {
                tuple(row)
                for row in connection.execute(
                    select(lane_leases.c.cuit, lane_leases.c.punto_venta, lane_leases.c.cbte_tipo).where(
                        # Held by another worker, or paused by an operator (the console).
                        or_(and_(lane_leases.c.expires_at > now, lane_leases.c.holder != holder), lane_leases.c.paused)
                    )
                ).all()
            }
        return sorted(Lane(*row) for row in rows if tuple(row) not in held)

    # --- leases ----------------------------------------------------------------------------------

    def acquire(self, lane: Lane, holder: str) -> Lease | None:
        """Take the lane if it is free or its lease has lapsed; the fencing token grows each time."""
        return self.acquire_many([lane], holder)[0]

    def acquire_many(self, lanes: list[Lane], holder: str) -> list[Lease | None]:
        """Try to take each lane (see ``acquire``), all in one transaction."""
        now = self.clock.now()
        expires = now + timedelta(seconds=self.lease_seconds)
        leases: list[Lease | None] = []
        with self.store.writing() as connection:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            for lane in lanes:
                statement = dialect.insert(lane_leases).values(
                    cuit=lane.cuit,
                    punto_venta=lane.punto_venta,
                    cbte_tipo=lane.cbte_tipo,
                    holder=holder,
                    token=1,
                    expires_at=expires,
                )
                statement = statement.on_conflict_do_update(
                    index_elements=["cuit", "punto_venta", "cbte_tipo"],
                    set_={"holder": holder, "token": lane_leases.c.token + 1, "expires_at": expires},
                    where=or_(lane_leases.c.expires_at <= now, lane_leases.c.holder == holder),
                ).returning(lane_leases.c.token, lane_leases.c.last_numero)
                row = connection.execute(statement).first()
                leases.append(Lease(lane, holder, row.token, row.last_numero) if row is not None else None)
        return leases

    def release(self, lease: Lease) -> None:
        """Give the lane up (only if still ours), so another worker need not wait for expiry."""
        with self.store.writing() as connection:
            connection.execute(
                update(lane_leases)
                .where(*self._ours(lease))
                .values(expires_at=self.clock.now() - timedelta(seconds=1))
            )

    def _ours(self, lease: Lease):
        lane = lease.lane
        return (
            lane_leases.c.cuit == lane.cuit,
            lane_leases.c.punto_venta == lane.punto_venta,
            lane_leases.c.cbte_tipo == lane.cbte_tipo,
            lane_leases.c.holder == lease.holder,
            lane_leases.c.token == lease.token,
        )

    @contextmanager
    def fenced(self, lease: Lease, last_numero: int | None = None) -> Iterator[Connection]:
        """A write transaction that first proves (and renews) our lease, or raises LeaseLost.

        ``last_numero``, when given, is recorded as AFIP's last number for the lane.
        """
        now = self.clock.now()
        values = {"expires_at": now + timedelta(seconds=self.lease_seconds)}
        if last_numero is not None:
            values["last_numero"] = last_numero
        with self.store.writing() as connection:
            renewed = connection.execute(
                update(lane_leases).where(*self._ours(lease), lane_leases.c.expires_at > now).values(**values)
            )
            if renewed.rowcount != 1:
                raise LeaseLost(str(lease.lane))
            yield connection

    def heartbeat(self, lease: Lease) -> None:
        """Renew the lease while a long AFIP call is in flight."""
        with self.fenced(lease):
            pass

    def remember_last(self, lease: Lease, last_numero: int) -> None:
        """Record AFIP's last authorized number for the lane (as FECompUltimoAutorizado said)."""
        with self.fenced(lease, last_numero=last_numero):
            pass

    # --- the lane's invoices ------------------------------------------------------------------

    def _lane_filter(self, lane: Lane):
        return and_(
            invoices.c.cuit == lane.cuit,
            invoices.c.punto_venta == lane.punto_venta,
            invoices.c.cbte_tipo == lane.cbte_tipo,
        )

    def in_flight(self, lane: Lane) -> list[InvoiceRow]:
        """Numbered invoices whose AFIP outcome we do not know yet, by number."""
        with self.store.reading() as connection:
            rows = connection.execute(
                select(*_ENGINE_COLUMNS)
                .where(self._lane_filter(lane), invoices.c.state == PROCESSING)
                .order_by(invoices.c.numero)
            ).all()
        return [InvoiceRow.from_row(row) for row in rows]

    def next_batch(self, lane: Lane, today: date, limit: int) -> list[InvoiceRow]:
        """The lane's due invoices in (fecha, arrival) order, at most ``limit``; none once an
        operator paused the lane (the run settles what it sent and ends)."""
        now = self.clock.now()
        paused = select(lane_leases.c.cuit).where(
            lane_leases.c.cuit == lane.cuit, lane_leases.c.punto_venta == lane.punto_venta,
            lane_leases.c.cbte_tipo == lane.cbte_tipo, lane_leases.c.paused,
        )
        with self.store.reading() as connection:
            rows = connection.execute(
                select(*_ENGINE_COLUMNS)
                .where(
                    self._lane_filter(lane),
                    invoices.c.state == QUEUED,
                    invoices.c.fecha <= today,
                    invoices.c.next_attempt_at <= now,
                    ~paused.exists(),
                )
                .order_by(invoices.c.fecha, invoices.c.id)
                .limit(limit)
            ).all()
        return [InvoiceRow.from_row(row) for row in rows]

    def assign_numbers(
        self, lease: Lease, numbered: list[tuple[InvoiceRow, int]], last_numero: int | None = None
    ) -> list[tuple[InvoiceRow, int]]:
        """Write the intent: each invoice gets its number and becomes "processing" (fenced).

        Returns the pairs actually assigned; an invoice changed meanwhile (deleted, re-dated) is
        skipped, and so is every one after it, so the numbers stay consecutive.
        """
        now = self.clock.now()
        params = [
            {"invoice_id": row.id, "expected_fecha": row.fecha, "new_numero": numero, "now": now}
            for row, numero in numbered
        ]
        try:
            # The common case in one statement (PostgreSQL) or one executemany (SQLite).
            with self.fenced(lease, last_numero=last_numero) as connection:
                if self._assign_all(connection, numbered, params) != len(params):
                    raise _SomeChanged()
            return list(numbered)
        except _SomeChanged:
            pass  # rolled back: redo row by row and stop at the first invoice changed meanwhile
        assigned = []
        with self.fenced(lease, last_numero=last_numero) as connection:
            for (row, numero), values in zip(numbered, params):
                if connection.execute(_ASSIGN_NUMBER, values).rowcount != 1:
                    break
                assigned.append((row, numero))
        return assigned

    def mark_emitted(
        self, lease: Lease, emitted: list[dict], last_numero: int | None = None, attempts: list[dict] | None = None
    ) -> None:
        """Store CAEs (fenced) with their ``emitido`` events. Each dict: id, pdv_id, reference, and columns.

        With mail on, an invoice whose buyer asked for it (``mail_to``) also gets its mail event,
        in the same transaction; so do ``attempts`` (rows of ``afip_attempts``) when given."""
        if not emitted:
            return
        now = self.clock.now()
        notes = [json.dumps(item.get("observaciones", []), ensure_ascii=False) for item in emitted]
        with self.fenced(lease, last_numero=last_numero) as connection:
            insert_attempts(connection, attempts or [])
            if self.postgres:
                self._emit_all_pg(connection, emitted, notes, now, self.afip_env, self.mail)
                return
            params = [
                {
                    "invoice_id": item["id"],
                    "new_cae": item["cae"],
                    "new_cae_vencimiento": item["cae_vencimiento"],
                    "new_afip_qr": item["afip_qr"],
                    "new_afip_codigo_barras": item["afip_codigo_barras"],
                    "new_observaciones": observaciones,
                    "now": now,
                    "afip_env": self.afip_env,
                }
                for item, observaciones in zip(emitted, notes)
            ]
            connection.execute(_MARK_EMITTED, params)
            # No hook for an instant invoice sent without external_reference (TF).
            events = [(item["pdv_id"], NewEvent("emitido", item["reference"]), item["id"]) for item in emitted if item["reference"]]
            if self.mail:
                mailed = connection.execute(_TO_MAIL, {"ids": [item["id"] for item in emitted], "now": now}).all()
                events += [(row.pdv_id, NewEvent("emitido", row.external_reference, kind="mail"), row.id) for row in mailed]
            self.store.add_events(connection, events)

    def _assign_all(self, connection: Connection, numbered: list[tuple[InvoiceRow, int]], params: list[dict]) -> int:
        """Number every invoice of the batch in the caller's transaction; how many were numbered."""
        if not self.postgres:
            return connection.execute(_ASSIGN_NUMBER, params).rowcount
        arrays = {
            "ids": [row.id for row, _ in numbered],
            "fechas": [row.fecha for row, _ in numbered],
            "numeros": [numero for _, numero in numbered],
            "now": params[0]["now"],
        }
        return connection.exec_driver_sql(_ASSIGN_NUMBERS_PG, arrays).rowcount

    @staticmethod
    def _emit_all_pg(
        connection: Connection, emitted: list[dict], notes: list[str], now: datetime, afip_env: str, mail: bool
    ) -> None:
        """PostgreSQL: the results and their events in one statement, then the wake-up."""
        arrays = {
            "ids": [item["id"] for item in emitted],
            "caes": [item["cae"] for item in emitted],
            "vencimientos": [item["cae_vencimiento"] for item in emitted],
            "qrs": [item["afip_qr"] for item in emitted],
            "barcodes": [item["afip_codigo_barras"] for item in emitted],
            "observaciones": notes,
            "hook_ids": [str(uuid.uuid4()) for _ in emitted],  # as Store.add_events makes them
            "mail_ids": [str(uuid.uuid4()) for _ in emitted],
            "mail": mail,
            "now": now,
            "afip_env": afip_env,
        }
        connection.exec_driver_sql(_MARK_EMITTED_PG, arrays)
        notify.notify(connection)

    def mark_failed(self, lease: Lease, row: InvoiceRow, messages: list[str], *, from_state: str) -> None:
        """An invoice AFIP rejected, or out of attempts: error state, number freed, ``error`` hook."""
        with self.fenced(lease) as connection:
            changed = connection.execute(
                update(invoices)
                .where(invoices.c.id == row.id, invoices.c.state == from_state)
                .values(
                    state=ERROR,
                    numero=None,
                    errors=json.dumps(messages, ensure_ascii=False),
                    updated_at=self.clock.now(),
                )
            ).rowcount
            if changed:
                self.store.add_event(
                    connection, row.pdv_id, NewEvent("error", row.external_reference, tuple(messages)), invoice_id=row.id
                )

    def release_numbers(self, lease: Lease, rows: list[InvoiceRow], *, next_attempt_at: datetime, count_attempt: bool) -> None:
        """AFIP does not have these numbers: back to the queue, unnumbered, to be retried later."""
        if not rows:
            return
        now = self.clock.now()
        params = [
            {
                "invoice_id": row.id,
                "new_attempts": row.attempts + (1 if count_attempt else 0),
                "new_next_attempt_at": next_attempt_at,
                "now": now,
            }
            for row in rows
        ]
        with self.fenced(lease) as connection:
            connection.execute(_RELEASE_NUMBER, params)
            notify.notify(connection)

    def postpone(self, lease: Lease, rows: list[InvoiceRow], next_attempt_at: datetime) -> None:
        """Queued invoices that could not be tried (AFIP unreachable before numbering): count an attempt."""
        with self.fenced(lease) as connection:
            for row in rows:
                connection.execute(
                    update(invoices)
                    .where(invoices.c.id == row.id, invoices.c.state == QUEUED)
                    .values(attempts=row.attempts + 1, next_attempt_at=next_attempt_at, updated_at=self.clock.now())
                )

    # --- AFIP credentials and tickets ------------------------------------------------------------

    def credentials_of(self, cuit: str) -> tuple[str, str] | None:
        """The certificate and key (PEM) of a CUIT (kept by the store's CUIT queries)."""
        return self.store.credentials_of(cuit)

    def save_credentials(self, cuit: str, cert_pem: str, key_pem: str, *, only_if_missing: bool) -> bool:
        return self.store.save_credentials(cuit, cert_pem, key_pem, only_if_missing=only_if_missing)

    def ticket(self, cuit: str, service: str) -> StoredTicket | None:
        with self.store.reading() as connection:
            row = connection.execute(
                select(afip_tickets).where(afip_tickets.c.cuit == cuit, afip_tickets.c.service == service)
            ).first()
        if row is None:
            return None
        # A ticket is a bearer credential at AFIP for its lifetime (12 h): sealed like the key.
        opened = self.store.secrets.open
        return StoredTicket(opened(row.token), opened(row.sign), row.expires_at, row.generated_at)

    def save_ticket(self, cuit: str, service: str, ticket: StoredTicket) -> None:
        with self.store.writing() as connection:
            connection.execute(
                delete(afip_tickets).where(afip_tickets.c.cuit == cuit, afip_tickets.c.service == service)
            )
            connection.execute(
                insert(afip_tickets).values(
                    cuit=cuit,
                    service=service,
                    token=self.store.secrets.seal(ticket.token),
                    sign=self.store.secrets.seal(ticket.sign),
                    expires_at=ticket.expires_at,
                    generated_at=ticket.generated_at,
                )
            )
