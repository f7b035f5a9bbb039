"""The queued invoicing API as a client sees it: a real `encola serve` process, real HTTP, a real
webhook receiver on 127.0.0.1, the docs' example requests and many malformed variants."""

from __future__ import annotations

from datetime import timedelta

import pytest

from encola.clock import Clock
from support import HTTP, EncolaProcess, WebhookReceiver, example, factura_b, wire

CUIT = "30712345674"  # valid check digit
OTHER_CUIT = "20111111112"
TODAY = Clock().today()
FUTURE = TODAY + timedelta(days=30)


@pytest.fixture(scope="module")
def receiver(backend):  # one per database pass, so hooks of one pass never leak into the other
    hooks = WebhookReceiver()
    yield hooks
    hooks.stop()


@pytest.fixture(scope="module")
def server(database_url, receiver):
    process = EncolaProcess(database_url)
    process.keys = process.provision(CUIT, 10, receiver.url, token=receiver.token)
    process.keys_c = process.provision(OTHER_CUIT, 3, receiver.url, condicion="M", token=receiver.token)
    process.keys_no_hook = process.provision(CUIT, 11, None)
    process.start()
    yield process
    process.stop()


def test_the_docs_factura_a_is_queued_with_the_seed_answer_and_an_encolado_hook(server, receiver):
    body = example("factura_a", server.keys, reference="doc-a-1", fecha=FUTURE, punto_venta=10)
    response = server.post("facturacion/nuevo_encola", body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    answer = response.json()
    assert answer["error"] == "N"
    assert answer["errores"] == [] and answer["error_details"] == []
    assert answer["comprobante_nro"] == "00010-00000000"
    assert answer["cae"] == " "
    assert answer["vencimiento_cae"] == "01/01/2000"
    assert answer["comprobante_tipo"] == "FACTURA A"
    assert answer["external_reference"] == "doc-a-1"
    assert answer["rta"] == "El comprobante  se ha guardado correctamente "
    hook = receiver.wait_for("doc-a-1", "encolado")[0]
    assert hook.body["recurso"] == "facturacion"
    assert hook.body["intento"] == 1 and hook.body["msg"] == []
    assert hook.headers["User-Agent"] == "TusFacturasAPP-webhook/1.0"
    assert hook.headers["TF-WebhookToken"] == receiver.token
    assert len(hook.body["creado"]) == 19 and hook.body["creado"][2] == "/"


def test_the_docs_factura_c_is_accepted_from_a_monotributista(server, receiver):
    body = example("factura_c", server.keys_c, reference="doc-c-1", fecha=FUTURE, punto_venta=3)
    assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    receiver.wait_for("doc-c-1", "encolado")


def test_an_invalid_external_reference_is_answered_and_notified_as_the_docs_show(server, receiver):
    body = example("factura_a", server.keys, reference="1%'703", fecha=FUTURE, punto_venta=10)
    answer = server.post("facturacion/nuevo_encola", body).json()
    assert answer["error"] == "S"
    assert answer["errores"] == [
        "La external reference enviada, posee caracteres no validos.",
        "Error al crear al cliente . No se podra generar el comprobante. Revise los datos enviados.",
    ]
    assert [d["code"] for d in answer["error_details"]] == ["TFC-8002", "TFC-6001"]
    assert answer["external_reference"] == "1%'703"
    hook = receiver.wait_for("1%'703", "error")[0]
    assert hook.body["msg"] == answer["errores"]


def test_a_missing_external_reference_is_answered_but_not_notified(server, receiver):
    body = example("factura_a", server.keys, reference="", fecha=FUTURE, punto_venta=10)
    answer = server.post("facturacion/nuevo_encola", body).json()
    assert answer["error"] == "S"
    assert answer["errores"][:2] == [
        "Cuando se envia un comprobante a la cola, debes enviar una referencia externa en el campo external_reference.",
        "La external reference enviada, posee caracteres no validos.",
    ]
    assert answer["external_reference"] == ""
    assert receiver.for_reference("") == []


def test_a_pdv_without_webhook_is_refused_at_once(server):
    body = example("factura_a", server.keys_no_hook, reference="sin-hook", fecha=FUTURE, punto_venta=11)
    answer = server.post("facturacion/nuevo_encola", body).json()
    assert answer["error"] == "S"
    assert "TFC-1012" in [d["code"] for d in answer["error_details"]]


def test_a_wrong_total_names_the_expected_total_so_clients_can_resend(server, receiver):
    body = factura_b(server.keys, reference="total-mal", fecha=FUTURE, punto_venta=10, total="125.00")
    answer = server.post("facturacion/nuevo_encola", body).json()
    assert answer["error"] == "S"
    assert any("sumatorias finales (121.00)" in text for text in answer["errores"])
    receiver.wait_for("total-mal", "error")
    body["comprobante"]["total"] = "121.00"
    assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"


def test_a_b_to_a_responsable_inscripto_gets_tfc_8004(server):
    body = factura_b(server.keys, reference="b-a-ri", fecha=FUTURE, punto_venta=10)
    body["cliente"].update(condicion_iva="RI", documento_tipo="CUIT", documento_nro="30712293841")
    answer = server.post("facturacion/nuevo_encola", body).json()
    assert {"code": "TFC-8004", "text": "Para la condicion de IVA seleccionada no se permite realizar comprobantes de tipo B."} in answer["error_details"]


def test_retrying_the_same_request_returns_the_original_answer_and_creates_nothing(server, receiver):
    body = factura_b(server.keys, reference="idem-1", fecha=FUTURE, punto_venta=10)
    first = server.post("facturacion/nuevo_encola", body).json()
    second = server.post("facturacion/nuevo_encola", body).json()
    assert first == second and first["error"] == "N"
    receiver.wait_for("idem-1", "encolado")
    found = server.post(
        "facturacion/consulta_avanzada",
        {**server.keys, "busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": "idem-1", "operacion": "V"}},
    ).json()
    assert found["total"] == 1
    assert len([h for h in receiver.for_reference("idem-1") if h.body["evento"] == "encolado"]) == 1


