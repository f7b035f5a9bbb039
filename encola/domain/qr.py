"""AFIP's QR (RG 4892/2020) and the legacy Interleaved 2 of 5 barcode of an emitted comprobante."""

from __future__ import annotations

import base64
import json
from datetime import date
from decimal import Decimal

QR_BASE_URL = "https://www.afip.gob.ar/fe/qr/?p="


def qr_url(
    *,
    fecha: date,
    cuit: str,
    punto_venta: int,
    cbte_tipo: int,
    numero: int,
    importe: Decimal,
    moneda: str,
    cotizacion: Decimal,
    doc_tipo: int,
    doc_nro: int,
    cae: str,
) -> str:
    """The URL to encode in the QR: version 1 JSON, standard Base64, after AFIP's base URL."""
    payload = {
        "ver": 1,
        "fecha": fecha.isoformat(),
        "cuit": int(cuit),
        "ptoVta": punto_venta,
        "tipoCmp": cbte_tipo,
        "nroCmp": numero,
        "importe": float(importe),
        "moneda": moneda,
        "ctz": float(cotizacion),
        "tipoDocRec": doc_tipo,
        "nroDocRec": doc_nro,
        "tipoCodAut": "E",
        "codAut": int(cae),
    }
    encoded = base64.b64encode(json.dumps(payload, separators=(",", ":")).encode("ascii")).decode("ascii")
    return QR_BASE_URL + encoded


def check_digit(digits: str) -> int:
    """AFIP's módulo 10: odd positions (from 1, left) × 3 plus even positions; 10 − total mod 10."""
    odd = sum(int(d) for d in digits[0::2])
    even = sum(int(d) for d in digits[1::2])
    return (10 - (odd * 3 + even) % 10) % 10


def barcode(*, cuit: str, cbte_tipo: int, punto_venta: int, cae: str, cae_vencimiento: date) -> str:
    """CUIT(11) + tipo(3) + PtoVta(5) + CAE(14) + vencimiento(8, yyyymmdd) + check digit: 42 digits."""
    digits = f"{cuit}{cbte_tipo:03d}{punto_venta:05d}{cae}{cae_vencimiento:%Y%m%d}"
    return digits + str(check_digit(digits))
