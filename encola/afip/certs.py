"""Certificates and keys: loading, the CUIT in a subject, self-signed test certificates."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

_CUIT_IN_SERIAL = re.compile(r"CUIT\s*(\d{11})")


def cuit_of(cert: x509.Certificate) -> int | None:
    """The CUIT in a subject's serialNumber ("CUIT 20123456789"), if any."""
    for attr in cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        match = _CUIT_IN_SERIAL.search(str(attr.value))
        if match:
            return int(match.group(1))
    return None


def load_certificate(cert_pem: bytes | str) -> x509.Certificate:
    data = cert_pem.encode() if isinstance(cert_pem, str) else cert_pem
    return x509.load_pem_x509_certificate(data)


def load_private_key(key_pem: bytes | str, password: bytes | None = None) -> rsa.RSAPrivateKey:
    data = key_pem.encode() if isinstance(key_pem, str) else key_pem
    key = serialization.load_pem_private_key(data, password=password)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("AFIP certificates use RSA keys")
    return key


def generate_test_certificate(
    cuit: int | str,
    razon_social: str,
    *,
    valid_days: int = 730,
    key_size: int = 2048,
) -> tuple[bytes, bytes]:
    """A self-signed certificate and its RSA key, as (cert_pem, key_pem).

    The subject carries `serialNumber=CUIT <cuit>` like AFIP's certificates, so
    the simulator's WSAA takes the CUIT from it and the real signing path runs.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, razon_social[:64] or "encola"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, razon_social[:64] or "encola"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "AR"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"CUIT {cuit}"),
        ]
    )
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert_pem, key_pem
