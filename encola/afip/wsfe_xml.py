"""WSFEv1 wire format: typed values to request elements, answer elements to typed values.

Pure functions; the only place where AFIP's field names appear.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Iterable

from lxml import etree

from encola.afip.errors import AfipBadResponseError, AfipMessage
from encola.afip.models import (
    Accepted,
    Actividad,
    AlicIva,
    CaeDetail,
    CaeResult,
    CbteAsoc,
    Comprador,
    CondicionIvaReceptor,
    Cotizacion,
    DetailResult,
    Opcional,
    ParamItem,
    PeriodoAsoc,
    PuntoVenta,
    Rejected,
    ServerStatus,
    StoredComprobante,
    Tributo,
)

NS = "http://ar.gov.afip.dif.FEV1/"
CENT = Decimal("0.01")


def q(name: str) -> str:
    return f"{{{NS}}}{name}"


# ------------------------------------------------------------------ formatting


def money(value: Decimal) -> str:
    """Two decimals, half-even: AFIP's 13+2 amounts."""
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN))


def rate(value: Decimal) -> str:
    """An exchange rate: up to 6 decimals, never in exponent form."""
    text = format(Decimal(value).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN).normalize(), "f")
    return text


def yyyymmdd(value: date) -> str:
    return value.strftime("%Y%m%d")


def _sub(parent: etree._Element, name: str, text: object | None = None) -> etree._Element:
    element = etree.SubElement(parent, q(name))
    if text is not None:
        element.text = str(text)
    return element


# -------------------------------------------------------------------- requests


def operation(name: str) -> etree._Element:
    return etree.Element(q(name), nsmap={None: NS})


def auth_operation(name: str, token: str, sign: str, cuit: int) -> etree._Element:
    op = operation(name)
    auth = _sub(op, "Auth")
    _sub(auth, "Token", token)
    _sub(auth, "Sign", sign)
    _sub(auth, "Cuit", int(cuit))
    return op


def ultimo_autorizado_request(op: etree._Element, pto_vta: int, cbte_tipo: int) -> etree._Element:
    _sub(op, "PtoVta", pto_vta)
    _sub(op, "CbteTipo", cbte_tipo)
    return op


def consultar_request(op: etree._Element, pto_vta: int, cbte_tipo: int, numero: int) -> etree._Element:
    req = _sub(op, "FeCompConsReq")
    _sub(req, "CbteTipo", cbte_tipo)
    _sub(req, "CbteNro", numero)
    _sub(req, "PtoVta", pto_vta)
    return op


def cae_request(op: etree._Element, pto_vta: int, cbte_tipo: int, details: Iterable[CaeDetail]) -> etree._Element:
    details = list(details)
    req = _sub(op, "FeCAEReq")
    cab = _sub(req, "FeCabReq")
    _sub(cab, "CantReg", len(details))
    _sub(cab, "PtoVta", pto_vta)
    _sub(cab, "CbteTipo", cbte_tipo)
    det = _sub(req, "FeDetReq")
    for detail in details:
        _detail(_sub(det, "FECAEDetRequest"), detail)
    return op


