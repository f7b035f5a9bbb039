"""WSFEv1's CAEA operations: the anticipated authorization code of a fortnight, and what is
reported against it (README §10; RG 5782/5785 keep CAEA for contingencies).

- `FECAEASolicitar(Periodo yyyymm, Orden 1|2)`: one CAEA per CUIT and fortnight (Orden 1 = days
  1–15, 2 = 16–end), requestable from 5 calendar days before the fortnight until its last day
  (15006 with AFIP's recorded text otherwise). Asking again for a granted fortnight is 15008.
- `FECAEAConsultar`: the granted CAEA, or `ResultGet{Periodo, Orden}` + 602 (recorded shape).
- `FECAEARegInformativo`: comprobantes issued with a CAEA, reported afterwards; only on CAEA points
  of sale, numbered in their lane like CAE ones, dated within the CAEA's fortnight.
- `FECAEASinMovimientoInformar` / `…Consultar`: a CAEA point of sale that issued nothing with it.

Codes and texts are AFIP's where a recording shows them (15004, 15006, 602, 782, 1200); the others
are the simulator's, listed in docs/afip.md.
"""

from __future__ import annotations

import calendar
import secrets
import sqlite3
import weakref
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from lxml import etree

from encola.afip_sim import rules
from encola.afip_sim import wire as w
from encola.afip_sim.ledger import Authorized, Ledger

if TYPE_CHECKING:
    from encola.afip_sim.wsfe import Answer, WsfeService

SCHEMA = """
CREATE TABLE IF NOT EXISTS caea (
    cuit INTEGER NOT NULL, periodo INTEGER NOT NULL, orden INTEGER NOT NULL, caea TEXT NOT NULL UNIQUE,
    fch_vig_desde TEXT NOT NULL, fch_vig_hasta TEXT NOT NULL, fch_tope_inf TEXT NOT NULL, fch_proceso TEXT NOT NULL,
    PRIMARY KEY (cuit, periodo, orden)
);
CREATE TABLE IF NOT EXISTS caea_sin_movimiento (
    cuit INTEGER NOT NULL, caea TEXT NOT NULL, pto_vta INTEGER NOT NULL, fch_proceso TEXT NOT NULL,
    PRIMARY KEY (cuit, caea, pto_vta)
);
"""
MSG_NOT_FOUND = "No existen datos en nuestros registros para los parametros ingresados."
MSG_PERIODO = ("El campo <Periodo> debe tener el formato AAAAMM, donde AAAA indica el año y MM el mes en "
               "números.")
MSG_ORDEN = "El campo <Orden> debe ser 1 (primera quincena) o 2 (segunda quincena)."
MSG_WINDOW = ("Fecha de envío podrá ser desde 5 días corridos anteriores al inicio hasta el último dia de cada "
              "quincena. Del {desde} hasta {hasta}")
MSG_GRANTED = "Existe un CAEA otorgado para el Periodo y Orden informados. Consultar metodo FECAEAConsultar."
MSG_CAEA_REQUIRED = "El <CAEA> es obligatorio informarlo."
MSG_NOT_CAEA = "El codigo de autorizacion debe ser del tipo CAEA"
MSG_CAEA_FORTNIGHT = "El campo CbteFch debe estar comprendido en el periodo de vigencia del CAEA informado."
MSG_CAEA_POS = "El punto de venta informado debe estar dado de alta y ser del tipo CAEA."
MSG_SIN_MOV_USED = "El CAEA informado registra comprobantes para el punto de venta informado."
MSG_SIN_MOV_TWICE = "El punto de venta ya fue informado sin movimiento para el CAEA informado."
WINDOW_DAYS = 5
REPORT_DAYS = 8  # FchTopeInf: the fortnight's last day + 8 days to report what was issued


@dataclass(frozen=True)
class Granted:
    cuit: int
    periodo: int
    orden: int
    caea: str
    fch_vig_desde: str
    fch_vig_hasta: str
    fch_tope_inf: str
    fch_proceso: str

    def xml(self) -> str:
        """`FECAEAGet` in WSDL order."""
        return (f"<CAEA>{self.caea}</CAEA><Periodo>{self.periodo}</Periodo><Orden>{self.orden}</Orden>"
                f"<FchVigDesde>{self.fch_vig_desde}</FchVigDesde><FchVigHasta>{self.fch_vig_hasta}</FchVigHasta>"
                f"<FchTopeInf>{self.fch_tope_inf}</FchTopeInf><FchProceso>{self.fch_proceso}</FchProceso>")


