"""The documents over HTTP: ``GET /comprobantes/{invoice id}/{token}/…``, without credentials.

- ``…/{token}/`` — the buyer's page (``micrositios``): the invoice's summary and both links.
- ``…/{token}/FACTURA_A_00010-00000001.pdf`` — the A4; ``…_ticket.pdf`` — the 80 mm ticket.

Anything else under ``/comprobantes`` — a wrong token, another invoice's token, an invoice that is
not emitted, a file name that is not the invoice's — is a plain 404 that says nothing more. The
token is checked before the database is asked (see ``links.py``).

Documents are rendered on demand, in render processes shared with the mail (``pool.py``; the
event loop keeps serving, and renders run on every core), which read the invoice themselves
(``stored.py``: this process sends the id and the file name), and kept in a per-process LRU cache of
bytes (``ENCOLA_DOCUMENT_CACHE_MB``): an emitted invoice never changes, and the issuer version and AFIP environment it was emitted under are stored with it, so
its document is the same bytes every time. Concurrent requests for one document share one render.
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
import re
from collections import OrderedDict
from decimal import Decimal, InvalidOperation

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from encola.documents import labels, pool, stored
from encola.documents.links import PATH, TOKEN_LENGTH, Links, valid
from encola.documents.render import RENDERERS, filename
from encola.documents.text import amount, day
from encola.store.documents import EmittedDocument

log = logging.getLogger("encola.documents")
MAX_ID = 2**31 - 1  # the invoices' INTEGER key
_ID = re.compile(r"[1-9][0-9]{0,9}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{%d}" % TOKEN_LENGTH)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the link is the credential: never pass it on
    "X-Robots-Tag": "noindex, nofollow",
}
PAGE_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "Cache-Control": "private, no-cache",
}
PDF_CACHE_CONTROL = "private, max-age=86400"


class RenderCache:
    """Rendered documents by (invoice id, kind), least recently used out first, bounded in bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[tuple[int, str], tuple[str, bytes]] = OrderedDict()

    def get(self, key: tuple[int, str]) -> tuple[str, bytes] | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: tuple[int, str], name: str, pdf: bytes) -> None:
        if len(pdf) > self.max_bytes or key in self._items:
            return
        self._items[key] = (name, pdf)
        self.size += len(pdf)
        while self.size > self.max_bytes:
            _, (_, dropped) = self._items.popitem(last=False)
            self.size -= len(dropped)


