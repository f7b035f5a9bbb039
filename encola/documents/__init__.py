"""The invoice as a document: A4 and 80 mm ticket PDFs of an emitted invoice, pure.

No HTTP, no SQL: callers hand in the stored row and the issuer's snapshot, and get bytes.

Interface (others wire it into HTTP, the store and mail; keep this shape)::

    # encola/documents/issuer.py
    @dataclass(frozen=True)
    class IssuerSnapshot:          # the issuer as it was when the invoice was emitted
        razon_social: str
        cuit: str
        condicion_iva: str         # "RI" | "M" | "E" (documents print the Spanish words)
        domicilio: str | None = None
        iibb: str | None = None    # the number, or "Exento"
        inicio_actividades: date | None = None
        logo: bytes | None = None  # PNG or JPEG, on the A4
        def to_json(self) -> dict: ...                 # JSON-safe (logo as Base64)
        @classmethod
        def from_json(cls, data: dict) -> IssuerSnapshot: ...

    # encola/documents/render.py
    def render_a4(row, issuer, *, simulated: bool = False, afip_env: str | None = None) -> bytes
    def render_ticket(row, issuer, *, simulated: bool = False, afip_env: str | None = None) -> bytes
    def filename(row: InvoiceRow, kind: str) -> str    # kind "a4" | "ticket"
                                                       # → "FACTURA_A_00010-00000001.pdf"

- ``row`` must be emitted (``state == "emitted"``, numbered, with CAE and ``afip_qr``) and carry
  its ``view`` and ``afip``; anything else raises :class:`~encola.documents.model.NotEmitted`
  (a ``ValueError``).
- ``afip_env``: where the CAE came from, as the invoice recorded it at emission: ``"simulador"``
  (``encola afip-sim`` or the embedded simulator; every page carries "SIN VALIDEZ FISCAL —
  SIMULADOR"), ``"homologacion"`` (AFIP's test service; "SIN VALIDEZ FISCAL — HOMOLOGACIÓN") or
  ``"produccion"`` (no mark). Without it, ``simulated`` says simulador (True) or produccion.
- Same row, snapshot and environment → the same bytes (the PDF's dates come from the invoice's date,
  its /ID from its content), so a document can be rendered on demand and cached by
  (invoice id, kind) instead of stored. ``benchmarks/documents.py`` measures the cost.
- Issuer fields that are None are left out of the document, never printed as "None".

The HTTP side (``http``: download links with HMAC tokens, the buyer's page, the render cache),
the render processes (``pool``; ``stored``: a render process reads the invoice it renders) and
the store side (``encola/store/documents.py``: issuer versions, the link key) wire it in.

Modules: ``model`` (the :class:`Document` built once from the row: lines, IVA by rate, totals,
asociados, período, leyendas, moneda), ``a4`` and ``ticket`` (layouts, no arithmetic),
``canvas`` (fpdf2 set up for determinism, text wrapping, the QR encoded by zint),
``text`` (1.234,56 and dd/mm/aaaa), ``labels`` (the Spanish words for the stored codes).
"""

from encola.documents.issuer import IssuerSnapshot
from encola.documents.model import NotEmitted
from encola.documents.render import filename, render_a4, render_ticket

__all__ = ["IssuerSnapshot", "NotEmitted", "filename", "render_a4", "render_ticket"]
