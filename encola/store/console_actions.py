"""The console's action statements: targets looked up within the operator's workspaces, lane
pauses, one delivery sent again.

Every lookup takes the workspaces the operator may see (None: all) and filters in SQL, so an id
from another workspace is simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from encola.store import notify
from encola.store.points_of_sale import _PDV_COLUMNS
from encola.store.rows import HookEvent, InvoiceRow, Pdv
from encola.store.schema import hook_events, invoices, lane_leases, pdvs, workspaces

Scope = frozenset[int] | None  # the workspaces an operator may see; None: every one


@dataclass(frozen=True)
class LaneState:
    cuit: str
    punto_venta: int
    cbte_tipo: int
    paused: bool
    held_until: datetime | None  # a worker's lease, if one is in force


def _within(column, scope: Scope):
    return True if scope is None else column.in_(sorted(scope))


class ConsoleActionQueries:
    """Mixed into Store: what the console's actions read and write besides the API's own rules."""

    def pdv_in_scope(self, connection: Connection, pdv_id: int, scope: Scope) -> Pdv | None:
        """A point of sale by id, if it belongs to one of the workspaces."""
        row = connection.execute(
            select(*_PDV_COLUMNS).join(workspaces).where(pdvs.c.id == pdv_id, _within(pdvs.c.workspace_id, scope))
        ).first()
        return Pdv.from_row(row, self.secrets.open) if row else None

    def pdvs_in_scope(self, scope: Scope) -> list[Pdv]:
        with self.reading() as connection:
            rows = connection.execute(
                select(*_PDV_COLUMNS).join(workspaces).where(_within(pdvs.c.workspace_id, scope)).order_by(pdvs.c.cuit, pdvs.c.punto_venta)
            ).all()
        return [Pdv.from_row(row, self.secrets.open) for row in rows]

    def invoice_in_scope(self, connection: Connection, invoice_id: int, scope: Scope) -> tuple[InvoiceRow, int] | None:
        """An invoice by id and its workspace, if that is one of the workspaces."""
        row = connection.execute(
            select(invoices, pdvs.c.workspace_id.label("owner"))
            .join(pdvs, pdvs.c.id == invoices.c.pdv_id)
            .where(invoices.c.id == invoice_id, _within(pdvs.c.workspace_id, scope))
        ).first()
        return (InvoiceRow.from_row(row), row.owner) if row else None

    def event_in_scope(self, connection: Connection, hook_id: str, scope: Scope) -> tuple[HookEvent, int] | None:
        """An outbox event (hook or mail) by hook_id and its workspace, if that is one of the workspaces."""
        row = connection.execute(
            select(hook_events, pdvs.c.workspace_id.label("owner"))
            .join(pdvs, pdvs.c.id == hook_events.c.pdv_id)
            .where(hook_events.c.hook_id == hook_id, _within(pdvs.c.workspace_id, scope))
        ).first()
        return (HookEvent.from_row(row), row.owner) if row else None

    def redeliver_event(self, connection: Connection, event: HookEvent) -> bool:
        """Send one event again, whatever its state, unless a dispatcher holds it right now.

        As ``redeliver_events`` does for failed ones: same hook_id, the retry schedule from its
        start, and (a hook) the endpoint enabled again, since asking says it works now.
        """
        now = self.clock.now()
        moved = connection.execute(
            update(hook_events)
            .where(
                hook_events.c.id == event.id,
                or_(hook_events.c.locked_until.is_(None), hook_events.c.locked_until <= now),
            )
            .values(state="pending", schedule_start=hook_events.c.attempts, next_attempt_at=now, locked_until=None,
                    delivered_at=None)
        ).rowcount
        if moved and event.kind == "hook":
            connection.execute(
                update(pdvs)
                .where(pdvs.c.id == event.pdv_id)
                .values(webhook_disabled_at=None, webhook_disabled_reason=None, webhook_failing_since=None)
            )
            self._pdv_cache.clear()
        if moved:
            notify.notify(connection)
        return moved == 1

    def lanes_in_scope(self, scope: Scope, cuit: str | None = None) -> list[LaneState]:
        """The lanes of the workspaces' CUITs that have invoices or a lease row, with their pause."""
        now = self.clock.now()
        owned = select(pdvs.c.cuit, pdvs.c.punto_venta).where(_within(pdvs.c.workspace_id, scope))
        if cuit is not None:
            owned = owned.where(pdvs.c.cuit == cuit)
        owned = owned.subquery()
        with self.reading() as connection:
            rows = connection.execute(
                select(lane_leases)
                .join(owned, and_(owned.c.cuit == lane_leases.c.cuit, owned.c.punto_venta == lane_leases.c.punto_venta))
                .order_by(lane_leases.c.cuit, lane_leases.c.punto_venta, lane_leases.c.cbte_tipo)
            ).all()
        return [
            LaneState(row.cuit, row.punto_venta, row.cbte_tipo, bool(row.paused),
                      row.expires_at if row.expires_at > now and row.holder else None)
            for row in rows
        ]

    def set_lane_paused(self, connection: Connection, cuit: str, punto_venta: int, cbte_tipo: int, paused: bool) -> bool:
        """Pause or resume a lane; a lane never worked on gets its row (lease expired, token 0, so
        the engine's next acquisition is token 1 as usual). True when the pause changed."""
        key = (lane_leases.c.cuit == cuit, lane_leases.c.punto_venta == punto_venta, lane_leases.c.cbte_tipo == cbte_tipo)
        before = connection.execute(select(lane_leases.c.paused).where(*key)).scalar()
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        connection.execute(
            dialect.insert(lane_leases)
            .values(cuit=cuit, punto_venta=punto_venta, cbte_tipo=cbte_tipo, holder="", token=0,
                    expires_at=self.clock.now() - timedelta(seconds=1), paused=paused)
            .on_conflict_do_update(index_elements=["cuit", "punto_venta", "cbte_tipo"], set_={"paused": paused})
        )
        if not paused:
            notify.notify(connection)  # its due invoices may go now
        return bool(before) != paused