class Documents:
    """The documents room's HTTP side: the links consultas answer with, and the routes that serve them."""

    def __init__(self, store, public_url: str, cache_bytes: int, render_processes: int):
        self.store = store
        self.public_url = public_url.rstrip("/")
        self.cache = RenderCache(cache_bytes)
        self._links: Links | None = None
        self._rendering: dict[tuple[int, str], asyncio.Future] = {}  # renders in flight, by (id, file name)
        self._renderer = pool.shared(render_processes)  # see encola/documents/pool.py
        # Where render processes read the invoice themselves (stored.py); None: read here.
        self._database_url = stored.shareable_url(store.engine.url) if render_processes > 0 else None
        self._opened = False

    def open(self) -> None:
        """Start the render processes with the server, and read the link key, so the first
        downloads wait for neither. Read lazily, the key cost each API process's first downloads
        a thread and a query apiece (they all found it missing at once): the slowest of a burst
        of sixteen first downloads on PostgreSQL. A database not reachable yet leaves it to the
        first request, as before."""
        if not self._opened:
            self._opened = True
            warmups = [] if self._database_url is None else [(stored.connect, (self._database_url,))]
            self._renderer.open(*warmups)
            try:
                self.links()
            except Exception as exc:  # the request path reads it again, and answers 503 if it must
                log.warning("document link key not read at start", exc_info=exc, extra={"action": "document_links_later"})

    def close(self) -> None:
        if self._opened:
            self._opened = False
            self._renderer.close()

    def install(self, app) -> None:
        """Add the routes to a FastAPI app (outside the TF API and its OpenAPI)."""
        app.add_api_route(PATH + "/{rest:path}", self.handle, methods=["GET", "HEAD"], include_in_schema=False)
        app.add_api_route(PATH, self.handle, methods=["GET", "HEAD"], include_in_schema=False)  # no redirect

    # --- links -----------------------------------------------------------------------------

    def links(self) -> Links:
        """The link maker (reads the database's link key the first time; call from a thread)."""
        if self._links is None:
            self._links = Links(self.public_url, self.store.document_link_key())
        return self._links

    def links_of(self, row) -> dict:
        """``comprobante_pdf_url``, ``comprobante_ticket_url`` and ``micrositios`` of a consulta row."""
        return self.links().of(row)

    # --- serving -----------------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        return await self.serve(request.path_params.get("rest", ""))

    async def serve(self, rest: str) -> Response:
        """The answer to ``GET /comprobantes/{rest}`` (the API's ASGI app calls this directly)."""
        try:
            return await self._handle(rest)
        except Exception as exc:  # never a 5xx page with details; the log has them
            log.error("document request failed", exc_info=exc, extra={"action": "document_error"})
            return PlainTextResponse("Servicio no disponible momentaneamente.", 503, headers=SECURITY_HEADERS)

    async def _handle(self, rest: str) -> Response:
        parts = rest.split("/")
        if len(parts) == 2:
            parts.append("")
        if len(parts) != 3 or not _ID.fullmatch(parts[0]) or not _TOKEN.fullmatch(parts[1]):
            return not_found()
        invoice_id, token, name = int(parts[0]), parts[1], parts[2]
        if invoice_id > MAX_ID:
            return not_found()
        links = self._links or await run_in_threadpool(self.links)
        if not valid(links.key, invoice_id, token):
            return not_found()
        if name == "":
            return await self._page(invoice_id)
        for kind in RENDERERS:
            cached = self.cache.get((invoice_id, kind))
            if cached is not None and cached[0] == name:
                return pdf_response(*cached)
        if self._database_url is not None:
            job = functools.partial(stored.render_stored, self._database_url, invoice_id, name)
        else:
            job = functools.partial(stored.render_named, await run_in_threadpool(self.store.emitted_document, invoice_id), name)
        pdf = await self._render(invoice_id, name, job)
        return not_found() if pdf is None else pdf_response(name, pdf)

    async def _render(self, invoice_id: int, name: str, job) -> bytes | None:
        """The document's bytes: from a render in flight, or rendered now by ``job`` (None: there is
        no such document). Kept in the cache by (invoice id, kind).

        The render is a task of its own: a client that goes away does not cancel it for the others."""
        key = (invoice_id, name)
        task = self._rendering.get(key)
        if task is None:
            task = asyncio.ensure_future(self._renderer.run(job))
            self._rendering[key] = task
            task.add_done_callback(lambda done: self._rendered(key, done))
        rendered = await asyncio.shield(task)
        return None if rendered is None else rendered[1]

    def _rendered(self, key: tuple[int, str], task: asyncio.Future) -> None:
        self._rendering.pop(key, None)
        if not task.cancelled() and task.exception() is None and task.result() is not None:
            invoice_id, name = key
            kind, pdf = task.result()
            self.cache.put((invoice_id, kind), name, pdf)

    async def _page(self, invoice_id: int) -> Response:
        document = await run_in_threadpool(self.store.emitted_document, invoice_id)
        if document is None:
            return not_found()
        return HTMLResponse(page(document), headers=PAGE_HEADERS)


def not_found() -> Response:
    return PlainTextResponse("No encontrado.", 404, headers=SECURITY_HEADERS)


def pdf_response(name: str, pdf: bytes) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'inline; filename="{name}"',
            "Cache-Control": PDF_CACHE_CONTROL,
        },
    )


