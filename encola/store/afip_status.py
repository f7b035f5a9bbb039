"""What the console's AFIP status page reads: recent calls, AFIP's health, WSAA tickets, certificates.

Only metadata leaves here: a ticket's service and expiry (never its token or sign), a CUIT's
certificate PEM (public), never its key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from encola.store.schema import afip_attempts, afip_health, afip_tickets, cuits

RECENT_ATTEMPTS = 5000  # the newest recorded attempt rows looked at: the page's cost stays bounded


@dataclass(frozen=True)
class AttemptSample:
    method: str
    batch_id: str
    cuit: str
    started_at: datetime  # UTC
    duration_ms: int
    outcome: str


@dataclass(frozen=True)
class TicketState:
    cuit: str
    service: str
    expires_at: datetime  # UTC
    generated_at: datetime | None


@dataclass(frozen=True)
class HealthState:
    scope: str  # a CUIT, or "afip" (FEDummy)
    failing_since: datetime | None
    last_error: str | None
    checked_at: datetime


def _of_cuits(column, cuit_list: list[str] | None):
    return True if cuit_list is None else column.in_(cuit_list)


class AfipStatusQueries:
    """Mixed into Store. ``cuit_list`` is the operator's CUITs (None: every CUIT)."""

    def cuits_in_scope(self, workspace_ids: frozenset[int] | None) -> list[str]:
        query = select(cuits.c.cuit).order_by(cuits.c.cuit)
        if workspace_ids is not None:
            query = query.where(cuits.c.workspace_id.in_(sorted(workspace_ids)))
        with self.reading() as connection:
            return list(connection.execute(query).scalars())

    def recent_afip_attempts(self, since: datetime, cuit_list: list[str] | None) -> list[AttemptSample]:
        """Attempt rows started since ``since`` (newest first, at most RECENT_ATTEMPTS)."""
        query = (
            select(afip_attempts.c.method, afip_attempts.c.batch_id, afip_attempts.c.cuit, afip_attempts.c.started_at,
                   afip_attempts.c.duration_ms, afip_attempts.c.outcome)
            .where(afip_attempts.c.started_at >= since, _of_cuits(afip_attempts.c.cuit, cuit_list))
            .order_by(afip_attempts.c.started_at.desc())
            .limit(RECENT_ATTEMPTS)
        )
        with self.reading() as connection:
            return [AttemptSample(*row) for row in connection.execute(query).all()]

    def afip_health_states(self, cuit_list: list[str] | None) -> list[HealthState]:
        """The health rows of the CUITs, and AFIP's own (FEDummy, scope "afip")."""
        scope = afip_health.c.scope
        where = True if cuit_list is None else scope.in_([*cuit_list, "afip"])
        with self.reading() as connection:
            rows = connection.execute(select(afip_health).where(where).order_by(scope)).all()
        return [HealthState(row.scope, row.failing_since, row.last_error, row.checked_at) for row in rows]

    def ticket_states(self, cuit_list: list[str] | None) -> list[TicketState]:
        """Each CUIT's WSAA tickets: service and expiry only."""
        columns = (afip_tickets.c.cuit, afip_tickets.c.service, afip_tickets.c.expires_at, afip_tickets.c.generated_at)
        with self.reading() as connection:
            rows = connection.execute(
                select(*columns).where(_of_cuits(afip_tickets.c.cuit, cuit_list)).order_by(afip_tickets.c.cuit)
            ).all()
        return [TicketState(*row) for row in rows]

    def certificates_of(self, cuit_list: list[str] | None) -> list[tuple[str, str | None]]:
        """(CUIT, certificate PEM or None) for each CUIT; the key is not read."""
        with self.reading() as connection:
            rows = connection.execute(
                select(cuits.c.cuit, cuits.c.cert_pem).where(_of_cuits(cuits.c.cuit, cuit_list)).order_by(cuits.c.cuit)
            ).all()
        return [(row.cuit, row.cert_pem) for row in rows]
