"""CUITs: which workspace owns each one, and its AFIP certificate and (sealed) private key."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from encola.store.schema import cuits


class CuitQueries:
    """Mixed into Store: the statements on CUITs. Only operator commands add a CUIT to a workspace."""

    def owner_of(self, connection: Connection, cuit: str) -> int | None:
        """The workspace that owns a CUIT, if any does."""
        return connection.execute(select(cuits.c.workspace_id).where(cuits.c.cuit == cuit)).scalar()

    def add_cuit(self, connection: Connection, cuit: str, workspace_id: int) -> None:
        """Put a CUIT in a workspace (operator side only); raises IntegrityError when it has an owner."""
        now = self.clock.now()
        connection.execute(insert(cuits).values(cuit=cuit, workspace_id=workspace_id, created_at=now, updated_at=now))

    def credentials_of(self, cuit: str) -> tuple[str, str] | None:
        """The certificate and private key (PEM, key opened) of a CUIT."""
        with self.reading() as connection:
            row = connection.execute(
                select(cuits.c.cert_pem, cuits.c.key_pem).where(cuits.c.cuit == cuit, cuits.c.cert_pem.is_not(None))
            ).first()
        return (row.cert_pem, self.secrets.open(row.key_pem)) if row else None

    def save_credentials(self, cuit: str, cert_pem: str, key_pem: str, *, only_if_missing: bool) -> bool:
        """Keep a CUIT's certificate and key (sealed); False when the CUIT has no owner (or, with
        ``only_if_missing``, already has a certificate)."""
        query = update(cuits).where(cuits.c.cuit == cuit)
        if only_if_missing:
            query = query.where(cuits.c.cert_pem.is_(None))
        sealed = self.secrets.seal(key_pem)
        with self.writing() as connection:
            done = connection.execute(query.values(cert_pem=cert_pem, key_pem=sealed, updated_at=self.clock.now()))
        return done.rowcount == 1

    def certificate_of(self, cuit: str) -> str | None:
        """A CUIT's certificate (PEM), without its key: for showing its expiry."""
        with self.reading() as connection:
            return connection.execute(select(cuits.c.cert_pem).where(cuits.c.cuit == cuit)).scalar()
