"""Secrets at rest: AFIP private keys, webhook tokens and signing secrets are sealed in the database.

Real ``encola`` commands on a SQLite file, whose bytes are then searched for the key material; and
an old database (migration 0003) whose clear keys are moved to their CUIT and sealed on opening.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import select, text

from encola.afip import generate_test_certificate
from encola.runtime import open_store
from encola.secretbox import PREFIX, SecretKeyError
from encola.settings import Settings
from encola.store.db import MIGRATIONS, make_engine
from encola.store.schema import cuits, pdvs

import pytest

from support import open_store_of_processes

ENCOLA = [sys.executable, "-m", "encola.cli"]
CUIT = "30712345671"


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ENCOLA, *args], env=env, capture_output=True, text=True, timeout=60)


def database_bytes(folder) -> bytes:
    """The database file and its WAL, as anyone who copies them would read them."""
    return b"".join(path.read_bytes() for path in folder.iterdir() if path.name.startswith("encola.db"))


def test_key_material_never_reaches_the_database_file(tmp_path):
    env = {**os.environ, "ENCOLA_DATABASE_URL": f"sqlite:///{tmp_path / 'encola.db'}", "ENCOLA_WEBHOOK_ALLOW_PRIVATE": "1"}
    env.pop("ENCOLA_SECRET_KEY", None)
    env.pop("ENCOLA_SECRET_KEY_FILE", None)
    cert_pem, key_pem = generate_test_certificate(int(CUIT), "secretos")
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    created = run(env, "pdv", "create", "--cuit", CUIT, "--punto-venta", "10", "--condicion-iva", "RI",
                  "--razon-social", "Secretos SA", "--webhook", "http://127.0.0.1:9/hook",
                  "--webhook-token", "token-muy-secreto-123", "--cert", str(tmp_path / "cert.pem"),
                  "--key", str(tmp_path / "key.pem"))
    assert created.returncode == 0, created.stderr
    # First run of the embedded default: a key file beside the database, and a loud warning.
    assert (tmp_path / "encola-secret.key").exists()
    assert "BACK IT UP" in created.stderr
    assert oct((tmp_path / "encola-secret.key").stat().st_mode & 0o777) == "0o600"
    printed = json.loads(created.stdout)
    stored = database_bytes(tmp_path)
    key_body = b"".join(key_pem.splitlines()[1:-1])
    for secret in (b"PRIVATE KEY", key_pem.splitlines()[1], key_body[:40], b"token-muy-secreto-123",
                   printed["webhook_secret"].encode(), printed["webhook_secret"][6:].encode()):
        assert secret not in stored
    # The certificate is public and stays readable; the key opens with the key file.
    store = open_store(Settings(database_url=env["ENCOLA_DATABASE_URL"]))
    assert store.credentials_of(CUIT) == (cert_pem.decode(), key_pem.decode())


def test_a_process_with_another_key_refuses_to_start(tmp_path):
    from cryptography.fernet import Fernet

    url = f"sqlite:///{tmp_path / 'encola.db'}"
    env = {**os.environ, "ENCOLA_DATABASE_URL": url, "ENCOLA_SECRET_KEY": Fernet.generate_key().decode()}
    assert run(env, "pdv", "create", "--cuit", CUIT, "--punto-venta", "1", "--condicion-iva", "RI",
               "--razon-social", "Uno SA").returncode == 0
    other = run({**env, "ENCOLA_SECRET_KEY": Fernet.generate_key().decode()}, "pdv", "list")
    assert other.returncode != 0
    assert "not the key this database was written with" in other.stderr
    # Rotation: the new key first, the old one still listed, and everything still opens.
    rotated = run({**env, "ENCOLA_SECRET_KEY": Fernet.generate_key().decode() + "," + env["ENCOLA_SECRET_KEY"]}, "pdv", "list")
    assert rotated.returncode == 0, rotated.stderr


@pytest.mark.postgres
def test_an_old_database_moves_certificates_to_their_cuit_and_seals_them(backend, databases):
    url = databases.new(backend)
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        connection.commit()
    cert_pem, key_pem = generate_test_certificate(int(CUIT), "vieja")
    now = datetime(2026, 1, 1)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO workspaces (id, nombre, activo, created_at) VALUES (1, 'Vieja', true, :now)"), {"now": now}
        )
        for pdv_id, punto_venta in ((1, 1), (2, 2)):
            connection.execute(
                text(
                    "INSERT INTO pdvs (id, workspace_id, cuit, punto_venta, razon_social, condicion_iva, conceptos, "
                    "webhook_url, webhook_token, apikey, usertoken_hash, apitoken_hash, activo, cert_pem, key_pem, "
                    "created_at, updated_at) VALUES (:id, 1, :cuit, :pv, 'Vieja SA', 'RI', 'P', NULL, "
                    "'token-en-claro-1', :apikey, 'x', 'y', true, :cert, :key, :now, :now)"
                ),
                dict(id=pdv_id, cuit=CUIT, pv=punto_venta, apikey=str(1000000000 + pdv_id), cert=cert_pem.decode(),
                     key=key_pem.decode(), now=now),
            )
    engine.dispose()
    store = open_store_of_processes(url)
    with store.reading() as connection:
        rows = connection.execute(select(cuits)).all()
        tokens = connection.execute(select(pdvs.c.webhook_token, pdvs.c.webhook_secret)).all()
    assert [(row.cuit, row.workspace_id) for row in rows] == [(CUIT, 1)]
    assert rows[0].key_pem.startswith(PREFIX) and rows[0].cert_pem == cert_pem.decode()
    assert all(token.startswith(PREFIX) and secret.startswith(PREFIX) for token, secret in tokens)
    assert store.credentials_of(CUIT) == (cert_pem.decode(), key_pem.decode())
    with store.reading() as connection:
        pdv = store.pdv(connection, cuit=CUIT, punto_venta=2)
    assert pdv.webhook_token == "token-en-claro-1" and pdv.webhook_secret.startswith("whsec_")


def test_the_secret_box_refuses_a_key_that_is_not_fernet():
    from encola.secretbox import SecretBox

    with pytest.raises(SecretKeyError):
        SecretBox([b"not-a-key"])
