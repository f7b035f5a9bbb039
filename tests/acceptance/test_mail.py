"""The buyer's e-mail: after the ``emitido``, one message to all of ``cliente.email``, the A4 attached.

Real ``encola serve`` processes (embedded simulator) on both databases, and a real SMTP server on
127.0.0.1 (aiosmtpd, encola/mail/sink.py) that is stopped and started again on the same port.
"""

from __future__ import annotations

import json
import time

import pytest

from encola.clock import Clock
from encola.mail.sink import MailSink
from support import RENDER_PROCESSES, EncolaProcess, WebhookReceiver, factura_b, open_store_of_processes, pdf_text, wait_until

pytestmark = pytest.mark.postgres

TODAY = Clock().today()
SELLER_CUIT = "30712345671"
OTHER_CUIT = "20222222223"
RAZON_SOCIAL = "Ñandú & Hijos S.A."
REPLY_TO = "ventas@nandu.example.com"
BUYERS = "compras@cliente.example.com, Pagos@Cliente.example.com"


@pytest.fixture(scope="module")
def receiver(database_url):
    made = WebhookReceiver()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def sink(database_url):
    made = MailSink().start()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def server(database_url, receiver, sink, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mail")
    process = EncolaProcess(database_url, extra_env={**RENDER_PROCESSES,
        "ENCOLA_AFIP_SIM_LEDGER": str(folder / "sim.db"),
        "ENCOLA_SMTP_URL": sink.url,
        "ENCOLA_MAIL_FROM": "Ñandú Facturas <facturas@nandu.example.com>",
        "ENCOLA_MAIL_RETRY_SCHEDULE": "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s",
        "ENCOLA_MAIL_TIMEOUT": "5s",
    })
    process.seller = provision(process, receiver, SELLER_CUIT, 10, RAZON_SOCIAL, "--mail-reply-to", REPLY_TO)
    process.other = provision(process, receiver, OTHER_CUIT, 3, "Otra Empresa SRL")
    process.start()
    yield process
    process.stop()


def provision(server, receiver, cuit: str, punto_venta: int, razon_social: str, *flags: str) -> dict:
    keys = json.loads(server.cli("pdv", "create", "--cuit", cuit, "--punto-venta", str(punto_venta),
                                 "--condicion-iva", "RI", "--razon-social", razon_social, "--webhook", receiver.url,
                                 "--webhook-token", receiver.token, *flags))
    keys["punto_venta"], keys["cuit"] = punto_venta, cuit
    return keys


def credentials(keys: dict) -> dict:
    return {name: keys[name] for name in ("usertoken", "apikey", "apitoken")}


def send(server, keys: dict, reference: str, *, envia: str = "S", email: str = BUYERS) -> dict:
    body = factura_b(credentials(keys), reference=reference, fecha=TODAY, punto_venta=keys["punto_venta"])
    body["cliente"].update(envia_por_mail=envia, email=email)
    answer = server.post("facturacion/nuevo_encola", body).json()
    assert answer["error"] == "N", answer
    return answer


def comprobante(server, keys: dict, reference: str) -> dict:
    answer = server.post(
        "facturacion/consulta_avanzada",
        {**credentials(keys), "busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": reference}},
    ).json()
    assert answer["error"] == "N", answer
    return answer["comprobantes"][0]["comprobante"]


def mails_for(sink: MailSink, reference_numero: str) -> list:
    return [m for m in sink.received() if reference_numero in str(m.message["Subject"])]


def mail_events(database_url: str, pdv_id: int | None = None) -> list:
    return [e for e in open_store_of_processes(database_url).events(pdv_id, limit=1000) if e.kind == "mail"]


def pdv_id(database_url: str, keys: dict) -> int:
    store = open_store_of_processes(database_url)
    return next(p.id for p in store.all_pdvs() if p.cuit == keys["cuit"] and p.punto_venta == keys["punto_venta"])


