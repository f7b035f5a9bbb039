"""Workspaces and points of sale: creation, settings, and the credentials' lookup (cached)."""

from __future__ import annotations

import time
from sqlalchemy import Connection, bindparam, insert, select, update

from encola.store.documents import ISSUER_COLUMNS
from encola.store.rows import Pdv
from encola.store.schema import pdvs, workspaces

PDV_CACHE_SECONDS = 1.0  # also how long an unknown apikey is remembered as unknown
PDV_CACHE_SIZE = 10_000
SEALED_COLUMNS = ("webhook_token", "webhook_secret", "webhook_secret_previous")

# Every column but the logo (up to 512 KiB, read only when an issuer version is made).
_PDV_COLUMNS = [
    *(column for column in pdvs.c if column.name != "logo"),
    workspaces.c.activo.label("workspace_activo"),
    workspaces.c.cupo_mensual,
]

# Hot-path statements are built once with bound parameters: constructing a statement per call
# (``.values(**row)``, fresh ``where`` clauses) cost more CPU than the query itself.
_PDV_BY_APIKEY = select(*_PDV_COLUMNS).join(workspaces).where(pdvs.c.apikey == bindparam("apikey"))


class PointsOfSaleQueries:
    """Mixed into Store: the statements on workspaces and points of sale."""

    def create_workspace(self, connection: Connection, nombre: str) -> int:
        """Insert a workspace (active, no monthly limit)."""
        return connection.execute(
            insert(workspaces).values(nombre=nombre, activo=True, created_at=self.clock.now())
        ).inserted_primary_key[0]

    def workspace_of_cuit(self, connection: Connection, cuit: str) -> int | None:
        """The workspace that owns a CUIT, if any."""
        return self.owner_of(connection, cuit)

    def update_workspace(self, connection: Connection, workspace_id: int, **values) -> None:
        """Change a workspace's activo / cupo_mensual."""
        connection.execute(update(workspaces).where(workspaces.c.id == workspace_id).values(**values))
        self._pdv_cache.clear()

    def insert_pdv(self, connection: Connection, **values) -> int:
        """Insert a point of sale; raises IntegrityError when (cuit, punto_venta) exists."""
        now = self.clock.now()
        pdv_id = connection.execute(
            insert(pdvs).values(created_at=now, updated_at=now, **self._sealed(values))
        ).inserted_primary_key[0]
        self.version_issuer(connection, pdv_id)
        self._pdv_cache.clear()  # its apikey may be remembered as unknown
        return pdv_id

    def update_pdv(self, connection: Connection, pdv_id: int, **values) -> None:
        """Change a point of sale's settings or keys; setting the webhook URL re-enables its hooks."""
        if values.get("webhook_url"):  # TF: a disabled URL is ignored until a new one is given
            values = {**values, "webhook_disabled_at": None, "webhook_disabled_reason": None, "webhook_failing_since": None}
        connection.execute(
            update(pdvs).where(pdvs.c.id == pdv_id).values(updated_at=self.clock.now(), **self._sealed(values))
        )
        if ISSUER_COLUMNS & values.keys():
            self.version_issuer(connection, pdv_id)
        self._pdv_cache.clear()

    def _sealed(self, values: dict) -> dict:
        """The values with the point of sale's secrets sealed (webhook token and signing secrets)."""
        return {
            name: self.secrets.seal(value) if name in SEALED_COLUMNS and value is not None else value
            for name, value in values.items()
        }

    def pdv_by_apikey(self, apikey: str) -> Pdv | None:
        """The point of sale an apikey names (the credentials' lookup key).

        Every request looks its point of sale up, so answers are kept for PDV_CACHE_SECONDS,
        "no such apikey" too (guessing apikeys costs no query each): a change or a new point of
        sale made in this process is seen at once, one made by another process within that time.
        """
        cached = self._cached_pdv(apikey)
        return cached[0] if cached is not None else self._load_pdv(apikey)

    def pdv_is_cached(self, apikey: str) -> bool:
        """Whether pdv_by_apikey would answer from memory (so it can run on the event loop)."""
        return self._cached_pdv(apikey) is not None

    def _cached_pdv(self, apikey: str) -> tuple[Pdv | None, float] | None:
        cached = self._pdv_cache.get(apikey)
        return cached if cached is not None and cached[1] > time.monotonic() else None

    def _load_pdv(self, apikey: str) -> Pdv | None:
        now = time.monotonic()
        with self.reading() as connection:
            row = connection.execute(_PDV_BY_APIKEY, {"apikey": apikey}).first()
        pdv = Pdv.from_row(row, self.secrets.open) if row else None
        if len(self._pdv_cache) >= PDV_CACHE_SIZE:
            # Forget the unknown apikeys first: a flood of guesses must not evict the real ones.
            for key, (known, _) in list(self._pdv_cache.items()):  # list(): other threads write
                if known is None:
                    self._pdv_cache.pop(key, None)
            if len(self._pdv_cache) >= PDV_CACHE_SIZE:
                self._pdv_cache.clear()
        self._pdv_cache[apikey] = (pdv, now + PDV_CACHE_SECONDS)
        return pdv

    def pdv(self, connection: Connection, *, cuit: str, punto_venta: int) -> Pdv | None:
        """The point of sale (cuit, punto_venta)."""
        row = connection.execute(
            select(*_PDV_COLUMNS)
            .join(workspaces)
            .where(pdvs.c.cuit == cuit, pdvs.c.punto_venta == punto_venta)
        ).first()
        return Pdv.from_row(row, self.secrets.open) if row else None

    def all_pdvs(self) -> list[Pdv]:
        with self.reading() as connection:
            rows = connection.execute(select(*_PDV_COLUMNS).join(workspaces).order_by(pdvs.c.id)).all()
        return [Pdv.from_row(row, self.secrets.open) for row in rows]