class CaeaBook:
    """The granted CAEAs and the points of sale informed without movement, in the ledger's SQLite."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._db.executescript(SCHEMA)

    def granted(self, cuit: int, periodo: int, orden: int) -> Granted | None:
        row = self._db.execute("SELECT * FROM caea WHERE cuit=? AND periodo=? AND orden=?",
                               (cuit, periodo, orden)).fetchone()
        return None if row is None else Granted(*row)

    def by_code(self, cuit: int, code: str) -> Granted | None:
        row = self._db.execute("SELECT * FROM caea WHERE cuit=? AND caea=?", (cuit, code)).fetchone()
        return None if row is None else Granted(*row)

    def grant(self, granted: Granted) -> None:
        self._db.execute("INSERT INTO caea VALUES (?,?,?,?,?,?,?,?)",
                         (granted.cuit, granted.periodo, granted.orden, granted.caea, granted.fch_vig_desde,
                          granted.fch_vig_hasta, granted.fch_tope_inf, granted.fch_proceso))

    def inform_without_movement(self, cuit: int, code: str, pto_vta: int, fch_proceso: str) -> bool:
        """False when that point of sale was already informed for that CAEA."""
        cursor = self._db.execute("INSERT OR IGNORE INTO caea_sin_movimiento VALUES (?,?,?,?)",
                                  (cuit, code, pto_vta, fch_proceso))
        return cursor.rowcount == 1

    def without_movement(self, cuit: int, code: str, pto_vta: int) -> list[tuple[str, str, int]]:
        sql = "SELECT caea, fch_proceso, pto_vta FROM caea_sin_movimiento WHERE cuit=? AND caea=?"
        args: tuple = (cuit, code)
        if pto_vta:
            sql, args = sql + " AND pto_vta=?", (*args, pto_vta)
        return list(self._db.execute(sql + " ORDER BY pto_vta", args))


_BOOKS: weakref.WeakKeyDictionary[Ledger, CaeaBook] = weakref.WeakKeyDictionary()


def book(ledger: Ledger) -> CaeaBook:
    """The CAEA book kept in `ledger`'s database (created on first use)."""
    if ledger not in _BOOKS:
        _BOOKS[ledger] = CaeaBook(ledger._db)  # the same file, so a CAEA is as durable as a CAE
    return _BOOKS[ledger]


# ------------------------------------------------------------------ fortnights


def fortnight(periodo: int, orden: int) -> tuple[date, date] | None:
    """First and last day of a fortnight, or None when Periodo/Orden do not name one."""
    year, month = divmod(periodo, 100)
    if not (1000 <= year <= 9999 and 1 <= month <= 12) or orden not in (1, 2):
        return None
    last = calendar.monthrange(year, month)[1]
    return (date(year, month, 1), date(year, month, 15)) if orden == 1 else (date(year, month, 16), date(year, month, last))


def _us_date(day: date) -> str:
    """AFIP's servers write this message's dates as M/D/YYYY (recorded: "Del 6/26/2021 hasta 7/15/2021")."""
    return f"{day.month}/{day.day}/{day.year}"


def _periodo_orden(op: etree._Element) -> tuple[int, int, list]:
    periodo, orden = w.as_int(w.text(op, "Periodo")), w.as_int(w.text(op, "Orden"))
    year, month = divmod(periodo, 100)
    if not (1000 <= year <= 9999 and 1 <= month <= 12):
        return periodo, orden, [(15004, MSG_PERIODO)]
    if orden not in (1, 2):
        return periodo, orden, [(15005, MSG_ORDEN)]
    return periodo, orden, []


# ------------------------------------------------------------------ operations


def solicitar(service: WsfeService, op: etree._Element) -> Answer:
    cuit, errors = service._auth(op)
    periodo, orden, bad = _periodo_orden(op)
    errors = errors or bad
    now = service.clock()
    if not errors:
        first, last = fortnight(periodo, orden)
        opens = first - timedelta(days=WINDOW_DAYS)
        if not opens <= now.date() <= last:
            errors = [(15006, MSG_WINDOW.format(desde=_us_date(opens), hasta=_us_date(last)))]
    books = book(service.ledger)
    if not errors and books.granted(cuit, periodo, orden) is not None:
        errors = [(15008, MSG_GRANTED)]
    if errors:
        return service._reply("FECAEASolicitar", w.messages("Errors", "Err", errors))
    granted = Granted(cuit, periodo, orden, _new_code(), first.strftime("%Y%m%d"), last.strftime("%Y%m%d"),
                      (last + timedelta(days=REPORT_DAYS)).strftime("%Y%m%d"), now.strftime("%Y%m%d"))
    books.grant(granted)
    return service._reply("FECAEASolicitar", f"<ResultGet>{granted.xml()}</ResultGet>")


