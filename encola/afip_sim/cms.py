"""Verify a CMS SignedData (the loginCms `in0`) without external tools.

`cryptography` can build PKCS#7 but not verify it, so this module walks the
DER itself: just enough ASN.1 for SignedData with attached content, one RSA
signer, optional signed attributes, and the signer certificate included.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class CmsError(Exception):
    """The CMS could not be parsed or verified; `code` is WSAA's faultcode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_HASHES = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512,
    "1.3.14.3.2.26": hashes.SHA1,
}


@dataclass(frozen=True)
class Tlv:
    tag: int
    raw: bytes  # the whole element, header included
    content: bytes


def _read(data: bytes, pos: int) -> tuple[Tlv, int]:
    if pos + 2 > len(data):
        raise CmsError("cms.bad", "DER truncado")
    tag = data[pos]
    length = data[pos + 1]
    header = 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise CmsError("cms.bad", "largo DER no soportado")
        length = int.from_bytes(data[pos + 2 : pos + 2 + count], "big")
        header += count
    start = pos + header
    end = start + length
    if end > len(data):
        raise CmsError("cms.bad", "DER truncado")
    return Tlv(tag, data[pos:end], data[start:end]), end


def _children(content: bytes) -> list[Tlv]:
    out, pos = [], 0
    while pos < len(content):
        tlv, pos = _read(content, pos)
        out.append(tlv)
    return out


def _oid(tlv: Tlv) -> str:
    body = tlv.content
    if tlv.tag != 0x06 or not body:
        raise CmsError("cms.bad", "OID esperado")
    parts = [body[0] // 40, body[0] % 40]
    value = 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


@dataclass(frozen=True)
class SignedContent:
    """What a verified CMS carries: the signed bytes and the signer's certificate."""

    content: bytes
    certificate: x509.Certificate


def verify(der: bytes) -> SignedContent:
    """Parse and verify a SignedData; raise CmsError with WSAA's faultcode."""
    try:
        return _verify(der)
    except CmsError:
        raise
    except (ValueError, IndexError, TypeError) as exc:
        raise CmsError("cms.bad", f"CMS mal formado: {exc}") from None


def _verify(der: bytes) -> SignedContent:
    info, _ = _read(der, 0)
    outer = _children(info.content)
    if len(outer) < 2 or _oid(outer[0]) != OID_SIGNED_DATA:
        raise CmsError("cms.bad", "No es un SignedData")
    signed_data = _children(_children(outer[1].content)[0].content)
    encap = _children(signed_data[2].content)
    if len(encap) < 2:
        raise CmsError("cms.bad", "El CMS no contiene el TRA (firma separada)")
    content = _children(encap[1].content)[0].content
    certs = [t for t in signed_data[3:] if t.tag == 0xA0]
    if not certs:
        raise CmsError("cms.cert.notFound", "No se encontro certificado en el CMS")
    certificates = [x509.load_der_x509_certificate(c.raw) for c in _children(certs[0].content)]
    signer_infos = _children(signed_data[-1].content)
    if not signer_infos:
        raise CmsError("cms.bad", "El CMS no tiene firmantes")
    signer = _children(signer_infos[0].content)
    return SignedContent(content=content, certificate=_check_signer(signer, content, certificates))


def _check_signer(signer: list[Tlv], content: bytes, certificates: list[x509.Certificate]) -> x509.Certificate:
    hash_cls = _HASHES.get(_oid(_children(signer[2].content)[0]))
    if hash_cls is None:
        raise CmsError("cms.sign.invalid", "Algoritmo de hash no soportado")
    index = 3
    signed_attrs = signer[3] if signer[3].tag == 0xA0 else None
    if signed_attrs is not None:
        index = 4
    signature = signer[index + 1].content
    if signed_attrs is not None:
        digest = hashes.Hash(hash_cls())
        digest.update(content)
        if _message_digest(signed_attrs) != digest.finalize():
            raise CmsError("cms.sign.invalid", "El digest del contenido no coincide")
        to_verify = b"\x31" + signed_attrs.raw[1:]
    else:
        to_verify = content
    for cert in certificates:
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            continue
        try:
            key.verify(signature, to_verify, padding.PKCS1v15(), hash_cls())
            return cert
        except InvalidSignature:
            continue
    raise CmsError("cms.sign.invalid", "Firma invalida o algoritmo no soportado")


def _message_digest(signed_attrs: Tlv) -> bytes:
    for attr in _children(signed_attrs.content):
        parts = _children(attr.content)
        if _oid(parts[0]) == OID_MESSAGE_DIGEST:
            return _children(parts[1].content)[0].content
    raise CmsError("cms.sign.invalid", "Falta el atributo messageDigest")