def _detail(el: etree._Element, d: CaeDetail) -> None:
    _sub(el, "Concepto", d.concepto)
    _sub(el, "DocTipo", d.doc_tipo)
    _sub(el, "DocNro", d.doc_nro)
    _sub(el, "CbteDesde", d.cbte_desde)
    _sub(el, "CbteHasta", d.cbte_hasta)
    _sub(el, "CbteFch", yyyymmdd(d.cbte_fch))
    _sub(el, "ImpTotal", money(d.imp_total))
    _sub(el, "ImpTotConc", money(d.imp_tot_conc))
    _sub(el, "ImpNeto", money(d.imp_neto))
    _sub(el, "ImpOpEx", money(d.imp_op_ex))
    _sub(el, "ImpTrib", money(d.imp_trib))
    _sub(el, "ImpIVA", money(d.imp_iva))
    for name, value in (("FchServDesde", d.fch_serv_desde), ("FchServHasta", d.fch_serv_hasta), ("FchVtoPago", d.fch_vto_pago)):
        if value is not None:
            _sub(el, name, yyyymmdd(value))
    _sub(el, "MonId", d.mon_id)
    _sub(el, "MonCotiz", rate(d.mon_cotiz))
    if d.can_mis_mon_ext is not None:
        _sub(el, "CanMisMonExt", d.can_mis_mon_ext)
    if d.condicion_iva_receptor_id is not None:
        _sub(el, "CondicionIVAReceptorId", d.condicion_iva_receptor_id)
    if d.cbtes_asoc:
        asocs = _sub(el, "CbtesAsoc")
        for a in d.cbtes_asoc:
            asoc = _sub(asocs, "CbteAsoc")
            _sub(asoc, "Tipo", a.tipo)
            _sub(asoc, "PtoVta", a.pto_vta)
            _sub(asoc, "Nro", a.nro)
            if a.cuit is not None:
                _sub(asoc, "Cuit", a.cuit)
            if a.cbte_fch is not None:
                _sub(asoc, "CbteFch", yyyymmdd(a.cbte_fch))
    if d.tributos:
        tributos = _sub(el, "Tributos")
        for t in d.tributos:
            tributo = _sub(tributos, "Tributo")
            _sub(tributo, "Id", t.id)
            if t.desc is not None:
                _sub(tributo, "Desc", t.desc)
            _sub(tributo, "BaseImp", money(t.base_imp))
            _sub(tributo, "Alic", money(t.alic))
            _sub(tributo, "Importe", money(t.importe))
    if d.iva:
        ivas = _sub(el, "Iva")
        for a in d.iva:
            alic = _sub(ivas, "AlicIva")
            _sub(alic, "Id", a.id)
            _sub(alic, "BaseImp", money(a.base_imp))
            _sub(alic, "Importe", money(a.importe))
    if d.opcionales:
        opcionales = _sub(el, "Opcionales")
        for o in d.opcionales:
            opcional = _sub(opcionales, "Opcional")
            _sub(opcional, "Id", o.id)
            _sub(opcional, "Valor", o.valor)
    if d.compradores:
        compradores = _sub(el, "Compradores")
        for c in d.compradores:
            comprador = _sub(compradores, "Comprador")
            _sub(comprador, "DocTipo", c.doc_tipo)
            _sub(comprador, "DocNro", c.doc_nro)
            _sub(comprador, "Porcentaje", money(c.porcentaje))
    if d.periodo_asoc is not None:
        periodo = _sub(el, "PeriodoAsoc")
        _sub(periodo, "FchDesde", yyyymmdd(d.periodo_asoc.fch_desde))
        _sub(periodo, "FchHasta", yyyymmdd(d.periodo_asoc.fch_hasta))
    if d.actividades:
        actividades = _sub(el, "Actividades")
        for a in d.actividades:
            _sub(_sub(actividades, "Actividad"), "Id", a.id)


def cotizacion_request(op: etree._Element, mon_id: str, fch_cotiz: date | None) -> etree._Element:
    _sub(op, "MonId", mon_id)
    if fch_cotiz is not None:
        _sub(op, "FchCotiz", yyyymmdd(fch_cotiz))
    return op


def cotizacion(result: etree._Element) -> Cotizacion | None:
    get = child(result, "ResultGet")
    if get is None:
        return None
    return Cotizacion(text(get, "MonId") or "", to_decimal(text(get, "MonCotiz")) or Decimal("0"),
                      to_date(text(get, "FchCotiz")))


def condicion_iva_request(op: etree._Element, clase_cmp: str | None) -> etree._Element:
    if clase_cmp is not None:
        _sub(op, "ClaseCmp", clase_cmp)
    return op


# --------------------------------------------------------------------- answers


def child(el: etree._Element | None, name: str) -> etree._Element | None:
    return None if el is None else el.find(q(name))


def repair_mojibake(value: str) -> str:
    """AFIP sometimes sends UTF-8 bytes that were decoded as Latin-1 on its side ("DescripciÃ³n"
    for "Descripción"): undo that when, and only when, the text reads as such. Correct text with
    accents never survives the round trip (a lone "ó" is not valid UTF-8), so it is left alone."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def text(el: etree._Element | None, name: str) -> str | None:
    found = child(el, name)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return repair_mojibake(value) if value else None


def result_of(element: etree._Element, operation_name: str) -> etree._Element:
    """The `<Op>Result` inside `<Op>Response`; AfipBadResponseError otherwise."""
    if element.tag != q(f"{operation_name}Response"):
        raise AfipBadResponseError(f"expected {operation_name}Response, got {element.tag}")
    result = child(element, f"{operation_name}Result")
    if result is None:
        raise AfipBadResponseError(f"{operation_name}Response without {operation_name}Result")
    return result


def messages(el: etree._Element | None, array: str, item: str) -> tuple[AfipMessage, ...]:
    """Errors/Err, Observaciones/Obs or Events/Evt as AfipMessages, verbatim."""
    holder = child(el, array)
    if holder is None:
        return ()
    out = []
    for m in holder.findall(q(item)):
        try:
            code = int(text(m, "Code") or 0)
        except ValueError:
            code = 0
        out.append(AfipMessage(code=code, msg=text(m, "Msg") or ""))
    return tuple(out)


def errors_of(result: etree._Element) -> tuple[AfipMessage, ...]:
    return messages(result, "Errors", "Err")


def events_of(result: etree._Element) -> tuple[AfipMessage, ...]:
    return messages(result, "Events", "Evt")


def to_int(value: str | None, default: int = 0) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise AfipBadResponseError(f"not an integer: {value!r}") from None


def to_decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise AfipBadResponseError(f"not a number: {value!r}") from None


def to_date(value: str | None) -> date | None:
    """yyyymmdd; AFIP writes "NULL" for "no date"."""
    if value is None or value.upper() == "NULL":
        return None
    try:
        return datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        raise AfipBadResponseError(f"not a date: {value!r}") from None


def to_datetime(value: str | None) -> datetime | None:
    """yyyymmddhhmmss (FchProceso)."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S")
    except ValueError:
        return None


