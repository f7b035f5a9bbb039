"""Builders for ``nuevo_encola`` requests and issuers, shared by the domain tests.

Each builder returns a fresh, valid request (a plain dict) made from the docs' examples in
``tests/fixtures/tf``: dated ``TODAY``, numbered 0 and with an external_reference, so a test
mutates only the one field its rule is about.
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path

from encola.domain.invoice import Issuer
from encola.domain.validation import Validated, validate

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tf"
TODAY = date(2025, 6, 16)
ISSUER_CUIT = "20111111112"
CLIENT_CUIT = "30712293841"  # the docs' example client, a valid CUIT
RI_ISSUER = Issuer(ISSUER_CUIT, 2, "RI", "P")
MONOTRIBUTO_ISSUER = Issuer(ISSUER_CUIT, 2, "M", "P")

_EXAMPLES = {name: json.loads((FIXTURES / f"{name}.json").read_text()) for name in ("factura_a", "factura_c")}


def wire(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def days_ago(n: int) -> str:
    return wire(TODAY - timedelta(days=n))


def issuer(condicion_iva: str = "RI", conceptos: str = "P") -> Issuer:
    return Issuer(ISSUER_CUIT, 2, condicion_iva, conceptos)


def factura_a() -> dict:
    """The docs' FACTURA A (DOL, one item at 21 %, two percepciones; total 151) for an RI client."""
    return _example("factura_a")


def factura_c() -> dict:
    """The docs' FACTURA C (PES, two items, total 110); issue it with ``MONOTRIBUTO_ISSUER``."""
    return _example("factura_c")


def factura_b_cf() -> dict:
    """A FACTURA B in pesos to a consumidor final identified by DNI: 100 at 21 % = 121."""
    body = factura_a()
    body["cliente"].update(documento_tipo="DNI", documento_nro="12345678", condicion_iva="CF")
    body["comprobante"].update(tipo="FACTURA B", moneda="PES", cotizacion=1, tributos=[], total="121")
    return body


def nota_credito_a() -> dict:
    """A NOTA DE CREDITO A referencing a FACTURA A of the issuer (the FACTURA A's amounts)."""
    body = factura_a()
    body["comprobante"].update(
        tipo="NOTA DE CREDITO A",
        comprobantes_asociados=[
            {
                "tipo_comprobante": "FACTURA A",
                "punto_venta": "2",
                "numero": "00000349",
                "comprobante_fecha": days_ago(3),
                "cuit": int(ISSUER_CUIT),
            }
        ],
    )
    return body


def item(precio="100", alicuota="21", cantidad="1", **producto) -> dict:
    """One detalle line; ``producto`` overrides the product's fields."""
    return {
        "cantidad": cantidad,
        "producto": {"descripcion": "Producto", "precio_unitario_sin_iva": precio, "alicuota": alicuota, **producto},
    }


def check(body: dict, issuer: Issuer = RI_ISSUER, today: date = TODAY) -> Validated:
    return validate(body, issuer, today)


def codes(validated: Validated) -> list[str]:
    return sorted(e.code for e in validated.errors)


def assert_accepted(body: dict, issuer: Issuer = RI_ISSUER) -> Validated:
    validated = check(body, issuer)
    assert validated.errors == [], [(e.code, e.text) for e in validated.errors]
    assert validated.invoice is not None and validated.totals is not None
    return validated


def assert_refused(body: dict, *expected: str, issuer: Issuer = RI_ISSUER) -> Validated:
    """Refused with exactly the codes ``expected`` (repeats count), nothing else."""
    validated = check(body, issuer)
    assert codes(validated) == sorted(expected), [(e.code, e.text) for e in validated.errors]
    assert validated.invoice is None and validated.totals is None
    return validated


def text_of(validated: Validated, code: str) -> str:
    (text,) = [e.text for e in validated.errors if e.code == code]
    return text


def _example(name: str) -> dict:
    body = copy.deepcopy(_EXAMPLES[name])
    body["comprobante"].update(fecha=wire(TODAY), numero=0, external_reference="ref-0001")
    return body