def test_a_different_invoice_under_a_live_reference_is_refused_until_the_first_is_deleted(server, receiver):
    body = factura_b(server.keys, reference="reuso-1", fecha=FUTURE, punto_venta=10)
    assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    other = factura_b(server.keys, reference="reuso-1", fecha=FUTURE, punto_venta=10, precio="200")
    refused = server.post("facturacion/nuevo_encola", other).json()
    assert [d["code"] for d in refused["error_details"]] == ["TFC-8010"]
    deleted = server.post("facturacion/eliminar_encolado", {**server.keys, "external_reference": "reuso-1", "fecha": wire(FUTURE)}).json()
    assert deleted["error"] == "N" and deleted["procesados_cant"] == 1
    assert deleted["procesados"] == ["El comprobante FACTURA B 00010-00000000 se ha eliminado correctamente. "]
    receiver.wait_for("reuso-1", "eliminado")
    assert server.post("facturacion/nuevo_encola", other).json()["error"] == "N"


@pytest.mark.parametrize(
    "raw, code",
    [
        (b"{not json", "TFC-1001"),
        (b"", "TFC-1001"),
        (b"[1, 2]", "TFC-1002"),
        (b'"texto"', "TFC-1002"),
        (b"\xff\xfe{}", "TFC-1003"),
        (b'{"usertoken": 1}', "TFC-1006"),
        (b'{"usertoken": "x", "apikey": "1", "apitoken": "y"}', "TFC-1005"),
        (b'{"a": NaN}', "TFC-1001"),
    ],
)
def test_malformed_bodies_get_an_envelope_never_a_500(server, raw, code):
    response = server.post("facturacion/nuevo_encola", None, raw=raw)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    answer = response.json()
    assert answer["error"] == "S"
    assert answer["error_details"][0]["code"] == code


def test_a_huge_body_is_refused_with_an_envelope(server):
    response = server.post("facturacion/nuevo_encola", None, raw=b'{"x": "' + b"a" * (17 * 1024 * 1024) + b'"}')
    assert response.status_code == 200
    assert response.json()["error_details"][0]["code"] == "TFC-1004"


