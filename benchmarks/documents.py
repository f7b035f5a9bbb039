"""Documents benchmark: PDF renders per second on one core (encola/documents). No server needed.

    .venv/bin/python benchmarks/documents.py [--seconds 2]

Invoices are made by encola's own domain code (validation, the stored AFIP template and consulta
view, the RG 4892 QR URL), as the store would hand them out. Rows:

- ``a4_5_items``: the A4 of a 5-item FACTURA A, each render a different invoice (so its QR is
  encoded afresh): what rendering on demand costs the first time an invoice is asked for.
- ``a4_5_items_again``: the same invoice rendered again (its QR cached by URL in the process).
- ``a4_130_items``: the A4 of a 130-item FACTURA A (several pages), a different invoice each time.
- ``ticket_5_items``: the 80 mm ticket of a 5-item FACTURA A, a different invoice each time.
- ``*_kib``: the size of each document, i.e. what storing it instead would cost per invoice.

``measure()`` returns these as a dict, for ``benchmarks/run.py`` to add to its table.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from encola.documents import IssuerSnapshot, render_a4, render_ticket  # noqa: E402
from encola.documents.canvas import qr_png  # noqa: E402
from encola.domain.invoice import Issuer  # noqa: E402
from encola.domain.qr import qr_url  # noqa: E402
from encola.domain.render import afip_template, consulta_view  # noqa: E402
from encola.domain.validation import validate  # noqa: E402
from encola.store.rows import InvoiceRow  # noqa: E402

TODAY = date(2025, 6, 16)
CUIT = "30712345671"
ISSUER = Issuer(CUIT, 10, "RI", "P")
SNAPSHOT = IssuerSnapshot(
    razon_social="Distribuidora Ñandú S.A.", cuit=CUIT, condicion_iva="RI",
    domicilio="Av. Corrientes 1234 — CABA", iibb="901-123456-7", inicio_actividades=date(2015, 3, 1),
)


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
            "fecha": TODAY.strftime("%d/%m/%Y"), "vencimiento": (TODAY + timedelta(days=10)).strftime("%d/%m/%Y"),
            "tipo": "FACTURA A", "operacion": "V", "moneda": "PES", "cotizacion": 1, "punto_venta": "10",
            "numero": 0, "rubro": "Ferretería", "rubro_grupo_contable": "Ferretería", "detalle": detalle,
            "bonificacion": "0", "leyenda_gral": "Gracias por su compra", "total": "1",
            "external_reference": "bench",
        },
    }


def invoice(items: int, numero: int) -> InvoiceRow:
    """An emitted FACTURA A with ``items`` lines, numbered ``numero`` (its QR differs per number)."""
    body = _request(items)
    first = validate(body, ISSUER, TODAY)
    if first.totals is None:  # the total is what encola computes: TFC-2026 says it
        expected = next(e for e in first.errors if e.code == "TFC-2026")
        body["comprobante"]["total"] = re.findall(r"\d+\.\d+", expected.text)[-1]
    validated = validate(body, ISSUER, TODAY)
    assert not validated.errors, [e.text for e in validated.errors]
    inv, totals = validated.invoice, validated.totals
    afip = afip_template(inv, totals, ISSUER)
    cae = "75123456789012"
    now = datetime(2025, 6, 16, tzinfo=timezone.utc)
    return InvoiceRow(
        id=numero, pdv_id=1, cuit=CUIT, punto_venta=10, cbte_tipo=1, tipo="FACTURA A", external_reference="bench",
        request_hash="", fecha=TODAY, vencimiento=inv.vencimiento, state="emitted", attempts=1, next_attempt_at=now,
        numero=numero, cae=cae, cae_vencimiento=TODAY + timedelta(days=10),
        afip_qr=qr_url(
            fecha=TODAY, cuit=CUIT, punto_venta=10, cbte_tipo=1, numero=numero, importe=Decimal(afip["ImpTotal"]),
            moneda="PES", cotizacion=Decimal(1), doc_tipo=afip["DocTipo"], doc_nro=afip["DocNro"], cae=cae,
        ),
        afip_codigo_barras=None, errors=[], total=afip["ImpTotal"], afip=json.loads(json.dumps(afip)),
        view=json.loads(json.dumps(consulta_view(inv, totals))), response={}, created_at=now, updated_at=now,
    )


def _rate(render, rows: list[InvoiceRow], seconds: float, *, fresh_qr: bool) -> float:
    """Renders per CPU second of this process over about ``seconds`` of it, cycling through ``rows``.

    CPU time, not wall time: the rate of one core, whatever else the machine is running.
    """
    render(rows[0], SNAPSHOT, simulated=False)  # imports and first-use costs out of the way
    done, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        if fresh_qr:
            qr_png.cache_clear()
        render(rows[done % len(rows)], SNAPSHOT, simulated=False)
        done += 1
    return done / (time.process_time() - start)


def measure(seconds: float = 2.0) -> dict:
    five = [invoice(5, n) for n in range(1, 41)]
    many = [invoice(130, n) for n in range(1, 6)]
    return {
        "a4_5_items_per_s": round(_rate(render_a4, five, seconds, fresh_qr=True), 1),
        "a4_5_items_again_per_s": round(_rate(render_a4, five[:1], seconds, fresh_qr=False), 1),
        "a4_130_items_per_s": round(_rate(render_a4, many, seconds, fresh_qr=True), 1),
        "ticket_5_items_per_s": round(_rate(render_ticket, five, seconds, fresh_qr=True), 1),
        "a4_5_items_kib": round(len(render_a4(five[0], SNAPSHOT, simulated=False)) / 1024, 1),
        "a4_130_items_kib": round(len(render_a4(many[0], SNAPSHOT, simulated=False)) / 1024, 1),
        "ticket_5_items_kib": round(len(render_ticket(five[0], SNAPSHOT, simulated=False)) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per row (default 2)")
    results = measure(parser.parse_args().seconds)
    width = max(map(len, results))
    print("documents (one core)")
    for name, value in results.items():
        print(f"  {name:<{width}}  {value:>8}")


if __name__ == "__main__":
    main()
