"""Certificates and keys: loading, the CUIT in a subject, checking a certificate AFIP issued
against its key (``check_certificate``), self-signed test certificates."""

from __future__ import annotations

import re
from dataclasses import dataclass
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


EXPIRY_WARNING_DAYS = 30  # a certificate this close to its end is reported (log, estado_servicios)


class CertificateProblem(ValueError):
    """A certificate (or its key) that encola cannot use for the CUIT; the message says why, for a user."""


@dataclass(frozen=True)
class CertificateInfo:
    """What a user needs to know about a certificate that passed ``check_certificate``."""

    cuit: int
    subject: str
    issuer: str
    serial_number: int
    not_before: datetime  # aware, UTC
    not_after: datetime  # aware, UTC

    def days_left(self, now: datetime | None = None) -> int:
        return (self.not_after - (now or datetime.now(timezone.utc))).days

    def expiring(self, now: datetime | None = None) -> bool:
        return self.days_left(now) < EXPIRY_WARNING_DAYS


def dn(name: x509.Name) -> str:
    """A distinguished name as AFIP writes it (serialNumber by name, not by OID)."""
    return name.rfc4514_string({NameOID.SERIAL_NUMBER: "serialNumber"})


def check_certificate(cert_pem: bytes | str, key_pem: bytes | str, cuit: int | str,
                      *, now: datetime | None = None) -> CertificateInfo:
    """Check that a certificate is readable, in force, for `cuit`, and the pair of `key_pem`.

    Raises CertificateProblem with a message meant for the user (never the key's content)."""
    try:
        cert = load_certificate(cert_pem)
    except (ValueError, TypeError):
        raise CertificateProblem("the certificate is not a readable PEM certificate (-----BEGIN CERTIFICATE-----)") from None
    try:
        key = load_private_key(key_pem)
    except (ValueError, TypeError) as exc:
        # The parser's text may quote the input: say what is wrong without it.
        reason = "it is not RSA" if "RSA" in str(exc) else "not a PEM private key without a password"
        raise CertificateProblem(f"the private key is not readable: {reason}") from None
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey) or public.public_numbers() != key.public_key().public_numbers():
        raise CertificateProblem(
            "the certificate does not belong to this private key: it was issued for another key "
            "(use the key that signed the CSR you gave ARCA)"
        )
    found = cuit_of(cert)
    if found is None:
        raise CertificateProblem(
            f"the certificate's subject has no serialNumber \"CUIT nnnnnnnnnnn\" ({dn(cert.subject)})"
        )
    if str(found) != str(cuit).strip():
        raise CertificateProblem(f"the certificate is for CUIT {found}, not {cuit}")
    moment = now or datetime.now(timezone.utc)
    if cert.not_valid_after_utc <= moment:
        raise CertificateProblem(f"the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    if cert.not_valid_before_utc > moment:
        raise CertificateProblem(f"the certificate is valid only from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    return CertificateInfo(
        cuit=found,
        subject=dn(cert.subject),
        issuer=dn(cert.issuer),
        serial_number=cert.serial_number,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


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
