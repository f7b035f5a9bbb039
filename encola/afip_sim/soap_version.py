"""SOAP 1.1 and 1.2 at the simulator's door: which version a request speaks, and answers in it.

AFIP's WSDLs bind WSFEv1 to both SOAP 1.1 (`ServiceSoap`) and SOAP 1.2 (`ServiceSoap12`), and WSAA
accepts SOAP 1.2 too (README §2.3); some clients (@arcasdk/core) use 1.2 by default. The services
(`wsfe`, `wsaa`) write SOAP 1.1; this module reads the request's version and action, and rewrites
an answer into SOAP 1.2 when that is what was asked, so no service needs to know.

How the version is chosen, as ASP.NET (WSFEv1) does it:
- `Content-Type: application/soap+xml; action="…"` is SOAP 1.2, `text/xml` + `SOAPAction` is 1.1;
- an envelope whose namespace disagrees with its content type gets a `VersionMismatch` fault, in
  the content type's version;
- no content type at all: the envelope's namespace decides (lenient, like Apache Axis for WSAA).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

from lxml import etree

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
CONTENT_TYPE = {"1.1": "text/xml; charset=utf-8", "1.2": "application/soap+xml; charset=utf-8"}
_ENVELOPE_TAG = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?Envelope\b([^>]*)>")
_FAULT = re.compile(rb"<(?:[\w.-]+:)?Body>\s*<(?:[\w.-]+:)?Fault[\s>]")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
# SOAP 1.1 fault codes and their SOAP 1.2 counterparts (SOAP 1.2 part 1, §5.4.6).
_CODES_12 = {"Client": "Sender", "Server": "Receiver", "VersionMismatch": "VersionMismatch",
             "MustUnderstand": "MustUnderstand"}
# WSAA's own fault codes that mean "our side failed" (README §2.6); every other one is the sender's.
_RECEIVER_PREFIXES = ("wsaa.", "wsn.unavailable")


@dataclass(frozen=True)
class SoapRequest:
    """What the HTTP layer learnt: the SOAP version to answer in, the action, a version mismatch."""

    version: str  # "1.1" | "1.2"
    action: str | None  # SOAPAction (1.1) or the content type's action parameter (1.2), unquoted
    mismatch: str | None = None  # the envelope namespace, when it contradicts the content type


def read_request(content_type: str | None, soap_action: str | None, body: bytes) -> SoapRequest:
    """The version and action of one request (see the module docstring for the rules)."""
    media, params = _media_type(content_type)
    envelope = envelope_namespace(body)
    if media == "application/soap+xml":
        version, action = "1.2", params.get("action")
    elif media:
        version, action = "1.1", soap_action
    else:
        version = "1.2" if envelope == SOAP12 else "1.1"
        action = params.get("action") if version == "1.2" else soap_action
    expected = SOAP12 if version == "1.2" else SOAP11
    mismatch = envelope if envelope in (SOAP11, SOAP12) and envelope != expected else None
    return SoapRequest(version, _unquote(action), mismatch)


def envelope_namespace(body: bytes) -> str | None:
    """The namespace of the root Envelope, read from its start tag only: every call passes here, and
    a FECAESolicitar of 250 details is a quarter of a megabyte (no parse of the whole)."""
    root = _ENVELOPE_TAG.search(body, 0, 4096)
    if root is None:
        return None
    prefix, attributes = root.group(1), root.group(2)
    declaration = re.search(rb"\sxmlns" + (b":" + re.escape(prefix) if prefix else b"") + rb"\s*=\s*([\"'])(.*?)\1",
                            attributes)
    return declaration.group(2).decode("utf-8", "replace") if declaration else None


def version_mismatch_fault(request: SoapRequest) -> bytes:
    """ASP.NET's answer to an envelope of the other SOAP version."""
    expected = SOAP12 if request.version == "1.2" else SOAP11
    message = (f"Possible SOAP version mismatch: Envelope namespace {request.mismatch} was unexpected. "
               f"Expecting {expected}.")
    return fault(request.version, "VersionMismatch", message)