def test_missing_blocks_and_unreadable_values_are_reported_together_and_nothing_is_stored(server):
    body = {**server.keys, "comprobante": {"external_reference": "roto-1", "total": {"no": "numero"}, "detalle": "x"}}
    answer = server.post("facturacion/nuevo_encola", body).json()
    codes = [d["code"] for d in answer["error_details"]]
    assert answer["error"] == "S"
    assert {"TFC-1013", "TFC-2001", "TFC-2015", "TFC-2025"} <= set(codes)
    assert codes[-1] == "TFC-6001"
    found = server.post(
        "facturacion/consulta_avanzada",
        {**server.keys, "busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": "roto-1"}},
    ).json()
    assert found["total"] == 0


def test_unknown_routes_and_methods_answer_with_envelopes(server):
    missing = server.post("facturacion/no_existe", {})
    assert missing.status_code == 404 and missing.json()["error"] == "S"
    wrong = HTTP.get(server.base + "/app/api/v2/facturacion/nuevo_encola")
    assert wrong.status_code == 405 and wrong.json()["error_details"][0]["code"] == "TFC-1011"


def test_lotes_accept_partially_and_report_each_request_in_order(server, receiver):
    good = factura_b(server.keys, reference="lote-ok-1", fecha=FUTURE, punto_venta=10)
    bad = factura_b(server.keys, reference="% 'M17051", fecha=FUTURE, punto_venta=10)
    good2 = factura_b(server.keys, reference="lote-ok-2", fecha=FUTURE, punto_venta=10)
    strip = lambda b: {k: v for k, v in b.items() if k in ("comprobante", "cliente")}
    answer = server.post("facturacion/lotes_encola", {**server.keys, "requests": [strip(bad), strip(good), strip(good2)]}).json()
    assert answer["error"] == "S"
    assert answer["errores"] == [
        "El lote se procesara parcialmente ya que contiene errores en alguno de sus requests. Se enviaron a procesar: 3 requests y se aceptaron procesar: 2. "
    ]
    first, second, third = answer["response"]
    assert first["errores"] == [
        "El request enviado en el orden 0 (comenzando en 0) incluye un comprobante con un external_reference no valido.  Este request no se procesara."
    ]
    assert first["rta"] == "Eror. No se procesara"
    assert second["error"] == "N" and second["external_reference"] == "lote-ok-1" and second["tfc_generacion_tipo"] == 3
    assert third["error"] == "N"
    receiver.wait_for("% 'M17051", "error")
    receiver.wait_for("lote-ok-1", "encolado")
    receiver.wait_for("lote-ok-2", "encolado")


def test_a_lote_over_100_is_refused_whole(server):
    requests = [factura_b(server.keys, reference=f"big-{i}", fecha=FUTURE, punto_venta=10) for i in range(101)]
    answer = server.post("facturacion/lotes_encola", {**server.keys, "requests": requests}).json()
    assert answer["error"] == "S"
    assert answer["errores"][0] == "Esta enviando 101 requests, cuando el limite permitido es 100. El lote no se procesara."
    assert answer["response"] == []


def test_cambiar_fecha_moves_the_invoice_and_notifies(server, receiver):
    body = factura_b(server.keys, reference="fecha-1", fecha=FUTURE, punto_venta=10)
    assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    later = FUTURE + timedelta(days=5)
    answer = server.post(
        "facturacion/cambiar_fecha_encolado",
        {**server.keys, "external_reference": "fecha-1", "fecha": wire(later), "vencimiento": wire(later)},
    ).json()
    assert answer == {"error": "N", "errores": []}
    receiver.wait_for("fecha-1", "cambio_fecha")
    found = server.post(
        "facturacion/consulta_avanzada",
        {**server.keys, "busqueda_tipo": "F", "comprobante": {"fecha": wire(later), "operacion": "V"}},
    ).json()
    assert found["total"] == 1
    assert found["comprobantes"][0]["comprobante"]["status"] == f"APROBADO Y EN COLA. SE EMITE EL {wire(later)}"


