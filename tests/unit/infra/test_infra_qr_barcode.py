"""AFIP's QR (RG 4892/2020: https://www.afip.gob.ar/fe/qr/?p=<base64 JSON>) and the
Interleaved 2 of 5 barcode with its módulo 10 check digit (RG 1702)."""

from __future__ import annotations

import base64
import json
import random
import re
from datetime import date
from decimal import Decimal

import pytest

from encola.domain.qr import QR_BASE_URL, barcode, check_digit, qr_url


def make_qr(**overrides) -> str:
    values = dict(
        fecha=date(2020, 10, 13),
        cuit="30000000007",
        punto_venta=10,
        cbte_tipo=1,
        numero=94,
        importe=Decimal("12100"),
        moneda="DOL",
        cotizacion=Decimal("65"),
        doc_tipo=80,
        doc_nro=20000000001,
        cae="70417054367476",
    )
    values.update(overrides)
    return qr_url(**values)


def decoded(url: str) -> dict:
    assert url.startswith("https://www.afip.gob.ar/fe/qr/?p=")
    encoded = url[len(QR_BASE_URL):]
    assert re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", encoded), "standard Base64"
    return json.loads(base64.b64decode(encoded, validate=True))


def test_the_qr_decodes_to_afip_example_exactly():
    # The example of AFIP's specification, with the same values.
    assert decoded(make_qr()) == {
        "ver": 1,
        "fecha": "2020-10-13",
        "cuit": 30000000007,
        "ptoVta": 10,
        "tipoCmp": 1,
        "nroCmp": 94,
        "importe": 12100,
        "moneda": "DOL",
        "ctz": 65,
        "tipoDocRec": 80,
        "nroDocRec": 20000000001,
        "tipoCodAut": "E",
        "codAut": 70417054367476,
    }


def test_every_qr_field_has_the_type_afip_asks_for():
    data = decoded(make_qr(importe=Decimal("121.50"), moneda="PES", cotizacion=Decimal("1"), doc_tipo=96, doc_nro=12345678))
    assert set(data) == {
        "ver", "fecha", "cuit", "ptoVta", "tipoCmp", "nroCmp", "importe", "moneda", "ctz",
        "tipoDocRec", "nroDocRec", "tipoCodAut", "codAut",
    }
    assert data["ver"] == 1 and type(data["ver"]) is int
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["fecha"])
    for key in ("cuit", "ptoVta", "tipoCmp", "nroCmp", "tipoDocRec", "nroDocRec", "codAut"):
        assert type(data[key]) is int, key
    assert len(str(data["cuit"])) == 11
    assert len(str(data["codAut"])) == 14
    for key in ("importe", "ctz"):
        assert type(data[key]) in (int, float), key
    assert Decimal(str(data["importe"])) == Decimal("121.50")
    assert Decimal(str(data["ctz"])) == 1
    assert data["moneda"] == "PES" and len(data["moneda"]) == 3
    assert data["tipoCodAut"] == "E"


@pytest.mark.parametrize("amount", ["0.01", "0.10", "1234567.89", "99999999999.99", "100000.05"])
def test_amounts_survive_the_qr_to_the_cent(amount):
    assert Decimal(str(decoded(make_qr(importe=Decimal(amount)))["importe"])) == Decimal(amount)


def test_a_foreign_currency_rate_survives_the_qr():
    assert Decimal(str(decoded(make_qr(cotizacion=Decimal("1045.123456")))["ctz"])) == Decimal("1045.123456")


def test_a_consumidor_final_without_document_is_encoded_as_zero():
    data = decoded(make_qr(doc_tipo=99, doc_nro=0))
    assert (data["tipoDocRec"], data["nroDocRec"]) == (99, 0)


def test_the_qr_url_is_plain_ascii_without_spaces():
    url = make_qr()
    assert url.isascii() and " " not in url


def afip_check_digit(digits: str) -> int:
    """RG 1702's five stages, written out independently of the code under test."""
    odd_positions = sum(int(d) for i, d in enumerate(digits, start=1) if i % 2 == 1)  # stage 1
    tripled = odd_positions * 3  # stage 2
    even_positions = sum(int(d) for i, d in enumerate(digits, start=1) if i % 2 == 0)  # stage 3
    total = tripled + even_positions  # stage 4
    return (10 - total % 10) % 10  # stage 5: the smallest number that makes it a multiple of 10


def test_the_check_digit_of_afip_published_example_is_9():
    digits = "20267565393" + "02" + "4001" + "61203034739042" + "20110529"
    assert check_digit(digits) == 9
    assert afip_check_digit(digits) == 9


def test_the_check_digit_follows_afip_algorithm_for_any_digits():
    rng = random.Random(1702)
    for _ in range(500):
        digits = "".join(rng.choice("0123456789") for _ in range(41))
        assert check_digit(digits) == afip_check_digit(digits)


def test_a_total_that_is_already_a_multiple_of_ten_gives_check_digit_0():
    assert check_digit("0" * 41) == 0
    assert check_digit("55") == 0  # 5 * 3 + 5 = 20


def test_the_barcode_is_cuit_type_point_of_sale_cae_due_date_and_check_digit():
    code = barcode(cuit="20267565393", cbte_tipo=2, punto_venta=4001, cae="61203034739042", cae_vencimiento=date(2011, 5, 29))
    assert len(code) == 42 and code.isdigit()
    assert code[:11] == "20267565393"
    assert code[11:14] == "002"
    assert code[14:19] == "04001"
    assert code[19:33] == "61203034739042"
    assert code[33:41] == "20110529"
    assert int(code[41]) == afip_check_digit(code[:41])


def test_the_barcode_pads_small_types_and_points_of_sale():
    code = barcode(cuit="30712345671", cbte_tipo=6, punto_venta=1, cae="75123456789012", cae_vencimiento=date(2025, 3, 20))
    assert code[11:19] == "00600001"
    assert len(code) == 42