def fault(version: str, code: str, message: str) -> bytes:
    """A plain fault (`code` in SOAP 1.1 terms: Client, Server, VersionMismatch) in `version`."""
    if version == "1.2":
        return _fault12(f"soap:{_CODES_12.get(code, 'Sender')}", None, message, "")
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP11}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f"<soap:Body><soap:Fault><faultcode>soap:{escape(code)}</faultcode><faultstring>{escape(message)}"
        "</faultstring><detail /></soap:Fault></soap:Body></soap:Envelope>"
    ).encode("utf-8")


def in_version(answer_11: bytes, version: str) -> bytes:
    """A service's SOAP 1.1 answer, rewritten into SOAP 1.2 when the request spoke 1.2."""
    if version != "1.2":
        return answer_11
    root_tag = _ENVELOPE_TAG.search(answer_11, 0, 4096)
    if root_tag is None:
        return answer_11  # not SOAP (an HTML error page): passed through as is
    if _FAULT.search(answer_11, root_tag.end(), root_tag.end() + 4096) is None:
        # A normal answer differs only in the envelope's namespace, declared in its start tag
        # (rewritten there only, never in the payload; answers of 250 details are not re-parsed).
        head = answer_11[:root_tag.end()].replace(SOAP11.encode(), SOAP12.encode())
        return head + answer_11[root_tag.end():]
    try:
        fault11 = etree.fromstring(answer_11, _PARSER).find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
    except etree.XMLSyntaxError:
        return answer_11
    return answer_11 if fault11 is None else _fault12_from_11(fault11)


def _fault12_from_11(fault11: etree._Element) -> bytes:
    code_text = (fault11.findtext("faultcode") or "soap:Server").strip()
    prefix, _, local = code_text.rpartition(":")
    message = fault11.findtext("faultstring") or ""
    detail = fault11.find("detail")
    detail_xml = "".join(etree.tostring(child, encoding="unicode") for child in detail) if detail is not None else ""
    code_ns = _ns_of(fault11.find("faultcode"), prefix)
    if local in _CODES_12 and code_ns in (SOAP11, None):
        return _fault12(f"soap:{_CODES_12[local]}", None, message, detail_xml)
    # An application code (WSAA's `ns1:coe.alreadyAuthenticated`): SOAP 1.2 allows only its five
    # codes in Code/Value, so the application's code goes in Code/Subcode, namespace kept.
    namespace = code_ns or "http://xml.apache.org/axis/"
    value = "soap:Receiver" if local.startswith(_RECEIVER_PREFIXES) else "soap:Sender"
    return _fault12(value, (namespace, local), message, detail_xml)


def _fault12(value: str, subcode: tuple[str, str] | None, message: str, detail_xml: str) -> bytes:
    sub = ""
    if subcode:
        namespace, local = subcode
        sub = (f'<soap:Subcode><soap:Value xmlns:ns1="{escape(namespace, {chr(34): "&quot;"})}">ns1:{escape(local)}'
               "</soap:Value></soap:Subcode>")
    detail = f"<soap:Detail>{detail_xml}</soap:Detail>" if detail_xml else "<soap:Detail />"
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP12}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f"<soap:Body><soap:Fault><soap:Code><soap:Value>{value}</soap:Value>{sub}</soap:Code>"
        f'<soap:Reason><soap:Text xml:lang="es">{escape(message)}</soap:Text></soap:Reason>{detail}'
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode("utf-8")


def _ns_of(element: etree._Element | None, prefix: str) -> str | None:
    return None if element is None else element.nsmap.get(prefix or None)


def _media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """`type/subtype` in lower case and the parameters (quotes removed) of a Content-Type."""
    if not content_type:
        return "", {}
    media, *parts = content_type.split(";")
    params = {}
    for part in parts:
        key, _, value = part.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return media.strip().lower(), params


def _unquote(action: str | None) -> str | None:
    if action is None:
        return None
    return action.strip().strip('"').strip() or None

