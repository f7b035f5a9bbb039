"""WSFEv1 operations over an injected HTTP client (see `transport`), authenticated through WSAA."""

from __future__ import annotations

from typing import Awaitable, Callable, Sequence

import httpx
from lxml import etree

from encola.afip import soap, transport
from encola.afip import wsfe_xml as x
from encola.afip.errors import (
    AfipCallError,
    AfipLaneBusyError,
    AfipMessage,
    AfipServiceDownError,
    TokenRejectedError,
)
from encola.afip.models import (
    CaeDetail,
    CaeResult,
    CondicionIvaReceptor,
    Cotizacion,
    ParamItem,
    PuntoVenta,
    ServerStatus,
    StoredComprobante,
    Ticket,
)

AUTH_CODES = frozenset({600, 601})
DOWN_CODES = frozenset({500, 501, 502})
BUSY_CODE = 502
NOT_FOUND = 602

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)

TicketSource = Callable[[], Awaitable[Ticket]]


def raise_for_call_errors(errors: tuple[AfipMessage, ...], *, allow: frozenset[int] = frozenset()) -> None:
    """Raise for call-level Errors that mean "no answer": auth and service down."""
    codes = {e.code for e in errors}
    summary = "; ".join(f"{e.code}: {e.msg}" for e in errors)
    if codes & AUTH_CODES:
        raise TokenRejectedError(summary, errors=errors)
    if any(is_lane_busy(e) for e in errors):
        raise AfipLaneBusyError(summary, errors=errors)
    if codes & DOWN_CODES:
        raise AfipServiceDownError(summary, errors=errors)
    if errors and not codes <= allow:
        raise AfipCallError(summary, errors=errors)


def is_lane_busy(message: AfipMessage) -> bool:
    """502 "… Transaccion Activa" (with or without accents): another call of the lane is being
    processed. Other 502s ("Error interno de base de datos") are AFIP being down."""
    if message.code != BUSY_CODE:
        return False
    folded = message.msg.lower().replace("ó", "o")
    return "transaccion activa" in " ".join(folded.split())


def _fault_error(fault: soap.SoapFault) -> Exception:
    message = f"WSFEv1 fault {fault.faultcode}: {fault.faultstring}"
    if fault.faultcode.lower().startswith("server"):
        return AfipServiceDownError(message)
    return AfipCallError(message)


