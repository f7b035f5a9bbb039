"""ENCOLA_LOG_FORMAT=json: a real server's log, at DEBUG, while invoices are emitted and hooks
delivered, is one JSON object per line with timestamp, level and event, and holds none of the
point of sale's secrets nor the CUIT's private key."""

from __future__ import annotations

import json
import subprocess
import time

import httpx
import pytest

from encola.clock import Clock
from support import HTTP, ENCOLA, EncolaProcess, SimulatorProcess, WebhookReceiver, factura_b, open_store_of_processes

TODAY = Clock().today()
CUIT = "30712345671"


@pytest.fixture
def receiver():
    hooks = WebhookReceiver(fail_first=2)  # some failed attempts and retries get logged too
    yield hooks
    hooks.stop()


@pytest.fixture
def simulator(tmp_path):
    started = SimulatorProcess(tmp_path / "ledger.db", latency_ms=20).start()
    yield started
    started.stop()


def test_json_logs_carry_ids_and_never_secrets(databases, tmp_path, receiver, simulator):
    database = databases.new("sqlite")
    env = {"ENCOLA_AFIP_URL": simulator.base, "ENCOLA_LOG_FORMAT": "json", "ENCOLA_LOG_LEVEL": "DEBUG"}
    setup = EncolaProcess(database, extra_env=env)
    keys = setup.provision(CUIT, 1, receiver.url, token=receiver.token)
    log_path = tmp_path / "encola.log"
    with open(log_path, "wb") as log_file:
        server = subprocess.Popen([*ENCOLA, "serve", "--host", "127.0.0.1", "--port", str(setup.port)], env=setup.env,
                                  stdout=log_file, stderr=log_file, start_new_session=True)
        try:
            _wait_healthy(setup.base)
            credentials = {name: keys[name] for name in ("apikey", "apitoken", "usertoken")}
            for i in range(5):
                answer = setup.post("facturacion/nuevo_encola", factura_b(credentials, reference=f"log-{i}", fecha=TODAY, punto_venta=1))
                assert answer.json()["error"] == "N", answer.text
            setup.post("facturacion/nuevo_encola", {**credentials, "apitoken": "wrong-" + keys["apitoken"]})
            for i in range(5):
                receiver.wait_for(f"log-{i}", "emitido", timeout=30)
        finally:
            server.terminate()
            assert server.wait(timeout=30) == 0
    lines = log_path.read_text().splitlines()
    assert lines
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    for record in records:
        assert {"timestamp", "level", "event", "logger"} <= set(record)
    assert any(record.get("action") == "shutdown" for record in records)
    secrets = [keys[name] for name in ("apikey", "apitoken", "usertoken", "webhook_token", "webhook_secret")]
    held = open_store_of_processes(database).credentials_of(CUIT)
    if held is not None:  # the simulator signed a certificate for the CUIT: its key must not leak either
        secrets.append("".join(held[1].strip().splitlines()[1:-1])[:64])
    text = log_path.read_text()
    for secret in secrets:
        assert secret not in text


def _wait_healthy(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if HTTP.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("encola did not start")
