"""Public entry points: an emitted invoice as an A4 or 80 mm ticket PDF, and its file name."""

from __future__ import annotations

import re

from encola.documents import a4, ticket
from encola.documents.issuer import IssuerSnapshot
from encola.documents.model import build
from encola.store.rows import InvoiceRow

KINDS = ("a4", "ticket")


def render_a4(row: InvoiceRow, issuer: IssuerSnapshot, *, simulated: bool = False, afip_env: str | None = None) -> bytes:
    """The A4 PDF of an emitted invoice (raises ``NotEmitted`` for any other)."""
    return a4.render(build(row, issuer, simulated=simulated, afip_env=afip_env))


def render_ticket(row: InvoiceRow, issuer: IssuerSnapshot, *, simulated: bool = False, afip_env: str | None = None) -> bytes:
    """The 80 mm-wide ticket PDF of an emitted invoice (raises ``NotEmitted`` for any other)."""
    return ticket.render(build(row, issuer, simulated=simulated, afip_env=afip_env))


def filename(row: InvoiceRow, kind: str) -> str:
    """ "FACTURA_A_00010-00000001.pdf" for the A4, "…_ticket.pdf" for the ticket."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    tipo = "_".join(re.sub(r"[^A-Za-z0-9 ]", "", row.tipo).split())
    suffix = "" if kind == "a4" else "_ticket"
    return f"{tipo}_{row.punto_venta:05d}-{(row.numero or 0):08d}{suffix}.pdf"


RENDERERS = {"a4": render_a4, "ticket": render_ticket}