@pytest.fixture(scope="module")
def mailed(server, receiver, sink) -> dict:
    """An invoice that asks for the mail, emitted and mailed: (its consulta, the message)."""
    answer = send(server, server.seller, "mail-1")
    receiver.wait_for("mail-1", "emitido", timeout=30)
    found = wait_until(lambda: (c := comprobante(server, server.seller, "mail-1"))["envio_x_mail"] == "S" and c,
                       timeout=30, message="envio_x_mail S")
    [message] = wait_until(lambda: mails_for(sink, found["comprobante_nro"]), timeout=10, message="the mail")
    return {"answer": answer, "comprobante": found, "mail": message}


def test_the_intake_answer_keeps_its_shape(mailed):
    answer = mailed["answer"]
    assert (answer["envio_x_mail"], answer["envio_x_mail_direcciones"]) == ("N", "")


def test_one_message_goes_to_all_the_addresses(mailed, sink):
    message = mailed["mail"]
    assert sorted(message.recipients) == ["Pagos@cliente.example.com", "compras@cliente.example.com"]
    assert message.sender == "facturas@nandu.example.com"
    assert len(mails_for(sink, mailed["comprobante"]["comprobante_nro"])) == 1
    headers = message.message
    assert "compras@cliente.example.com" in headers["To"] and "Pagos@cliente.example.com" in headers["To"]
    assert headers["From"].addresses[0].display_name == "Ñandú Facturas"
    assert str(headers["Reply-To"]) == REPLY_TO


def test_the_subject_is_spanish_and_names_the_comprobante_and_the_issuer(mailed):
    subject = str(mailed["mail"].message["Subject"])
    numero = mailed["comprobante"]["comprobante_nro"]
    assert f"FACTURA B N° {numero}" in subject
    assert RAZON_SOCIAL in subject
    assert subject.startswith("[SIN VALIDEZ FISCAL]")  # the embedded simulator's CAE


