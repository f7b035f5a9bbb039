"""The outbox: hook events written with the state change they report, leased, attempted, moved on."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, func, or_, select, update

from encola import jsontext
from encola.store import notify
from encola.store.bulk import insert_rows
from encola.store.rows import Attempt, HookEvent, NewEvent
from encola.store.schema import hook_attempts, hook_events, pdvs

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



class OutboxQueries:
    """Mixed into Store: the statements of the outbox (hooks)."""

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
        return [HookEvent.from_row(row, self.secrets.open) for row in rows]

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

