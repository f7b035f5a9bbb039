"""A thin SOAP 1.1 layer over httpx and lxml.

`call` posts one envelope and returns the first element of the answer's Body,
or raises from `encola.afip.errors`. It is the only place that touches httpx.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from lxml import etree

from encola.afip.errors import (
    AfipBadResponseError,
    AfipCallError,
    AfipConnectionError,
    AfipNotSentError,
    AfipHttpError,
)

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
    http: httpx.AsyncClient,
    url: str,
    soap_action: str,
    operation: etree._Element,
    timeout: httpx.Timeout,
) -> etree._Element:
    """POST `operation` in an envelope; return the answer's Body child (maybe a Fault)."""
    headers = {"Content-Type": 'text/xml; charset="UTF-8"', "SOAPAction": f'"{soap_action}"'}
    try:
        response = await http.post(url, content=envelope(operation), headers=headers, timeout=timeout)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise AfipNotSentError(f"could not connect to {url}: {type(exc).__name__}: {exc}") from None
    except httpx.TimeoutException as exc:
        raise AfipConnectionError(f"timeout calling {url}: {type(exc).__name__}") from None
    except (httpx.TransportError, OSError) as exc:
        raise AfipConnectionError(f"connection to {url} failed: {type(exc).__name__}: {exc}") from None
    except httpx.HTTPError as exc:
        raise AfipConnectionError(f"HTTP error calling {url}: {type(exc).__name__}: {exc}") from None
    return _answer(url, response)


def _answer(url: str, response: httpx.Response) -> etree._Element:
    try:
        element = body_child(response.content)
    except ValueError as exc:
        if response.status_code >= 500:
            raise AfipHttpError(f"HTTP {response.status_code} from {url}", status_code=response.status_code) from None
        if response.status_code >= 400:
            raise AfipCallError(f"HTTP {response.status_code} from {url}") from None
        raise AfipBadResponseError(f"unreadable answer from {url}: {exc}") from None
    if response.status_code >= 500 and fault_of(element) is None:
        raise AfipHttpError(f"HTTP {response.status_code} from {url}", status_code=response.status_code)
    return element
