"""``encola cert new`` (key + CSR for ARCA) and ``encola afip check`` (is this CUIT ready to emit?).

Both are steps of docs/going-live.md; ``encola pdv cert`` (encola/cli.py) takes the certificate
back through ``checked`` and ``store_checked``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from encola.afip.certs import CertificateInfo, CertificateProblem, check_certificate
from encola.certificates.csr import default_alias, key_and_csr

ARCA_STEPS = """\
What to do with {csr} at ARCA (https://auth.afip.gob.ar, with CUIT {cuit}'s Clave Fiscal, level 3 or more):

  Homologación (AFIP's testing environment; its CAEs are not valid for tax purposes):
    1. "Administrador de Relaciones de Clave Fiscal" > "Adherir servicio" > ARCA > Servicios interactivos >
       "WSASS - Autogestión Certificados Homologación".
    2. WSASS > "Nuevo Certificado": name it {alias}, paste the whole content of {csr}, and save the
       certificate it shows as {crt}.
    3. WSASS > "Crear autorización a servicio": that certificate ({alias}), the CUIT it represents
       ({cuit}) and the service "wsfe - Facturación Electrónica".

  Producción:
    1. "Administración de Certificados Digitales" (add it in "Administrador de Relaciones de Clave
       Fiscal" > "Adherir servicio" if it is not in the list) > "Agregar alias": {alias}, upload {csr},
       then download the certificate as {crt}.
    2. "Administrador de Relaciones de Clave Fiscal" > "Nueva Relación" > ARCA > WebServices >
       "Facturación Electrónica", and as Representante the computer {alias}.
    3. "Administración de puntos de venta y domicilios": each point of sale encola emits from must
       exist there with emission type "RECE para aplicativo y web services".

Then give encola the certificate and see that AFIP answers:
  encola pdv cert --cuit {cuit} --cert {crt} --key {key}
  ENCOLA_AFIP_ENV=homologacion encola afip check --cuit {cuit}     (or --env produccion)

Against `encola afip-sim` (its WSASS signs CSRs, as AFIP's does for homologación):
  curl --data-binary @{csr} http://127.0.0.1:8900/_sim/wsass > {crt}
"""


@click.group("cert")
def cert() -> None:
    """AFIP certificates: the key and CSR to give ARCA (see docs/going-live.md)."""


@cert.command("new")
@click.option("--cuit", required=True, help="The CUIT the certificate represents (11 digits).")
@click.option("--razon-social", required=True, help="The CUIT's razón social (the subject's O).")
@click.option("--alias", default=None, help="The certificate's name at ARCA (the subject's CN); default from the razón social.")
@click.option("--out", "out_dir", default=".", show_default=True, type=click.Path(file_okay=False), help="Directory to write to.")
@click.option("--simulator", default=None, metavar="URL",
              help="Also have an `encola afip-sim` at URL sign the CSR, writing <alias>.crt.")
def cert_new(cuit: str, razon_social: str, alias: str | None, out_dir: str, simulator: str | None) -> None:
    """Write a private key (mode 0600) and the CSR AFIP expects, and say what to do with them at ARCA.

    The subject is C=AR, O=<razón social>, CN=<alias>, serialNumber=CUIT <cuit>; the key RSA 2048.
    An existing key is never overwritten."""
    from encola.domain.validation import cuit_is_valid

    cuit = cuit.strip()
    if not cuit_is_valid(cuit):
        raise click.BadParameter(f"{cuit!r} is not a valid CUIT (11 digits, check digit)", param_hint="--cuit")
    if not razon_social.strip():
        raise click.BadParameter("must not be empty", param_hint="--razon-social")
    alias = (alias or default_alias(razon_social)).strip()
    if not alias or len(alias.encode()) > 64 or any(c in alias for c in "/\\\0"):  # X.509 bounds CN in bytes
        raise click.BadParameter("1 to 64 characters (bytes in UTF-8), no slashes", param_hint="--alias")
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    key_path, csr_path, crt_path = (directory / f"{alias}{ext}" for ext in (".key", ".csr", ".crt"))
    key_pem, csr_pem = key_and_csr(cuit, razon_social, alias)
    try:
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise click.ClickException(f"{key_path} exists: not overwriting a private key (choose another --alias or --out)") from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(key_pem)
    csr_path.write_bytes(csr_pem)
    click.echo(f"wrote {key_path} (private key, mode 0600: keep it secret)")
    click.echo(f"wrote {csr_path} (certificate request: C=AR, O={razon_social.strip()}, CN={alias}, serialNumber=CUIT {cuit})")
    if simulator:
        _sign_at_simulator(simulator, csr_pem, crt_path)
    click.echo("")
    click.echo(ARCA_STEPS.format(cuit=cuit, alias=alias, key=key_path, csr=csr_path, crt=crt_path))


def _sign_at_simulator(base_url: str, csr_pem: bytes, crt_path: Path) -> None:
    import httpx

    from encola.certificates.simulator import WSASS_PATH

    try:
        answer = httpx.post(base_url.rstrip("/") + WSASS_PATH, content=csr_pem, timeout=10)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"the simulator at {base_url} did not answer: {exc}") from None
    if answer.status_code != 200:
        raise click.ClickException(f"the simulator refused the CSR (HTTP {answer.status_code}): {answer.text.strip()}")
    crt_path.write_bytes(answer.content)
    click.echo(f"wrote {crt_path} (signed by the simulator at {base_url})")


@dataclass(frozen=True)
class CheckedCertificate:
    cert_pem: str
    key_pem: str
    info: CertificateInfo

    def __repr__(self) -> str:  # never the key
        return f"CheckedCertificate({self.info.subject})"


def checked(cuit: str, cert_pem: str, key_pem: str) -> CheckedCertificate:
    """The pair checked against the CUIT (encola/afip/certs.py), or a clear refusal (exit 1)."""
    try:
        return CheckedCertificate(cert_pem, key_pem, check_certificate(cert_pem, key_pem, cuit))
    except CertificateProblem as exc:
        raise click.ClickException(f"certificate refused: {exc}") from None


def store_checked(store, cuit: str, certificate: CheckedCertificate) -> CertificateInfo:
    """Keep a checked certificate and its key (sealed) for the CUIT (``pdv create``/``pdv cert``)."""
    if not store.save_credentials(cuit, certificate.cert_pem, certificate.key_pem, only_if_missing=False):
        raise click.ClickException(f"no workspace holds CUIT {cuit}: create one of its points of sale first")
    return certificate.info


def describe(info: CertificateInfo) -> str:
    days = info.days_left()
    warning = f"  WARNING: expires in {days} days, renew it (docs/going-live.md)" if info.expiring() else ""
    return f"certificate {info.subject}, issued by {info.issuer}, valid until {info.not_after:%Y-%m-%d} ({days} days){warning}"


@click.group("afip")
def afip() -> None:
    """AFIP as encola sees it."""


@afip.command("check")
@click.option("--cuit", required=True)
@click.option("--env", "environment", default=None, type=click.Choice(["homologacion", "produccion"]),
              help="Ask this AFIP environment (default: what ENCOLA_AFIP_ENV / ENCOLA_AFIP_URL say, else the embedded simulator).")
def afip_check(cuit: str, environment: str | None) -> None:
    """FEDummy, WSAA login (reusing a valid stored ticket), FECompTotXRequest, the points of sale and
    the last number of each lane, as a report; exits 1 when anything failed."""
    import asyncio

    from encola.certificates.check import run_check

    from encola.cli import _settings, open_store

    settings = _settings()
    store = open_store(settings)
    report = asyncio.run(run_check(store, settings, cuit.strip(), environment))
    for line in report.lines:
        click.echo(line)
    sys.exit(0 if report.ok else 1)
