"""WSFEv1's parameter operations (FEParamGet*) answered from the code tables, with AFIP's shapes.

Each operation is a function of the service and the request's operation element; `OPERATIONS`
maps AFIP's operation name to it. The table rows come from `tables`; the shapes from AFIP's
recorded answers (`<ResultGet><CbteTipo><Id/><Desc/><FchDesde/><FchHasta>NULL</FchHasta>…`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable

from lxml import etree

from encola.afip_sim import tables
from encola.afip_sim import wire as w

if TYPE_CHECKING:
    from encola.afip_sim.wsfe import Answer, WsfeService

MSG_NOT_FOUND = "No existen datos en nuestros registros para los parametros ingresados."
# FEParamGetCotizacion's own checks (manual v4.x): the currency is required and must exist.
MSG_MONID_EMPTY = "El campo MonId es obligatorio."
MSG_MONID_INVALID = "El campo MonId no es valido. Consultar metodo FEParamGetTiposMonedas."
MSG_FCHCOTIZ_INVALID = "El campo FchCotiz debe tener el formato AAAAMMDD y no puede ser una fecha futura."


def _dated_rows(service: WsfeService, op: etree._Element, name: str, item: str, rows) -> Answer:
    """A table of {Id, Desc, FchDesde, FchHasta} rows, AFIP's most common parameter shape."""
    _, errors = service._auth(op)
    if errors:
        return service._reply(name, w.messages("Errors", "Err", errors))
    inner = "".join(
        f"<{item}><Id>{i}</Id>{w.el('Desc', desc)}<FchDesde>{desde}</FchDesde><FchHasta>NULL</FchHasta></{item}>"
        for i, desc, desde in rows
    )
    return service._reply(name, f"<ResultGet>{inner}</ResultGet>")


def tipos_cbte(service, op):
    return _dated_rows(service, op, "FEParamGetTiposCbte", "CbteTipo", tables.TIPOS_CBTE)


def tipos_doc(service, op):
    return _dated_rows(service, op, "FEParamGetTiposDoc", "DocTipo", tables.TIPOS_DOC)


def tipos_iva(service, op):
    return _dated_rows(service, op, "FEParamGetTiposIva", "IvaTipo", tables.TIPOS_IVA)


def tipos_monedas(service, op):
    return _dated_rows(service, op, "FEParamGetTiposMonedas", "Moneda", tables.MONEDAS)


def tipos_concepto(service, op):
    return _dated_rows(service, op, "FEParamGetTiposConcepto", "ConceptoTipo", tables.TIPOS_CONCEPTO)


def tipos_tributos(service, op):
    return _dated_rows(service, op, "FEParamGetTiposTributos", "TributoTipo", tables.TIPOS_TRIBUTO)


def tipos_opcional(service, op):
    return _dated_rows(service, op, "FEParamGetTiposOpcional", "OpcionalTipo", tables.TIPOS_OPCIONAL)


def tipos_paises(service, op):
    """`PaisTipo{Id, Desc}`: countries carry no validity dates in the WSDL."""
    _, errors = service._auth(op)
    if errors:
        return service._reply("FEParamGetTiposPaises", w.messages("Errors", "Err", errors))
    inner = "".join(f"<PaisTipo><Id>{i}</Id>{w.el('Desc', desc)}</PaisTipo>" for i, desc in tables.PAISES)
    return service._reply("FEParamGetTiposPaises", f"<ResultGet>{inner}</ResultGet>")


def actividades(service, op):
    """`ActividadesTipo{Id, Orden, Desc}`: the represented CUIT's activities (RG 5259)."""
    _, errors = service._auth(op)
    if errors:
        return service._reply("FEParamGetActividades", w.messages("Errors", "Err", errors))
    inner = "".join(
        f"<ActividadesTipo><Id>{i}</Id><Orden>{orden}</Orden>{w.el('Desc', desc)}</ActividadesTipo>"
        for i, orden, desc in tables.ACTIVIDADES
    )
    return service._reply("FEParamGetActividades", f"<ResultGet>{inner}</ResultGet>")


def cotizacion(service, op):
    """`ResultGet{MonId, MonCotiz, FchCotiz}`: the official rate of the previous business day,
    or of `FchCotiz` when asked (manual v4.0); AFIP recorded DOL 101.202 for 20210721."""
    _, errors = service._auth(op)
    mon_id, fch = w.text(op, "MonId"), w.text(op, "FchCotiz")
    today = service.clock().date()
    if not errors and mon_id is None:
        errors = [(1000, MSG_MONID_EMPTY)]
    if not errors and mon_id not in tables.VALID_MONEDAS:
        errors = [(1001, MSG_MONID_INVALID)]
    day = _previous_business_day(today)
    if not errors and fch is not None:
        asked = _yyyymmdd(fch)
        if asked is None or asked > today:
            errors = [(1002, MSG_FCHCOTIZ_INVALID)]
        else:
            day = asked
    rate = tables.COTIZACIONES.get(mon_id or "")
    if not errors and rate is None:
        errors = [(602, MSG_NOT_FOUND)]
    if errors:
        return service._reply("FEParamGetCotizacion", w.messages("Errors", "Err", errors))
    inner = (f"<ResultGet><MonId>{mon_id}</MonId><MonCotiz>{w.number(rate)}</MonCotiz>"
             f"<FchCotiz>{day.strftime('%Y%m%d')}</FchCotiz></ResultGet>")
    return service._reply("FEParamGetCotizacion", inner)


def _previous_business_day(day):
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _yyyymmdd(value: str):
    try:
        return datetime.strptime(value, "%Y%m%d").date() if len(value) == 8 else None
    except ValueError:
        return None


OPERATIONS: dict[str, Callable] = {
    "FEParamGetTiposCbte": tipos_cbte,
    "FEParamGetTiposDoc": tipos_doc,
    "FEParamGetTiposIva": tipos_iva,
    "FEParamGetTiposMonedas": tipos_monedas,
    "FEParamGetTiposConcepto": tipos_concepto,
    "FEParamGetTiposTributos": tipos_tributos,
    "FEParamGetTiposOpcional": tipos_opcional,
    "FEParamGetTiposPaises": tipos_paises,
    "FEParamGetActividades": actividades,
    "FEParamGetCotizacion": cotizacion,
}
