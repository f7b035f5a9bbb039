"""The simulator's SOAP: read requests, write answers shaped like AFIP's recordings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
FEV1 = "http://ar.gov.afip.dif.FEV1/"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

INT_FIELDS = {"Concepto", "DocTipo", "DocNro", "CbteDesde", "CbteHasta", "CondicionIVAReceptorId",
              "Id", "Tipo", "PtoVta", "Nro"}
MONEY_FIELDS = {"ImpTotal", "ImpTotConc", "ImpNeto", "ImpOpEx", "ImpTrib", "ImpIVA", "MonCotiz",
                "BaseImp", "Alic", "Importe", "Porcentaje"}
SCALARS = ["Concepto", "DocTipo", "DocNro", "CbteDesde", "CbteHasta", "CbteFch", "ImpTotal", "ImpTotConc", "ImpNeto",
           "ImpOpEx", "ImpTrib", "ImpIVA", "FchServDesde", "FchServHasta", "FchVtoPago", "MonId", "MonCotiz",
           "CanMisMonExt", "CondicionIVAReceptorId"]
ARRAYS = [("CbtesAsoc", "CbteAsoc", ["Tipo", "PtoVta", "Nro", "Cuit", "CbteFch"]),
          ("Tributos", "Tributo", ["Id", "Desc", "BaseImp", "Alic", "Importe"]),
          ("Iva", "AlicIva", ["Id", "BaseImp", "Importe"]),
          ("Opcionales", "Opcional", ["Id", "Valor"]),
          ("Compradores", "Comprador", ["DocTipo", "DocNro", "Porcentaje"])]
# FECompConsultar answers these even when the comprobante had none, as empty elements (recorded).
ALWAYS_ANSWERED = {"FchServDesde", "FchServHasta", "FchVtoPago"}
REQUIRED_INTS = ("Concepto", "DocTipo", "DocNro", "CbteDesde", "CbteHasta")
REQUIRED_MONEY = ("ImpTotal", "ImpTotConc", "ImpNeto", "ImpOpEx", "ImpTrib", "ImpIVA")


class BadRequest(Exception):
    """The request cannot be deserialized (AFIP answers a soap:Client fault)."""


class UnknownOperation(Exception):
    """The SOAP action (or the Body's element) names no WSFEv1 operation (a soap:Client fault)."""


def local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def parse_envelope(body: bytes) -> etree._Element:
    """The operation element inside the SOAP Body."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise BadRequest(f"XML invalido: {exc}") from None
    soap_body = next((c for c in root if local(c.tag) == "Body"), None)
    ops = [] if soap_body is None else [c for c in soap_body if isinstance(c.tag, str)]
    if local(root.tag) != "Envelope" or not ops:
        raise BadRequest("No es un sobre SOAP")
    return ops[0]


def body_operation(body: bytes) -> etree._Element | None:
    """The operation element inside the SOAP Body (1.1 or 1.2), or None when the Body is empty."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise BadRequest(f"XML invalido: {exc}") from None
    soap_body = next((c for c in root if local(c.tag) == "Body"), None)
    if local(root.tag) != "Envelope" or soap_body is None:
        raise BadRequest("No es un sobre SOAP")
    return next((c for c in soap_body if isinstance(c.tag, str)), None)


def route(action: str | None, op: etree._Element | None, known: set[str] | frozenset[str]) -> tuple[str, etree._Element]:
    """The operation to run, as ASP.NET picks it: by the SOAP action when the client sent one
    (then the Body must hold that operation's element, or be empty), else by the Body's element."""
    if action:
        name = action[len(FEV1):] if action.startswith(FEV1) else ""
        if name not in known:
            raise UnknownOperation(f"Server did not recognize the value of HTTP Header SOAPAction: {action}.")
        if op is None:
            return name, etree.Element(f"{{{FEV1}}}{name}")  # an empty Body: every field missing
        if etree.QName(op).namespace != FEV1 or local(op.tag) != name:
            qname = etree.QName(op)
            raise BadRequest(f"There is an error in XML document (1, 1). ---> <{qname.localname} "
                             f"xmlns='{qname.namespace or ''}'> was not expected.")
        return name, op
    if op is None:
        raise UnknownOperation("Server did not recognize the value of HTTP Header SOAPAction: .")
    name = local(op.tag)
    if etree.QName(op).namespace != FEV1 or name not in known:
        raise UnknownOperation(f"Server did not recognize the value of HTTP Header SOAPAction: {name}.")
    return name, op


def find(el: etree._Element | None, name: str) -> etree._Element | None:
    """A child in the FEV1 namespace (ASMX ignores elements in other namespaces)."""
    return None if el is None else el.find(f"{{{FEV1}}}{name}")


def text(el: etree._Element | None, name: str) -> str | None:
    found = find(el, name)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def as_int(value: str | None, default: int = 0) -> int:
    if value is None:
        return default  # ASMX turns a missing int into 0
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"Input string was not in a correct format: {value!r}") from None


def as_decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise BadRequest(f"Input string was not in a correct format: {value!r}") from None


