"""Download links: ``{base}/comprobantes/{invoice id}/{token}/…``, where the token is an HMAC.

The token is HMAC-SHA256 of the invoice's id under the database's link key (random, 256 bits,
sealed in ``meta``), cut to 192 bits and written in URL-safe Base64 (32 characters). Nothing is
stored per invoice: the server recomputes the token from the id and compares in constant time,
so a wrong token costs no query. Anyone holding a link can open it (buyers do); nobody can make
one for another invoice without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from encola.documents.render import filename
from encola.store.rows import InvoiceRow

PATH = "/comprobantes"
TOKEN_BYTES = 24  # 192 bits
TOKEN_LENGTH = 32  # its URL-safe Base64, unpadded
_CONTEXT = b"encola document link v1:"


def token(key: bytes, invoice_id: int) -> str:
    digest = hmac.new(key, _CONTEXT + str(invoice_id).encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:TOKEN_BYTES]).decode("ascii")


def valid(key: bytes, invoice_id: int, candidate: str) -> bool:
    """Whether ``candidate`` is the token of ``invoice_id`` (compared in constant time)."""
    return hmac.compare_digest(token(key, invoice_id).encode("ascii"), candidate.encode("utf-8", "replace"))


@dataclass(frozen=True)
class Links:
    """The public URLs of an emitted invoice's documents and page."""

    base: str  # ENCOLA_PUBLIC_URL, without a trailing slash
    key: bytes

    def folder(self, invoice_id: int) -> str:
        return f"{self.base}{PATH}/{invoice_id}/{token(self.key, invoice_id)}/"

    def of(self, row: InvoiceRow) -> dict:
        """``comprobante_pdf_url``, ``comprobante_ticket_url`` and ``micrositios`` of an emitted
        invoice; the empty strings TF answers for any other."""
        if row.state != "emitted":
            return empty()
        folder = self.folder(row.id)
        return {
            "comprobante_pdf_url": folder + filename(row, "a4"),
            "comprobante_ticket_url": folder + filename(row, "ticket"),
            "micrositios": {"cliente": folder, "descarga": folder},
        }


def empty() -> dict:
    return {"comprobante_pdf_url": "", "comprobante_ticket_url": "", "micrositios": {"cliente": "", "descarga": ""}}