def consultar(service: WsfeService, op: etree._Element) -> Answer:
    cuit, errors = service._auth(op)
    if errors:
        return service._reply("FECAEAConsultar", w.messages("Errors", "Err", errors))
    periodo, orden, errors = _periodo_orden(op)
    granted = None if errors else book(service.ledger).granted(cuit, periodo, orden)
    if not errors and granted is None:
        errors = [(602, MSG_NOT_FOUND)]
    if errors:  # AFIP echoes what was asked before its errors (recorded)
        inner = f"<ResultGet><Periodo>{periodo}</Periodo><Orden>{orden}</Orden></ResultGet>"
        return service._reply("FECAEAConsultar", inner + w.messages("Errors", "Err", errors))
    return service._reply("FECAEAConsultar", f"<ResultGet>{granted.xml()}</ResultGet>")


def reg_informativo(service: WsfeService, op: etree._Element) -> Answer:
    cuit, errors = service._auth(op)
    if errors:
        return service._reply("FECAEARegInformativo", w.messages("Errors", "Err", errors))
    req = w.find(op, "FeCAEARegInfReq")
    cab, det_req = w.find(req, "FeCabReq"), w.find(req, "FeDetReq")
    elements = [] if det_req is None else det_req.findall(f"{{{w.FEV1}}}FECAEADetRequest")
    details = [dict(w.parse_detail(e), CAEA=w.text(e, "CAEA"), CbteFchHsGen=w.text(e, "CbteFchHsGen"))
               for e in elements]
    cant_reg, pto_vta, cbte_tipo = (w.as_int(w.text(cab, f)) for f in ("CantReg", "PtoVta", "CbteTipo"))
    now = service.clock()
    fch_proceso = now.strftime("%Y%m%d%H%M%S")
    header = rules.header_errors(cant_reg, len(details), pto_vta, cbte_tipo, service.max_records)
    if not header and any(not d["CAEA"] for d in details):
        header = [(782, MSG_CAEA_REQUIRED)]
    if not header:
        pos = service.ledger.point_of_sale(cuit, pto_vta)
        if pos is None or pos.emision_tipo != "CAEA" or not pos.active_on(now.date()):
            header = [(10005, MSG_CAEA_POS)]
    if header:
        results = [("R", d, []) for d in details]
    else:
        results, seq_error = _inform(service, cuit, pto_vta, cbte_tipo, details, fch_proceso)
        header = [(10016, rules.MSG_SEQUENCE)] if seq_error else []
    return service._reply("FECAEARegInformativo",
                          _reg_inner(cuit, pto_vta, cbte_tipo, cant_reg, fch_proceso, results, header))


def _inform(service: WsfeService, cuit: int, pto_vta: int, cbte_tipo: int, details: list[dict], fch_proceso: str):
    """Like FECAESolicitar's processing: in order, the rest out of sequence after a rejection."""
    lane = service.ledger.lane(cuit, pto_vta, cbte_tipo)
    last, last_fch = lane.last_numero, lane.last_fch
    books = book(service.ledger)
    results, records, seq_error, broken = [], [], False, False
    for d in details:
        fch = d.get("CbteFch") or ""
        if broken or d["CbteDesde"] != last + 1 or (last_fch and fch < last_fch):
            results.append(("R", d, []))
            seq_error = broken = True
            continue
        granted = books.by_code(cuit, d["CAEA"])
        issued = rules.parse_date(fch)
        if granted is None:
            obs = [(1200, MSG_NOT_CAEA)]
        elif issued is None or not granted.fch_vig_desde <= fch <= granted.fch_vig_hasta:
            obs = [(10016, MSG_CAEA_FORTNIGHT)]
        else:
            # Issued offline on CbteFch: AFIP's date windows count from that day, not from today.
            plain = {k: v for k, v in d.items() if k not in ("CAEA", "CbteFchHsGen")}
            obs = rules.check_detail(plain, cbte_tipo, cuit, issued)
        if obs:
            results.append(("R", d, obs))
            broken = True
            continue
        results.append(("A", d, []))
        plain = {k: v for k, v in d.items() if k not in ("CAEA", "CbteFchHsGen")}
        records.append(Authorized(cuit, pto_vta, cbte_tipo, d["CbteDesde"], d["CbteHasta"], fch, d["CAEA"],
                                  granted.fch_tope_inf, fch_proceso, str(d["ImpTotal"]), w.to_json(plain)))
        last, last_fch = d["CbteHasta"], fch
    service.ledger.record(records)
    return results, seq_error


