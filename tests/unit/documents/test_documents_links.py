"""Links, marks by AFIP environment, logos, the render cache and the buyer's page: pure parts."""

from __future__ import annotations

import io
from dataclasses import replace

import pypdfium2 as pdfium
import pytest
from documents_invoices import ISSUER, emitted, factura_b_cf
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from encola.api.provisioning import MAX_LOGO_BYTES, logo_problem
from encola.documents import render_a4, render_ticket
from encola.documents.http import RenderCache, page
from encola.documents.links import Links, token, valid
from encola.settings import Settings, SettingsError, listening_url, parse_public_url
from encola.store.documents import EmittedDocument

KEY = bytes(range(32))
RENDERERS = {"a4": render_a4, "ticket": render_ticket}


def text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(" ".join(p.get_textpage().get_text_range().split()) for p in document)
    finally:
        document.close()


def image(kind: str, size=(120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 60, 160)).save(buffer, format=kind)
    return buffer.getvalue()


# --- tokens ------------------------------------------------------------------------------------


def test_a_token_is_192_bits_of_url_safe_text_that_depends_on_the_id_and_the_key():
    first = token(KEY, 1)
    assert len(first) == 32 and first.replace("-", "").replace("_", "").isalnum()
    assert token(KEY, 1) == first
    assert token(KEY, 2) != first
    assert token(bytes(32), 1) != first


@given(invoice_id=st.integers(1, 2**31 - 1), candidate=st.text(max_size=40))
def test_only_the_invoices_own_token_is_valid(invoice_id, candidate):
    assert valid(KEY, invoice_id, token(KEY, invoice_id))
    assert valid(KEY, invoice_id, candidate) == (candidate == token(KEY, invoice_id))
    assert not valid(KEY, invoice_id + 1, token(KEY, invoice_id))


def test_links_of_an_emitted_invoice_and_empty_strings_for_any_other():
    row = emitted(factura_b_cf())
    links = Links("https://facturas.example.com", KEY).of(row)
    folder = f"https://facturas.example.com/comprobantes/{row.id}/{token(KEY, row.id)}/"
    assert links == {
        "comprobante_pdf_url": folder + "FACTURA_B_00010-00000001.pdf",
        "comprobante_ticket_url": folder + "FACTURA_B_00010-00000001_ticket.pdf",
        "micrositios": {"cliente": folder, "descarga": folder},
    }
    queued = replace(row, state="queued")
    assert Links("https://x", KEY).of(queued)["comprobante_pdf_url"] == ""


# --- marks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", RENDERERS)
def test_a_homologacion_cae_is_marked_without_fiscal_validity(kind):
    content = text(RENDERERS[kind](emitted(factura_b_cf()), ISSUER, afip_env="homologacion"))
    assert "SIN VALIDEZ FISCAL — HOMOLOGACIÓN" in content and "homologación" in content
    assert "SIMULADOR" not in content and "Comprobante Autorizado" not in content


@pytest.mark.parametrize("kind", RENDERERS)
def test_a_production_cae_carries_no_mark_and_simulated_still_means_the_simulator(kind):
    row = emitted(factura_b_cf())
    produccion = text(RENDERERS[kind](row, ISSUER, afip_env="produccion"))
    assert "SIN VALIDEZ" not in produccion and "Autorizado" in produccion
    assert RENDERERS[kind](row, ISSUER, simulated=True) == RENDERERS[kind](row, ISSUER, afip_env="simulador")
    assert RENDERERS[kind](row, ISSUER, simulated=False) == RENDERERS[kind](row, ISSUER, afip_env="produccion")
    with pytest.raises(ValueError):
        RENDERERS[kind](row, ISSUER, afip_env="marte")


# --- logos -------------------------------------------------------------------------------------


def test_png_and_jpeg_logos_are_accepted():
    assert logo_problem(image("PNG")) is None
    assert logo_problem(image("JPEG")) is None


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"GIF89a" + b"\x00" * 40, "no es PNG ni JPEG"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "no es PNG ni JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "la imagen no se puede leer"),
        (b"\xff\xd8\xff" + b"\x00" * (MAX_LOGO_BYTES + 1), "pesa 512 KiB"),
    ],
)
def test_anything_else_is_refused_with_the_reason(data, reason):
    assert logo_problem(data) == reason


def test_a_huge_logo_is_refused_by_its_pixels():
    assert logo_problem(image("PNG", (3000, 10))) == "mide 3000 x 10 pixeles"


@given(st.binary(max_size=200))
def test_no_bytes_break_the_logo_check(data):
    problem = logo_problem(data)
    assert problem is None or isinstance(problem, str)


# --- the cache ---------------------------------------------------------------------------------


def test_the_cache_keeps_the_most_recently_used_within_its_bytes():
    cache = RenderCache(10)
    cache.put((1, "a4"), "a.pdf", b"1234")
    cache.put((2, "a4"), "b.pdf", b"1234")
    assert cache.get((1, "a4")) == ("a.pdf", b"1234")  # 1 is now the most recent
    cache.put((3, "a4"), "c.pdf", b"1234")
    assert cache.get((2, "a4")) is None and cache.get((1, "a4")) and cache.get((3, "a4"))
    assert cache.size == 8
    cache.put((4, "a4"), "big.pdf", b"x" * 11)  # larger than the whole cache: not kept
    assert cache.get((4, "a4")) is None and cache.size == 8
    assert RenderCache(0).get((1, "a4")) is None


# --- the buyer's page --------------------------------------------------------------------------


def test_the_page_escapes_everything_and_links_both_files():
    row = emitted(factura_b_cf())
    issuer = replace(ISSUER, razon_social="<script>alert(1)</script> & Cía", domicilio='"Calle" <b>1</b>')
    html = page(EmittedDocument(row, issuer, "simulador"))
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp; Cía" in html
    assert "&lt;b&gt;1&lt;/b&gt;" in html
    assert 'href="FACTURA_B_00010-00000001.pdf"' in html and 'href="FACTURA_B_00010-00000001_ticket.pdf"' in html
    assert "SIN VALIDEZ FISCAL — SIMULADOR" in html
    assert "SIN VALIDEZ" not in page(EmittedDocument(row, issuer, "produccion"))


# --- settings ----------------------------------------------------------------------------------


def test_the_public_url_is_an_absolute_http_url_without_its_trailing_slash():
    assert parse_public_url(" https://facturas.example.com/ ") == "https://facturas.example.com"
    assert parse_public_url("http://10.0.0.1:8080/encola") == "http://10.0.0.1:8080/encola"
    for bad in ("facturas.example.com", "ftp://x", "https://", "https://x?a=1", "https://x:99999"):
        with pytest.raises(SettingsError):
            parse_public_url(bad)
    assert Settings.from_env({"ENCOLA_PUBLIC_URL": "https://a.b/"}).public_url == "https://a.b"
    assert Settings.from_env({}).public_url is None
    assert Settings.from_env({"ENCOLA_DOCUMENT_CACHE_MB": "8"}).document_cache_bytes == 8 * 1024 * 1024
    assert listening_url("0.0.0.0", 8000) == "http://0.0.0.0:8000"
    assert listening_url("::1", 8000) == "http://[::1]:8000"


def test_the_afip_environment_recorded_with_each_cae():
    assert Settings().afip_env_name == "simulador"
    assert Settings(afip_url="http://sim").afip_env_name == "simulador"
    assert Settings(afip_env="homologacion").afip_env_name == "homologacion"
    assert Settings(afip_env="produccion").afip_env_name == "produccion"
