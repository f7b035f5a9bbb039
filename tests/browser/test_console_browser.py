"""The console in a real browser (Debian's chromium through Playwright) against a real
``encola serve``: login, search, an action and its audit entry, a forged CSRF token refused, every
page rendered without console errors on a phone and a desktop screen, the queue updated live."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from encola.clock import Clock
from console_helpers import create_operator
from support import EncolaProcess, WebhookReceiver, factura_b

pytestmark = pytest.mark.postgres

CUIT_A, CUIT_B = "30711111119", "20222222223"
EMAIL = "operadora@example.com"
TODAY = Clock().today()  # Argentina's date, as the server's: UTC's is a day ahead from 21:00
LATER = TODAY + timedelta(days=4)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def receiver():
    made = WebhookReceiver()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def server(database_url, receiver):
    process = EncolaProcess(database_url)
    process.keys = process.provision(CUIT_A, 2, receiver.url, token=receiver.token)
    process.keys_b = process.provision(CUIT_B, 5, receiver.url, token=receiver.token)
    process.password = create_operator(process, EMAIL, CUIT_A)
    process.start()
    for i in range(5):
        body = factura_b(process.keys, reference=f"NAV-{i}", fecha=LATER, punto_venta=2)
        assert process.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    assert process.post("facturacion/nuevo_encola", factura_b(process.keys, reference="NAV-HOY", fecha=TODAY, punto_venta=2)).json()["error"] == "N"
    assert process.post("facturacion/nuevo_encola", factura_b(process.keys_b, reference="OTRO-B", fecha=LATER, punto_venta=5)).json()["error"] == "N"
    receiver.wait_for("NAV-HOY", "emitido", timeout=30)
    yield process
    process.stop()


class Watched:
    """A page whose console errors and uncaught exceptions are collected."""

    def __init__(self, context):
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))


@pytest.fixture
def context(browser):
    made = browser.new_context(viewport=DESKTOP, locale="es-AR")
    yield made
    made.close()


def log_in(watched: Watched, server) -> None:
    page = watched.page
    page.goto(server.base + "/console/")
    assert page.url.startswith(server.base + "/console/login")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit]")
    page.wait_for_url(server.base + "/console/")


def test_login_lands_on_the_queue_and_a_wrong_password_does_not(server, context):
    refused = Watched(context).page  # a 401 is logged by the browser as a failed load: not watched
    refused.goto(server.base + "/console/login")
    refused.fill("input[name=email]", EMAIL)
    refused.fill("input[name=password]", "equivocada")
    refused.click("button[type=submit]")
    assert "E-mail o contraseña incorrectos." in refused.inner_text("main")
    watched = Watched(context)
    page = watched.page
    log_in(watched, server)
    assert page.inner_text("h1") == "Cola"
    assert CUIT_A in page.inner_text("#cola") and CUIT_B not in page.content()
    assert watched.errors == []


def test_search_finds_an_invoice_and_opens_it(server, context):
    watched = Watched(context)
    log_in(watched, server)
    page = watched.page
    page.click("text=Comprobantes")
    page.fill("input[name=referencia]", "NAV-3")
    page.click("form.filtros button[type=submit]")
    rows = page.locator("#resultados tbody tr")
    assert rows.count() == 1 and "NAV-3" in rows.inner_text()
    rows.locator("a").first.click()
    assert re.fullmatch(r"Comprobante \d+ En cola", page.inner_text("h1"))
    assert "NAV-3" in page.inner_text("pre.json")
    assert watched.errors == []


def open_invoice(watched: Watched, server, reference: str) -> None:
    page = watched.page
    page.goto(f"{server.base}/console/comprobantes?referencia={reference}")
    page.locator("#resultados tbody tr a").first.click()
    page.wait_for_url(re.compile(r".*/console/comprobantes/\d+$"))


def test_an_action_changes_the_invoice_and_leaves_its_audit_entry(server, context):
    watched = Watched(context)
    log_in(watched, server)
    open_invoice(watched, server, "NAV-1")
    page = watched.page
    invoice_url = page.url
    new_date = TODAY + timedelta(days=6)
    page.fill("input[name=fecha]", new_date.isoformat())
    page.click("text=Cambiar fecha")
    page.wait_for_load_state()
    page.goto(invoice_url)
    assert new_date.strftime("%d/%m/%Y") in page.inner_text("dl.ficha")
    page.goto(server.base + "/console/auditoria")
    audit = page.inner_text("main")
    assert EMAIL in audit
    assert "cambiar_fecha" in audit.replace(" ", "_").lower()
    assert watched.errors == []


def test_a_form_with_a_forged_csrf_token_is_refused_and_changes_nothing(server, context):
    watched = Watched(context)
    log_in(watched, server)
    open_invoice(watched, server, "NAV-2")
    page = watched.page
    invoice_url = page.url
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(i => i.value = 'falsificado')")
    page.fill("input[name=fecha]", (TODAY + timedelta(days=9)).isoformat())
    with page.expect_response(lambda response: "cambiar-fecha" in response.url) as refused:
        page.click("text=Cambiar fecha")
    assert refused.value.status == 403
    assert "Solicitud rechazada" in page.inner_text("h1")
    page.goto(invoice_url)
    assert LATER.strftime("%d/%m/%Y") in page.inner_text("dl.ficha")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_page_renders_without_console_errors_and_fits_the_screen(server, browser, viewport, tmp_path):
    context = browser.new_context(viewport=viewport, locale="es-AR")
    try:
        watched = Watched(context)
        page = watched.page
        page.goto(server.base + "/console/login")
        page.screenshot(path=str(tmp_path / "login.png"))
        log_in(watched, server)
        paths = [link.get_attribute("href") for link in page.locator("header nav a").all()]
        assert {"/console/", "/console/comprobantes"} <= set(paths)
        open_invoice(watched, server, "NAV-HOY")
        paths.append(page.url.removeprefix(server.base))
        for path in paths:
            response = page.goto(server.base + path)
            assert response.status == 200, path
            name = (path.strip("/").replace("/", "_") or "cola") + ".png"
            shot = page.screenshot(path=str(tmp_path / name), full_page=True)
            assert len(shot) > 2000, path  # a rendered page, not a blank one
            assert page.locator("header .marca").is_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} is wider than the screen by {overflow}px"
        assert watched.errors == []
    finally:
        context.close()


def test_the_queue_updates_without_a_reload(server, context):
    watched = Watched(context)
    log_in(watched, server)
    page = watched.page
    page.evaluate("window.sinRecargar = true")
    before = page.inner_text("#cola")
    body = factura_b(server.keys, reference="EN-VIVO", fecha=LATER, punto_venta=2)
    assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    deadline = time.monotonic() + 15
    while page.inner_text("#cola") == before and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert page.inner_text("#cola") != before
    assert page.evaluate("window.sinRecargar") is True
    assert watched.errors == []