def dummy_answer(result: etree._Element) -> ServerStatus:
    return ServerStatus(
        app_server=text(result, "AppServer") or "",
        db_server=text(result, "DbServer") or "",
        auth_server=text(result, "AuthServer") or "",
    )


def cae_answer(result: etree._Element, cuit: int, pto_vta: int, cbte_tipo: int, sent: list[CaeDetail]) -> CaeResult:
    """Classify every detail of a FECAESolicitarResult as Accepted or Rejected."""
    errors = errors_of(result)
    cab = child(result, "FeCabResp")
    det_resp = child(result, "FeDetResp")
    responses = [] if det_resp is None else det_resp.findall(q("FECAEDetResponse"))
    details: list[DetailResult] = [_detail_result(r, errors) for r in responses]
    # AFIP may answer header-level errors without details: every sent one is rejected.
    for d in sent[len(details):]:
        details.append(Rejected(cbte_desde=d.cbte_desde, cbte_hasta=d.cbte_hasta, cbte_fch=d.cbte_fch, errors=errors))
    resultado = text(cab, "Resultado") or ("R" if not any(isinstance(d, Accepted) for d in details) else "P")
    return CaeResult(
        cuit=to_int(text(cab, "Cuit"), cuit),
        pto_vta=to_int(text(cab, "PtoVta"), pto_vta),
        cbte_tipo=to_int(text(cab, "CbteTipo"), cbte_tipo),
        resultado=resultado,
        fch_proceso=to_datetime(text(cab, "FchProceso")),
        details=tuple(details),
        errors=errors,
        events=events_of(result),
    )


def _detail_result(r: etree._Element, errors: tuple[AfipMessage, ...]) -> DetailResult:
    desde = to_int(text(r, "CbteDesde"))
    hasta = to_int(text(r, "CbteHasta"), desde)
    fch = to_date(text(r, "CbteFch"))
    obs = messages(r, "Observaciones", "Obs")
    cae = text(r, "CAE")
    vto = to_date(text(r, "CAEFchVto"))
    if text(r, "Resultado") == "A" and cae and vto:
        return Accepted(cbte_desde=desde, cbte_hasta=hasta, cbte_fch=fch, cae=cae, cae_fch_vto=vto, observaciones=obs)
    # A detail with its own Obs was rejected for them; one without was rejected by the call-level Errors.
    return Rejected(cbte_desde=desde, cbte_hasta=hasta, cbte_fch=fch, errors=() if obs else errors, observaciones=obs)


