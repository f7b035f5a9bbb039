"""Re-sending a buyer's e-mail from the console: a real `encola serve` (embedded simulator) mailing
through a real SMTP server on 127.0.0.1 (encola/mail/sink.py); the same message goes again, the
audit log says who asked, another workspace's operator gets 404 and nothing is sent."""

from __future__ import annotations

import time

import pytest

from console_session import ConsoleSession, create_operator
from encola.clock import Clock
from encola.mail.sink import MailSink
from support import EncolaProcess, WebhookReceiver, factura_b, open_store_of_processes, wait_until

TODAY = Clock().today()
CUIT_A, CUIT_B = "30712345674", "20123456786"


@pytest.fixture(scope="module")
def receiver(backend):
    made = WebhookReceiver()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def sink(backend):
    made = MailSink().start()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def server(database_url, receiver, sink):
    process = EncolaProcess(database_url, extra_env={"ENCOLA_SMTP_URL": sink.url, "ENCOLA_MAIL_FROM": "facturas@a.example.com"})
    made = process.provision(CUIT_A, 1, receiver.url, token=receiver.token)
    process.keys = {k: made[k] for k in ("usertoken", "apikey", "apitoken")}
    process.provision(CUIT_B, 1, receiver.url, token=receiver.token)
    process.passwords = {"a": create_operator(process, "ana@a.example", "--workspace", CUIT_A),
                         "b": create_operator(process, "beto@b.example", "--workspace", CUIT_B)}
    process.start()
    process.store = open_store_of_processes(database_url)
    yield process
    process.stop()


def test_a_sent_mail_is_sent_again_on_request_of_its_workspaces_operator_only(server, receiver, sink):
    body = factura_b(server.keys, reference="mail-1", fecha=TODAY, punto_venta=1)
    body["cliente"].update(envia_por_mail="S", email="compras@cliente.example.com")
    assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    receiver.wait_for("mail-1", "emitido", timeout=30)
    wait_until(lambda: len(sink.received()) == 1, timeout=30, message="the first mail")
    def mail_event():
        return next(e for e in server.store.events(None, limit=100) if e.kind == "mail")

    event = wait_until(lambda: (found := mail_event()).state == "delivered" and found, timeout=10, message="delivered")

    ana = ConsoleSession(server.base, "ana@a.example", server.passwords["a"])
    beto = ConsoleSession(server.base, "beto@b.example", server.passwords["b"])
    try:
        assert beto.post(f"/console/envios/{event.hook_id}/reenviar").status_code == 404
        assert ana.post(f"/console/envios/{event.hook_id}/reenviar", csrf=False).status_code == 403
        time.sleep(1)
        assert len(sink.received()) == 1 and server.store.audit_entries(None) == []

        assert ana.post(f"/console/envios/{event.hook_id}/reenviar", {"comprobante": str(event.invoice_id)}).status_code == 200
        wait_until(lambda: len(sink.received()) == 2, timeout=30, message="the mail sent again")
        first, second = sink.received()
        assert first.message["Subject"] == second.message["Subject"]
        assert second.recipients == ["compras@cliente.example.com"]
        (entry,) = server.store.audit_entries(None)
        assert (entry.operator_email, entry.action, entry.details["hook_id"]) == ("ana@a.example", "reenviar_mail", event.hook_id)
        assert "Reenviar e-mail" in ana.get("/console/auditoria").text
        assert "ana@a.example" not in beto.get("/console/auditoria").text
    finally:
        ana.close()
        beto.close()
