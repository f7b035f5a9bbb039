"""The A4 and ticket PDFs of real invoices, read back: their text, pages and decoded QR.

Each invoice is made by encola's own domain code (``documents_invoices``); each document is read
by libraries that are not the one that wrote it: pdfium extracts the text and draws the pages,
ZXing decodes the QR from the drawn page.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from documents_invoices import (
    ISSUER,
    MONOTRIBUTO,
    emitted,
    factura_a,
    factura_a_pesos,
    factura_b_cf,
    factura_c,
    nota_credito_a,
)
from PIL import Image

from encola.documents import IssuerSnapshot, NotEmitted, filename, render_a4, render_ticket

MARK = "SIN VALIDEZ FISCAL — SIMULADOR"
RENDERERS = {"a4": render_a4, "ticket": render_ticket}


def pages_text(pdf: bytes) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    texts = [" ".join(page.get_textpage().get_text_range().split()) for page in document]
    document.close()
    return texts


def text(pdf: bytes) -> str:
    return "\n".join(pages_text(pdf))


def qr_codes(pdf: bytes, page: int = 0) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    image = document[page].render(scale=3).to_pil()
    document.close()
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]


def page_sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    document = pdfium.PdfDocument(pdf)
    sizes = [(round(p.get_width() * 25.4 / 72, 1), round(p.get_height() * 25.4 / 72, 1)) for p in document]
    document.close()
    return sizes


INVOICES = {
    "factura A in USD": (lambda: emitted(factura_a()), ISSUER),
    "factura A in pesos": (lambda: emitted(factura_a_pesos(5)), ISSUER),
    "factura B to consumidor final": (lambda: emitted(factura_b_cf()), ISSUER),
    "factura C of a monotributista": (lambda: emitted(factura_c(), condicion_iva="M"), MONOTRIBUTO),
    "nota de crédito A": (lambda: emitted(nota_credito_a()), ISSUER),
}


@pytest.fixture(scope="module")
def a130():
    return emitted(factura_a_pesos(130))


@pytest.mark.parametrize("kind", RENDERERS)
@pytest.mark.parametrize("name", INVOICES)
def test_every_class_renders_with_a_qr_that_decodes_to_the_invoices_afip_qr(name, kind):
    make, issuer = INVOICES[name]
    row = make()
    pdf = RENDERERS[kind](row, issuer, simulated=False)
    assert pdf.startswith(b"%PDF-")
    assert qr_codes(pdf) == [row.afip_qr]
    content = text(pdf)
    assert "None" not in content
    assert "CAE N°" in content and "75123456789012" in content and "26/06/2025" in content
    assert "00010" in content and "00000001" in content and "16/06/2025" in content
    assert MARK not in content


def test_the_a4_has_the_rg_1415_header_issuer_buyer_and_totals_of_a_factura_a():
    row = emitted(factura_a_pesos(5))
    content = text(render_a4(row, ISSUER, simulated=False))
    for expected in (
        "ORIGINAL", "COD. 01", "FACTURA", "Punto de Venta: 00010", "Comp. Nro: 00000001",
        "Fecha de Emisión: 16/06/2025",
        "Almacén Ñandú S.R.L.", "Domicilio Comercial: Av. Corrientes 1234, Piso 5º — CABA",
        "Condición frente al IVA: IVA Responsable Inscripto", "CUIT: 20111111112",
        "Ingresos Brutos: 901-123456-7", "Fecha de Inicio de Actividades: 01/03/2015",
        "CUIT: 30712293841", "VOUSYS TusFacturasAPP", "Condición de venta: Tarjeta de crédito",
        "Domicilio: AV.LIBERTADOR 571 - Buenos Aires",
        "ART-0001", "Artículo número 1", "unidades", "1.234,50", "10,00", "1.111,05", "27%", "10,5%", "Exento",
        "Garantía 12 meses",
        "Importe Neto Gravado: $ 8.707,80", "IVA 27%: $ 1.027,89", "IVA 21%: $ 503,43", "IVA 10,5%: $ 262,87",
        "Importe Exento: $ 2.607,00", "Importe Total: $ 13.108,99",
        "Según orden de compra 4411 — entregar en depósito",
        "Pág. 1/1",
    ):
        assert expected in content, expected
    assert "Ley 27.743" not in content  # A to a responsable inscripto


def test_a_factura_a_in_dollars_shows_moneda_cotizacion_and_its_tributos():
    row = emitted(factura_a())
    for pdf in (render_a4(row, ISSUER, simulated=False), render_ticket(row, ISSUER, simulated=False)):
        content = text(pdf)
        assert "Dólares estadounidenses (DOL)" in content
        assert "1.234,55" in content  # the cotización
        assert "Percepcion de IVA" in content and "Percepcion de IIBB" in content
        assert "151,00" in content and "DOL" in content
    a4 = text(render_a4(row, ISSUER, simulated=False))
    assert "Importe Otros Tributos: DOL 30,00" in a4 and "Importe Total: DOL 151,00" in a4


def test_a_pesos_invoice_says_nothing_of_moneda_or_cotizacion():
    content = text(render_a4(emitted(factura_b_cf()), ISSUER, simulated=False))
    assert "Moneda" not in content and "Cotización" not in content


def test_a_factura_b_to_a_consumidor_final_shows_the_ley_27743_block_with_the_iva_it_contains():
    row = emitted(factura_b_cf())
    for pdf in (render_a4(row, ISSUER, simulated=False), render_ticket(row, ISSUER, simulated=False)):
        content = text(pdf)
        assert "Régimen de Transparencia Fiscal al Consumidor (Ley 27.743)" in content
        assert "IVA Contenido: $ 21,00" in content or "IVA Contenido $ 21,00" in content
        assert "Otros Impuestos Nacionales Indirectos" in content
        assert "Consumidor Final" in content and "DNI: 12345678" in content
    a4 = text(render_a4(row, ISSUER, simulated=False))
    assert "COD. 06" in a4 and "121,00" in a4  # B prints prices with IVA included
    assert "IVA 21%:" not in a4  # and no IVA apart


def test_a_factura_c_of_services_shows_its_period_and_vencimiento_and_no_iva():
    row = emitted(factura_c(), condicion_iva="M")
    content = text(render_a4(row, MONOTRIBUTO, simulated=False))
    assert "COD. 11" in content
    assert "Período Facturado Desde: 01/06/2025" in content and "Hasta: 15/06/2025" in content
    assert "Fecha de Vto. para el pago: 30/06/2025" in content
    assert "Responsable Monotributo" in content
    assert "IVA 21%" not in content and "Alíc. IVA" not in content
    assert "Importe Total: $ 110,00" in content


def test_a_nota_de_credito_shows_its_comprobantes_asociados():
    row = emitted(nota_credito_a())
    for pdf in (render_a4(row, ISSUER, simulated=False), render_ticket(row, ISSUER, simulated=False)):
        content = text(pdf)
        assert "NOTA DE CRÉDITO" in content
        assert "FACTURA A 00010-00000349 del 13/06/2025" in content
    assert "COD. 03" in text(render_a4(row, ISSUER, simulated=False))


def test_130_items_take_several_pages_with_the_header_repeated_and_the_totals_on_the_last(a130):
    pdf = render_a4(a130, ISSUER, simulated=False)
    pages = pages_text(pdf)
    assert len(pages) >= 3
    total = "Importe Total: $ 705.444,03"
    for number, page in enumerate(pages, start=1):
        assert "ORIGINAL" in page and "COD. 01" in page and "Comp. Nro: 00000001" in page
        assert "Producto / Servicio" in page and "Subtotal c/IVA" in page
        assert "VOUSYS TusFacturasAPP" in page
        assert f"Pág. {number}/{len(pages)}" in page
        assert ("Importe Total" in page) == (number == len(pages))
    assert total in pages[-1]
    everything = "\n".join(pages)
    for i in range(1, 131):
        assert f"ART-{i:04d}" in everything
    assert [qr_codes(pdf, page) for page in range(len(pages))] == [[a130.afip_qr]] * len(pages)


def test_the_ticket_is_80_mm_wide_and_as_long_as_its_items(a130):
    short = render_ticket(emitted(factura_b_cf()), ISSUER, simulated=False)
    long = render_ticket(a130, ISSUER, simulated=False)
    (short_size,), (long_size,) = page_sizes_mm(short), page_sizes_mm(long)
    assert short_size[0] == long_size[0] == 80.0
    assert 100 < short_size[1] < long_size[1]
    assert "ART-0130" in text(long) and "705.444,03" in text(long)
    assert qr_codes(long) == [a130.afip_qr]


def test_the_a4_is_a4():
    assert page_sizes_mm(render_a4(emitted(factura_b_cf()), ISSUER, simulated=False)) == [(210.0, 297.0)]


@pytest.mark.parametrize("kind", RENDERERS)
def test_a_simulated_cae_is_marked_on_every_page(kind, a130):
    pdf = RENDERERS[kind](a130, ISSUER, simulated=True)
    pages = pages_text(pdf)
    assert pages and all(MARK in page for page in pages)
    assert qr_codes(pdf) == [a130.afip_qr]  # the mark does not hide the QR


def test_absent_issuer_data_is_left_out_never_printed_as_none():
    bare = IssuerSnapshot(razon_social="Solo Nombre SA", cuit="20111111112", condicion_iva="RI")
    row = emitted(factura_a_pesos(2))
    for render in RENDERERS.values():
        content = text(render(row, bare, simulated=False))
        assert "Solo Nombre SA" in content and "20111111112" in content
        assert "None" not in content
        assert "Ingresos Brutos" not in content and "Inicio de" not in content
        assert "Domicilio Comercial" not in content


def test_the_same_invoice_renders_to_the_same_bytes_in_another_process():
    row = emitted(factura_a())
    a4, ticket = render_a4(row, ISSUER, simulated=True), render_ticket(row, ISSUER, simulated=True)
    assert render_a4(row, ISSUER, simulated=True) == a4
    assert render_ticket(row, ISSUER, simulated=True) == ticket
    here = Path(__file__).resolve().parent
    script = (
        "import hashlib, sys; sys.path.insert(0, sys.argv[1])\n"
        "from documents_invoices import ISSUER, emitted, factura_a\n"
        "from encola.documents import render_a4, render_ticket\n"
        "row = emitted(factura_a())\n"
        "print(hashlib.sha256(render_a4(row, ISSUER, simulated=True)).hexdigest())\n"
        "print(hashlib.sha256(render_ticket(row, ISSUER, simulated=True)).hexdigest())\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", script, str(here)], capture_output=True, text=True, check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )
    assert other.stdout.split() == [hashlib.sha256(a4).hexdigest(), hashlib.sha256(ticket).hexdigest()]
    assert b"2025" in a4 and b"D:20250616" in a4  # the creation date is the invoice's


def test_the_logo_is_drawn_on_the_a4_and_a_broken_one_is_left_out():
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (20, 60, 160)).save(buffer, format="PNG")
    row = emitted(factura_b_cf())
    with_logo = render_a4(row, replace(ISSUER, logo=buffer.getvalue()), simulated=False)
    assert b"/Subtype /Image" in with_logo and b"/Subtype /Image" in render_a4(row, ISSUER, simulated=False)
    assert with_logo.count(b"/Subtype /Image") == 2  # the logo and the QR
    broken = render_a4(row, replace(ISSUER, logo=b"not an image"), simulated=False)
    assert "Almacén Ñandú S.R.L." in text(broken)


def test_text_outside_the_fonts_encoding_is_replaced_not_fatal():
    body = factura_b_cf()
    body["comprobante"]["detalle"][0]["producto"]["descripcion"] = "Café ☕ ﬁno 漢字"
    row = emitted(body)
    for render in RENDERERS.values():
        assert "Café ? fino ??" in text(render(row, ISSUER, simulated=False))


def test_only_an_emitted_invoice_has_a_document():
    row = replace(emitted(factura_b_cf()), state="queued", cae=None, numero=None, afip_qr=None)
    for render in RENDERERS.values():
        with pytest.raises(NotEmitted):
            render(row, ISSUER, simulated=False)


def test_file_names_say_the_comprobante():
    assert filename(emitted(factura_a()), "a4") == "FACTURA_A_00010-00000001.pdf"
    assert filename(emitted(nota_credito_a(), numero=42), "ticket") == "NOTA_DE_CREDITO_A_00010-00000042_ticket.pdf"
    with pytest.raises(ValueError):
        filename(emitted(factura_a()), "letter")


def test_the_issuer_snapshot_survives_json():
    snapshot = replace(ISSUER, logo=b"\x89PNG\r\n\x1a\n...")
    data = snapshot.to_json()
    import json

    assert IssuerSnapshot.from_json(json.loads(json.dumps(data))) == snapshot
    assert data["inicio_actividades"] == "2015-03-01"
    assert IssuerSnapshot.from_json({"razon_social": "X", "cuit": 20111111112, "condicion_iva": "M"}) == IssuerSnapshot(
        "X", "20111111112", "M"
    )
