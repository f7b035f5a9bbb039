"""consulta_avanzada (F, TN, EXT_REF) and consulta: the caller's invoices in TF's shape (``07``/``08``)."""

from __future__ import annotations

import copy
from typing import Callable

from encola.api.envelope import error_envelope
from encola.domain import fields as f
from encola.domain import tables as t
from encola.domain.errors import Error, err
from encola.domain.status import tf_status
from encola.domain.validation import external_reference_errors
from encola.store.store import InvoiceRow, Page, Pdv, Store
from encola.webhooks.redelivery import endpoint_state

MAX_LIMITE = 1000
DEFAULT_LIMITE = 100
# pagina × limite is the query's OFFSET: keep it within a signed 32-bit integer, which both
# databases take, instead of letting the driver refuse (or overflow on) a larger one.
MAX_OFFSET = 2**31 - 1
# AFIP numbers comprobantes with 8 digits; anything larger matches nothing and would overflow
# PostgreSQL's INTEGER column in the query.
MAX_NUMERO = 99999999
NO_CAE_VENCIMIENTO = "01/01/2000"
MAX_REFERENCE_LIST = 100  # EXT_REF_LIST, as TF's newer page allows
Links = Callable[[InvoiceRow], dict]  # an emitted row → its comprobante_pdf_url, …_ticket_url, micrositios


def present(row: InvoiceRow, links: Links | None = None) -> dict:
    """The stored view plus what changes as the invoice moves: date, number, status and AFIP data.

    ``links`` gives an emitted invoice's document URLs (encola/documents/http.py); without it, or
    for any other invoice, they stay "" as TF answers them."""
    view = copy.deepcopy(row.view)
    comprobante = view["comprobante"]
    emitted = row.state == "emitted"
    comprobante.update(
        fecha=f.format_date(row.fecha),
        numero=row.numero or 0,
        comprobante_nro=f"{row.punto_venta:05d}-{(row.numero or 0):08d}",
        cae=(row.cae + " ") if emitted and row.cae else " ",
        vencimiento_cae=f.format_date(row.cae_vencimiento) if emitted and row.cae_vencimiento else NO_CAE_VENCIMIENTO,
        vencimiento_pago=f.format_date(row.vencimiento) if row.vencimiento else "",
        afip_qr=(row.afip_qr + " ") if emitted and row.afip_qr else "",
        afip_codigo_barras=(row.afip_codigo_barras + " ") if emitted and row.afip_codigo_barras else "",
        status=tf_status(row.state, row.fecha),
        ctacte_status="IMPAGA",
        errores=list(row.errors) if row.state == "error" else [],
        micrositios={"cliente": "", "descarga": ""},
        comprobante_pdf_url="",
        comprobante_ticket_url="",
        # The buyer's mail: "S" once the SMTP server accepted it, with the addresses it went to.
        envio_x_mail="S" if row.mail_sent_at is not None else "N",
        envio_x_mail_direcciones=(row.mail_sent_to or "") if row.mail_sent_at is not None else "",
    )
    if row.abono:  # encola: which comprobante of its abono this is (1 the one sent, 2 the next, …)
        comprobante["abono_recurrencia"] = row.recurrencia + 1
    if emitted and links is not None:
        comprobante.update(links(row))
    return view