# --- the buyer's page (micrositio) -------------------------------------------------------------

_MARK_TEXT = {
    "simulador": "SIN VALIDEZ FISCAL — SIMULADOR: el CAE lo otorgó un simulador, no ARCA/AFIP.",
    "homologacion": "SIN VALIDEZ FISCAL — HOMOLOGACIÓN: el CAE lo otorgó el servicio de pruebas de ARCA/AFIP.",
}

TOTAL_CLASS = ' class="total"'
_STYLE = """
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
background:#f3f4f6;color:#111827}
main{max-width:34rem;margin:0 auto;padding:1rem}
.card{background:#fff;border-radius:.75rem;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.25rem;margin:0 0 .25rem}
.issuer{color:#4b5563;margin:0 0 1rem;font-size:.95rem}
dl{display:grid;grid-template-columns:auto 1fr;gap:.35rem 1rem;margin:0 0 1.25rem}
dt{color:#6b7280}dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.total{font-size:1.5rem}
.mark{background:#be1414;color:#fff;padding:.6rem .8rem;border-radius:.5rem;margin:0 0 1rem;font-weight:700}
a.button{display:block;text-align:center;padding:.8rem;margin:.5rem 0;border-radius:.5rem;
background:#1d4ed8;color:#fff;text-decoration:none;font-weight:600}
a.button.secondary{background:#e5e7eb;color:#111827}
footer{color:#6b7280;font-size:.8rem;text-align:center;margin-top:1rem}
"""


def page(document: EmittedDocument) -> str:
    """The buyer's page: who sold, what, when, how much, the CAE, and both downloads. Spanish."""
    row, issuer = document.row, document.issuer
    view = row.view or {}
    cliente = view.get("cliente") or {}
    moneda = (row.afip or {}).get("MonId", "PES")
    try:
        total = amount(Decimal(str(row.total)))
    except (InvalidOperation, ValueError):
        total = str(row.total)
    currency = "$" if moneda == "PES" else moneda
    numero = f"{row.punto_venta:05d}-{(row.numero or 0):08d}"
    e = html.escape
    items = [
        ("Comprobante", f"{row.tipo} {numero}"),
        ("Fecha", day(row.fecha)),
        ("Cliente", str(cliente.get("razon_social") or "").strip() or "Consumidor Final"),
        ("Total", f"{currency} {total}"),
        ("CAE", row.cae or ""),
        ("Vto. CAE", day(row.cae_vencimiento)),
    ]
    rows = "".join(
        f'<dt>{e(label)}</dt><dd{TOTAL_CLASS if label == "Total" else ""}>{e(value)}</dd>' for label, value in items
    )
    issuer_line = " · ".join(
        e(part)
        for part in (
            f"CUIT {issuer.cuit}",
            labels.CONDICIONES_IVA.get(issuer.condicion_iva, issuer.condicion_iva),
            issuer.domicilio or "",
        )
        if part
    )
    mark = _MARK_TEXT.get(document.afip_env)
    a4_name, ticket_name = filename(row, "a4"), filename(row, "ticket")
    return f"""<!doctype html>
<html lang="es-AR"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{e(row.tipo)} {e(numero)} — {e(issuer.razon_social)}</title>
<style>{_STYLE}</style></head>
<body><main><div class="card">
{f'<p class="mark">{e(mark)}</p>' if mark else ''}
<h1>{e(issuer.razon_social)}</h1>
<p class="issuer">{issuer_line}</p>
<dl>{rows}</dl>
<a class="button" href="{e(a4_name)}" download>Descargar factura (PDF A4)</a>
<a class="button secondary" href="{e(ticket_name)}" download>Descargar ticket (PDF 80 mm)</a>
</div>
<footer>Comprobante electrónico emitido por {e(issuer.razon_social)}. Conserve este enlace: quien lo tenga puede ver el comprobante.</footer>
</main></body></html>
"""