def stored_comprobante(get: etree._Element) -> StoredComprobante:
    """A FECompConsultar ResultGet as a StoredComprobante."""
    zero = Decimal("0")
    return StoredComprobante(
        cbte_tipo=to_int(text(get, "CbteTipo")),
        pto_vta=to_int(text(get, "PtoVta")),
        concepto=to_int(text(get, "Concepto")),
        doc_tipo=to_int(text(get, "DocTipo")),
        doc_nro=to_int(text(get, "DocNro")),
        cbte_desde=to_int(text(get, "CbteDesde")),
        cbte_hasta=to_int(text(get, "CbteHasta")),
        cbte_fch=to_date(text(get, "CbteFch")),
        imp_total=to_decimal(text(get, "ImpTotal")) or zero,
        imp_tot_conc=to_decimal(text(get, "ImpTotConc")) or zero,
        imp_neto=to_decimal(text(get, "ImpNeto")) or zero,
        imp_op_ex=to_decimal(text(get, "ImpOpEx")) or zero,
        imp_trib=to_decimal(text(get, "ImpTrib")) or zero,
        imp_iva=to_decimal(text(get, "ImpIVA")) or zero,
        fch_serv_desde=to_date(text(get, "FchServDesde")),
        fch_serv_hasta=to_date(text(get, "FchServHasta")),
        fch_vto_pago=to_date(text(get, "FchVtoPago")),
        mon_id=text(get, "MonId"),
        mon_cotiz=to_decimal(text(get, "MonCotiz")),
        condicion_iva_receptor_id=to_int(text(get, "CondicionIVAReceptorId")) if text(get, "CondicionIVAReceptorId") else None,
        resultado=text(get, "Resultado"),
        cod_autorizacion=text(get, "CodAutorizacion"),
        emision_tipo=text(get, "EmisionTipo"),
        fch_vto=to_date(text(get, "FchVto")),
        fch_proceso=to_datetime(text(get, "FchProceso")),
        cbtes_asoc=tuple(
            CbteAsoc(
                tipo=to_int(text(a, "Tipo")),
                pto_vta=to_int(text(a, "PtoVta")),
                nro=to_int(text(a, "Nro")),
                cuit=text(a, "Cuit"),
                cbte_fch=to_date(text(a, "CbteFch")),
            )
            for a in _items(get, "CbtesAsoc", "CbteAsoc")
        ),
        tributos=tuple(
            Tributo(
                id=to_int(text(t, "Id")),
                desc=text(t, "Desc"),
                base_imp=to_decimal(text(t, "BaseImp")) or zero,
                alic=to_decimal(text(t, "Alic")) or zero,
                importe=to_decimal(text(t, "Importe")) or zero,
            )
            for t in _items(get, "Tributos", "Tributo")
        ),
        iva=tuple(
            AlicIva(
                id=to_int(text(a, "Id")),
                base_imp=to_decimal(text(a, "BaseImp")) or zero,
                importe=to_decimal(text(a, "Importe")) or zero,
            )
            for a in _items(get, "Iva", "AlicIva")
        ),
        opcionales=tuple(
            Opcional(id=text(o, "Id") or "", valor=text(o, "Valor") or "") for o in _items(get, "Opcionales", "Opcional")
        ),
        observaciones=messages(get, "Observaciones", "Obs"),
        can_mis_mon_ext=text(get, "CanMisMonExt"),
        compradores=tuple(
            Comprador(
                doc_tipo=to_int(text(c, "DocTipo")),
                doc_nro=to_int(text(c, "DocNro")),
                porcentaje=to_decimal(text(c, "Porcentaje")) or zero,
            )
            for c in _items(get, "Compradores", "Comprador")
        ),
        periodo_asoc=_periodo(child(get, "PeriodoAsoc")),
        actividades=tuple(Actividad(id=to_int(text(a, "Id"))) for a in _items(get, "Actividades", "Actividad")),
    )


def _periodo(el: etree._Element | None) -> PeriodoAsoc | None:
    """A PeriodoAsoc with both dates, or None (AFIP may send the element empty)."""
    desde, hasta = to_date(text(el, "FchDesde")), to_date(text(el, "FchHasta"))
    return PeriodoAsoc(desde, hasta) if desde and hasta else None


def _items(el: etree._Element, array: str, item: str) -> list[etree._Element]:
    holder = child(el, array)
    return [] if holder is None else holder.findall(q(item))


def param_items(result: etree._Element, item: str) -> tuple[ParamItem, ...]:
    return tuple(
        ParamItem(
            id=text(i, "Id") or "",
            desc=text(i, "Desc") or "",
            fch_desde=to_date(text(i, "FchDesde")),
            fch_hasta=to_date(text(i, "FchHasta")),
        )
        for i in _items(result, "ResultGet", item)
    )


def condiciones_iva(result: etree._Element) -> tuple[CondicionIvaReceptor, ...]:
    return tuple(
        CondicionIvaReceptor(id=to_int(text(i, "Id")), desc=text(i, "Desc") or "", cmp_clase=text(i, "Cmp_Clase") or "")
        for i in _items(result, "ResultGet", "CondicionIvaReceptor")
    )


def puntos_venta(result: etree._Element) -> tuple[PuntoVenta, ...]:
    return tuple(
        PuntoVenta(
            nro=to_int(text(i, "Nro")),
            emision_tipo=text(i, "EmisionTipo") or "",
            bloqueado=(text(i, "Bloqueado") or "N") == "S",
            fch_baja=to_date(text(i, "FchBaja")),
        )
        for i in _items(result, "ResultGet", "PtoVenta")
    )