def _paging(body: dict) -> tuple[int, int] | dict:
    limite = DEFAULT_LIMITE if f.absent(body.get("limite")) else f.integer(body.get("limite"))
    if limite is None or limite > MAX_LIMITE:
        return _consulta_error("TFC-7004")
    # TF documents 0 as the minimum: read it as "the default page size", not an empty page.
    limite = limite or DEFAULT_LIMITE
    pagina = 0 if f.absent(body.get("pagina")) else f.integer(body.get("pagina"))
    if pagina is None or pagina * limite > MAX_OFFSET:
        return _consulta_error("TFC-7005", maximo=MAX_OFFSET // limite)
    return pagina, limite


def _consulta_error(code: str, **fields) -> dict:
    return _consulta_refusal(err(code, **fields))


def _consulta_refusal(error: Error) -> dict:
    return {**error_envelope([error], None), "rta": "ERROR", "total": 0, "comprobantes": []}


def consulta_avanzada(store: Store, pdv: Pdv, body: dict, links: Links | None = None) -> dict:
    paging = _paging(body)
    if isinstance(paging, dict):
        return paging
    pagina, limite = paging
    busqueda = (f.text(body.get("busqueda_tipo")) or "").strip().upper()
    criteria = body.get("comprobante")
    if busqueda not in ("F", "TN", "EXT_REF", "EXT_REF_LIST"):
        return _consulta_error("TFC-7003")
    if not isinstance(criteria, dict):
        return _consulta_error("TFC-1013", bloque="comprobante")
    if busqueda == "F":
        fecha = f.wire_date(criteria.get("fecha"))
        if fecha is None:
            return _consulta_error("TFC-2011", campo="fecha")
        page = store.search_by_fecha(pdv.id, fecha, pagina, limite)
    elif busqueda == "EXT_REF_LIST" or isinstance(criteria.get("external_reference"), list):
        # The newer page's bulk form; the generic page sends the list in external_reference itself.
        raw = criteria.get("external_reference_list" if busqueda == "EXT_REF_LIST" else "external_reference")
        references = _reference_list(raw)
        if references is None:
            return _consulta_error("TFC-7011")
        page = store.search_by_external_references(pdv.id, references, pagina, limite)
    elif busqueda == "EXT_REF":
        reference = f.text(criteria.get("external_reference"))
        if f.absent(reference):
            return _consulta_error("TFC-7006", campo="external_reference")
        page = store.search_by_external_reference(pdv.id, reference.strip(), pagina, limite)
    else:
        page = _search_numbers(store, pdv, criteria, pagina, limite)
        if isinstance(page, dict):
            return page
    return {
        "rta": "OK",
        "error": "N",
        "total": page.total,
        "errores": [],
        "comprobantes": [present(row, links) for row in page.rows],
        "webhook": endpoint_state(pdv),  # encola: whether hooks go out (TF's 24 h rule, 410)
    }


def _reference_list(raw: object) -> list[str] | None:
    """1 to 100 external_references (each as intake accepts them), without repeats; None if not."""
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_REFERENCE_LIST:
        return None
    references = []
    for item in raw:
        reference = f.text(item)
        reference = reference.strip() if reference is not None else ""
        if external_reference_errors(reference):
            return None
        references.append(reference)
    return list(dict.fromkeys(references))


def _search_numbers(store: Store, pdv: Pdv, criteria: dict, pagina: int, limite: int) -> Page | dict:
    tipo = t.tipo_comprobante(f.text(criteria.get("tipo")) or "")
    if tipo is None or tipo.cbte_tipo is None:
        return _consulta_error("TFC-2003", tipo=f.text(criteria.get("tipo")) or "vacio")
    punto_venta = f.integer(criteria.get("punto_venta"))
    if punto_venta is not None and punto_venta != pdv.punto_venta:
        return {"rta": "OK", "error": "N", "total": 0, "errores": [], "comprobantes": []}
    desde, hasta = (_numero(criteria, name) for name in ("numero_desde", "numero_hasta"))
    for number in (desde, hasta):
        if isinstance(number, Error):
            return _consulta_refusal(number)
    return store.search_by_numbers(pdv.id, tipo.cbte_tipo, desde, hasta, pagina, limite)


def _numero(criteria: dict, name: str) -> int | Error:
    """A comprobante number to look for: absent is TFC-7006, unreadable or out of AFIP's range TFC-7010."""
    raw = criteria.get(name)
    if f.absent(raw):
        return err("TFC-7006", campo=name)
    value = f.integer(raw)
    if value is None or value > MAX_NUMERO:
        return err("TFC-7010", campo=name, minimo=0, maximo=MAX_NUMERO)
    return value


def consulta(store: Store, pdv: Pdv, body: dict, links: Links | None = None) -> dict:
    """Consulta simple: one comprobante by tipo, punto_venta and numero."""
    criteria = body.get("comprobante")
    if not isinstance(criteria, dict):
        return {**error_envelope([err("TFC-1013", bloque="comprobante")], None), "rta": "ERROR"}
    tipo = t.tipo_comprobante(f.text(criteria.get("tipo")) or "")
    numero = _numero(criteria, "numero")
    punto_venta = f.integer(criteria.get("punto_venta"))
    if tipo is None or tipo.cbte_tipo is None:
        return {**error_envelope([err("TFC-2003", tipo=f.text(criteria.get("tipo")) or "vacio")], None), "rta": "ERROR"}
    if isinstance(numero, Error):
        return {**error_envelope([numero], None), "rta": "ERROR"}
    row = None
    if punto_venta in (None, pdv.punto_venta):
        row = store.invoice_by_number(pdv.id, tipo.cbte_tipo, numero)
    if row is None:
        return {**error_envelope([err("TFC-7001")], None), "rta": "ERROR"}
    return {"error": "N", "errores": [], "rta": "OK", **present(row, links)}
