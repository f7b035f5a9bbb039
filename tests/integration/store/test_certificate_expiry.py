"""Certificates that end within 30 days: estado_servicios tells that CUIT's points of sale (and
no other workspace's), an ended one stops facturación there, and the log says it at start."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from encola.api.provisioning import PdvSpec, provision
from encola.api.servicios import Servicios
from encola.certificates import expiry
from encola.engine.afip_health import HealthRecorder
from store_helpers import CUIT, make_pdv

OTHER_CUIT = "20111111112"


def certificate(cuit: str, not_after: datetime) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "prueba"),
                      x509.NameAttribute(NameOID.SERIAL_NUMBER, f"CUIT {cuit}")])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - timedelta(days=730)).not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def now_of(store) -> datetime:
    return store.clock.now().replace(tzinfo=timezone.utc)


def servicios(store) -> Servicios:
    return Servicios(store, store.clock, None, HealthRecorder(store))  # no AFIP: never probes


@pytest.mark.anyio
async def test_a_certificate_ending_within_30_days_is_news_for_its_cuit_only(store):
    seller = make_pdv(store)
    provision(store, PdvSpec(cuit=OTHER_CUIT, punto_venta=1, condicion_iva="RI", razon_social="Otra SA"))
    assert store.save_credentials(CUIT, *certificate(CUIT, now_of(store) + timedelta(days=10, hours=1)), only_if_missing=False)
    assert store.save_credentials(OTHER_CUIT, *certificate(OTHER_CUIT, now_of(store) + timedelta(days=45)), only_if_missing=False)

    answer = await servicios(store).alertas(seller.pdv, {})
    assert answer["rta"] == "OK" and answer["error"] == "N" and answer["facturacion"] == "OK"
    assert answer["novedades"].startswith("10/03/2025 | El certificado de AFIP del CUIT 30712345671 vence el 20/03/2025 (en 10 dias)")

    other_pdv = dataclasses.replace(seller.pdv, cuit=OTHER_CUIT)  # another workspace's point of sale
    assert (await servicios(store).alertas(other_pdv, {}))["novedades"] == ""  # 45 days: nothing yet, and never CUIT's news


@pytest.mark.anyio
async def test_an_ended_certificate_stops_facturacion_in_estado_servicios(store):
    seller = make_pdv(store)
    store.save_credentials(CUIT, *certificate(CUIT, now_of(store) - timedelta(hours=1)), only_if_missing=False)
    answer = await servicios(store).alertas(seller.pdv, {})
    assert answer["error"] == "S" and answer["rta"] == "ERROR"
    assert "vencio el 10/03/2025" in answer["facturacion"] and answer["novedades"].startswith("10/03/2025 | ")


def test_the_log_names_every_expiring_certificate_and_no_other(store, caplog):
    make_pdv(store)
    provision(store, PdvSpec(cuit=OTHER_CUIT, punto_venta=1, condicion_iva="RI", razon_social="Otra SA"))
    store.save_credentials(CUIT, *certificate(CUIT, now_of(store) + timedelta(days=29)), only_if_missing=False)
    store.save_credentials(OTHER_CUIT, *certificate(OTHER_CUIT, now_of(store) + timedelta(days=31)), only_if_missing=False)
    with caplog.at_level(logging.WARNING, logger="encola.certificates"):
        found = expiry.log_expiring(store, store.clock.now())
    assert [item.cuit for item in found] == [CUIT]
    lines = [r.getMessage() for r in caplog.records if r.name == "encola.certificates"]
    assert len(lines) == 1 and CUIT in lines[0] and OTHER_CUIT not in lines[0]
    assert "BEGIN" not in caplog.text  # never a certificate or key in the log