def _value(name: str, raw: str | None):
    if raw is None:
        return None
    if name in INT_FIELDS and name != "Id":
        return as_int(raw)
    if name in MONEY_FIELDS:
        return as_decimal(raw)
    return raw


def parse_detail(el: etree._Element) -> dict:
    """A FECAEDetRequest as a dict keyed by AFIP names (ints, Decimals, strings)."""
    d: dict = {}
    for name in SCALARS:
        raw = text(el, name)
        d[name] = _value(name, raw)
    for name in REQUIRED_INTS:
        d[name] = d[name] or 0
    for name in REQUIRED_MONEY:
        d[name] = d[name] if d[name] is not None else Decimal("0")
    for array, item, fields in ARRAYS:
        holder = find(el, array)
        if holder is None:
            continue
        rows = []
        for row in holder.findall(f"{{{FEV1}}}{item}"):
            entry = {f: _value(f, text(row, f)) for f in fields}
            if "Id" in entry and array != "Opcionales":
                entry["Id"] = as_int(entry["Id"])
            rows.append(entry)
        d[array] = rows
    periodo = find(el, "PeriodoAsoc")
    if periodo is not None:
        d["PeriodoAsoc"] = {"FchDesde": text(periodo, "FchDesde"), "FchHasta": text(periodo, "FchHasta")}
    return d


def to_json(d: dict) -> dict:
    """A parsed detail with Decimals as strings (for the ledger)."""
    def conv(v):
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, list):
            return [conv(i) for i in v]
        if isinstance(v, dict):
            return {k: conv(i) for k, i in v.items()}
        return v
    return conv(d)


# ------------------------------------------------------------------- writing


def number(value: object) -> str:
    """Doubles the way ASMX writes them: no padding ("122", "101.202")."""
    if value is None:
        return "0"
    d = Decimal(str(value))
    text_value = format(d.normalize(), "f")
    return "0" if text_value in ("-0", "") else text_value


def el(name: str, value: object) -> str:
    if value is None:
        return ""
    return f"<{name}>{escape(str(value))}</{name}>"


def messages(array: str, item: str, items: list[tuple[int, str]]) -> str:
    if not items:
        return ""
    inner = "".join(f"<{item}><Code>{code}</Code><Msg>{escape(msg)}</Msg></{item}>" for code, msg in items)
    return f"<{array}>{inner}</{array}>"


def fe_envelope(operation: str, result_inner: str, now: datetime, ambiente: str) -> bytes:
    """A WSFEv1 answer with the FEHeaderInfo header, like AFIP's."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f'<soap:Header><FEHeaderInfo xmlns="{FEV1}"><ambiente>{escape(ambiente)}</ambiente>'
        f"<fecha>{now.isoformat()}</fecha><id>4.3.0.0</id></FEHeaderInfo></soap:Header>"
        f'<soap:Body><{operation}Response xmlns="{FEV1}"><{operation}Result>{result_inner}'
        f"</{operation}Result></{operation}Response></soap:Body></soap:Envelope>"
    ).encode("utf-8")


def soap_fault(code: str, message: str, *, axis: bool = False, detail: str = "") -> bytes:
    """A SOAP 1.1 fault; `axis` writes WSAA's (Apache Axis) flavour with an ns1 prefix."""
    if axis:
        return (
            '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            '<soapenv:Body><soapenv:Fault><faultcode xmlns:ns1="http://xml.apache.org/axis/">ns1:'
            f"{escape(code)}</faultcode><faultstring>{escape(message)}</faultstring><detail>"
            '<ns2:exceptionName xmlns:ns2="http://xml.apache.org/axis/">gov.afip.desein.dvadac.sua.view.wsaa.LoginFault'
            '</ns2:exceptionName><ns3:hostname xmlns:ns3="http://xml.apache.org/axis/">wsaa.encola-sim</ns3:hostname>'
            f"{detail}</detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
        ).encode("utf-8")
    return (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f"<soap:Body><soap:Fault><faultcode>soap:{escape(code)}</faultcode><faultstring>{escape(message)}</faultstring>"
        "<detail /></soap:Fault></soap:Body></soap:Envelope>"
    ).encode("utf-8")


def detail_fields(d: dict) -> str:
    """The FECAEDetRequest fields of a stored detail, in WSDL order (FECompConsultar)."""
    parts = []
    for name in SCALARS:
        value = d.get(name)
        if value is None:
            if name in ALWAYS_ANSWERED:
                parts.append(f"<{name} />")
            continue
        parts.append(el(name, number(value) if name in MONEY_FIELDS else value))
    for array, item, fields in ARRAYS:
        rows = d.get(array)
        if not rows:
            continue
        inner = "".join(
            f"<{item}>" + "".join(el(f, number(r[f]) if f in MONEY_FIELDS else r.get(f)) for f in fields) + f"</{item}>"
            for r in rows
        )
        parts.append(f"<{array}>{inner}</{array}>")
    periodo = d.get("PeriodoAsoc")
    if periodo:
        parts.append("<PeriodoAsoc>" + el("FchDesde", periodo.get("FchDesde")) + el("FchHasta", periodo.get("FchHasta")) + "</PeriodoAsoc>")
    return "".join(parts)
