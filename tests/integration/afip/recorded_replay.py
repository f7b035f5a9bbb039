"""Replaying AFIP's recorded conversations (tests/fixtures/afip_recorded) against the simulator.

A cassette is one client's conversation with AFIP's homologación in 2021. To replay it, the
simulator is put in the state AFIP was in (its clock at the recorded moment, the recorded ticket,
the points of sale and last numbers the conversation shows), then each recorded request is sent
byte for byte. `shape` reduces an answer to what must match AFIP's: element names and order, and
the kind of each value (number, text, empty).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from lxml import etree

from encola.afip_sim import tables, wire
from encola.afip_sim.ledger import Authorized, IssuedTicket, Ledger

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "afip_recorded"
FEV1 = "{http://ar.gov.afip.dif.FEV1/}"
# Observations AFIP makes from its registry of taxpayers, which the simulator does not have:
# 10217 "receptor monotributista" on an approved comprobante (informational, CAE still granted).
REGISTRY_OBSERVATIONS = {"10217"}
SEED_CAE = "7" * 14


def cassettes(prefix: str) -> list[Path]:
    return sorted(FIXTURES.glob(f"{prefix}_*.yaml"))


def interactions(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text())["interactions"]


def posts(path: Path) -> list[dict]:
    """The recorded SOAP calls (the WSDL downloads, GETs, are left out)."""
    return [i for i in interactions(path) if i["request"]["method"] == "POST"]


def xml(text: str) -> etree._Element:
    return etree.fromstring(text.encode("utf-8"))


def recorded_time(response_text: str) -> datetime | None:
    """The moment AFIP answered, from FEHeaderInfo/fecha (7 fraction digits cut to 6)."""
    match = re.search(r"<fecha>([^<]+)</fecha>", response_text)
    if match is None:
        return None
    value = re.sub(r"(\.\d{6})\d+", r"\1", match.group(1))
    return datetime.fromisoformat(value)


def operation(body: str) -> etree._Element | None:
    return wire.body_operation(body.encode("utf-8"))


# ------------------------------------------------------------------ AFIP's state


def seed(ledger: Ledger, path: Path) -> None:
    """Put in `ledger` what AFIP knew when the conversation was recorded."""
    calls = posts(path)
    auth = next((a for c in calls if (op := operation(c["request"]["body"] or "")) is not None
                 and (a := op.find(f"{FEV1}Auth")) is not None), None)
    if auth is None:
        return
    cuit = int(auth.findtext(f"{FEV1}Cuit"))
    moment = recorded_time(calls[0]["response"]["body"]["string"])
    ledger.save_ticket(IssuedTicket(auth.findtext(f"{FEV1}Token"), auth.findtext(f"{FEV1}Sign"), cuit, "wsfe",
                                    "recorded", (moment - timedelta(hours=1)).timestamp(),
                                    (moment + timedelta(hours=11)).timestamp()))
    for nro in _points_of_sale(calls):
        ledger.register_point_of_sale(cuit, nro, "CAE")
    approved_here = any(_results(c, "FECAESolicitarResult") & {"A"} for c in calls)
    for call in calls:
        answer = xml(call["response"]["body"]["string"])
        ultimo = answer.find(f".//{FEV1}FECompUltimoAutorizadoResult")
        if ultimo is not None and int(ultimo.findtext(f"{FEV1}CbteNro") or 0) > 0:
            pto_vta, cbte_tipo = int(ultimo.findtext(f"{FEV1}PtoVta")), int(ultimo.findtext(f"{FEV1}CbteTipo"))
            when = _last_date(calls, pto_vta, cbte_tipo, recorded_time(call["response"]["body"]["string"]))
            _seed_number(ledger, cuit, pto_vta, cbte_tipo, int(ultimo.findtext(f"{FEV1}CbteNro")), when)
        found = xml(with_condicion_iva(call["response"]["body"]["string"])).find(
            f".//{FEV1}FECompConsultarResult/{FEV1}ResultGet")
        if found is not None and not approved_here and found.findtext(f"{FEV1}Resultado") == "A":
            _seed_comprobante(ledger, cuit, found)  # authorized before this conversation began


def _points_of_sale(calls: list[dict]) -> set[int]:
    numbers = set()
    for call in calls:
        numbers |= {int(n) for n in re.findall(r"<PtoVta>(\d+)</PtoVta>", call["request"]["body"] or "")}
        listed = re.findall(r"<PtoVenta><Nro>(\d+)</Nro>", call["response"]["body"]["string"])
        numbers |= {int(n) for n in listed}
    return {n for n in numbers if 1 <= n <= 99998}


def _results(call: dict, result: str) -> set[str]:
    answer = xml(call["response"]["body"]["string"])
    return {r.text for r in answer.iterfind(f".//{FEV1}{result}/{FEV1}FeDetResp//{FEV1}Resultado")}


def _seed_number(ledger: Ledger, cuit: int, pto_vta: int, cbte_tipo: int, numero: int, fch: str) -> None:
    """The lane's last number and date, without the comprobante itself (AFIP's homologación may
    have purged it: test_main_prueba_get asks for the last one and gets 602)."""
    if ledger.lane(cuit, pto_vta, cbte_tipo).last_numero >= numero:
        return
    ledger.record([Authorized(cuit, pto_vta, cbte_tipo, numero, numero, fch, SEED_CAE, fch, fch + "000000", "0", {})])
    ledger._db.execute("DELETE FROM comprobantes WHERE cae = ?", (SEED_CAE,))


def _last_date(calls: list[dict], pto_vta: int, cbte_tipo: int, moment: datetime) -> str:
    """The date of the lane's last comprobante, as far as AFIP's answers tell: when AFIP refused
    the next number for its date (Err 10016), a later date than the one sent, else none later."""
    sent = []
    for call in calls:
        body, answer = call["request"]["body"] or "", call["response"]["body"]["string"]
        if "<FeCAEReq>" not in body or f"<PtoVta>{pto_vta}</PtoVta><CbteTipo>{cbte_tipo}</CbteTipo>" not in body:
            continue
        if re.search(r"<Errors><Err><Code>10016</Code>", answer):
            return moment.strftime("%Y%m%d")
        sent += re.findall(r"<CbteFch>(\d{8})</CbteFch>", body)
    return min(sent + [moment.strftime("%Y%m%d")])


def with_condicion_iva(body: str) -> str:
    """The request as AFIP demands it since RG 5616 (10246 without it): the recordings predate the
    rule, so each detail gets the buyer's VAT condition where the WSDL puts it (after MonCotiz and
    CanMisMonExt): 1 (Responsable Inscripto) for class A, 5 (Consumidor Final) otherwise."""
    if "<CondicionIVAReceptorId>" in body or "<MonCotiz>" not in body or "<CbteTipo>" not in body:
        return body  # FEParamGetCotizacion also answers a MonCotiz
    cbte_tipo = int(re.search(r"<CbteTipo>(\d+)</CbteTipo>", body).group(1))
    condicion = 1 if tables.cbte_class(cbte_tipo) in ("A", "ALEY") else 5
    return re.sub(r"(<MonCotiz>[^<]*</MonCotiz>(?:<CanMisMonExt>[^<]*</CanMisMonExt>)?)",
                  rf"\1<CondicionIVAReceptorId>{condicion}</CondicionIVAReceptorId>", body)


def _seed_comprobante(ledger: Ledger, cuit: int, found: etree._Element) -> None:
    detail = wire.parse_detail(found)
    text = found.findtext
    ledger.record([Authorized(cuit, int(text(f"{FEV1}PtoVta")), int(text(f"{FEV1}CbteTipo")), detail["CbteDesde"],
                              detail["CbteHasta"], text(f"{FEV1}CbteFch"), text(f"{FEV1}CodAutorizacion"),
                              text(f"{FEV1}FchVto"), text(f"{FEV1}FchProceso"), str(detail["ImpTotal"]),
                              wire.to_json(detail))])


# ------------------------------------------------------------------ shapes


def shape(element: etree._Element) -> tuple:
    """(name, kind) for a leaf, (name, (children…)) otherwise; comments and namespaces left out."""
    children = [c for c in element if isinstance(c.tag, str)]
    name = etree.QName(element).localname
    if not children:
        return name, _kind(element.text)
    return name, tuple(shape(c) for c in children)


def _kind(text: str | None) -> str:
    if text is None or not text.strip():
        return "empty"
    try:
        Decimal(text.strip())
        return "number"
    except ArithmeticError:
        return "text"


def without_registry_observations(element: etree._Element) -> etree._Element:
    """AFIP's answer minus the observations only its taxpayer registry can make (a copy)."""
    copy = etree.fromstring(etree.tostring(element))
    for holder in list(copy.iter(f"{FEV1}Observaciones")):
        codes = {o.findtext(f"{FEV1}Code") for o in holder}
        if codes <= REGISTRY_OBSERVATIONS:
            holder.getparent().remove(holder)
    return copy


def codes(element: etree._Element) -> list[tuple[str, str]]:
    """Every (Err | Obs | Evt, code) in document order."""
    found = []
    for kind in ("Err", "Obs", "Evt"):
        found += [(kind, c.findtext(f"{FEV1}Code")) for c in element.iter(f"{FEV1}{kind}")]
    return found


def body_child(envelope: etree._Element) -> etree._Element:
    soap_body = next(c for c in envelope if etree.QName(c).localname == "Body")
    return next(c for c in soap_body if isinstance(c.tag, str))


def header_shape(envelope: etree._Element) -> tuple | None:
    header = next((c for c in envelope if etree.QName(c).localname == "Header"), None)
    return None if header is None else shape(header)
