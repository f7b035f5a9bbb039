"""The outbox: hook events written with the state change they report, leased, attempted, moved on."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, func, or_, select, text, update

from encola import jsontext
from encola.store import notify
from encola.store.bulk import insert_rows
from encola.store.rows import Attempt, HookEvent, NewEvent
from encola.store.schema import hook_attempts, hook_events, invoices, pdvs

DEFAULT_DISABLE_AFTER = 24 * 3600.0  # TF: a URL failing for more than 24 h is ignored
_CLAIM_LOCK_KEY = 0x656E636F6C61  # "encola": serialises PostgreSQL claims (per-endpoint limit)


def _claim_events(kind: str, endpoint):
    """Lease the earliest due events of ``kind``, at most ``per_endpoint`` in flight per endpoint.

    An endpoint is what ``endpoint`` names: a point of sale for hooks (its URL), the kind itself
    for mail (the one SMTP server). An event is in flight while its lease holds (until its
    attempt is recorded), whichever process holds it. Endpoints already at their limit are left
    out first (their backlog is not even read: a hanging endpoint with thousands of due events
    costs nothing here); of the others, the earliest ``window`` due events are ranked per endpoint
    and each gets what fits under its limit, so one endpoint's backlog never takes the whole of
    ``limit``. An endpoint whose events fall beyond the window this time is reached once the ones
    before it fill up. The UPDATE checks the lease again, so two dispatchers never lease the same event.
    """
    now = bindparam("now")
    of_kind = hook_events.c.kind == kind
    free = or_(hook_events.c.locked_until.is_(None), hook_events.c.locked_until <= now)
    busy = (
        select(endpoint.label("endpoint"), func.count().label("n"))
        .where(hook_events.c.locked_until > now, of_kind)
        .group_by(endpoint)
        .subquery("busy")
    )
    saturated = select(busy.c.endpoint).where(busy.c.n >= bindparam("per_endpoint"))
    window = (
        select(hook_events.c.id, endpoint.label("endpoint"), hook_events.c.next_attempt_at)
        .where(
            hook_events.c.state == "pending",
            of_kind,
            hook_events.c.next_attempt_at <= now,
            free,
            endpoint.not_in(saturated.scalar_subquery()),
        )
        .order_by(hook_events.c.next_attempt_at)
        .limit(bindparam("window"))
        .subquery("window")
    )
    ranked = select(
        window,
        func.row_number().over(partition_by=window.c.endpoint, order_by=(window.c.next_attempt_at, window.c.id)).label("rank"),
    ).subquery("ranked")
    chosen = (
        select(ranked.c.id)
        .select_from(ranked.outerjoin(busy, busy.c.endpoint == ranked.c.endpoint))
        .where(ranked.c.rank + func.coalesce(busy.c.n, 0) <= bindparam("per_endpoint"))
        .order_by(ranked.c.next_attempt_at, ranked.c.id)
        .limit(bindparam("limit"))
    )
    return (
        update(hook_events)
        .where(hook_events.c.id.in_(chosen.scalar_subquery()), hook_events.c.state == "pending", free)
        .values(locked_until=bindparam("lease_until"))
        .returning(hook_events.c.id)
    )


KINDS = ("hook", "mail")
# A hook's endpoint is its point of sale's URL; every mail goes to the one SMTP server.
_CLAIM_EVENTS = {"hook": _claim_events("hook", hook_events.c.pdv_id), "mail": _claim_events("mail", hook_events.c.kind)}
_DUE_UNCLAIMED = (
    select(hook_events.c.id)
    .where(
        hook_events.c.state == "pending",
        hook_events.c.kind == bindparam("kind"),
        hook_events.c.next_attempt_at <= bindparam("now"),
        or_(hook_events.c.locked_until.is_(None), hook_events.c.locked_until <= bindparam("now")),
    )
    .limit(1)
)


class Claimed(list):
    """The events a claim leased; ``more_due``: due events were left (an endpoint at its limit, or
    more than the claim asked for), so the dispatcher should claim again as soon as slots free."""

    more_due = False
_CLAIMED_EVENTS = (
    select(
        hook_events,
        pdvs.c.webhook_url,
        pdvs.c.webhook_token,
        pdvs.c.webhook_secret,
        pdvs.c.webhook_secret_previous,
        pdvs.c.webhook_secret_previous_until,
        pdvs.c.webhook_failing_since,
        pdvs.c.webhook_disabled_at,
        pdvs.c.webhook_disabled_reason,
        pdvs.c.mail_reply_to,
    )
    .join(pdvs, pdvs.c.id == hook_events.c.pdv_id)
    .where(hook_events.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(hook_events.c.id)
)
_PDV_IDS = bindparam("pdv_ids", expanding=True)
_CLEAR_FAILING = update(pdvs).where(pdvs.c.id.in_(_PDV_IDS)).values(webhook_failing_since=None)
_MARK_FAILING = (
    update(pdvs)
    .where(pdvs.c.id.in_(_PDV_IDS), pdvs.c.webhook_failing_since.is_(None))
    .values(webhook_failing_since=bindparam("now"))
)
_DISABLE_LONG_FAILING = (
    update(pdvs)
    .where(
        pdvs.c.id.in_(_PDV_IDS),
        pdvs.c.webhook_disabled_at.is_(None),
        pdvs.c.webhook_failing_since < bindparam("cutoff"),
    )
    .values(webhook_disabled_at=bindparam("now"), webhook_disabled_reason=bindparam("reason"))
    .returning(pdvs.c.id)
)
_DISABLE = (
    update(pdvs)
    .where(pdvs.c.id == bindparam("target_pdv"), pdvs.c.webhook_disabled_at.is_(None))
    .values(webhook_disabled_at=bindparam("now"), webhook_disabled_reason=bindparam("reason"))
    .returning(pdvs.c.id)
)
_PARK_EVENTS = (
    update(hook_events)
    .where(hook_events.c.pdv_id == bindparam("target_pdv"), hook_events.c.state == "pending", hook_events.c.kind == "hook")
    .values(state="failed", locked_until=None, last_error=bindparam("last_error"))
)
_NEXT_EVENT_DUE = select(func.min(hook_events.c.next_attempt_at)).where(
    hook_events.c.state == "pending", hook_events.c.kind == bindparam("kind")
)
_MAIL_SENT = (
    update(invoices)
    .where(invoices.c.id == bindparam("invoice_id"))
    .values(mail_sent_at=bindparam("sent_at"), mail_sent_to=bindparam("sent_to"))
)
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
    """Mixed into Store: the statements of the outbox (hooks and mail)."""

    def add_event(self, connection: Connection, pdv_id: int, event: NewEvent, invoice_id: int | None = None) -> str:
        """Write an outbox event (in the caller's transaction); returns its stable hook_id."""
        return self.add_events(connection, [(pdv_id, event, invoice_id)])[0]

    def add_events(self, connection: Connection, events: list[tuple[int, NewEvent, int | None]]) -> list[str]:
        """Write outbox events, each (pdv_id, event, invoice_id), in one statement."""
        now = self.clock.now()
        rows = [
            {
                "hook_id": str(uuid.uuid4()),
                "kind": event.kind,
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

    def claim_due_events(self, limit: int, lease_seconds: float, per_endpoint: int = 8, kind: str = "hook") -> list[HookEvent]:
        """Lease up to ``limit`` due events of ``kind``, at most ``per_endpoint`` in flight per
        endpoint (a point of sale's URL for hooks, the SMTP server for mail).

        A lease that lapses frees its event again (a dispatcher that died mid-delivery).
        """
        now = self.clock.now()
        lease_until = now + timedelta(seconds=lease_seconds)
        due_at = self.next_event_due_at(kind)
        if due_at is None or due_at > now:
            return []  # the idle case costs one indexed read, no write lock
        with self.writing() as connection:
            if connection.dialect.name == "postgresql":
                # One claim at a time, so the per-endpoint count each claim sees is exact.
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CLAIM_LOCK_KEY})
            parameters = {
                "now": now,
                "limit": limit,
                "per_endpoint": per_endpoint,
                "window": max(4 * limit, 256),
                "lease_until": lease_until,
            }
            ids = connection.execute(_CLAIM_EVENTS[kind], parameters).scalars().all()
            if not ids:
                return []
            rows = connection.execute(_CLAIMED_EVENTS, {"ids": ids}).all()
            more_due = connection.execute(_DUE_UNCLAIMED, {"now": now, "kind": kind}).first() is not None
        opened: dict[str, str] = {}  # a point of sale's events share its sealed secrets

        def open_once(sealed: str) -> str:
            if sealed not in opened:
                opened[sealed] = self.secrets.open(sealed)
            return opened[sealed]

        claimed = Claimed(HookEvent.from_row(row, open_once) for row in rows)
        claimed.more_due = more_due
        return claimed

    def next_event_due_at(self, kind: str = "hook") -> datetime | None:
        """When the earliest pending event of ``kind`` falls due."""
        with self.reading() as connection:
            return connection.execute(_NEXT_EVENT_DUE, {"kind": kind}).scalar()

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

    def record_attempts(self, attempts: list["Attempt"], disable_after: float | None = DEFAULT_DISABLE_AFTER) -> None:
        """Record delivery attempts and move each event on: delivered, retry later, or failed.

        An event moves only if nobody moved it meanwhile: a dispatcher whose lease lapsed must
        not undo the delivery another one made. A mail the SMTP server accepted marks its invoice
        (``mail_sent_at``, ``mail_sent_to``: what consultas show as ``envio_x_mail``). The
        webhook endpoints' health moves with the hooks: a
        delivery clears a point of sale's ``webhook_failing_since``, a failure sets it, and an
        endpoint failing for longer than ``disable_after`` seconds (None: never), or answering
        410, is disabled, its pending events failed with the reason.
        """
        if not attempts:
            return
        now = self.clock.now()
        attempt_rows, moves = [], []
        for attempt in attempts:
            event = attempt.event
            if not attempt.skipped:
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
            elif attempt.next_attempt_at is None or attempt.skipped or attempt.disable:
                state, next_at, delivered_at = "failed", None, None
            else:
                state, next_at, delivered_at = "pending", attempt.next_attempt_at, None
            moves.append(
                {
                    "event_id": event.id,
                    "attempts_before": event.attempts,
                    "attempts_after": event.attempts + (0 if attempt.skipped else 1),
                    "last_error": attempt.error,
                    "new_state": state,
                    "new_next_attempt_at": next_at,
                    "new_delivered_at": delivered_at,
                }
            )
        with self.writing() as connection:
            if attempt_rows:
                insert_rows(connection, hook_attempts, attempt_rows)
            if connection.dialect.name == "postgresql":
                # One statement for the round, not one per event (each a statement on the server).
                columns = {name: [move[name] for move in moves] for name in moves[0]}
                connection.exec_driver_sql(_MOVE_EVENTS_PG, columns)
            else:
                connection.execute(_MOVE_EVENT, moves)
            mailed = [
                {"invoice_id": a.event.invoice_id, "sent_at": now, "sent_to": a.recipients}
                for a in attempts
                if a.delivered and a.event.kind == "mail" and a.event.invoice_id is not None
            ]
            if mailed:
                connection.execute(_MAIL_SENT, mailed)
            hooks = [a for a in attempts if a.event.kind == "hook"]
            if hooks and self._record_endpoint_health(connection, hooks, now, disable_after):
                self._pdv_cache.clear()

    def _record_endpoint_health(self, connection: Connection, attempts: list[Attempt], now: datetime, disable_after) -> bool:
        """Move the points of sale's failing/disabled state after a batch; True if any changed."""
        delivered = {a.event.pdv_id for a in attempts if a.delivered}
        recovered = sorted({a.event.pdv_id for a in attempts if a.delivered and a.event.webhook_failing_since})
        failing = sorted({a.event.pdv_id for a in attempts if not (a.delivered or a.skipped)} - delivered)
        changed = False
        if recovered:
            connection.execute(_CLEAR_FAILING, {"pdv_ids": recovered})
            changed = True
        disabled: dict[int, str] = {}
        for attempt in attempts:
            if attempt.disable and attempt.event.pdv_id not in disabled:
                reason = attempt.disable
                if connection.execute(_DISABLE, {"target_pdv": attempt.event.pdv_id, "now": now, "reason": reason}).first():
                    disabled[attempt.event.pdv_id] = reason
        if failing:
            connection.execute(_MARK_FAILING, {"pdv_ids": failing, "now": now})
            changed = True
            if disable_after is not None:
                hours = f"{disable_after / 3600:g}"
                reason = f"la direccion de webhook fallo durante mas de {hours} h seguidas"
                parameters = {"pdv_ids": failing, "now": now, "cutoff": now - timedelta(seconds=disable_after), "reason": reason}
                for pdv_id in connection.execute(_DISABLE_LONG_FAILING, parameters).scalars():
                    disabled[pdv_id] = reason
        for pdv_id, reason in disabled.items():
            connection.execute(_PARK_EVENTS, {"target_pdv": pdv_id, "last_error": f"webhook deshabilitado: {reason}"})
        return changed or bool(disabled)

    def webhook_secret_of(self, connection: Connection, pdv_id: int) -> str | None:
        """A point of sale's current signing secret, unsealed (for a rotation)."""
        sealed = connection.execute(select(pdvs.c.webhook_secret).where(pdvs.c.id == pdv_id)).scalar()
        return self.secrets.open(sealed) if sealed else None

    def redeliver_events(self, since: datetime, pdv_id: int | None = None, kind: str = "hook") -> int:
        """Queue again the failed events of ``kind`` created since ``since`` (of one point of sale, or all).

        Each keeps its hook_id and its attempt count, and its retry schedule starts over. Asking
        for a hooks' redelivery says the endpoint works again: the points of sale concerned are
        enabled and their failing clock reset. Returns how many events were queued.
        """
        now = self.clock.now()
        missed = [hook_events.c.state == "failed", hook_events.c.kind == kind, hook_events.c.creado >= since]
        if pdv_id is not None:
            missed.append(hook_events.c.pdv_id == pdv_id)
        with self.writing() as connection:
            owners = []
            if kind == "hook":
                owners = connection.execute(select(hook_events.c.pdv_id).where(*missed).distinct()).scalars().all()
                if pdv_id is not None:
                    owners = [pdv_id]
            if owners:
                connection.execute(
                    update(pdvs)
                    .where(pdvs.c.id.in_(owners))
                    .values(webhook_disabled_at=None, webhook_disabled_reason=None, webhook_failing_since=None)
                )
            count = connection.execute(
                update(hook_events)
                .where(*missed)
                .values(
                    state="pending",
                    schedule_start=hook_events.c.attempts,
                    next_attempt_at=now,
                    locked_until=None,
                )
            ).rowcount
            if count:
                notify.notify(connection)
        self._pdv_cache.clear()
        return count

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

