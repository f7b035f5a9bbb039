"""The buyer's e-mail for an emitted invoice, built with the standard library, pure.

One message to all of the buyer's addresses: a Spanish subject naming the comprobante and the
issuer, a plain-text and an HTML body (the same words), and the A4 PDF attached. Its
``Message-ID`` is made from the event's ``hook_id``, so every attempt of one mail carries the same
one (a receiving system can tell a repeat). A CAE that did not come from AFIP's production service
is said to be without fiscal validity in the subject and in the body, as on the PDF.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from email.message import EmailMessage
from email.utils import format_datetime

from encola.documents.text import amount, day
from encola.store.documents import EmittedDocument

NOT_FISCAL = {
    "simulador": "SIN VALIDEZ FISCAL: el CAE lo otorgó un simulador, no ARCA/AFIP.",
    "homologacion": "SIN VALIDEZ FISCAL: el CAE lo otorgó el servicio de pruebas de ARCA/AFIP.",
}


def numero(document: EmittedDocument) -> str:
    row = document.row
    return f"{row.punto_venta:05d}-{(row.numero or 0):08d}"


def subject(document: EmittedDocument) -> str:
    """``FACTURA B N° 00010-00000001 de Mi Empresa SA`` (``[SIN VALIDEZ FISCAL]`` first off production)."""
    text = f"{document.row.tipo} N° {numero(document)} de {document.issuer.razon_social}"
    return f"[SIN VALIDEZ FISCAL] {text}" if document.afip_env in NOT_FISCAL else text


def _total(document: EmittedDocument) -> str:
    row = document.row
    moneda = (row.afip or {}).get("MonId", "PES")
    try:
        value = amount(Decimal(str(row.total)))
    except (InvalidOperation, ValueError):
        value = str(row.total)
    return f"{'$' if moneda == 'PES' else moneda} {value}"


def _lines(document: EmittedDocument, page_url: str | None) -> tuple[str, list[tuple[str, str]], str]:
    """The greeting, the facts (label, value) and the closing, shared by both bodies."""
    row, issuer = document.row, document.issuer
    cliente = str(((row.view or {}).get("cliente") or {}).get("razon_social") or "").strip()
    greeting = f"Hola{' ' + cliente if cliente else ''}:"
    facts = [
        ("Comprobante", f"{row.tipo} N° {numero(document)}"),
        ("Fecha", day(row.fecha)),
        ("Total", _total(document)),
        ("CAE", row.cae or ""),
        ("Vencimiento del CAE", day(row.cae_vencimiento)),
    ]
    closing = f"Adjuntamos el comprobante en PDF. {issuer.razon_social} (CUIT {issuer.cuit})."
    if page_url:
        closing += f" También podés verlo y descargarlo en {page_url}"
    return greeting, facts, closing


def build(
    document: EmittedDocument,
    pdf: bytes,
    pdf_name: str,
    *,
    to: list[str],
    mail_from: str,
    message_id: str,
    reply_to: str | None = None,
    page_url: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The message: headers, text and HTML alternatives, and the PDF attached."""
    message = EmailMessage()
    message["Subject"] = subject(document)
    message["From"] = mail_from
    message["To"] = ", ".join(to)
    if reply_to:
        message["Reply-To"] = reply_to
    message["Date"] = format_datetime((now or datetime.now(timezone.utc)).replace(tzinfo=timezone.utc))
    message["Message-ID"] = message_id
    greeting, facts, closing = _lines(document, page_url)
    mark = NOT_FISCAL.get(document.afip_env)
    intro = f"{document.issuer.razon_social} te envía tu comprobante electrónico."
    text = "\n".join(
        [greeting, "", intro, "", *(f"{label}: {value}" for label, value in facts), "", closing]
        + (["", mark] if mark else [])
    )
    # Quoted-printable: the message is 7-bit ASCII, so any server takes it (no 8BITMIME needed).
    message.set_content(text + "\n", cte="quoted-printable")
    e = html.escape
    rows = "".join(f"<tr><th align=\"left\">{e(label)}</th><td>{e(value)}</td></tr>" for label, value in facts)
    link = f' <a href="{e(page_url)}">Ver el comprobante</a>.' if page_url else ""
    closing_html = e(closing.split(" También")[0]) + link
    body = (
        f'<!doctype html><html lang="es-AR"><head><meta charset="utf-8"><title>{e(subject(document))}</title></head>'
        f"<body><p>{e(greeting)}</p><p>{e(intro)}</p><table>{rows}</table><p>{closing_html}</p>"
        + (f"<p><strong>{e(mark)}</strong></p>" if mark else "")
        + "</body></html>"
    )
    message.add_alternative(body, subtype="html", cte="quoted-printable")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_name)
    return message