def test_the_body_has_text_and_html_and_the_pdf_of_that_invoice(mailed):
    message = mailed["mail"].message
    found = mailed["comprobante"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert found["comprobante_nro"] in body and found["cae"].strip() in body
        assert "SIN VALIDEZ FISCAL" in body
    assert "Adjuntamos el comprobante" in text
    assert found["micrositios"]["cliente"] in text  # the buyer's page
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == found["comprobante_pdf_url"].rsplit("/", 1)[1]
    pdf = attachment.get_content()
    assert pdf.startswith(b"%PDF-")
    printed = pdf_text(pdf)
    assert found["cae"].strip() in printed and RAZON_SOCIAL in printed


def test_consultas_show_the_addresses_it_went_to(mailed):
    found = mailed["comprobante"]
    assert found["envio_x_mail"] == "S"
    assert found["envio_x_mail_direcciones"] == "compras@cliente.example.com,Pagos@cliente.example.com"


def test_consulta_simple_shows_it_too(server, mailed):
    answer = server.post("facturacion/consulta", {**credentials(server.seller), "comprobante": {
        "tipo": "FACTURA B", "punto_venta": 10, "numero": mailed["comprobante"]["numero"]}}).json()
    assert answer["comprobante"]["envio_x_mail"] == "S"


def test_every_attempt_is_recorded_with_the_server_never_a_password(server, database_url, mailed, sink):
    events = [e for e in mail_events(database_url) if e.external_reference == "mail-1"]
    assert [e.state for e in events] == ["delivered"]
    [attempt] = open_store_of_processes(database_url).attempts_of(events[0].hook_id)
    assert attempt["url"] == sink.url and attempt["status_code"] == 250 and attempt["error"] is None


def test_envia_por_mail_n_sends_nothing(server, receiver, sink, database_url):
    send(server, server.seller, "mail-no", envia="N")
    receiver.wait_for("mail-no", "emitido", timeout=30)
    found = comprobante(server, server.seller, "mail-no")
    time.sleep(1)
    assert mails_for(sink, found["comprobante_nro"]) == []
    assert (found["envio_x_mail"], found["envio_x_mail_direcciones"]) == ("N", "")
    assert not [e for e in mail_events(database_url) if e.external_reference == "mail-no"]


def test_smtp_down_delays_only_the_mail_which_goes_out_once_it_is_back(server, receiver, sink, database_url):
    sink.stop()
    try:
        send(server, server.seller, "mail-down")
        receiver.wait_for("mail-down", "emitido", timeout=30)  # hooks are not held back
        [event] = wait_until(
            lambda: [e for e in mail_events(database_url) if e.external_reference == "mail-down" and e.attempts >= 2],
            timeout=30, message="two failed attempts",
        )
        found = comprobante(server, server.seller, "mail-down")
        assert found["status"] == "EMITIDO" and found["envio_x_mail"] == "N"
        attempts = open_store_of_processes(database_url).attempts_of(event.hook_id)
        assert all(a["error"] and a["url"] == sink.url for a in attempts)
    finally:
        sink.start()
    found = wait_until(lambda: (c := comprobante(server, server.seller, "mail-down"))["envio_x_mail"] == "S" and c,
                       timeout=30, message="mailed once SMTP is back")
    assert len(mails_for(sink, found["comprobante_nro"])) == 1
    [event] = [e for e in mail_events(database_url) if e.external_reference == "mail-down"]
    attempts = open_store_of_processes(database_url).attempts_of(event.hook_id)
    assert attempts[-1]["error"] is None and all(a["error"] for a in attempts[:-1]) and len(attempts) >= 3


def test_a_refusing_server_is_retried(server, receiver, sink):
    sink.refuse = True
    try:
        send(server, server.seller, "mail-451")
        receiver.wait_for("mail-451", "emitido", timeout=30)
        time.sleep(1.5)
        assert comprobante(server, server.seller, "mail-451")["envio_x_mail"] == "N"
    finally:
        sink.refuse = False
    wait_until(lambda: comprobante(server, server.seller, "mail-451")["envio_x_mail"] == "S", timeout=30,
               message="mailed once the server accepts")


def test_one_point_of_sale_never_sees_anothers_mail_state(server, receiver, sink, database_url):
    send(server, server.seller, "mail-shared")
    send(server, server.other, "mail-shared", envia="N")
    receiver.wait_for("mail-shared", "emitido", timeout=30, count=2)
    wait_until(lambda: comprobante(server, server.seller, "mail-shared")["envio_x_mail"] == "S", timeout=30,
               message="the seller's mail")
    other = comprobante(server, server.other, "mail-shared")
    assert (other["envio_x_mail"], other["envio_x_mail_direcciones"]) == ("N", "")
    assert not [e for e in mail_events(database_url, pdv_id(database_url, server.other))]


def test_mail_redeliver_queues_failed_mails_again(server, database_url):
    out = json.loads(server.cli("mail", "redeliver", "--since", TODAY.strftime("%d/%m/%Y")))
    assert out == {"reenviados": 0}  # nothing failed for good here


def test_without_smtp_invoices_are_accepted_mail_is_off_and_the_server_says_so(backend, databases, receiver, tmp_path):
    database_url = databases.new(backend)  # its own: the module's server would emit (and mail) here too
    process = EncolaProcess(database_url, extra_env={**RENDER_PROCESSES, "ENCOLA_AFIP_SIM_LEDGER": str(tmp_path / "sim.db"),
                                                      "ENCOLA_SMTP_URL": ""})
    keys = provision(process, receiver, "20333333334", 7, "Sin Correo SA")
    process.start()
    try:
        send(process, keys, "mail-off")
        receiver.wait_for("mail-off", "emitido", timeout=30)
        found = comprobante(process, keys, "mail-off")
        assert (found["status"], found["envio_x_mail"], found["envio_x_mail_direcciones"]) == ("EMITIDO", "N", "")
        assert not [e for e in mail_events(database_url) if e.external_reference == "mail-off"]
    finally:
        process.stop()
    stderr = process.process.stderr.read().decode()
    assert stderr.count("Mail to buyers is off") == 1, stderr
