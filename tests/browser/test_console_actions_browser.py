"""An action from the Puntos de venta page in a real browser (Debian's chromium through Playwright)
against a real ``encola serve``: a lane paused and resumed by clicking, each click in the audit
log with the operator, and the AFIP status page rendered, all without console errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from encola.clock import Clock
from console_helpers import create_operator
from support import EncolaProcess, WebhookReceiver, factura_b

CUIT = "30733333331"
EMAIL = "acciones@example.com"


@pytest.fixture(scope="module")
def receiver():
    made = WebhookReceiver()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def server(database_url, receiver):
    process = EncolaProcess(database_url)
    keys = process.provision(CUIT, 3, receiver.url, token=receiver.token)
    process.password = create_operator(process, EMAIL, CUIT)
    process.start()
    body = factura_b(keys, reference="CARRIL-1", fecha=Clock().today() + timedelta(days=5), punto_venta=3)
    assert process.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    yield process
    process.stop()


def test_pausing_and_resuming_a_lane_by_clicking_leaves_both_in_the_audit_log(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-AR")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server.base + "/console/login")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password]", server.password)
        page.click("button[type=submit]")
        page.wait_for_url(server.base + "/console/")

        page.click("header nav >> text=Puntos de venta")
        page.select_option("select[name=cbte_tipo]", "6")
        page.click("form:has(select[name=cbte_tipo]) button[type=submit]")
        assert "Carril 30733333331/00003/006 pausado." in page.inner_text("main")
        page.click("text=Volver")
        lane = page.locator("tr.carril[data-tipo='6']")
        assert "pausado" in lane.inner_text()
        lane.locator("button", has_text="Reanudar").click()
        assert "activo" in page.inner_text("main")

        page.click("header nav >> text=Auditoría")
        rows = page.locator("table.auditoria tbody tr")
        assert rows.count() == 2
        assert "Reanudar carril" in rows.nth(0).inner_text() and EMAIL in rows.nth(0).inner_text()
        assert "Pausar carril" in rows.nth(1).inner_text()

        page.click("header nav >> text=AFIP")
        assert page.inner_text("h1") == "Estado de AFIP" and CUIT in page.inner_text("table.certificados")
        assert errors == []
    finally:
        context.close()
