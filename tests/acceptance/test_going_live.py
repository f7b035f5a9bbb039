"""docs/going-live.md followed as a new user would, against a real ``encola afip-sim`` in its
strict (default) WSAA mode: ``encola cert new`` -> the CSR signed by the simulator's WSASS ->
``encola pdv create --cert --key`` -> ``encola afip check`` -> the first invoice emitted with
that certificate. And what a user gets wrong: a key that is not the certificate's, another
CUIT's certificate, a certificate the simulator never signed."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.x509.oid import NameOID

from encola.afip import generate_test_certificate
from support import HTTP, ENCOLA, EncolaProcess, factura_b

CUIT = "20123456786"
OTHER_CUIT = "30712345671"
TODAY = datetime.now(timezone(timedelta(hours=-3))).date()


def encola(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ENCOLA, *args], env=env, capture_output=True, text=True, timeout=120)


def test_from_a_new_cuit_to_the_first_invoice(backend, databases, simulator, receiver, tmp_path):
    server = EncolaProcess(databases.new(backend), extra_env={"ENCOLA_AFIP_URL": simulator.base})
    env = server.env
    certs = tmp_path / "certs"

    # 1. The key and the CSR AFIP expects.
    made = encola(env, "cert", "new", "--cuit", CUIT, "--razon-social", "Empresa de Prueba SA", "--alias", "encola-prueba",
                  "--out", str(certs))
    assert made.returncode == 0, made.stderr
    key, csr_file = certs / "encola-prueba.key", certs / "encola-prueba.csr"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    csr = x509.load_pem_x509_csr(csr_file.read_bytes())
    subject = {a.oid: a.value for a in csr.subject}
    assert subject == {NameOID.COUNTRY_NAME: "AR", NameOID.ORGANIZATION_NAME: "Empresa de Prueba SA",
                       NameOID.COMMON_NAME: "encola-prueba", NameOID.SERIAL_NUMBER: f"CUIT {CUIT}"}
    assert csr.is_signature_valid and csr.public_key().key_size == 2048
    assert "WSASS" in made.stdout and "Administración de Certificados Digitales" in made.stdout
    again = encola(env, "cert", "new", "--cuit", CUIT, "--razon-social", "Otra", "--alias", "encola-prueba", "--out", str(certs))
    assert again.returncode != 0 and "not overwriting" in again.stderr  # a key is never overwritten

    # 2. The simulator's WSASS signs it (AFIP's does the same for homologación).
    signed = HTTP.post(simulator.base + "/_sim/wsass", content=csr_file.read_bytes(), timeout=10)
    assert signed.status_code == 200
    crt = certs / "encola-prueba.crt"
    crt.write_bytes(signed.content)

    # 3. A wrong pair is refused before anything is stored.
    wrong_key = tmp_path / "otra.key"
    wrong_key.write_bytes(generate_test_certificate(int(CUIT), "otra")[1])
    refused = encola(env, "pdv", "create", "--cuit", CUIT, "--punto-venta", "4", "--condicion-iva", "RI",
                     "--razon-social", "Empresa de Prueba SA", "--cert", str(crt), "--key", str(wrong_key))
    assert refused.returncode != 0 and "does not belong to this private key" in refused.stderr
    assert encola(env, "pdv", "list").stdout.strip() == ""
    other = encola(env, "pdv", "create", "--cuit", OTHER_CUIT, "--punto-venta", "4", "--condicion-iva", "RI",
                   "--razon-social", "Otra SA", "--cert", str(crt), "--key", str(key))
    assert other.returncode != 0 and f"is for CUIT {CUIT}, not {OTHER_CUIT}" in other.stderr

    # 4. The point of sale with the certificate; its expiry is shown.
    created = encola(env, "pdv", "create", "--cuit", CUIT, "--punto-venta", "4", "--condicion-iva", "RI",
                     "--razon-social", "Empresa de Prueba SA", "--webhook", receiver.url, "--webhook-token", receiver.token,
                     "--cert", str(crt), "--key", str(key))
    assert created.returncode == 0, created.stderr
    assert "CN=encola-prueba" in created.stderr and "valid until" in created.stderr
    import json

    server.keys = json.loads(created.stdout.splitlines()[-1])

    # 5. encola afip check: every step OK; a second run reuses the ticket (no coe.alreadyAuthenticated).
    check = encola(env, "afip", "check", "--cuit", CUIT)
    assert check.returncode == 0, check.stdout + check.stderr
    for step in ("FEDummy", "certificate", "WSAA login", "FECompTotXRequest", "puntos de venta", "last numbers PV 4"):
        assert any(line.startswith("  OK") and step in line for line in check.stdout.splitlines()), (step, check.stdout)
    assert "new ticket" in check.stdout and "FACTURA B 0" in check.stdout
    assert "reused the stored ticket" in encola(env, "afip", "check", "--cuit", CUIT).stdout

    # 6. The first invoice, signed in with that certificate.
    server.start()
    try:
        answer = server.post("facturacion/nuevo_encola",
                             factura_b(server.keys, reference="primera", fecha=TODAY, punto_venta=4))
        assert answer.json()["error"] == "N", answer.json()
        receiver.wait_for("primera", "emitido", timeout=30)
    finally:
        server.stop(signal.SIGTERM)
    assert [(c["cuit"], c["pto_vta"], c["numero"]) for c in simulator.comprobantes()] == [(int(CUIT), 4, 1)]
    last = encola(env, "afip", "check", "--cuit", CUIT)
    assert "FACTURA B 1" in last.stdout, last.stdout


def test_afip_check_fails_clearly_with_a_certificate_the_simulator_never_signed(backend, databases, simulator, tmp_path):
    env = {**os.environ, **EncolaProcess(databases.new(backend), extra_env={"ENCOLA_AFIP_URL": simulator.base}).env}
    cert_pem, key_pem = generate_test_certificate(int(CUIT), "hecho en casa")
    (tmp_path / "c.crt").write_bytes(cert_pem)
    (tmp_path / "c.key").write_bytes(key_pem)
    assert encola(env, "pdv", "create", "--cuit", CUIT, "--punto-venta", "2", "--condicion-iva", "M",
                  "--razon-social", "Casa", "--cert", str(tmp_path / "c.crt"), "--key", str(tmp_path / "c.key")).returncode == 0
    check = encola(env, "afip", "check", "--cuit", CUIT)
    assert check.returncode == 1
    assert "FAIL  WSAA login" in check.stdout and "cms.cert.untrusted" in check.stdout
    assert "homologación certificate (WSASS) works only in homologación" in check.stdout
    assert "result: FAILED" in check.stdout
    nobody = encola(env, "afip", "check", "--cuit", OTHER_CUIT)  # no workspace holds it
    assert nobody.returncode == 1 and "no certificate for CUIT" in nobody.stdout


def test_without_a_certificate_the_simulator_signs_one_at_pdv_create(backend, databases, simulator):
    """What works today keeps working with no extra step, now that the simulator is strict."""
    env = EncolaProcess(databases.new(backend), extra_env={"ENCOLA_AFIP_URL": simulator.base}).env
    created = encola(env, "pdv", "create", "--cuit", CUIT, "--punto-venta", "5", "--condicion-iva", "RI",
                     "--razon-social", "Sin Certificado SA")
    assert created.returncode == 0, created.stderr
    assert f"CUIT {CUIT}: certificate signed by the simulator at {simulator.base}" in created.stderr
    check = encola(env, "afip", "check", "--cuit", CUIT)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "issued by CN=Computadores Simulador" in check.stdout


def test_the_embedded_simulator_signs_one_too(tmp_path):
    """Nothing set (make demo's case): the embedded simulator's CA beside its ledger signs it, and
    the simulator that `serve` or `afip check` embeds trusts it."""
    env = {**os.environ, "ENCOLA_DATABASE_URL": f"sqlite:///{tmp_path / 'encola.db'}",
           "ENCOLA_AFIP_SIM_LEDGER": str(tmp_path / "afip-sim.db")}
    for name in ("ENCOLA_AFIP_URL", "ENCOLA_AFIP_ENV"):
        env.pop(name, None)
    created = encola(env, "pdv", "create", "--cuit", CUIT, "--punto-venta", "1", "--condicion-iva", "M",
                     "--razon-social", "Demo SA")
    assert created.returncode == 0, created.stderr
    assert "certificate signed by the embedded simulator" in created.stderr
    assert oct((tmp_path / "afip-sim.db.ca.pem").stat().st_mode & 0o777) == "0o600"
    check = encola(env, "afip", "check", "--cuit", CUIT)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "against the embedded simulator" in check.stdout and "FACTURA C 0" in check.stdout
