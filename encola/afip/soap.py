"""A thin SOAP 1.1 layer over lxml and an HTTP client (httpx or aiohttp, see `transport`).

`call` posts one envelope and returns the first element of the answer's Body,
or raises from `encola.afip.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from lxml import etree

from encola.afip import transport
from encola.afip.errors import AfipBadResponseError, AfipCallError, AfipHttpError

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)


@dataclass(frozen=True)
class SoapFault:
    """A SOAP 1.1 Fault: `faultcode` without its prefix, and `faultstring`."""

    faultcode: str
    faultstring: str


def envelope(operation: etree._Element) -> bytes:
    """Wrap one operation element in a SOAP 1.1 envelope, as bytes (UTF-8)."""
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "xsi": XSI, "xsd": XSD})
    etree.SubElement(env, f"{{{SOAP_ENV}}}Header")
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    body.append(operation)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def body_child(document: bytes) -> etree._Element:
    """The first element inside the Body of a SOAP envelope; ValueError if none."""
    try:
        root = etree.fromstring(document, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not XML: {exc}") from None
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if root.tag != f"{{{SOAP_ENV}}}Envelope" or body is None or len(body) == 0:
        raise ValueError("not a SOAP envelope")
    return body[0]


def fault_of(element: etree._Element) -> SoapFault | None:
    """The fault carried by a Body child, or None when it is a normal answer."""
    if element.tag != f"{{{SOAP_ENV}}}Fault":
        return None
    code = (element.findtext("faultcode") or "").strip()
    return SoapFault(faultcode=code.rsplit(":", 1)[-1], faultstring=(element.findtext("faultstring") or "").strip())


async def call(
    http: transport.Http,
    url: str,
    soap_action: str,
    operation: etree._Element,
    timeout: httpx.Timeout,
) -> etree._Element:
    """POST `operation` in an envelope; return the answer's Body child (maybe a Fault)."""
    headers = {"Content-Type": 'text/xml; charset="UTF-8"', "SOAPAction": f'"{soap_action}"'}
    status, content = await transport.post(http, url, envelope(operation), headers, timeout)
    return _answer(url, status, content)


def _answer(url: str, status: int, content: bytes) -> etree._Element:
    try:
        element = body_child(content)
    except ValueError as exc:
        if status >= 500:
            raise AfipHttpError(f"HTTP {status} from {url}", status_code=status) from None
        if status >= 400:
            raise AfipCallError(f"HTTP {status} from {url}") from None
        raise AfipBadResponseError(f"unreadable answer from {url}: {exc}") from None
    if status >= 500 and fault_of(element) is None:
        raise AfipHttpError(f"HTTP {status} from {url}", status_code=status)
    return element