class WsfeClient:
    """WSFEv1 for one represented CUIT. `tickets` returns a valid WSAA ticket."""

    def __init__(
        self,
        http: transport.Http,
        url: str,
        cuit: int,
        tickets: TicketSource,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._http = http
        self._url = url
        self.cuit = int(cuit)
        self._tickets = tickets
        self._timeout = timeout

    @property
    def url(self) -> str:
        """The WSFEv1 endpoint: which AFIP environment (or simulator) this client talks to."""
        return self._url

    async def _call(self, name: str, op: etree._Element) -> etree._Element:
        element = await soap.call(self._http, self._url, x.NS + name, op, self._timeout)
        fault = soap.fault_of(element)
        if fault is not None:
            raise _fault_error(fault)
        return x.result_of(element, name)

    async def _auth_op(self, name: str) -> etree._Element:
        ticket = await self._tickets()
        return x.auth_operation(name, ticket.token, ticket.sign, self.cuit)

    async def dummy(self) -> ServerStatus:
        """FEDummy: the health of AFIP's servers (no authentication)."""
        result = await self._call("FEDummy", x.operation("FEDummy"))
        return x.dummy_answer(result)

    async def last_authorized(self, pto_vta: int, cbte_tipo: int) -> int:
        """FECompUltimoAutorizado: the last number issued in the lane (0 if none)."""
        op = x.ultimo_autorizado_request(await self._auth_op("FECompUltimoAutorizado"), pto_vta, cbte_tipo)
        result = await self._call("FECompUltimoAutorizado", op)
        raise_for_call_errors(x.errors_of(result))
        return x.to_int(x.text(result, "CbteNro"))

    async def request_cae(self, pto_vta: int, cbte_tipo: int, details: Sequence[CaeDetail]) -> CaeResult:
        """FECAESolicitar for several details of one lane; each comes back Accepted or Rejected."""
        details = list(details)
        op = x.cae_request(await self._auth_op("FECAESolicitar"), pto_vta, cbte_tipo, details)
        result = await self._call("FECAESolicitar", op)
        errors = x.errors_of(result)
        codes = {e.code for e in errors}
        if codes & (AUTH_CODES | DOWN_CODES):
            raise_for_call_errors(errors)
        return x.cae_answer(result, self.cuit, pto_vta, cbte_tipo, details)

    async def consult(self, pto_vta: int, cbte_tipo: int, numero: int) -> StoredComprobante | None:
        """FECompConsultar: what AFIP holds for that number, or None (602)."""
        op = x.consultar_request(await self._auth_op("FECompConsultar"), pto_vta, cbte_tipo, numero)
        result = await self._call("FECompConsultar", op)
        errors = x.errors_of(result)
        raise_for_call_errors(errors, allow=frozenset({NOT_FOUND}))
        get = x.child(result, "ResultGet")
        if get is None:
            return None
        return x.stored_comprobante(get)

    async def max_records_per_request(self) -> int:
        """FECompTotXRequest: the most details one FECAESolicitar may carry."""
        result = await self._call("FECompTotXRequest", await self._auth_op("FECompTotXRequest"))
        raise_for_call_errors(x.errors_of(result))
        return x.to_int(x.text(result, "RegXReq"))

    async def _param(self, name: str, item: str) -> tuple[ParamItem, ...]:
        result = await self._call(name, await self._auth_op(name))
        raise_for_call_errors(x.errors_of(result), allow=frozenset({NOT_FOUND}))
        return x.param_items(result, item)

    async def tipos_cbte(self) -> tuple[ParamItem, ...]:
        return await self._param("FEParamGetTiposCbte", "CbteTipo")

    async def tipos_iva(self) -> tuple[ParamItem, ...]:
        return await self._param("FEParamGetTiposIva", "IvaTipo")

    async def tipos_doc(self) -> tuple[ParamItem, ...]:
        return await self._param("FEParamGetTiposDoc", "DocTipo")

    async def tipos_monedas(self) -> tuple[ParamItem, ...]:
        return await self._param("FEParamGetTiposMonedas", "Moneda")

    async def tipos_concepto(self) -> tuple[ParamItem, ...]:
        return await self._param("FEParamGetTiposConcepto", "ConceptoTipo")

    async def tipos_tributos(self) -> tuple[ParamItem, ...]:
        return await self._param("FEParamGetTiposTributos", "TributoTipo")

    async def tipos_opcional(self) -> tuple[ParamItem, ...]:
        return await self._param("FEParamGetTiposOpcional", "OpcionalTipo")

    async def cotizacion(self, mon_id: str, fch_cotiz=None) -> Cotizacion | None:
        """FEParamGetCotizacion: AFIP's rate for ``mon_id`` (on ``fch_cotiz``, a date, if given)."""
        name = "FEParamGetCotizacion"
        result = await self._call(name, x.cotizacion_request(await self._auth_op(name), mon_id, fch_cotiz))
        raise_for_call_errors(x.errors_of(result), allow=frozenset({NOT_FOUND}))
        return x.cotizacion(result)

    async def condiciones_iva_receptor(self, clase_cmp: str | None = None) -> tuple[CondicionIvaReceptor, ...]:
        """FEParamGetCondicionIvaReceptor, optionally for one class (A, ALEY, B, C, 49)."""
        name = "FEParamGetCondicionIvaReceptor"
        op = x.condicion_iva_request(await self._auth_op(name), clase_cmp)
        result = await self._call(name, op)
        raise_for_call_errors(x.errors_of(result), allow=frozenset({NOT_FOUND}))
        return x.condiciones_iva(result)

    async def puntos_venta(self) -> tuple[PuntoVenta, ...]:
        """FEParamGetPtosVenta: the CUIT's points of sale enabled for web services."""
        name = "FEParamGetPtosVenta"
        result = await self._call(name, await self._auth_op(name))
        raise_for_call_errors(x.errors_of(result), allow=frozenset({NOT_FOUND}))
        return x.puntos_venta(result)
