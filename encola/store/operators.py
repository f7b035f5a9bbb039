"""Operators of the console, the workspaces each one sees, and their server-side sessions.

Passwords arrive here already hashed (argon2, in encola/console/passwords.py); session tokens
arrive as their SHA-256, so nothing in these tables opens a session or reveals a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from encola.store.schema import cuits, operator_sessions, operator_workspaces, operators, pdvs, workspaces


@dataclass(frozen=True)
class Operator:
    id: int
    email: str
    password_hash: str
    all_workspaces: bool
    activo: bool


@dataclass(frozen=True)
class Session:
    operator: Operator
    csrf_token: str
    expires_at: datetime
    # The workspaces the operator sees: ``None`` for every one (``--all``).
    workspace_ids: frozenset[int] | None


@dataclass(frozen=True)
class WorkspaceSummary:
    id: int
    nombre: str
    cuits: tuple[str, ...]


class OperatorExists(Exception):
    pass


class OperatorQueries:
    """Mixed into Store: operators, their workspaces, sessions."""

    def workspace_ids_of_cuits(self, cuit_list: list[str]) -> dict[str, int | None]:
        """The workspace that owns each CUIT (None when none does)."""
        with self.reading() as connection:
            rows = connection.execute(select(cuits.c.cuit, cuits.c.workspace_id).where(cuits.c.cuit.in_(cuit_list))).all()
        owners = {row.cuit: row.workspace_id for row in rows}
        return {cuit: owners.get(cuit) for cuit in cuit_list}

    def create_operator(self, email: str, password_hash: str, *, workspace_ids: list[int], all_workspaces: bool) -> int:
        """A new operator; raises OperatorExists when the e-mail is taken."""
        now = self.clock.now()
        with self.writing() as connection:
            if connection.execute(select(operators.c.id).where(operators.c.email == email)).first():
                raise OperatorExists(email)
            operator_id = connection.execute(
                insert(operators).values(
                    email=email, password_hash=password_hash, all_workspaces=all_workspaces, activo=True,
                    created_at=now, password_changed_at=now,
                )
            ).inserted_primary_key[0]
            for workspace_id in sorted(set(workspace_ids)):
                connection.execute(insert(operator_workspaces).values(operator_id=operator_id, workspace_id=workspace_id))
        return operator_id

    def set_operator_password(self, email: str, password_hash: str) -> bool:
        """A new password; every session of the operator ends. False for an unknown e-mail."""
        with self.writing() as connection:
            operator_id = connection.execute(select(operators.c.id).where(operators.c.email == email)).scalar()
            if operator_id is None:
                return False
            connection.execute(
                update(operators).where(operators.c.id == operator_id)
                .values(password_hash=password_hash, password_changed_at=self.clock.now())
            )
            connection.execute(delete(operator_sessions).where(operator_sessions.c.operator_id == operator_id))
        return True

    def operator_by_email(self, email: str) -> Operator | None:
        with self.reading() as connection:
            row = connection.execute(select(*_OPERATOR_COLUMNS).where(operators.c.email == email)).first()
        return Operator(**row._mapping) if row else None

    def list_operators(self) -> list[tuple[Operator, list[str]]]:
        """Every operator with the CUITs of the workspaces given (for ``encola operator list``)."""
        with self.reading() as connection:
            found = [Operator(**row._mapping) for row in connection.execute(select(*_OPERATOR_COLUMNS).order_by(operators.c.email))]
            given = connection.execute(
                select(operator_workspaces.c.operator_id, cuits.c.cuit)
                .join(cuits, cuits.c.workspace_id == operator_workspaces.c.workspace_id)
                .order_by(cuits.c.cuit)
            ).all()
        cuits_of: dict[int, list[str]] = {}
        for row in given:
            cuits_of.setdefault(row.operator_id, []).append(row.cuit)
        return [(operator, cuits_of.get(operator.id, [])) for operator in found]

    def start_session(self, token_hash: str, operator_id: int, csrf_token: str, expires_at: datetime) -> None:
        now = self.clock.now()
        with self.writing() as connection:
            # Expired sessions are swept here, at each login: no background job needed.
            connection.execute(delete(operator_sessions).where(operator_sessions.c.expires_at < now))
            connection.execute(
                insert(operator_sessions).values(
                    token_hash=token_hash, operator_id=operator_id, csrf_token=csrf_token, created_at=now, expires_at=expires_at
                )
            )

    def session(self, token_hash: str) -> Session | None:
        """The live session of a token's hash, with the operator's workspaces; None when it has
        expired, its operator was disabled, or there is none."""
        with self.reading() as connection:
            row = connection.execute(
                select(*_OPERATOR_COLUMNS, operator_sessions.c.csrf_token, operator_sessions.c.expires_at)
                .join(operators, operators.c.id == operator_sessions.c.operator_id)
                .where(operator_sessions.c.token_hash == token_hash, operator_sessions.c.expires_at > self.clock.now())
            ).first()
            if row is None or not row.activo:
                return None
            workspace_ids = None
            if not row.all_workspaces:
                workspace_ids = frozenset(connection.execute(
                    select(operator_workspaces.c.workspace_id).where(operator_workspaces.c.operator_id == row.id)
                ).scalars())
        mapping = row._mapping
        operator = Operator(**{column.name: mapping[column.name] for column in _OPERATOR_COLUMNS})
        return Session(operator, row.csrf_token, row.expires_at, workspace_ids)

    def end_session(self, token_hash: str) -> None:
        with self.writing() as connection:
            connection.execute(delete(operator_sessions).where(operator_sessions.c.token_hash == token_hash))

    def workspaces_seen(self, workspace_ids: frozenset[int] | None) -> list[WorkspaceSummary]:
        """The workspaces an operator sees, each with its CUITs (for navigation and filters)."""
        query = select(workspaces.c.id, workspaces.c.nombre, cuits.c.cuit).join(cuits, cuits.c.workspace_id == workspaces.c.id)
        if workspace_ids is not None:
            query = query.where(workspaces.c.id.in_(sorted(workspace_ids)))
        with self.reading() as connection:
            rows = connection.execute(query.order_by(workspaces.c.id, cuits.c.cuit)).all()
        found: dict[int, tuple[str, list[str]]] = {}
        for row in rows:
            found.setdefault(row.id, (row.nombre, []))[1].append(row.cuit)
        return [WorkspaceSummary(id, nombre, tuple(cuit_list)) for id, (nombre, cuit_list) in found.items()]

    def pdvs_seen(self, workspace_ids: frozenset[int] | None) -> list[dict]:
        """The points of sale an operator sees: id, workspace, CUIT, number, razón social."""
        query = select(pdvs.c.id, pdvs.c.workspace_id, pdvs.c.cuit, pdvs.c.punto_venta, pdvs.c.razon_social)
        if workspace_ids is not None:
            query = query.where(pdvs.c.workspace_id.in_(sorted(workspace_ids)))
        with self.reading() as connection:
            return [dict(row._mapping) for row in connection.execute(query.order_by(pdvs.c.cuit, pdvs.c.punto_venta))]


_OPERATOR_COLUMNS = [operators.c.id, operators.c.email, operators.c.password_hash, operators.c.all_workspaces, operators.c.activo]