def _reg_inner(cuit, pto_vta, cbte_tipo, cant_reg, fch_proceso, results, errors) -> str:
    states = {r[0] for r in results}
    resultado = "A" if states == {"A"} else ("P" if "A" in states else "R")
    parts = [
        f"<FeCabResp><Cuit>{cuit}</Cuit><PtoVta>{pto_vta}</PtoVta><CbteTipo>{cbte_tipo}</CbteTipo>"
        f"<FchProceso>{fch_proceso}</FchProceso><CantReg>{cant_reg}</CantReg><Resultado>{resultado}</Resultado>"
        "<Reproceso>N</Reproceso></FeCabResp><FeDetResp>"
    ]
    for state, d, obs in results:
        parts.append(
            f"<FECAEADetResponse><Concepto>{d['Concepto']}</Concepto><DocTipo>{d['DocTipo']}</DocTipo>"
            f"<DocNro>{d['DocNro']}</DocNro><CbteDesde>{d['CbteDesde']}</CbteDesde><CbteHasta>{d['CbteHasta']}</CbteHasta>"
            + w.el("CbteFch", d.get("CbteFch")) + f"<Resultado>{state}</Resultado>"
            + w.messages("Observaciones", "Obs", obs)
            + (f"<CAEA>{d['CAEA']}</CAEA>" if d.get("CAEA") else "<CAEA />")
            + "</FECAEADetResponse>"
        )
    parts.append("</FeDetResp>")
    parts.append(w.messages("Errors", "Err", errors))
    return "".join(parts)


def sin_movimiento_informar(service: WsfeService, op: etree._Element) -> Answer:
    cuit, errors = service._auth(op)
    pto_vta, code = w.as_int(w.text(op, "PtoVta")), w.text(op, "CAEA") or ""
    now = service.clock()
    fch_proceso = now.strftime("%Y%m%d")
    books = book(service.ledger)
    if not errors and books.by_code(cuit, code) is None:
        errors = [(1200, MSG_NOT_CAEA)]
    if not errors:
        pos = service.ledger.point_of_sale(cuit, pto_vta)
        if pos is None or pos.emision_tipo != "CAEA":
            errors = [(10005, MSG_CAEA_POS)]
    if not errors and _used(service.ledger, cuit, pto_vta, code):
        errors = [(1201, MSG_SIN_MOV_USED)]
    if not errors and not books.inform_without_movement(cuit, code, pto_vta, fch_proceso):
        errors = [(1202, MSG_SIN_MOV_TWICE)]
    inner = (f"{w.el('CAEA', code)}<FchProceso>{fch_proceso}</FchProceso><PtoVta>{pto_vta}</PtoVta>"
             f"<Resultado>{'R' if errors else 'A'}</Resultado>" + w.messages("Errors", "Err", errors))
    return service._reply("FECAEASinMovimientoInformar", inner)


def sin_movimiento_consultar(service: WsfeService, op: etree._Element) -> Answer:
    cuit, errors = service._auth(op)
    pto_vta, code = w.as_int(w.text(op, "PtoVta")), w.text(op, "CAEA") or ""
    rows = [] if errors else book(service.ledger).without_movement(cuit, code, pto_vta)
    if not errors and not rows:
        errors = [(602, MSG_NOT_FOUND)]
    if errors:
        return service._reply("FECAEASinMovimientoConsultar", w.messages("Errors", "Err", errors))
    inner = "".join(f"<FECAEASinMov><CAEA>{c}</CAEA><FchProceso>{f}</FchProceso><PtoVta>{p}</PtoVta></FECAEASinMov>"
                    for c, f, p in rows)
    return service._reply("FECAEASinMovimientoConsultar", f"<ResultGet>{inner}</ResultGet>")


def _used(ledger: Ledger, cuit: int, pto_vta: int, code: str) -> bool:
    return ledger._db.execute("SELECT 1 FROM comprobantes WHERE cuit=? AND pto_vta=? AND cae=? LIMIT 1",
                              (cuit, pto_vta, code)).fetchone() is not None


def emision_tipo(ledger: Ledger, cuit: int, code: str) -> str:
    """FECompConsultar's EmisionTipo: "CAEA" for a comprobante reported with a CAEA, else "CAE"."""
    return "CAEA" if book(ledger).by_code(cuit, code) is not None else "CAE"


def _new_code() -> str:
    """14 digits like AFIP's CAEAs; the simulator's start with 3 (its CAEs start with 7)."""
    return f"3{secrets.randbelow(10**13):013d}"


OPERATIONS = {
    "FECAEASolicitar": solicitar,
    "FECAEAConsultar": consultar,
    "FECAEARegInformativo": reg_informativo,
    "FECAEASinMovimientoInformar": sin_movimiento_informar,
    "FECAEASinMovimientoConsultar": sin_movimiento_consultar,
}
