"""The operator surfaces: the embedded simulator's controls are closed to anyone without the
operator token (the console, at /, has accounts of its own: tests/acceptance/test_console_*.py);
the standalone simulator, a test peer, stays open."""

from __future__ import annotations

import base64

import pytest

from support import HTTP, EncolaProcess, SimulatorProcess

TOKEN = "operador-token-de-prueba-0123456789"


def basic(password: str, user: str = "cualquiera") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture(scope="module")
def closed(database_url):
    """No ENCOLA_ADMIN_TOKEN, no ENCOLA_AFIP_SIM_CONTROLS, no ENCOLA_AFIP_ENV: the defaults."""
    process = EncolaProcess(database_url).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def operated(database_url, tmp_path_factory):
    process = EncolaProcess(database_url, extra_env={
        "ENCOLA_ADMIN_TOKEN": TOKEN, "ENCOLA_AFIP_SIM_CONTROLS": "1", "ENCOLA_AUTH_FAILURES_PER_ADDRESS": "50/minute",
        "ENCOLA_AFIP_SIM_LEDGER": str(tmp_path_factory.mktemp("sim") / "ledger.db"),
    }).start()
    yield process
    process.stop()


def test_the_root_leads_to_the_consoles_login_and_shows_nothing(closed):
    # The token dashboard gave way to the console (docs/console.md): operators log in there.
    page = HTTP.get(closed.base + "/")
    assert page.status_code == 303 and page.headers["location"] == "/console/"
    login = HTTP.get(closed.base + "/", follow_redirects=True)
    assert login.url.path == "/console/login"
    assert "30712345674" not in login.text and "<table" not in login.text


def test_without_controls_asked_for_the_embedded_simulator_is_not_mounted(closed):
    for path in ("/afip-sim/_sim/faults", "/afip-sim/_sim/comprobantes"):
        assert HTTP.get(closed.base + path).status_code == 404
    assert HTTP.post(closed.base + "/afip-sim/_sim/faults", json={"down": True}).status_code in (404, 405)


def test_the_operator_token_opens_no_console_page(operated):
    for headers in ({"Authorization": f"Bearer {TOKEN}"}, basic(TOKEN)):
        page = HTTP.get(operated.base + "/console/", headers=headers)
        assert page.status_code == 303 and page.headers["location"].startswith("/console/login")


def test_the_console_says_loudly_that_caes_are_simulated(operated):
    page = HTTP.get(operated.base + "/console/login")
    assert "Modo simulador: los CAE no son reales." in page.text


def test_the_embedded_simulator_controls_need_the_token_when_asked_for(operated):
    faults = operated.base + "/afip-sim/_sim/faults"
    assert HTTP.get(faults).status_code == 401
    assert HTTP.post(faults, json={"down": True}, headers=basic("wrong-token-wrong-token")).status_code == 401
    assert HTTP.get(operated.base + "/afip-sim/_sim/comprobantes").status_code == 401
    operator = {"Authorization": f"Bearer {TOKEN}"}
    assert HTTP.get(faults, headers=operator).json()["down"] is False  # the wrong POST changed nothing
    assert HTTP.get(operated.base + "/afip-sim/_sim/comprobantes", headers=operator).json() == []


def test_wrong_operator_tokens_count_as_failed_authentications(database_url):
    process = EncolaProcess(database_url, extra_env={
        "ENCOLA_ADMIN_TOKEN": TOKEN, "ENCOLA_AUTH_FAILURES_PER_ADDRESS": "5/minute", "ENCOLA_AFIP_SIM_CONTROLS": "1",
    }).start()
    faults = process.base + "/afip-sim/_sim/faults"
    try:
        statuses = [HTTP.get(faults, headers=basic(f"guess-number-{i:04d}")).status_code for i in range(8)]
        assert statuses == [401] * 5 + [429] * 3
        # Locked out: not even the right token is compared until the window ends.
        locked = HTTP.get(faults, headers={"Authorization": f"Bearer {TOKEN}"})
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    finally:
        process.stop()


def test_serve_warns_at_start_that_caes_are_simulated(database_url):
    process = EncolaProcess(database_url).start()
    process.stop()
    stderr = process.process.stderr.read().decode()
    assert "WARNING" in stderr and "CAEs are simulated: not valid for tax purposes" in stderr


def test_the_standalone_simulator_keeps_its_controls_open(tmp_path):
    simulator = SimulatorProcess(tmp_path / "ledger.db").start()
    try:
        assert HTTP.get(simulator.base + "/_sim/faults").status_code == 200
        assert simulator.faults(latency_ms=5)["latency_ms"] == 5
        assert simulator.comprobantes() == []
    finally:
        simulator.stop()
