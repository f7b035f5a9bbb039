"""Read-only queries for operators (metrics at scrape, ``encola status``): each served by an index.

Kept apart from the store's mixins because nothing on the emission path uses them, and each must
stay cheap with millions of emitted invoices: they touch only the rows still in the queue (the
``state`` prefix of ``ix_invoices_due``) and the pending or failed outbox (``ix_hook_events_due``),
never the emitted history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, time as day_time, timezone

from sqlalchemy import func, select

from encola.clock import ARGENTINA
from encola.store.schema import (
    ERROR, PROCESSING, QUEUED, afip_health, afip_tickets, cuits, hook_attempts, hook_events, invoices, lane_leases, pdvs,
)

QUEUE_STATES = (QUEUED, PROCESSING, ERROR)
OUTBOX_STATES = ("pending", "failed")


@dataclass
class QueueSnapshot:
    by_state: dict[str, int] = field(default_factory=dict)  # queued, due, processing, error
    oldest_due_seconds: float = 0.0
    oldest_due_fecha: object = None
    outbox: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, state) -> count


def queue_snapshot(store) -> QueueSnapshot:
    """Counts of the live queue and the outbox, and how long the head of the due queue has waited."""
    now, today = store.clock.now(), store.clock.today()
    snapshot = QueueSnapshot()
    with store.reading() as connection:
        for state in QUEUE_STATES:  # one index range each: ix_invoices_due starts with state
            snapshot.by_state[state] = connection.execute(
                select(func.count()).select_from(invoices).where(invoices.c.state == state)
            ).scalar_one()
        due = (invoices.c.state == QUEUED, invoices.c.fecha <= today, invoices.c.next_attempt_at <= now)
        snapshot.by_state["due"] = connection.execute(select(func.count()).select_from(invoices).where(*due)).scalar_one()
        head = connection.execute(
            select(invoices.c.fecha, invoices.c.created_at)
            .where(invoices.c.state == QUEUED, invoices.c.fecha <= today)
            .order_by(invoices.c.state, invoices.c.fecha, invoices.c.next_attempt_at)
            .limit(1)
        ).first()
        if head is not None:
            snapshot.oldest_due_fecha = head.fecha
            snapshot.oldest_due_seconds = max(0.0, (now - became_due(head.fecha, head.created_at)).total_seconds())
        for state in OUTBOX_STATES:
            rows = connection.execute(
                select(hook_events.c.kind, func.count()).where(hook_events.c.state == state).group_by(hook_events.c.kind)
            ).all()
            for kind, count in rows:
                snapshot.outbox[(kind, state)] = count
    return snapshot


def became_due(fecha, created_at: datetime) -> datetime:
    """When a queued invoice became due (naive UTC): the later of its arrival and the start of its
    fecha in Argentina."""
    start = datetime.combine(fecha, day_time(0), ARGENTINA).astimezone(timezone.utc).replace(tzinfo=None)
    return max(start, created_at)


# --- the operator's commands ------------------------------------------------------------------


def workspace_cuits(store, cuit: str) -> list[str] | None:
    """Every CUIT of the workspace that owns ``cuit``; None when no workspace holds it."""
    with store.reading() as connection:
        owner = connection.execute(select(cuits.c.workspace_id).where(cuits.c.cuit == cuit)).scalar()
        if owner is None:
            return None
        return list(connection.execute(select(cuits.c.cuit).where(cuits.c.workspace_id == owner).order_by(cuits.c.cuit)).scalars())


def queue_counts(store, only_cuits: list[str] | None) -> dict[str, int]:
    """Invoices still in the queue by state, for some CUITs (the operator's --workspace)."""
    query = select(invoices.c.state, func.count()).where(invoices.c.state.in_(QUEUE_STATES)).group_by(invoices.c.state)
    if only_cuits is not None:
        query = query.where(invoices.c.cuit.in_(only_cuits))
    with store.reading() as connection:
        found = dict(connection.execute(query).all())
    return {state: found.get(state, 0) for state in QUEUE_STATES}


def afip_summary(store, only_cuits: list[str] | None) -> dict:
    """What encola knows of AFIP: recent health per scope, WSAA tickets' expiry, certificates held."""
    with store.reading() as connection:
        health = connection.execute(select(afip_health).order_by(afip_health.c.scope)).all()
        tickets = connection.execute(select(afip_tickets.c.cuit, afip_tickets.c.service, afip_tickets.c.expires_at)
                                     .order_by(afip_tickets.c.cuit)).all()
        held = connection.execute(select(cuits.c.cuit, cuits.c.cert_pem.is_not(None).label("has_cert"))).all()
        lanes = connection.execute(select(lane_leases).where(lane_leases.c.expires_at > store.clock.now())).all()
    mine = (lambda cuit: True) if only_cuits is None else (lambda cuit: cuit in only_cuits)
    return {
        "health": [
            {"scope": row.scope, "failing_since": _iso(row.failing_since), "last_error": row.last_error,
             "checked_at": _iso(row.checked_at)}
            for row in health if row.scope == "afip" or mine(row.scope)
        ],
        "tickets": [{"cuit": row.cuit, "service": row.service, "expires_at": _iso(row.expires_at)} for row in tickets if mine(row.cuit)],
        "certificates": {row.cuit: bool(row.has_cert) for row in held if mine(row.cuit)},
        "lanes_held": [
            {"cuit": row.cuit, "punto_venta": row.punto_venta, "cbte_tipo": row.cbte_tipo, "holder": row.holder}
            for row in lanes if mine(row.cuit)
        ],
    }


@dataclass(frozen=True)
class InvoiceFilter:
    only_cuits: list[str] | None = None
    punto_venta: int | None = None
    states: tuple[str, ...] = ()
    tipo: str | None = None
    desde: object = None
    hasta: object = None
    reference: str | None = None


def list_invoices(store, wanted: InvoiceFilter, limit: int, before_id: int | None = None) -> list[dict]:
    """Invoices newest first, filtered; ``before_id`` pages (keyset, so deep pages stay fast)."""
    columns = (invoices.c.id, invoices.c.cuit, invoices.c.punto_venta, invoices.c.tipo, invoices.c.numero,
               invoices.c.fecha, invoices.c.state, invoices.c.external_reference, invoices.c.total, invoices.c.cae,
               invoices.c.created_at)
    query = select(*columns).order_by(invoices.c.id.desc()).limit(limit)
    conditions = [invoices.c.state != "discarded"] if not wanted.states else [invoices.c.state.in_(wanted.states)]
    if wanted.only_cuits is not None:
        conditions.append(invoices.c.cuit.in_(wanted.only_cuits))
    if wanted.punto_venta is not None:
        conditions.append(invoices.c.punto_venta == wanted.punto_venta)
    if wanted.tipo:
        conditions.append(invoices.c.tipo == wanted.tipo.upper())
    if wanted.desde is not None:
        conditions.append(invoices.c.fecha >= wanted.desde)
    if wanted.hasta is not None:
        conditions.append(invoices.c.fecha <= wanted.hasta)
    if wanted.reference is not None:
        conditions.append(invoices.c.external_reference == wanted.reference)
    if before_id is not None:
        conditions.append(invoices.c.id < before_id)
    with store.reading() as connection:
        return [dict(row._mapping) for row in connection.execute(query.where(*conditions)).all()]


def invoice_detail(store, invoice_id: int, only_cuits: list[str] | None) -> dict | None:
    """One invoice with its outbox events and their attempts; None if absent or outside the CUITs."""
    query = select(invoices).where(invoices.c.id == invoice_id)
    if only_cuits is not None:
        query = query.where(invoices.c.cuit.in_(only_cuits))
    with store.reading() as connection:
        row = connection.execute(query).first()
        if row is None:
            return None
        events = connection.execute(select(hook_events).where(hook_events.c.invoice_id == invoice_id)
                                    .order_by(hook_events.c.id)).all()
        attempts = connection.execute(
            select(hook_attempts).where(hook_attempts.c.event_id.in_([event.id for event in events]))
            .order_by(hook_attempts.c.id)
        ).all() if events else []
    detail = {key: row._mapping[key] for key in SHOWN_INVOICE_COLUMNS}
    detail["errors"] = json.loads(row.errors or "[]")
    detail["observaciones"] = json.loads(row.observaciones) if row.observaciones else []
    detail["request"] = json.loads(row.view)
    detail["events"] = [
        {"hook_id": event.hook_id, "kind": event.kind, "evento": event.evento, "state": event.state,
         "attempts": [{"intento": a.intento, "status_code": a.status_code, "error": a.error, "duration_ms": a.duration_ms,
                       "at": _iso(a.created_at)} for a in attempts if a.event_id == event.id]}
        for event in events
    ]
    return detail


SHOWN_INVOICE_COLUMNS = ("id", "cuit", "punto_venta", "cbte_tipo", "tipo", "numero", "fecha", "vencimiento", "state",
                         "external_reference", "total", "cae", "cae_vencimiento", "attempts", "next_attempt_at",
                         "created_at", "emitted_at", "afip_env", "mail_to", "mail_sent_at")


def failed_events(store, only_cuits: list[str] | None, punto_venta: int | None, kind: str, since) -> list[tuple[int, int]]:
    """(event id, pdv id) of the failed outbox events the filters name (through the state index)."""
    query = select(hook_events.c.id, hook_events.c.pdv_id).where(hook_events.c.state == "failed", hook_events.c.kind == kind)
    if since is not None:
        query = query.where(hook_events.c.creado >= since)
    if only_cuits is not None or punto_venta is not None:
        query = query.join(pdvs, pdvs.c.id == hook_events.c.pdv_id)
        if only_cuits is not None:
            query = query.where(pdvs.c.cuit.in_(only_cuits))
        if punto_venta is not None:
            query = query.where(pdvs.c.punto_venta == punto_venta)
    with store.reading() as connection:
        return [tuple(row) for row in connection.execute(query.order_by(hook_events.c.id)).all()]


def requeue_events(store, chunk: list[tuple[int, int]], kind: str) -> int:
    """Queue these failed events again (same hook_id; schedule from its start), enabling the
    points of sale of hooks as ``hooks redeliver`` does; returns how many were still failed."""
    from sqlalchemy import update

    from encola.store import notify

    ids = [event_id for event_id, _ in chunk]
    with store.writing() as connection:
        if kind == "hook":
            connection.execute(update(pdvs).where(pdvs.c.id.in_({pdv_id for _, pdv_id in chunk}))
                               .values(webhook_disabled_at=None, webhook_disabled_reason=None, webhook_failing_since=None))
        count = connection.execute(
            update(hook_events).where(hook_events.c.id.in_(ids), hook_events.c.state == "failed")
            .values(state="pending", schedule_start=hook_events.c.attempts, next_attempt_at=store.clock.now(), locked_until=None)
        ).rowcount
        if count:
            notify.notify(connection)
    return count


def _iso(moment) -> str | None:
    return None if moment is None else moment.isoformat()
