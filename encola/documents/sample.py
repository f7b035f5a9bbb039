"""A sample emitted invoice, made by encola's own domain code, and a rehearsal that renders it.

A fresh render process pays, on its first document, for what fpdf2 and Pillow load lazily (font
metrics, image codecs) and for zint's first encode: tens of milliseconds that the first
buyers after a restart would wait for. ``rehearse`` renders the sample's A4 and ticket once when
the process starts (``pool.py``). ``benchmarks/documents.py`` measures renders with the same
invoices.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from encola.documents.issuer import IssuerSnapshot
from encola.domain.invoice import Issuer
from encola.domain.qr import qr_url
from encola.domain.render import afip_template, consulta_view
from encola.domain.validation import validate
from encola.store.rows import InvoiceRow

SAMPLE_DAY = date(2025, 6, 16)
SAMPLE_CUIT = "30712345671"
SAMPLE_ISSUER = IssuerSnapshot(
    razon_social="Distribuidora Ñandú S.A.", cuit=SAMPLE_CUIT, condicion_iva="RI",
    domicilio="Av. Corrientes 1234 — CABA", iibb="901-123456-7", inicio_actividades=date(2015, 3, 1),
)
_EMITTER = Issuer(SAMPLE_CUIT, 10, "RI", "P")
_CAE = "75123456789012"


def _request(items: int) -> dict:
    detalle = [
        {
            "cantidad": str(1 + i % 3),
            "producto": {
                "descripcion": f"Artículo {i + 1} — tornillos autoperforantes 14 x 2\" caja x 100",
                "codigo": f"ART-{i + 1:04d}",
                "precio_unitario_sin_iva": f"{1000 + i * 7.25:.2f}",
                "alicuota": ("21", "10.5", "27")[i % 3],
                "unidad_medida": "7",
            },
        }
        for i in range(items)
    ]
    return {
        "cliente": {
            "documento_tipo": "CUIT", "documento_nro": "30712293841", "razon_social": "Cliente SA",
            "domicilio": "Av. Libertador 571", "provincia": "2", "envia_por_mail": "N",
            "condicion_pago": "201", "condicion_iva": "RI",
        },
        "comprobante": {
            "fecha": SAMPLE_DAY.strftime("%d/%m/%Y"), "vencimiento": (SAMPLE_DAY + timedelta(days=10)).strftime("%d/%m/%Y"),
            "tipo": "FACTURA A", "operacion": "V", "moneda": "PES", "cotizacion": 1, "punto_venta": "10",
            "numero": 0, "rubro": "Ferretería", "rubro_grupo_contable": "Ferretería", "detalle": detalle,
            "bonificacion": "0", "leyenda_gral": "Gracias por su compra", "total": "1",
            "external_reference": "muestra",
        },
    }


def sample_invoice(items: int = 5, numero: int = 1) -> InvoiceRow:
    """An emitted FACTURA A with ``items`` lines, numbered ``numero`` (its QR differs per number)."""
    body = _request(items)
    first = validate(body, _EMITTER, SAMPLE_DAY)
    if first.totals is None:  # the total is what encola computes: TFC-2026 says it
        expected = next(e for e in first.errors if e.code == "TFC-2026")
        body["comprobante"]["total"] = re.findall(r"\d+\.\d+", expected.text)[-1]
    validated = validate(body, _EMITTER, SAMPLE_DAY)
    if validated.errors:
        raise ValueError([e.text for e in validated.errors])
    invoice, totals = validated.invoice, validated.totals
    afip = afip_template(invoice, totals, _EMITTER)
    now = datetime.combine(SAMPLE_DAY, time(), timezone.utc)
    return InvoiceRow(
        id=numero, pdv_id=1, cuit=SAMPLE_CUIT, punto_venta=10, cbte_tipo=1, tipo="FACTURA A",
        external_reference="muestra", request_hash="", fecha=SAMPLE_DAY, vencimiento=invoice.vencimiento,
        state="emitted", attempts=1, next_attempt_at=now, numero=numero, cae=_CAE,
        cae_vencimiento=SAMPLE_DAY + timedelta(days=10),
        afip_qr=qr_url(
            fecha=SAMPLE_DAY, cuit=SAMPLE_CUIT, punto_venta=10, cbte_tipo=1, numero=numero,
            importe=Decimal(afip["ImpTotal"]), moneda="PES", cotizacion=Decimal(1), doc_tipo=afip["DocTipo"],
            doc_nro=afip["DocNro"], cae=_CAE,
        ),
        afip_codigo_barras=None, errors=[], total=afip["ImpTotal"], afip=json.loads(json.dumps(afip)),
        view=json.loads(json.dumps(consulta_view(invoice, totals))), response={}, created_at=now, updated_at=now,
    )


def rehearse() -> None:
    """Render the sample's A4 and ticket once, with and without the simulator's mark."""
    from encola.documents.render import render_a4, render_ticket

    row = sample_invoice()
    render_a4(row, SAMPLE_ISSUER, simulated=True)
    render_ticket(row, SAMPLE_ISSUER, simulated=False)
