"""The console's actions as operators use them: a real `encola serve` (with `encola afip-sim`),
operators made with the CLI, logged in through the login form, forms posted over HTTP. Each
action is checked for its effect (hooks received, the API's consultas, the database), its audit
entry, its refusal without the CSRF token, and that another workspace's operator gets 404 and
changes nothing."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from console_session import ConsoleSession, create_operator
from encola.afip import generate_test_certificate
from encola.clock import Clock
from support import HTTP, EncolaProcess, SimulatorProcess, WebhookReceiver, factura_b, open_store_of_processes, wait_until, wire

TODAY = Clock().today()
FUTURE = TODAY + timedelta(days=30)
CUIT_A = "30712345674"  # workspace A, with points of sale 1 and 2
CUIT_A2 = "30712345682"  # workspace A too: its certificate is uploaded here (no invoices)
CUIT_B = "20123456786"  # workspace B
FACTURA_B = 6


@pytest.fixture(scope="module")
def simulator(tmp_path_factory, backend):
    sim = SimulatorProcess(tmp_path_factory.mktemp("sim") / "ledger.db").start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def receivers(backend):
    made = {name: WebhookReceiver(token=f"token-{name}-12345") for name in ("a", "a_new", "b")}
    yield made
    for receiver in made.values():
        receiver.stop()


@pytest.fixture(scope="module")
def server(database_url, simulator, receivers):
    process = EncolaProcess(database_url, extra_env={"ENCOLA_AFIP_URL": simulator.base, "ENCOLA_AFIP_TIMEOUT": "3s"})
    process.keys = {
        "a": process.provision(CUIT_A, 1, receivers["a"].url, token=receivers["a"].token),
        "a2": process.provision(CUIT_A, 2, receivers["a"].url, token=receivers["a"].token),
        "b": process.provision(CUIT_B, 2, receivers["b"].url, token=receivers["b"].token),
    }
    process.cli("pdv", "create", "--cuit", CUIT_A2, "--punto-venta", "1", "--condicion-iva", "RI",
                "--razon-social", "Empresa A2", "--workspace", CUIT_A)
    process.passwords = {
        "a": create_operator(process, "ana@a.example", "--workspace", CUIT_A),
        "b": create_operator(process, "beto@b.example", "--workspace", CUIT_B),
    }
    process.start()
    process.store = open_store_of_processes(database_url)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def ana(server):
    session = ConsoleSession(server.base, "ana@a.example", server.passwords["a"])
    yield session
    session.close()


@pytest.fixture(scope="module")
def beto(server):
    session = ConsoleSession(server.base, "beto@b.example", server.passwords["b"])
    yield session
    session.close()


def keys(server, name: str) -> dict:
    return {k: server.keys[name][k] for k in ("usertoken", "apikey", "apitoken")}


def pdv_id(server, cuit: str, punto_venta: int) -> int:
    with server.store.reading() as connection:
        return server.store.pdv(connection, cuit=cuit, punto_venta=punto_venta).id


POINTS_OF_SALE = {"a": (CUIT_A, 1), "a2": (CUIT_A, 2), "b": (CUIT_B, 2)}


def enqueue(server, reference: str, fecha=FUTURE, name: str = "a") -> int:
    """A FACTURA B through the API; its invoice id."""
    cuit, punto_venta = POINTS_OF_SALE[name]
    answer = server.post("facturacion/nuevo_encola",
                         factura_b(keys(server, name), reference=reference, fecha=fecha, punto_venta=punto_venta))
    assert answer.json()["error"] == "N", answer.json()
    return invoice(server, reference, punto_venta=punto_venta, cuit=cuit).id


def invoice(server, reference: str, *, punto_venta: int = 1, cuit: str = CUIT_A):
    with server.store.reading() as connection:
        rows = server.store.by_external_reference(connection, pdv_id(server, cuit, punto_venta), reference)
    return rows[-1]


def invoice_by_id(server, invoice_id: int):
    return server.store.invoice(invoice_id)


def audit(server) -> list:
    return server.store.audit_entries(None, limit=1000)


def audit_page_has(session: ConsoleSession, *texts: str) -> bool:
    page = session.get("/console/auditoria").text
    return all(text in page for text in texts)


# --- one invoice ------------------------------------------------------------------------------


def test_cambiar_fecha_moves_the_invoice_sends_its_hook_and_is_audited(server, ana, beto, receivers):
    invoice_id = enqueue(server, "fecha-1")
    new_day = FUTURE + timedelta(days=3)
    before = len(audit(server))

    refused = beto.post(f"/console/comprobantes/{invoice_id}/cambiar-fecha", {"fecha": new_day.isoformat()})
    assert refused.status_code == 404
    assert invoice_by_id(server, invoice_id).fecha == FUTURE and len(audit(server)) == before

    no_csrf = ana.post(f"/console/comprobantes/{invoice_id}/cambiar-fecha", {"fecha": new_day.isoformat()}, csrf=False)
    assert no_csrf.status_code == 403
    assert invoice_by_id(server, invoice_id).fecha == FUTURE and len(audit(server)) == before

    done = ana.post(f"/console/comprobantes/{invoice_id}/cambiar-fecha", {"fecha": new_day.isoformat()})
    assert done.status_code == 200, done.text
    assert invoice_by_id(server, invoice_id).fecha == new_day
    receivers["a"].wait_for("fecha-1", "cambio_fecha")
    entry = audit(server)[0]
    assert (entry.operator_email, entry.action, entry.target) == ("ana@a.example", "cambiar_fecha", f"invoice {invoice_id}")
    assert entry.details["fecha"] == wire(new_day)
    assert audit_page_has(ana, "Cambiar fecha", "ana@a.example", f"comprobante {invoice_id}")
    assert not audit_page_has(beto, f"comprobante {invoice_id}")


def test_cambiar_fecha_keeps_the_apis_date_rule(server, ana):
    invoice_id = enqueue(server, "fecha-2")
    before = len(audit(server))
    too_old = ana.post(f"/console/comprobantes/{invoice_id}/cambiar-fecha", {"fecha": wire(TODAY - timedelta(days=60))})
    assert too_old.status_code == 400 and "TFC-2018" in too_old.text
    garbage = ana.post(f"/console/comprobantes/{invoice_id}/cambiar-fecha", {"fecha": "31/02/2026"})
    assert garbage.status_code == 400
    assert invoice_by_id(server, invoice_id).fecha == FUTURE and len(audit(server)) == before


def test_eliminar_deletes_a_queued_invoice_once_and_only_for_its_workspace(server, ana, beto, receivers):
    invoice_id = enqueue(server, "borrar-1")
    before = len(audit(server))
    assert beto.post(f"/console/comprobantes/{invoice_id}/eliminar").status_code == 404
    assert ana.post(f"/console/comprobantes/{invoice_id}/eliminar", csrf=False).status_code == 403
    assert invoice_by_id(server, invoice_id).state == "queued" and len(audit(server)) == before

    assert ana.post(f"/console/comprobantes/{invoice_id}/eliminar").status_code == 200
    assert invoice_by_id(server, invoice_id).state == "deleted"
    receivers["a"].wait_for("borrar-1", "eliminado")
    assert audit(server)[0].action == "eliminar"
    again = ana.post(f"/console/comprobantes/{invoice_id}/eliminar")
    assert again.status_code == 400 and len(audit(server)) == before + 1


def test_reenviar_queues_an_afip_rejection_again_and_it_is_emitted(server, simulator, ana, beto, receivers):
    simulator.faults(reject_next=1)
    invoice_id = enqueue(server, "rechazo-1", fecha=TODAY, name="a2")
    receivers["a"].wait_for("rechazo-1", "error", timeout=30)
    before = len(audit(server))

    assert beto.post(f"/console/comprobantes/{invoice_id}/reenviar").status_code == 404
    assert ana.post(f"/console/comprobantes/{invoice_id}/reenviar", csrf=False).status_code == 403
    assert invoice_by_id(server, invoice_id).state == "error" and len(audit(server)) == before

    assert ana.post(f"/console/comprobantes/{invoice_id}/reenviar").status_code == 200
    receivers["a"].wait_for("rechazo-1", "emitido", timeout=30)
    assert audit(server)[0].action == "reenviar"
    emitted = ana.post(f"/console/comprobantes/{invoice_id}/reenviar")
    assert emitted.status_code == 400 and "TFC-7007" in emitted.text


def test_an_invoice_id_that_is_not_a_number_is_not_found(ana):
    assert ana.post("/console/comprobantes/1e3/eliminar").status_code == 404
    assert ana.post("/console/comprobantes/99999999/eliminar").status_code == 404


# --- deliveries -------------------------------------------------------------------------------


def test_a_delivered_hook_is_sent_again_with_the_same_hook_id(server, ana, beto, receivers):
    invoice_id = enqueue(server, "otra-vez-1")
    first = receivers["a"].wait_for("otra-vez-1", "encolado")[0]
    hook_id = first.body["hook_id"]
    before = len(audit(server))
    assert beto.post(f"/console/envios/{hook_id}/reenviar").status_code == 404
    assert ana.post(f"/console/envios/{hook_id}/reenviar", csrf=False).status_code == 403
    assert len(audit(server)) == before

    done = ana.post(f"/console/envios/{hook_id}/reenviar", {"comprobante": str(invoice_id)})
    assert done.status_code == 200 and f"/console/comprobantes/{invoice_id}" in done.text
    again = receivers["a"].wait_for("otra-vez-1", "encolado", count=2)
    assert again[1].body["hook_id"] == hook_id
    entry = audit(server)[0]
    assert entry.action == "reenviar_hook" and entry.details["hook_id"] == hook_id
    page = ana.get(f"/console/comprobantes/{invoice_id}").text
    assert f"/console/envios/{hook_id}/reenviar" in page


def test_a_test_hook_goes_to_the_point_of_sales_url(server, ana, beto, receivers):
    target = pdv_id(server, CUIT_A, 1)
    seen = len(receivers["a"].hooks)
    before = len(audit(server))
    assert beto.post(f"/console/puntos-de-venta/{target}/webhook/prueba").status_code == 404
    assert ana.post(f"/console/puntos-de-venta/{target}/webhook/prueba", csrf=False).status_code == 403
    assert len(audit(server)) == before
    assert ana.post(f"/console/puntos-de-venta/{target}/webhook/prueba").status_code == 200
    hook = wait_until(lambda: next((h for h in receivers["a"].hooks[seen:] if h.body.get("evento") == "test"), None),
                      timeout=10, message="the test hook")
    assert audit(server)[0].details["hook_id"] == hook.body["hook_id"]
    assert not [h for h in receivers["a"].hooks[seen:] if h.body.get("evento") == "test" and h is not hook]


def test_failed_hooks_since_a_date_are_queued_again(server, ana, beto):
    target = pdv_id(server, CUIT_A, 1)
    before = len(audit(server))
    assert beto.post(f"/console/puntos-de-venta/{target}/reenviar-fallidos", {"tipo": "hook", "desde": wire(TODAY)}).status_code == 404
    assert ana.post(f"/console/puntos-de-venta/{target}/reenviar-fallidos", {"tipo": "hook", "desde": wire(TODAY)},
                    csrf=False).status_code == 403
    bad = ana.post(f"/console/puntos-de-venta/{target}/reenviar-fallidos", {"tipo": "hook", "desde": "ayer"})
    assert bad.status_code == 400 and len(audit(server)) == before
    done = ana.post(f"/console/puntos-de-venta/{target}/reenviar-fallidos", {"tipo": "mail", "desde": wire(TODAY)})
    assert done.status_code == 200 and "0 envíos fallidos" in done.text
    assert audit(server)[0].action == "reenviar_mails_fallidos"


# --- points of sale -----------------------------------------------------------------------------


def test_the_webhook_url_and_token_change_and_the_next_hook_goes_there(server, ana, beto, receivers):
    target = pdv_id(server, CUIT_A, 2)
    new = receivers["a_new"]
    before = len(audit(server))
    assert beto.post(f"/console/puntos-de-venta/{target}/webhook", {"url": new.url, "token": new.token}).status_code == 404
    assert ana.post(f"/console/puntos-de-venta/{target}/webhook", {"url": new.url, "token": new.token}, csrf=False).status_code == 403
    bad = ana.post(f"/console/puntos-de-venta/{target}/webhook", {"url": "ftp://example.com/x", "token": new.token})
    assert bad.status_code == 400 and "TFC-5005" in bad.text
    short = ana.post(f"/console/puntos-de-venta/{target}/webhook", {"url": new.url, "token": "corto"})
    assert short.status_code == 400
    with server.store.reading() as connection:
        assert server.store.pdv(connection, cuit=CUIT_A, punto_venta=2).webhook_url == receivers["a"].url
    assert len(audit(server)) == before

    assert ana.post(f"/console/puntos-de-venta/{target}/webhook", {"url": new.url, "token": new.token}).status_code == 200
    ana.post(f"/console/puntos-de-venta/{target}/webhook/prueba")
    hook = wait_until(lambda: next((h for h in new.hooks if h.body.get("evento") == "test"), None), timeout=10, message="hook")
    assert hook.headers["TF-WebhookToken"] == new.token
    entry = next(e for e in audit(server) if e.action == "cambiar_webhook")
    assert entry.details == {"url_anterior": receivers["a"].url, "url": new.url, "token_cambiado": True}
    assert new.token not in str(audit(server))  # the token is a secret: never in the log


def test_a_paused_lane_is_not_emitted_until_it_is_resumed(server, ana, beto, receivers):
    target = pdv_id(server, CUIT_A, 1)
    before = len(audit(server))
    assert beto.post(f"/console/puntos-de-venta/{target}/carriles/pausar", {"cbte_tipo": "6"}).status_code == 404
    assert ana.post(f"/console/puntos-de-venta/{target}/carriles/pausar", {"cbte_tipo": "6"}, csrf=False).status_code == 403
    assert ana.post(f"/console/puntos-de-venta/{target}/carriles/pausar", {"cbte_tipo": "999"}).status_code == 400
    assert len(audit(server)) == before

    assert ana.post(f"/console/puntos-de-venta/{target}/carriles/pausar", {"cbte_tipo": "6"}).status_code == 200
    invoice_id = enqueue(server, "pausa-1", fecha=TODAY)
    receivers["a"].wait_for("pausa-1", "encolado")
    time.sleep(3)  # the engine ticks many times a second: long enough to see it leave the lane alone
    assert invoice_by_id(server, invoice_id).state == "queued"
    page = ana.get("/console/puntos-de-venta").text
    assert "pausado" in page

    assert beto.post(f"/console/puntos-de-venta/{target}/carriles/reanudar", {"cbte_tipo": "6"}).status_code == 404
    assert ana.post(f"/console/puntos-de-venta/{target}/carriles/reanudar", {"cbte_tipo": "6"}, csrf=False).status_code == 403
    time.sleep(1)
    assert invoice_by_id(server, invoice_id).state == "queued"  # still paused after both refusals
    assert ana.post(f"/console/puntos-de-venta/{target}/carriles/reanudar", {"cbte_tipo": "6"}).status_code == 200
    receivers["a"].wait_for("pausa-1", "emitido", timeout=30)
    actions = [e.action for e in audit(server)[:2]]
    assert actions == ["reanudar_carril", "pausar_carril"]


def test_a_certificate_and_key_are_checked_kept_and_their_expiry_shown(server, ana, beto):
    cert, key = generate_test_certificate(CUIT_A2, "Empresa A2", valid_days=400)
    other_cert, _ = generate_test_certificate(CUIT_A2, "Empresa A2", valid_days=400)
    wrong_cuit, wrong_key = generate_test_certificate(CUIT_B, "Empresa B", valid_days=400)
    files = {"certificado": ("cert.pem", cert), "clave": ("key.pem", key)}
    before = len(audit(server))
    kept = {cuit: server.store.certificate_of(cuit) for cuit in (CUIT_A2, CUIT_B)}  # the simulator's, if any
    assert beto.post(f"/console/cuits/{CUIT_A2}/certificado", files=files).status_code == 404
    assert ana.post(f"/console/cuits/{CUIT_A2}/certificado", files=files, csrf=False).status_code == 403
    mismatched = ana.post(f"/console/cuits/{CUIT_A2}/certificado", files={"certificado": ("c", other_cert), "clave": ("k", key)})
    assert mismatched.status_code == 400 and "no corresponde a esta clave privada" in mismatched.text
    other = ana.post(f"/console/cuits/{CUIT_A2}/certificado", files={"certificado": ("c", wrong_cuit), "clave": ("k", wrong_key)})
    assert other.status_code == 400 and f"es del CUIT {CUIT_B}, no del {CUIT_A2}" in other.text
    assert ana.post(f"/console/cuits/{CUIT_B}/certificado",
                    files={"certificado": ("c", wrong_cuit), "clave": ("k", wrong_key)}).status_code == 404
    assert {cuit: server.store.certificate_of(cuit) for cuit in kept} == kept
    assert len(audit(server)) == before

    done = ana.post(f"/console/cuits/{CUIT_A2}/certificado", files=files)
    assert done.status_code == 200, done.text
    expiry = re.search(r"vence el (\d\d/\d\d/\d{4})", done.text).group(1)
    assert expiry == wire(TODAY + timedelta(days=400)) or expiry == wire(TODAY + timedelta(days=399))
    assert server.store.credentials_of(CUIT_A2) == (cert.decode(), key.decode())
    with server.store.reading() as connection:
        from sqlalchemy import select

        from encola.store.schema import cuits

        sealed = connection.execute(select(cuits.c.key_pem).where(cuits.c.cuit == CUIT_A2)).scalar()
    assert "PRIVATE KEY" not in sealed  # kept sealed, as `encola pdv cert` keeps it
    entry = audit(server)[0]
    assert entry.action == "subir_certificado" and entry.details["vence"] == expiry
    assert "PRIVATE KEY" not in str(entry.details)
    assert expiry in ana.get("/console/puntos-de-venta").text


def test_rotated_api_credentials_are_shown_once_and_the_old_ones_stop_working(server, ana, beto):
    target = pdv_id(server, CUIT_B, 2)
    old = keys(server, "b")
    consulta = {"busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": "nada"}}
    assert ana.post(f"/console/puntos-de-venta/{target}/credenciales").status_code == 404  # B's, not A's
    assert beto.post(f"/console/puntos-de-venta/{target}/credenciales", csrf=False).status_code == 403
    assert server.post("facturacion/consulta_avanzada", {**old, **consulta}).json()["error"] == "N"

    done = beto.post(f"/console/puntos-de-venta/{target}/credenciales")
    assert done.status_code == 200
    shown = dict(re.findall(r"<dt>(usertoken|apikey|apitoken)</dt><dd><code>([^<]+)</code>", done.text))
    assert shown["apikey"] == old["apikey"] and shown["usertoken"] != old["usertoken"]
    assert server.post("facturacion/consulta_avanzada", {**shown, **consulta}).json()["error"] == "N"
    assert "TFC-1005" in str(server.post("facturacion/consulta_avanzada", {**old, **consulta}).json())
    assert shown["apitoken"] not in beto.get("/console/puntos-de-venta").text  # never shown again
    entry = audit(server)[0]
    assert (entry.operator_email, entry.action) == ("beto@b.example", "rotar_credenciales")
    assert shown["usertoken"] not in str(entry.details) and shown["apitoken"] not in str(entry.details)


# --- pages -------------------------------------------------------------------------------------


def test_each_operator_sees_only_their_workspaces_points_of_sale_and_audit(server, ana, beto):
    mine, theirs = ana.get("/console/puntos-de-venta").text, beto.get("/console/puntos-de-venta").text
    assert CUIT_A in mine and CUIT_A2 in mine and CUIT_B not in mine
    assert CUIT_B in theirs and CUIT_A not in theirs
    workspace_a = server.store.audit_entries(None, limit=1000)
    assert any(e.operator_email == "ana@a.example" for e in workspace_a)
    assert "ana@a.example" not in beto.get("/console/auditoria").text
    a_workspace = next(e.workspace_id for e in workspace_a if e.operator_email == "ana@a.example")
    # Asking for another workspace's entries by id shows nothing of it.
    assert "ana@a.example" not in beto.get("/console/auditoria", espacio=str(a_workspace)).text
    assert server.store.audit_entries(frozenset({a_workspace + 1000})) == []


def test_actions_need_a_session(server):
    answer = HTTP.post(f"{server.base}/console/puntos-de-venta/1/credenciales", data={"csrf_token": "x"})
    assert answer.status_code == 401
    assert HTTP.get(f"{server.base}/console/auditoria").status_code == 303

