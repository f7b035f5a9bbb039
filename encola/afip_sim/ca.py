"""The simulator's certificate authority: what AFIP's WSASS is for homologación.

AFIP's WSAA trusts only certificates its own CA issued ("Computadores Test" in homologación);
so does the simulator in its default (strict) mode, with a CA of its own. The CA's key and
certificate are kept beside a durable ledger (``<ledger>.ca.pem``, mode 0600) so certificates
outlive a restart, or in memory with an in-memory ledger (then a restart distrusts them all).
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

CERTIFICATE_DAYS = 730  # WSASS's homologación certificates last two years
CA_DAYS = 3650
MIN_KEY_BITS = 2048  # what AFIP asks of a CSR's key
_CUIT_SERIAL = re.compile(r"^CUIT (\d{11})$")


class CsrRefused(ValueError):
    """A CSR the simulator's WSASS does not sign; the message says why."""


class SimulatorCA:
    """Signs CSRs and recognises the certificates it signed."""

    def __init__(self, key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> None:
        self._key = key
        self.certificate = certificate

    # -------------------------------------------------------------------- life

    @classmethod
    def create(cls) -> SimulatorCA:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        # A name of its own per CA: a certificate from another simulator (or an older one) is
        # told apart by its issuer, as AFIP tells homologación from producción certificates.
        name = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "AR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "encola afip-sim"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Computadores Simulador {secrets.token_hex(4)}"),
        ])
        now = datetime.now(timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    @classmethod
    def beside(cls, ledger_path: str | None) -> SimulatorCA:
        """The CA kept beside a durable ledger (created on first use), or a new one in memory."""
        if ledger_path is None or ledger_path == ":memory:":
            return cls.create()
        path = ledger_path + ".ca.pem"
        if not os.path.exists(path):
            fresh = cls.create()
            temporary = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(fresh.pem_bundle())
            try:
                os.link(temporary, path)  # atomic and never overwrites: two simulators starting agree
            except FileExistsError:
                pass
            finally:
                os.unlink(temporary)
        with open(path, "rb") as file:
            return cls.from_pem_bundle(file.read())

    def pem_bundle(self) -> bytes:
        key = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return key + self.certificate_pem()

    @classmethod
    def from_pem_bundle(cls, data: bytes) -> SimulatorCA:
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the simulator's CA key must be RSA")
        return cls(key, x509.load_pem_x509_certificate(data))

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    # ----------------------------------------------------------------- signing

    def sign_csr(self, csr_pem: bytes | str, *, now: datetime | None = None) -> bytes:
        """The certificate (PEM) for a CSR as AFIP expects it; CsrRefused otherwise."""
        data = csr_pem.encode() if isinstance(csr_pem, str) else csr_pem
        try:
            csr = x509.load_pem_x509_csr(data)
        except ValueError:
            raise CsrRefused("no es un CSR en formato PEM (-----BEGIN CERTIFICATE REQUEST-----)") from None
        if not csr.is_signature_valid:
            raise CsrRefused("la firma del CSR no es valida")
        key = csr.public_key()
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_KEY_BITS:
            raise CsrRefused(f"la clave del CSR debe ser RSA de al menos {MIN_KEY_BITS} bits")
        serials = [str(a.value) for a in csr.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)]
        if len(serials) != 1 or not _CUIT_SERIAL.match(serials[0]):
            raise CsrRefused('el sujeto del CSR debe tener serialNumber "CUIT nnnnnnnnnnn"')
        if not csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
            raise CsrRefused("el sujeto del CSR debe tener CN (el alias del certificado)")
        moment = now or datetime.now(timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.certificate.subject)
            .public_key(key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(moment - timedelta(minutes=5))
            .not_valid_after(moment + timedelta(days=CERTIFICATE_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.PEM)

    def signed(self, certificate: x509.Certificate) -> bool:
        """Whether this CA issued `certificate` (its issuer name and signature)."""
        if certificate.issuer != self.certificate.subject:
            return False
        try:
            self.certificate.public_key().verify(  # type: ignore[union-attr]
                certificate.signature,
                certificate.tbs_certificate_bytes,
                padding.PKCS1v15(),
                certificate.signature_hash_algorithm,  # type: ignore[arg-type]
            )
        except (InvalidSignature, TypeError, ValueError):
            return False
        return True
