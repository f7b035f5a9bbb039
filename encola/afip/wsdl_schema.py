"""The XSD schemas embedded in the official WSDL files shipped with the package."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from lxml import etree

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XS_NS = "http://www.w3.org/2001/XMLSchema"


def wsdl_bytes(name: str) -> bytes:
    """The raw WSDL, `name` being "wsfev1" or "wsaa"."""
    return resources.files("encola.afip").joinpath("wsdl", f"{name}.wsdl").read_bytes()


@lru_cache(maxsize=None)
def schema(name: str, target_namespace: str | None = None) -> etree.XMLSchema:
    """An XMLSchema from the WSDL's `<types>` (the one for `target_namespace`, or the first)."""
    root = etree.fromstring(wsdl_bytes(name))
    for candidate in root.iterfind(f"{{{WSDL_NS}}}types/{{{XS_NS}}}schema"):
        if target_namespace is None or candidate.get("targetNamespace") == target_namespace:
            document = etree.fromstring(etree.tostring(candidate))
            for imported in document.findall(f"{{{XS_NS}}}import"):
                document.remove(imported)  # imports without schemaLocation name nothing we need
            return etree.XMLSchema(document)
    raise LookupError(f"no schema {target_namespace!r} in {name}.wsdl")
