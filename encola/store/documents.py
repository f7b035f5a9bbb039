"""The store's side of documents: issuer versions, the link key, and an emitted invoice with its issuer.

A point of sale's issuer data (what documents print about the seller) is versioned in ``issuers``:
a new row whenever it changes, and ``pdvs.issuer_id`` names the one in force. The engine copies
that id onto each invoice when it stores its CAE (``LaneStore.mark_emitted``), so an invoice's
document keeps showing the seller as it was then.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from encola.documents.issuer import IssuerSnapshot
from encola.store.rows import InvoiceRow
from encola.store.schema import EMITTED, invoices, issuers, meta, pdvs

# The columns of pdvs a document prints; changing any of them makes a new issuer version.
ISSUER_COLUMNS = frozenset({"razon_social", "condicion_iva", "domicilio", "iibb", "inicio_actividades", "logo"})
LINK_KEY = "document_link_key"  # in meta, sealed: the HMAC key of the download links


# Built once: every first download asks it, and building the statement and its cache key took
# about a third of the lookup's CPU.
_EMITTED_DOCUMENT = (
    select(invoices, issuers.c.snapshot.label("issuer_snapshot"))
    .outerjoin(pdvs, pdvs.c.id == invoices.c.pdv_id)
    .outerjoin(issuers, issuers.c.id == func.coalesce(invoices.c.issuer_id, pdvs.c.issuer_id))
    .where(invoices.c.id == bindparam("invoice_id"), invoices.c.state == EMITTED)
)


@dataclass(frozen=True)
class EmittedDocument:
    """What a document is rendered from: the invoice, the issuer as it was, where the CAE came from."""

    row: InvoiceRow
    issuer: IssuerSnapshot
    afip_env: str  # simulador | homologacion | produccion


def snapshot_text(snapshot: IssuerSnapshot) -> str:
    """The stored form of a version (keys sorted, so equal data gives equal text)."""
    return json.dumps(snapshot.to_json(), sort_keys=True, ensure_ascii=False)


class DocumentQueries:
    """Mixed into Store: issuer versions, the link key, and the emitted invoice a link names."""

    def version_issuer(self, connection: Connection, pdv_id: int) -> int:
        """Make the point of sale's issuer data a new version if it differs from the one in force."""
        pdv = connection.execute(
            select(
                pdvs.c.cuit, pdvs.c.razon_social, pdvs.c.condicion_iva, pdvs.c.domicilio, pdvs.c.iibb,
                pdvs.c.inicio_actividades, pdvs.c.logo, pdvs.c.issuer_id,
            ).where(pdvs.c.id == pdv_id)
        ).one()
        text = snapshot_text(
            IssuerSnapshot(
                razon_social=pdv.razon_social, cuit=pdv.cuit, condicion_iva=pdv.condicion_iva,
                domicilio=pdv.domicilio or None, iibb=pdv.iibb or None,
                inicio_actividades=pdv.inicio_actividades, logo=bytes(pdv.logo) if pdv.logo else None,
            )
        )
        if pdv.issuer_id is not None:
            current = connection.execute(select(issuers.c.snapshot).where(issuers.c.id == pdv.issuer_id)).scalar()
            if current == text:
                return pdv.issuer_id
        issuer_id = connection.execute(
            insert(issuers).values(pdv_id=pdv_id, snapshot=text, created_at=self.clock.now())
        ).inserted_primary_key[0]
        connection.execute(update(pdvs).where(pdvs.c.id == pdv_id).values(issuer_id=issuer_id))
        return issuer_id

    def issuer_versions(self, pdv_id: int) -> list[IssuerSnapshot]:
        """Every version of a point of sale's issuer data, oldest first."""
        with self.reading() as connection:
            rows = connection.execute(
                select(issuers.c.snapshot).where(issuers.c.pdv_id == pdv_id).order_by(issuers.c.id)
            ).all()
        return [IssuerSnapshot.from_json(json.loads(row.snapshot)) for row in rows]

    def document_link_key(self) -> bytes:
        """The database's key for download links: made once (random, 256 bits), kept sealed in meta."""
        key = getattr(self, "_document_link_key", None)
        if key is None:
            key = self._load_link_key()
            self._document_link_key = key
        return key

    def _load_link_key(self) -> bytes:
        with self.reading() as connection:
            sealed = connection.execute(select(meta.c.value).where(meta.c.name == LINK_KEY)).scalar()
        if sealed is None:
            made = self.secrets.seal(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii"))
            try:
                with self.writing() as connection:
                    connection.execute(insert(meta).values(name=LINK_KEY, value=made))
            except IntegrityError:
                pass  # another process made it first: use theirs
            with self.reading() as connection:
                sealed = connection.execute(select(meta.c.value).where(meta.c.name == LINK_KEY)).scalar_one()
        return base64.urlsafe_b64decode(self.secrets.open(sealed))

    def emitted_document(self, invoice_id: int) -> EmittedDocument | None:
        """The emitted invoice ``invoice_id`` with the issuer version it was emitted under; None for
        any other invoice (queued, errored, deleted, unknown)."""
        with self.reading() as connection:
            return read_emitted_document(connection, invoice_id)


def read_emitted_document(connection: Connection, invoice_id: int) -> EmittedDocument | None:
    """``Store.emitted_document`` on a connection of one's own: render processes read the invoice
    they render themselves (``encola/documents/stored.py``)."""
    found = connection.execute(_EMITTED_DOCUMENT, {"invoice_id": invoice_id}).first()
    if found is None or found.issuer_snapshot is None:
        return None
    issuer = IssuerSnapshot.from_json(json.loads(found.issuer_snapshot))
    return EmittedDocument(InvoiceRow.from_row(found), issuer, found.afip_env or "simulador")
