"""The simulator's WSFEv1 operations: auth, numbering, rules, ledger, answers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import partial
from datetime import datetime, timedelta
from typing import Callable

from lxml import etree

from encola.afip_sim import caea, params, points_of_sale, rules, tables
from encola.afip_sim import wire as w
from encola.afip_sim.faults import FaultState
from encola.afip_sim.ledger import Authorized, Ledger

MSG_AUTH_MISSING = "Campo Auth no fue ingresado o esta mal formado."
MSG_NOT_FOUND = "No existen datos en nuestros registros para los parametros ingresados."
Message = tuple[int, str]


@dataclass(frozen=True)
class Answer:
    """What the HTTP layer sends: status, body, and whether to drop it instead."""

    status: int
    body: bytes
    drop: bool = False


class WsfeService:
    def __init__(self, ledger: Ledger, faults: FaultState, clock: Callable[[], datetime], *,
                 max_records: int = 250, ambiente: str = "Simulador encola") -> None:
        self.ledger = ledger
        self.faults = faults
        self.clock = clock
        self.max_records = max_records
        self.ambiente = ambiente

    def handle(self, body: bytes, action: str | None = None) -> Answer:
        """Answer one request; `action` (SOAPAction, or SOAP 1.2's action) picks the operation when sent."""
        try:
            name, op = w.route(action, w.body_operation(body), OPERATION_NAMES)
        except w.UnknownOperation as exc:
            return Answer(500, w.soap_fault("Client", str(exc)))
        except w.BadRequest as exc:
            status = 400 if "XML invalido" in str(exc) else 500
            message = str(exc) if status == 400 or "SOAP" in str(exc) else f"Server was unable to read request. ---> {exc}"
            return Answer(status, w.soap_fault("Client", message))
        handler = getattr(self, "op_" + name, None) or partial(EXTRA_OPERATIONS[name], self)
        try:
            return handler(op)
        except w.BadRequest as exc:
            return Answer(500, w.soap_fault("Client", f"Server was unable to read request. ---> {exc}"))

    def _reply(self, name: str, inner: str, *, drop: bool = False) -> Answer:
        return Answer(200, w.fe_envelope(name, inner, self.clock(), self.ambiente), drop)

    def _auth(self, op: etree._Element) -> tuple[int, list[Message]]:
        """The represented CUIT, or AFIP's auth errors."""
        auth = w.find(op, "Auth")
        token, sign, cuit = w.text(auth, "Token"), w.text(auth, "Sign"), w.text(auth, "Cuit")
        if auth is None or cuit is None:
            return 0, [(500, MSG_AUTH_MISSING)]
        if not token:
            return 0, [(600, "ValidacionDeToken: Parametro nulo o vacio (token)")]
        ticket = self.ledger.ticket(token)
        if ticket is None:
            return 0, [(600, "ValidacionDeToken: No valido token. Excepcion: CargarStringBase64Token: token desconocido.")]
        now = self.clock().timestamp()
        if not ticket.generated_at <= now + 300 or now >= ticket.expires_at:
            return 0, [(600, f"ValidacionDeToken: No validaron las fechas del token. GenTime={int(ticket.generated_at)}, "
                             f"ExpTime={int(ticket.expires_at)}, NowUTC={int(now)}")]
        if sign != ticket.sign:
            return 0, [(600, "ValidacionDeToken: Error al verificar hash: ")]
        represented = w.as_int(cuit)
        if represented != ticket.cuit:
            return 0, [(600, f"ValidacionDeToken: No aparecio CUIT en lista de relaciones: {represented}")]
        return represented, []

    # ------------------------------------------------------------- operations

    def op_FEDummy(self, op: etree._Element) -> Answer:
        return self._reply("FEDummy", "<AppServer>OK</AppServer><DbServer>OK</DbServer><AuthServer>OK</AuthServer>")

    def op_FECompUltimoAutorizado(self, op: etree._Element) -> Answer:
        cuit, errors = self._auth(op)
        pto_vta, cbte_tipo = w.as_int(w.text(op, "PtoVta")), w.as_int(w.text(op, "CbteTipo"))
        if not errors and not 1 <= pto_vta <= 99998:
            errors = [(11000, "El PtoVta debe ser valido comprendido entre 1 y 99998")]
        if not errors and cbte_tipo not in tables.VALID_CBTE_TIPOS:
            errors = [(11001, "Debe de ser algunos de los habilitados en este WS. Consultar metodo FEParamGetTiposCbte")]
        if not errors and (unknown := points_of_sale.ultimo_error(self.ledger.point_of_sale(cuit, pto_vta))):
            errors = [unknown]
        if errors:
            inner = "<PtoVta>0</PtoVta><CbteTipo>0</CbteTipo><CbteNro>0</CbteNro>" + w.messages("Errors", "Err", errors)
        else:
            nro = self.ledger.lane(cuit, pto_vta, cbte_tipo).last_numero
            inner = f"<PtoVta>{pto_vta}</PtoVta><CbteTipo>{cbte_tipo}</CbteTipo><CbteNro>{nro}</CbteNro>"
        return self._reply("FECompUltimoAutorizado", inner)

    def op_FECompTotXRequest(self, op: etree._Element) -> Answer:
        _, errors = self._auth(op)
        inner = "<RegXReq>0</RegXReq>" + w.messages("Errors", "Err", errors) if errors else f"<RegXReq>{self.max_records}</RegXReq>"
        return self._reply("FECompTotXRequest", inner)

    def op_FECompConsultar(self, op: etree._Element) -> Answer:
        cuit, errors = self._auth(op)
        if errors:
            return self._reply("FECompConsultar", w.messages("Errors", "Err", errors))
        req = w.find(op, "FeCompConsReq")
        cbte_tipo, numero, pto_vta = (w.as_int(w.text(req, f)) for f in ("CbteTipo", "CbteNro", "PtoVta"))
        found = self.ledger.find(cuit, pto_vta, cbte_tipo, numero)
        if found is None:
            return self._reply("FECompConsultar", w.messages("Errors", "Err", [(602, MSG_NOT_FOUND)]))
        inner = (
            "<ResultGet>" + w.detail_fields(found.detail) + "<Resultado>A</Resultado>"
            f"<CodAutorizacion>{found.cae}</CodAutorizacion>"
            f"<EmisionTipo>{caea.emision_tipo(self.ledger, cuit, found.cae)}</EmisionTipo>"
            f"<FchVto>{found.cae_fch_vto}</FchVto><FchProceso>{found.fch_proceso}</FchProceso>"
            + f"<PtoVta>{pto_vta}</PtoVta><CbteTipo>{cbte_tipo}</CbteTipo></ResultGet>"
        )
        return self._reply("FECompConsultar", inner)

    def op_FECAESolicitar(self, op: etree._Element) -> Answer:
        cuit, errors = self._auth(op)
        if errors:
            return self._reply("FECAESolicitar", w.messages("Errors", "Err", errors))
        req = w.find(op, "FeCAEReq")
        cab = w.find(req, "FeCabReq")
        det_req = w.find(req, "FeDetReq")
        elements = [] if det_req is None else det_req.findall(f"{{{w.FEV1}}}FECAEDetRequest")
        details = [w.parse_detail(e) for e in elements]
        cant_reg, pto_vta, cbte_tipo = (w.as_int(w.text(cab, f)) for f in ("CantReg", "PtoVta", "CbteTipo"))
        now = self.clock()
        fch_proceso = now.strftime("%Y%m%d%H%M%S")
        pos_error = points_of_sale.cae_error(self.ledger.point_of_sale(cuit, pto_vta), now.date())
        header = rules.header_errors(cant_reg, len(details), pto_vta, cbte_tipo, self.max_records, point_of_sale=pos_error)
        if header:
            results = [("R", d, [], None) for d in details]
        else:
            results, seq_error = self._authorize(cuit, pto_vta, cbte_tipo, details, now, fch_proceso)
            header = [(10016, rules.MSG_SEQUENCE)] if seq_error else []
        drop = self.faults.take_drop()
        return self._reply("FECAESolicitar", self._cae_inner(cuit, pto_vta, cbte_tipo, cant_reg, fch_proceso, results, header), drop=drop)

    def _authorize(self, cuit: int, pto_vta: int, cbte_tipo: int, details: list[dict], now: datetime, fch_proceso: str):
        """Process details in order; after the first rejected one, the rest are out of sequence."""
        lane = self.ledger.lane(cuit, pto_vta, cbte_tipo)
        last, last_fch = lane.last_numero, lane.last_fch
        today = now.date()
        results, records, seq_error, broken = [], [], False, False
        for d in details:
            fch = d.get("CbteFch") or today.strftime("%Y%m%d")
            if broken or d["CbteDesde"] != last + 1 or (last_fch and fch < last_fch):
                results.append(("R", d, [], None))
                seq_error = broken = True
                continue
            obs = rules.check_detail(d, cbte_tipo, cuit, today)
            if not obs and self.faults.take_reject():
                obs = [_unforeseeable(cbte_tipo, d)]
            if obs:
                results.append(("R", d, obs, None))
                broken = True
                continue
            cae = f"7{secrets.randbelow(10**13):013d}"
            vto = (rules.parse_date(fch) + timedelta(days=10)).strftime("%Y%m%d")
            d = dict(d, CbteFch=fch)
            results.append(("A", d, [], (cae, vto)))
            records.append(Authorized(cuit, pto_vta, cbte_tipo, d["CbteDesde"], d["CbteHasta"], fch, cae, vto,
                                      fch_proceso, str(d["ImpTotal"]), w.to_json(d)))
            last, last_fch = d["CbteHasta"], fch
        self.ledger.record(records)
        return results, seq_error

    def _cae_inner(self, cuit, pto_vta, cbte_tipo, cant_reg, fch_proceso, results, errors) -> str:
        states = {r[0] for r in results}
        resultado = "A" if states == {"A"} else ("P" if "A" in states else "R")
        parts = [
            f"<FeCabResp><Cuit>{cuit}</Cuit><PtoVta>{pto_vta}</PtoVta><CbteTipo>{cbte_tipo}</CbteTipo>"
            f"<FchProceso>{fch_proceso}</FchProceso><CantReg>{cant_reg}</CantReg><Resultado>{resultado}</Resultado>"
            "<Reproceso>N</Reproceso></FeCabResp><FeDetResp>"
        ]
        for state, d, obs, auth in results:
            cae, vto = auth if auth else (None, None)
            parts.append(
                f"<FECAEDetResponse><Concepto>{d['Concepto']}</Concepto><DocTipo>{d['DocTipo']}</DocTipo>"
                f"<DocNro>{d['DocNro']}</DocNro><CbteDesde>{d['CbteDesde']}</CbteDesde><CbteHasta>{d['CbteHasta']}</CbteHasta>"
                + w.el("CbteFch", d.get("CbteFch"))
                + f"<Resultado>{state}</Resultado>"
                + w.messages("Observaciones", "Obs", obs)
                + (f"<CAE>{cae}</CAE><CAEFchVto>{vto}</CAEFchVto>" if cae else "<CAE /><CAEFchVto />")
                + "</FECAEDetResponse>"
            )
        parts.append("</FeDetResp>")
        parts.append(w.messages("Errors", "Err", errors))
        return "".join(parts)

    # ------------------------------------------------------------- parameters

    def op_FEParamGetCondicionIvaReceptor(self, op):
        _, errors = self._auth(op)
        clase = w.text(op, "ClaseCmp")
        if not errors and clase is not None and clase not in ("A", "ALEY", "B", "C", "49"):
            errors = [(10244, "El valor del campo Cmp_Clase ingresado para la clase de comprobante no es valido.")]
        if errors:
            return self._reply("FEParamGetCondicionIvaReceptor", w.messages("Errors", "Err", errors))
        inner = "".join(
            f"<CondicionIvaReceptor><Id>{i}</Id>{w.el('Desc', desc)}<Cmp_Clase>{'/'.join(classes)}</Cmp_Clase></CondicionIvaReceptor>"
            for i, desc, classes in tables.CONDICIONES_IVA
            if clase is None or clase in classes
        )
        return self._reply("FEParamGetCondicionIvaReceptor", f"<ResultGet>{inner}</ResultGet>")

    def op_FEParamGetPtosVenta(self, op):
        cuit, errors = self._auth(op)
        pvs = [] if errors else self.ledger.points_of_sale(cuit)
        if not errors and not pvs:
            errors = [(602, MSG_NOT_FOUND)]
        if errors:
            return self._reply("FEParamGetPtosVenta", w.messages("Errors", "Err", errors))
        inner = "".join(points_of_sale.pto_venta_xml(pos) for pos in pvs)
        return self._reply("FEParamGetPtosVenta", f"<ResultGet>{inner}</ResultGet>")


def _unforeseeable(cbte_tipo: int, d: dict) -> Message:
    """An AFIP rejection no client can predict: the buyer is not in AFIP's registry."""
    desc = next((name for i, name, _ in tables.TIPOS_CBTE if i == cbte_tipo), f"Comprobante {cbte_tipo}")
    return (10015, f"{desc} (CbteDesde igual a CbteHasta), DocTipo: {d['DocTipo']}, DocNro {d['DocNro']} no se encuentra "
                   "registrado en los padrones de AFIP y no corresponde a una cuit pais.")


# The table-driven parameter operations and the CAEA ones live in their own modules.
EXTRA_OPERATIONS = {**params.OPERATIONS, **caea.OPERATIONS}
OPERATION_NAMES = frozenset(EXTRA_OPERATIONS) | {n[3:] for n in dir(WsfeService) if n.startswith("op_")}