def test_queue_operations_on_unknown_references_answer_not_found(server):
    for path in ("eliminar_encolado", "cambiar_fecha_encolado", "reenviar_encolado"):
        answer = server.post(f"facturacion/{path}", {**server.keys, "external_reference": "nada", "fecha": wire(FUTURE)}).json()
        assert answer["error"] == "S" and answer["errores"] == ["No se han encontrado comprobantes."]


def test_a_caller_never_sees_or_changes_another_pdvs_invoices(server):
    body = factura_b(server.keys, reference="ajeno-1", fecha=FUTURE, punto_venta=10)
    assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    seen = server.post(
        "facturacion/consulta_avanzada",
        {**server.keys_c, "busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": "ajeno-1"}},
    ).json()
    assert seen["total"] == 0
    deleted = server.post("facturacion/eliminar_encolado", {**server.keys_c, "external_reference": "ajeno-1"}).json()
    assert deleted["error"] == "S"


def test_consulta_avanzada_pages_newest_first_with_the_total_before_paging(server):
    day = FUTURE + timedelta(days=40)
    for i in range(5):
        body = factura_b(server.keys, reference=f"pag-{i}", fecha=day, punto_venta=10)
        assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    query = {**server.keys, "busqueda_tipo": "F", "limite": 2, "comprobante": {"fecha": wire(day), "operacion": "V"}}
    page0 = server.post("facturacion/consulta_avanzada", {**query, "pagina": 0}).json()
    page2 = server.post("facturacion/consulta_avanzada", {**query, "pagina": 2}).json()
    assert page0["total"] == 5 and page2["total"] == 5
    refs = [c["comprobante"]["external_reference"] for c in page0["comprobantes"]]
    assert refs == ["pag-4", "pag-3"]
    assert [c["comprobante"]["external_reference"] for c in page2["comprobantes"]] == ["pag-0"]
    too_big = server.post("facturacion/consulta_avanzada", {**query, "limite": 1001}).json()
    assert too_big["error"] == "S" and too_big["error_details"][0]["code"] == "TFC-7004"


def test_administrar_adds_a_pdv_with_new_keys_and_changes_the_webhook(server, receiver):
    created = server.post(
        "puntos_venta/administrar",
        {**server.keys, "operacion": "A", "punto_venta": "00023", "iva_condicion": "RI", "conceptos_tipo": "P",
         "webhook": receiver.url, "webhook_token": receiver.token},
    ).json()
    assert created["error"] == "N"
    keys = {k: created[k] for k in ("usertoken", "apikey", "apitoken")}
    assert created["apikey"].isdigit()
    body = factura_b(keys, reference="pdv23-1", fecha=FUTURE, punto_venta=23)
    assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    receiver.wait_for("pdv23-1", "encolado")
    again = server.post("puntos_venta/administrar", {**server.keys, "operacion": "A", "punto_venta": 23}).json()
    assert again["error_details"][0]["code"] == "TFC-5004"
    modified = server.post("puntos_venta/administrar", {**keys, "operacion": "M", "webhook": ""}).json()
    assert modified["error"] == "N"
    refused = server.post("facturacion/nuevo_encola", factura_b(keys, reference="pdv23-2", fecha=FUTURE, punto_venta=23)).json()
    assert "TFC-1012" in [d["code"] for d in refused["error_details"]]


def test_the_test_event_reaches_the_pdvs_url(server, receiver):
    answer = server.post("webhooks/test", {**server.keys}).json()
    assert answer["error"] == "N"
    deadline_hooks = lambda: [h for h in receiver.hooks if h.body.get("hook_id") == answer["hook_id"]]
    import time

    for _ in range(100):
        if deadline_hooks():
            break
        time.sleep(0.05)
    hook = deadline_hooks()[0]
    assert hook.body["evento"] == "test" and hook.body["recurso"] == "test"


def test_openapi_is_served_and_the_root_is_the_consoles_login(server):
    page = HTTP.get(server.base + "/", follow_redirects=True)  # operators log in (docs/console.md)
    assert page.url.path == "/console/login" and "30712345674" not in page.text
    spec = HTTP.get(server.base + "/openapi.json").json()
    assert "/app/api/v2/facturacion/nuevo_encola" in spec["paths"]
