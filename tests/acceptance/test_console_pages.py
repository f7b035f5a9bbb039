"""The console's pages over real data: Cola, Comprobantes (filters, keyset paging), Comprobante
(AFIP attempts, CAE, document links, hooks with status codes and timings), and what each
operator may see: an operator of workspace A never sees workspace B's points of sale, lanes or
invoices (404), an operator with --all sees both. Real ``encola serve`` with the embedded AFIP
simulator and a real webhook receiver; both databases."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from encola.clock import Clock
from console_helpers import ConsoleClient, create_operator
from support import HTTP, EncolaProcess, WebhookReceiver, factura_b, open_store_of_processes

pytestmark = pytest.mark.postgres

CUIT_A, CUIT_B = "30711111119", "20222222223"
TODAY = Clock().today()  # Argentina's date, as the server's: UTC's is a day ahead from 21:00
LATER = TODAY + timedelta(days=3)
QUEUED_A = 30  # future-dated, so they wait in the queue (more than a page of 25)


@pytest.fixture(scope="module")
def receiver():
    made = WebhookReceiver()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def server(database_url, receiver):
    process = EncolaProcess(database_url)
    process.keys_a = process.provision(CUIT_A, 3, receiver.url, token=receiver.token)
    process.keys_b = process.provision(CUIT_B, 7, receiver.url, token=receiver.token)
    process.password_a = create_operator(process, "a@example.com", CUIT_A)
    process.password_b = create_operator(process, "b@example.com", CUIT_B)
    process.password_all = create_operator(process, "root@example.com", all_workspaces=True)
    process.start()
    for i in range(QUEUED_A):
        body = factura_b(process.keys_a, reference=f"A-FUT-{i:03d}", fecha=LATER, punto_venta=3)
        body["cliente"]["documento_nro"] = "30111222" if i == 7 else "12345678"
        assert process.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    for reference, keys, pv in (("A-HOY", process.keys_a, 3), ("B-HOY", process.keys_b, 7)):
        assert process.post("facturacion/nuevo_encola", factura_b(keys, reference=reference, fecha=TODAY, punto_venta=pv)).json()["error"] == "N"
    receiver.wait_for("A-HOY", "emitido", timeout=30)
    receiver.wait_for("B-HOY", "emitido", timeout=30)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def operator_a(server):
    client = ConsoleClient(server.base).logged_in("a@example.com", server.password_a)
    yield client
    client.close()


@pytest.fixture(scope="module")
def operator_b(server):
    client = ConsoleClient(server.base).logged_in("b@example.com", server.password_b)
    yield client
    client.close()


@pytest.fixture(scope="module")
def operator_all(server):
    client = ConsoleClient(server.base).logged_in("root@example.com", server.password_all)
    yield client
    client.close()


def invoice_id(database_url: str, reference: str) -> int:
    store = open_store_of_processes(database_url)
    with store.reading() as connection:
        from sqlalchemy import select

        from encola.store.schema import invoices

        return connection.execute(select(invoices.c.id).where(invoices.c.external_reference == reference)).scalar_one()


def ids_on(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'href="/console/comprobantes/(\d+)"', html)]


def test_the_queue_shows_the_operators_lanes_with_counts_and_nothing_of_other_workspaces(operator_a):
    page = operator_a.get("/console/")
    assert page.status_code == 200
    assert CUIT_A in page.text and CUIT_B not in page.text
    fragment = operator_a.get("/console/cola/tabla")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert CUIT_B not in fragment.text
    row = re.search(r"<tr>\s*<td>30711111119</td>(.*?)</tr>", fragment.text, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[0] == "3" and cells[1] == "FACTURA B"
    assert re.sub(r"<[^>]+>", "", cells[2]) == str(QUEUED_A)  # en cola
    assert cells[3] == "0"  # none due today: they are for LATER
    assert cells[6] == "1"  # emitted today: A-HOY
    assert cells[8] == LATER.strftime("%d/%m/%Y")  # next emission


def test_the_operator_with_all_workspaces_sees_both(operator_all):
    page = operator_all.get("/console/cola/tabla").text
    assert CUIT_A in page and CUIT_B in page


def test_search_pages_by_keyset_through_every_invoice_once(operator_a):
    seen: list[int] = []
    url = "/console/comprobantes?por_pagina=25"
    while url:
        page = operator_a.get(url)
        assert page.status_code == 200
        seen += ids_on(page.text)
        found = re.search(r'<a rel="next" href="([^"]+)"', page.text)
        url = found.group(1).replace("&amp;", "&") if found else None
        assert url is None or "antes=" in url and "offset" not in url
    assert len(seen) == QUEUED_A + 1 == len(set(seen))
    assert seen == sorted(seen, reverse=True)


def test_search_filters_by_state_reference_document_tipo_and_dates(operator_a, database_url):
    emitted = operator_a.get("/console/comprobantes?estado=emitted").text
    assert ids_on(emitted) == [invoice_id(database_url, "A-HOY")]
    by_reference = operator_a.get("/console/comprobantes?referencia=A-FUT-004").text
    assert ids_on(by_reference) == [invoice_id(database_url, "A-FUT-004")]
    by_document = operator_a.get("/console/comprobantes?documento=30111222").text
    assert ids_on(by_document) == [invoice_id(database_url, "A-FUT-007")]
    assert ids_on(operator_a.get("/console/comprobantes?tipo=1").text) == []  # no FACTURA A
    assert len(ids_on(operator_a.get("/console/comprobantes?tipo=6&por_pagina=100").text)) == QUEUED_A + 1
    today_only = operator_a.get(f"/console/comprobantes?desde={TODAY.isoformat()}&hasta={TODAY.strftime('%d/%m/%Y')}").text
    assert ids_on(today_only) == [invoice_id(database_url, "A-HOY")]


def test_bad_filters_are_explained_and_ignored_never_an_error(operator_a):
    page = operator_a.get("/console/comprobantes", params={"estado": "x", "desde": "31/02/2026", "tipo": "abc",
                                                            "antes": "-1", "documento": "<script>", "pdv": "999999"})
    assert page.status_code == 200
    for message in ("Estado desconocido", "no es una fecha", "número positivo", "El documento debe", "Punto de venta desconocido"):
        assert message in page.text
    assert "<script>" not in page.text


def test_another_workspaces_points_of_sale_never_appear_in_filters_or_results(operator_a, operator_b, server, database_url):
    page_a = operator_a.get("/console/comprobantes").text
    assert CUIT_B not in page_a and "B-HOY" not in page_a
    pdv_b = re.search(r'<option value="(\d+)">20222222223 · 7</option>', operator_b.get("/console/comprobantes").text).group(1)
    forced = operator_a.get(f"/console/comprobantes?pdv={pdv_b}").text
    assert "B-HOY" not in forced and "Punto de venta desconocido" in forced
    assert operator_a.get("/console/comprobantes?referencia=B-HOY").text.count("/console/comprobantes/") == 0


def test_an_invoice_of_another_workspace_is_not_found(operator_a, operator_b, database_url):
    b_invoice = invoice_id(database_url, "B-HOY")
    assert operator_a.get(f"/console/comprobantes/{b_invoice}").status_code == 404
    assert operator_b.get(f"/console/comprobantes/{b_invoice}").status_code == 200
    assert operator_a.get("/console/comprobantes/99999999").status_code == 404
    assert operator_a.get("/console/comprobantes/abc").status_code == 404


def test_an_emitted_invoice_shows_its_request_cae_documents_afip_attempts_and_hooks(operator_a, database_url, receiver):
    # the hook is delivered; its attempt row is written just after the receiver answers
    number = invoice_id(database_url, "A-HOY")
    deadline = time.monotonic() + 10
    while True:
        page = operator_a.get(f"/console/comprobantes/{number}")
        if "<td>200</td>" in page.text or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    text = page.text
    assert page.status_code == 200
    store = open_store_of_processes(database_url)
    row = store.console_invoice([store_row_pdv(store, number)], number)
    assert row.cae and row.cae in text
    assert "A-HOY" in text and "Consumidor Final" in text  # the request as received
    assert "Hook «emitido»" in text and "<td>200</td>" in text and " ms</td>" in text
    pdf = re.search(r'href="([^"]+\.pdf)"', text).group(1)
    assert HTTP.get(pdf, timeout=30).content.startswith(b"%PDF")  # the buyer's public link works
    assert "Intentos ante AFIP" in text
    if hasattr(store, "afip_attempts_for_invoice") and store.afip_attempts_for_invoice(number):
        assert "FECAESolicitar" in text
    else:
        assert "Sin intentos registrados." in text


def test_a_queued_invoice_has_no_documents_yet_and_no_deliveries(operator_a, database_url):
    page = operator_a.get(f"/console/comprobantes/{invoice_id(database_url, 'A-FUT-001')}").text
    assert "Los documentos existen cuando el comprobante está emitido." in page
    assert "Sin hooks ni e-mails." in page or "Hook «encolado»" in page


def store_row_pdv(store, invoice: int) -> int:
    from sqlalchemy import select

    from encola.store.schema import invoices

    with store.reading() as connection:
        return connection.execute(select(invoices.c.pdv_id).where(invoices.c.id == invoice)).scalar_one()
