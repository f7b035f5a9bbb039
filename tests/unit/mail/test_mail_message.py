"""The buyer's message, built without a server: headers, both bodies, the PDF, and who gets it."""

from __future__ import annotations

import sys
from email import message_from_bytes, policy
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "documents"))

from documents_invoices import ISSUER, emitted, factura_b_cf  # noqa: E402

from encola.documents import render_a4  # noqa: E402
from encola.mail.message import build, subject  # noqa: E402
from encola.mail.recipients import mail_to  # noqa: E402
from encola.store.documents import EmittedDocument  # noqa: E402


def document(env: str = "produccion") -> EmittedDocument:
    return EmittedDocument(emitted(factura_b_cf()), ISSUER, env)


def message(env: str = "produccion", **extra):
    doc = document(env)
    pdf = render_a4(doc.row, doc.issuer, afip_env=env)
    built = build(doc, pdf, "FACTURA_B_00010-00000001.pdf", to=["a@example.com", "b@example.com"],
                  mail_from="Mi Empresa <facturas@example.com>", message_id="<abc@example.com>", **extra)
    return message_from_bytes(built.as_bytes(), policy=policy.default), pdf  # as a receiver parses it


def test_the_subject_names_the_comprobante_and_the_issuer():
    assert subject(document()) == f"FACTURA B N° 00010-00000001 de {ISSUER.razon_social}"
    assert subject(document("homologacion")).startswith("[SIN VALIDEZ FISCAL] FACTURA B")


def test_one_message_to_every_address_with_text_html_and_the_pdf():
    parsed, pdf = message(reply_to="ventas@example.com", page_url="https://f.example.com/comprobantes/1/t/")
    assert [a.addr_spec for a in parsed["To"].addresses] == ["a@example.com", "b@example.com"]
    assert parsed["Reply-To"] == "ventas@example.com" and parsed["Message-ID"] == "<abc@example.com>"
    assert "00010-00000001" in parsed.get_body(("plain",)).get_content()
    assert "https://f.example.com/comprobantes/1/t/" in parsed.get_body(("html",)).get_content()
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_content() == pdf and attachment.get_filename() == "FACTURA_B_00010-00000001.pdf"


def test_names_are_escaped_in_the_html():
    doc = document()
    row = doc.row.__class__(**{**doc.row.__dict__, "view": {**doc.row.view, "cliente": {"razon_social": "<b>x</b>"}}})
    built = build(EmittedDocument(row, doc.issuer, "produccion"), b"%PDF-", "f.pdf", to=["a@example.com"],
                  mail_from="f@example.com", message_id="<x@example.com>")
    assert "<b>x</b>" not in built.get_body(("html",)).get_content()


def test_without_reply_to_there_is_no_header():
    parsed, _ = message()
    assert parsed["Reply-To"] is None


def test_who_gets_it():
    assert mail_to("S", "a@example.com, B@Example.com") == "a@example.com,B@example.com"
    assert mail_to("N", "a@example.com") is None
    assert mail_to("S", "") is None


def test_an_international_address_goes_as_smtputf8_with_its_subject_whole():
    from encola.mail.sender import _compose, _options

    raw = _compose(document(), ["josé@example.com"], "Mi Empresa <f@example.com>", "<x@example.com>", None, None, None)
    assert _options(raw) == ["SMTPUTF8"]
    assert "To: josé@example.com\r\n".encode() in raw
    assert f"Subject: {subject(document())}\r\n".encode() in raw  # UTF-8, on one line
    ascii_only = _compose(document(), ["a@example.com"], "Ñandú <f@example.com>", "<x@example.com>", None, None, None)
    assert _options(ascii_only) == [] and message_from_bytes(ascii_only, policy=policy.default)["Subject"] == subject(document())
