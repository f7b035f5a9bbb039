"""Emitted invoices of each class, made the way encola makes them, for the document tests.

A TF request (the docs' examples in ``tests/fixtures/tf``) goes through the real validation and
the real render functions of ``encola.domain`` (what intake stores), is numbered and given a
CAE and its RG 4892 QR as the engine does (``encola.domain.qr``), and becomes the
``InvoiceRow`` the store would hand out (its JSON columns round-tripped through JSON).
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from encola.documents.issuer import IssuerSnapshot
from encola.domain.invoice import Issuer
from encola.domain.qr import barcode, qr_url
from encola.domain.render import accepted_response, afip_template, consulta_view
from encola.domain.validation import validate
from encola.store.rows import InvoiceRow

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tf"
TODAY = date(2025, 6, 16)
ISSUER_CUIT = "20111111112"
PUNTO_VENTA = 10
CAE = "75123456789012"

ISSUER = IssuerSnapshot(
    razon_social="Almacén Ñandú S.R.L.",
    cuit=ISSUER_CUIT,
    condicion_iva="RI",
    domicilio="Av. Corrientes 1234, Piso 5º — CABA",
    iibb="901-123456-7",
    inicio_actividades=date(2015, 3, 1),
)
MONOTRIBUTO = IssuerSnapshot(razon_social="José Pérez", cuit=ISSUER_CUIT, condicion_iva="M")


def request(name: str) -> dict:
    body = json.loads((FIXTURES / f"{name}.json").read_text())
    body["comprobante"].update(
        fecha=TODAY.strftime("%d/%m/%Y"),
        vencimiento=(TODAY + timedelta(days=15)).strftime("%d/%m/%Y"),
        punto_venta=str(PUNTO_VENTA),
        numero=0,
        external_reference=f"ref-{name}",
    )
    return body


def factura_a() -> dict:
    """The docs' FACTURA A in USD (cotización 1234.55) to a RI client, with two percepciones."""
    return request("factura_a")


def factura_a_pesos(items: int = 5) -> dict:
    """A FACTURA A in pesos with ``items`` lines at mixed rates, a bonificación and a leyenda."""
    body = request("factura_a")
    rates = ["21", "10.5", "27", "21", "-1"]
    body["comprobante"].update(
        moneda="PES",
        cotizacion=1,
        tributos=[],
        leyenda_gral="Según orden de compra 4411 — entregar en depósito",
        detalle=[
            {
                "cantidad": str(1 + i % 3),
                "bonificacion_porcentaje": "10" if i == 0 else "0",
                "leyenda": "Garantía 12 meses" if i == 1 else "",
                "producto": {
                    "descripcion": f"Artículo número {i + 1} — descripción larga de un producto de ferretería",
                    "codigo": f"ART-{i + 1:04d}",
                    "precio_unitario_sin_iva": f"{1234.5 + i * 17.25:.2f}",
                    "alicuota": rates[i % len(rates)],
                    "unidad_medida": "7",
                },
            }
            for i in range(items)
        ],
    )
    return _with_total(body)


def factura_b_cf() -> dict:
    """A FACTURA B in pesos to a consumidor final identified by DNI."""
    body = request("factura_a")
    body["cliente"].update(
        documento_tipo="DNI", documento_nro="12345678", condicion_iva="CF", razon_social="María Gómez",
        domicilio="Calle Falsa 123", condicion_pago="201",
    )
    body["comprobante"].update(tipo="FACTURA B", moneda="PES", cotizacion=1, tributos=[])
    return _with_total(body)


def factura_c() -> dict:
    """The docs' FACTURA C (two items, total 110) to a RI client; services, with a period."""
    body = request("factura_c")
    body["comprobante"].update(
        periodo_facturado_desde="01/06/2025", periodo_facturado_hasta="15/06/2025", vencimiento="30/06/2025"
    )
    return body


def nota_credito_a() -> dict:
    body = factura_a_pesos(2)
    body["comprobante"].update(
        tipo="NOTA DE CREDITO A",
        comprobantes_asociados=[
            {
                "tipo_comprobante": "FACTURA A",
                "punto_venta": str(PUNTO_VENTA),
                "numero": "00000349",
                "comprobante_fecha": (TODAY - timedelta(days=3)).strftime("%d/%m/%Y"),
                "cuit": int(ISSUER_CUIT),
            }
        ],
    )
    return body


def _with_total(body: dict) -> dict:
    """The request with the total encola computes (so it validates whatever the items are)."""
    body["comprobante"]["total"] = "0"
    validated = validate(copy.deepcopy(body), Issuer(ISSUER_CUIT, PUNTO_VENTA, "RI", "PS"), TODAY)
    if validated.totals is not None:
        total = validated.totals.total
    else:  # TFC-2026 says the total it expected
        (wrong,) = [e for e in validated.errors if e.code == "TFC-2026"] or [validated.errors]
        total = Decimal(re.findall(r"\d+\.\d+", wrong.text)[-1])
    body["comprobante"]["total"] = f"{total:.2f}"
    return body


def emitted(body: dict, *, condicion_iva: str = "RI", conceptos: str = "PS", numero: int = 1) -> InvoiceRow:
    """``body`` validated, stored and emitted as encola does it, as the store's row."""
    issuer = Issuer(ISSUER_CUIT, PUNTO_VENTA, condicion_iva, conceptos)
    validated = validate(body, issuer, TODAY)
    assert validated.errors == [], [(e.code, e.text) for e in validated.errors]
    invoice, totals = validated.invoice, validated.totals
    afip = json.loads(json.dumps(afip_template(invoice, totals, issuer)))
    view = json.loads(json.dumps(consulta_view(invoice, totals)))
    cae_vencimiento = TODAY + timedelta(days=10)
    now = datetime(2025, 6, 16, 12, tzinfo=timezone.utc)
    return InvoiceRow(
        id=numero,
        pdv_id=1,
        cuit=ISSUER_CUIT,
        punto_venta=PUNTO_VENTA,
        cbte_tipo=invoice.tipo.cbte_tipo,
        tipo=invoice.tipo.name,
        external_reference=invoice.external_reference,
        request_hash="0" * 64,
        fecha=invoice.fecha,
        vencimiento=invoice.vencimiento,
        state="emitted",
        attempts=1,
        next_attempt_at=now,
        numero=numero,
        cae=CAE,
        cae_vencimiento=cae_vencimiento,
        afip_qr=qr_url(
            fecha=invoice.fecha, cuit=ISSUER_CUIT, punto_venta=PUNTO_VENTA, cbte_tipo=invoice.tipo.cbte_tipo,
            numero=numero, importe=Decimal(afip["ImpTotal"]), moneda=afip["MonId"],
            cotizacion=Decimal(afip["MonCotiz"]), doc_tipo=afip["DocTipo"], doc_nro=afip["DocNro"], cae=CAE,
        ),
        afip_codigo_barras=barcode(
            cuit=ISSUER_CUIT, cbte_tipo=invoice.tipo.cbte_tipo, punto_venta=PUNTO_VENTA, cae=CAE,
            cae_vencimiento=cae_vencimiento,
        ),
        errors=[],
        total=f"{totals.total:.2f}",
        afip=afip,
        view=view,
        response=accepted_response(invoice),
        created_at=now,
        updated_at=now,
    )
