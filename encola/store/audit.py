"""The audit log: what operators did from the console, who, when and on which workspace.

An entry is written in the transaction of the change it records where the change is the store's
own (queue actions, lane pauses, credentials); see docs/console.md ("Acciones").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select

from encola import jsontext
from encola.store.schema import audit_log

AUDIT_PAGE = 50


@dataclass(frozen=True)
class Actor:
    """Who acts: an operator of the console, and the workspaces they may see (None: all of them)."""

    operator_id: int | None
    email: str
    workspace_ids: frozenset[int] | None

    def may_see(self, workspace_id: int) -> bool:
        return self.workspace_ids is None or workspace_id in self.workspace_ids


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime  # UTC
    operator_id: int | None
    operator_email: str
    workspace_id: int | None
    action: str
    target: str
    details: dict

    @classmethod
    def from_row(cls, row) -> "AuditEntry":
        mapping = row._mapping
        return cls(**{**mapping, "details": jsontext.loads(mapping["details"])})


class AuditQueries:
    """Mixed into Store: writing and listing the audit log."""

    def record_audit(
        self, connection: Connection, actor: Actor, workspace_id: int | None, action: str, target: str, details: dict
    ) -> None:
        """Add an entry in the caller's transaction (details: JSON-able, never secrets)."""
        connection.execute(
            insert(audit_log).values(
                at=self.clock.now(),
                operator_id=actor.operator_id,
                operator_email=actor.email,
                workspace_id=workspace_id,
                action=action,
                target=target,
                details=jsontext.dumps_text(details),
            )
        )

    def audit_entries(
        self, workspace_ids: frozenset[int] | None, *, workspace_id: int | None = None,
        before_id: int | None = None, limit: int = AUDIT_PAGE,
    ) -> list[AuditEntry]:
        """Newest first, only of ``workspace_ids`` (None: every workspace, and entries of none),
        optionally of one workspace, older than ``before_id`` (the next page)."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if workspace_ids is not None:
            query = query.where(audit_log.c.workspace_id.in_(sorted(workspace_ids)))
        if workspace_id is not None:
            query = query.where(audit_log.c.workspace_id == workspace_id)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        with self.reading() as connection:
            return [AuditEntry.from_row(row) for row in connection.execute(query).all()]
