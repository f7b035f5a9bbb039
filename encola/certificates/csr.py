"""The private key and the CSR AFIP expects: ``C=AR, O=<razón social>, CN=<alias>,
serialNumber=CUIT <cuit>``, RSA 2048, signed with SHA-256."""

from __future__ import annotations

import re
import unicodedata

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

KEY_BITS = 2048
MAX_NAME = 64  # X.520's upper bound for O and CN


def default_alias(razon_social: str) -> str:
    """A CN from the razón social: ASCII letters, digits and dashes, lower case ("acme-sa")."""
    plain = unicodedata.normalize("NFKD", razon_social).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:40] or "encola"


def new_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def private_key_pem(key: rsa.RSAPrivateKey) -> bytes:
    """PKCS#8 PEM without a password (encola seals it in its database; on disk it is mode 0600)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def build_csr(key: rsa.RSAPrivateKey, cuit: int | str, razon_social: str, alias: str | None = None) -> bytes:
    """The CSR (PEM) for ARCA's WSASS or "Administración de Certificados Digitales"."""
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "AR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, razon_social.strip()[:MAX_NAME]),
        x509.NameAttribute(NameOID.COMMON_NAME, _bounded(alias or default_alias(razon_social))),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, f"CUIT {cuit}"),
    ])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def _bounded(text: str) -> str:
    """At most MAX_NAME bytes of UTF-8 (X.509's bound on CN), never cutting a character."""
    return text.encode()[:MAX_NAME].decode("utf-8", "ignore")


def key_and_csr(cuit: int | str, razon_social: str, alias: str | None = None) -> tuple[bytes, bytes]:
    """A new private key and its CSR, as (key_pem, csr_pem)."""
    key = new_private_key()
    return private_key_pem(key), build_csr(key, cuit, razon_social, alias)
