"""The store: the database handle every query runs through, composed of one mixin per aggregate.

Nothing outside this package writes SQL. Rows leave as frozen dataclasses (``rows.py``), never as
SQLAlchemy objects. Writes on SQLite open with ``BEGIN IMMEDIATE`` (see ``db.py``). The
statements live with their aggregate: ``points_of_sale.py``, ``intake.py``, ``outbox.py``,
``consultas.py``, ``documents.py``; the engine's in ``lanes.py`` (a store of its own).
"""

from __future__ import annotations

import contextlib
import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Connection, Engine

from encola.clock import Clock
from encola.secretbox import SecretBox
from encola.store.afip_attempts import AfipAttemptQueries
from encola.store.afip_status import AfipStatusQueries
from encola.store.audit import AuditQueries
from encola.store.console_actions import ConsoleActionQueries
from encola.store.consultas import ConsultaQueries
from encola.store.cuits import CuitQueries
from encola.store.documents import DocumentQueries
from encola.store.group_commit import GroupCommit
from encola.store.instant import InstantQueries
from encola.store.intake import IntakeQueries
from encola.store.operators import OperatorQueries
from encola.store.console_queries import ConsoleQueries
from encola.store.outbox import OutboxQueries
from encola.store.points_of_sale import PointsOfSaleQueries
from encola.store.rows import (
    Attempt,
    EnqueueResult,
    HookEvent,
    InvoiceRow,
    NewEvent,
    NewInvoice,
    Page,
    Pdv,
    QuotaExceeded,
    ReferenceInUse,
)
from encola.store.schema import DELETED, EMITTED, ERROR, PROCESSING, QUEUED


class Store(
    OperatorQueries, ConsoleQueries,
    CuitQueries, PointsOfSaleQueries, IntakeQueries, OutboxQueries, ConsultaQueries, DocumentQueries, InstantQueries,
    AfipAttemptQueries,
    AuditQueries, ConsoleActionQueries, AfipStatusQueries,
):
    def __init__(self, engine: Engine, clock: Clock | None = None, secrets: SecretBox | None = None):
        self.engine = engine
        self.clock = clock or Clock()
        # Seals secrets at rest. Processes get theirs from secrets_at_rest.open_store's caller
        # (the key from ENCOLA_SECRET_KEY or its file); a store built without one, as in tests,
        # gets a key that lives as long as the process.
        self.secrets = secrets or SecretBox.ephemeral()
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

