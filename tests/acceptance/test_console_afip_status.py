"""Estado de AFIP as operators see it: a real `encola serve` emitting through `encola afip-sim`,
then the page's calls per service, health, WSAA tickets and certificates (one expiring soon
highlighted), each operator seeing only their workspaces' CUITs."""

from __future__ import annotations

import re

import pytest

from console_session import ConsoleSession, create_operator
from encola.afip import generate_test_certificate
from encola.clock import Clock
from support import HTTP, EncolaProcess, SimulatorProcess, WebhookReceiver, factura_b, open_store_of_processes

TODAY = Clock().today()
CUIT_A = "30712345674"
CUIT_A2 = "30712345682"  # workspace A: a certificate 10 days from expiry
CUIT_B = "20123456786"


@pytest.fixture(scope="module")
def simulator(tmp_path_factory, backend):
    sim = SimulatorProcess(tmp_path_factory.mktemp("sim") / "ledger.db").start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def receiver(backend):
    hooks = WebhookReceiver()
    yield hooks
    hooks.stop()


@pytest.fixture(scope="module")
def server(database_url, simulator, receiver, tmp_path_factory):
    process = EncolaProcess(database_url, extra_env={"ENCOLA_AFIP_URL": simulator.base})
    made = process.provision(CUIT_A, 1, receiver.url, token=receiver.token)
    process.keys = {k: made[k] for k in ("usertoken", "apikey", "apitoken")}
    process.provision(CUIT_B, 1, receiver.url, token=receiver.token)
    process.cli("pdv", "create", "--cuit", CUIT_A2, "--punto-venta", "1", "--condicion-iva", "RI",
                "--razon-social", "Empresa A2", "--workspace", CUIT_A)
    cert, key = generate_test_certificate(CUIT_A2, "Empresa A2", valid_days=10)
    folder = tmp_path_factory.mktemp("cert")
    (folder / "c.pem").write_bytes(cert)
    (folder / "k.pem").write_bytes(key)
    process.cli("pdv", "cert", "--cuit", CUIT_A2, "--cert", str(folder / "c.pem"), "--key", str(folder / "k.pem"))
    process.passwords = {
        "a": create_operator(process, "ana@a.example", "--workspace", CUIT_A),
        "b": create_operator(process, "beto@b.example", "--workspace", CUIT_B),
    }
    process.start()
    process.store = open_store_of_processes(database_url)
    for n in range(3):
        body = factura_b(process.keys, reference=f"afip-{n}", fecha=TODAY, punto_venta=1)
        assert process.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    for n in range(3):
        receiver.wait_for(f"afip-{n}", "emitido", timeout=30)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def pages(server):
    sessions = {name: ConsoleSession(server.base, email, server.passwords[name])
                for name, email in (("a", "ana@a.example"), ("b", "beto@b.example"))}
    yield {name: session.get("/console/afip").text for name, session in sessions.items()}
    for session in sessions.values():
        session.close()


def section(page: str, title: str) -> str:
    """The HTML from a section's heading to the next one."""
    start = page.index(f"<h2>{title}")
    following = page.find("<h2>", start + 4)
    return page[start:following if following != -1 else None]


def test_recent_calls_per_service_show_counts_outcomes_and_latencies(server, pages):
    calls = section(pages["a"], "Llamadas recientes")
    row = re.search(r"<tr><td>FECAESolicitar</td><td class=\"num\">(\d+)</td>(.*?)</tr>", calls, re.S)
    assert row is not None, calls
    assert int(row.group(1)) >= 1
    assert "accepted: 3" in row.group(2)
    assert re.search(r"\d+ ms", row.group(2))


def test_wsaa_tickets_and_health_are_shown_for_the_operators_cuits_only(server, pages):
    tickets = section(pages["a"], "Tickets de WSAA")
    assert CUIT_A in tickets and "wsfe" in tickets
    assert f"CUIT {CUIT_A}" in section(pages["a"], "Salud")
    assert CUIT_A not in pages["b"] and CUIT_A2 not in pages["b"]


def test_a_certificate_within_30_days_of_expiry_is_highlighted(server, pages):
    certificates = section(pages["a"], "Certificados")
    soon = re.search(rf'<tr class="mal vence-pronto"><td>{CUIT_A2}</td>', certificates)
    assert soon is not None, certificates
    assert "vence en menos de 30 días" in certificates
    healthy = re.search(rf'<tr class=""><td>{CUIT_A}</td><td>[\d/]+</td>', certificates)
    assert healthy is not None, certificates  # the simulator's certificate: not expiring
    assert CUIT_A2 not in section(pages["b"], "Certificados")


def test_the_live_fragment_and_the_windows_answer(server):
    session = ConsoleSession(server.base, "ana@a.example", server.passwords["a"])
    try:
        fragment = session.get("/console/afip/tabla", ventana="24h")
        assert fragment.status_code == 200 and "<html" not in fragment.text and "FECAESolicitar" in fragment.text
        assert session.get("/console/afip", ventana="nada").status_code == 200
    finally:
        session.close()
    assert HTTP.get(f"{server.base}/console/afip", follow_redirects=False).status_code == 303
