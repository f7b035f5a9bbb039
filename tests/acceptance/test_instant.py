"""Instant emission (``facturacion/nuevo``), numeración, estado_servicios and abonos as a user runs
them: ``encola afip-sim`` and ``encola serve`` as separate processes, the simulator's ledger
compared with every answer — with AFIP down, slow and dropping replies."""

from __future__ import annotations

import concurrent.futures
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest

from encola.clock import Clock
from encola.domain.abono import add_months
from support import EncolaProcess, factura_b, wait_until, wire

TODAY = Clock().today()
CUIT = "30712345671"
ENV = {"ENCOLA_AFIP_TIMEOUT": "10s", "ENCOLA_LANE_LEASE": "3s", "ENCOLA_INSTANT_DEADLINE": "4s"}


@pytest.fixture
def server(backend, databases, simulator, receiver):
    process = EncolaProcess(databases.new(backend), extra_env={**ENV, "ENCOLA_AFIP_URL": simulator.base})
    process.keys = process.provision(CUIT, 10, receiver.url, token=receiver.token)
    process.other = process.provision(CUIT, 11, receiver.url, token=receiver.token)
    process.start()
    yield process
    process.stop(signal.SIGKILL)


def instant(server, reference: str | None, keys=None, punto_venta=10, **overrides) -> dict:
    body = factura_b(keys or server.keys, reference=reference or "", fecha=TODAY, punto_venta=punto_venta, **overrides)
    if reference is None:
        del body["comprobante"]["external_reference"]
    return server.post("facturacion/nuevo", body).json()


def by_reference(server, reference: str, keys=None) -> list[dict]:
    found = server.post(
        "facturacion/consulta_avanzada",
        {**(keys or server.keys), "busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": reference}},
    ).json()
    return [c["comprobante"] for c in found["comprobantes"]]


def ledger_numbers(simulator, cbte_tipo: int = 6, pto_vta: int = 10) -> list[int]:
    return sorted(c["numero"] for c in simulator.comprobantes() if c["cbte_tipo"] == cbte_tipo and c["pto_vta"] == pto_vta)


def test_an_instant_invoice_is_answered_with_its_cae_as_tf_shows(server, simulator, receiver):
    answer = instant(server, None)
    assert answer["error"] == "N", answer
    assert answer["rta"] == "El comprobante FACTURA B 0010-00000001 (Empresa 30712345671) se ha guardado correctamente"
    assert answer["cae"].endswith(" ") and len(answer["cae"].strip()) == 14
    assert answer["comprobante_nro"] == "00010-00000001"
    assert answer["afip_qr"].startswith("https://www.afip.gob.ar/fe/qr/?p=")
    assert answer["afip_codigo_barras"].strip().startswith(CUIT)
    assert answer["vencimiento_cae"] and answer["comprobante_pdf_url"].endswith(".pdf")
    (stored,) = simulator.comprobantes()
    assert stored["numero"] == 1 and stored["cae"] == answer["cae"].strip()
    time.sleep(0.5)
    assert receiver.hooks == []  # no external_reference, no hook


def test_with_a_reference_it_is_notified_emitido_never_encolado_and_a_retry_answers_the_original(server, simulator, receiver):
    first = instant(server, "inst-ref-1")
    assert first["error"] == "N" and first["external_reference"] == "inst-ref-1"
    receiver.wait_for("inst-ref-1", "emitido")
    again = instant(server, "inst-ref-1")
    assert again["cae"] == first["cae"] and again["comprobante_nro"] == first["comprobante_nro"]
    assert ledger_numbers(simulator) == [1]
    (found,) = by_reference(server, "inst-ref-1")
    assert found["status"] == "EMITIDO" and found["cae"] == first["cae"]
    time.sleep(0.5)
    assert [h.body["evento"] for h in receiver.for_reference("inst-ref-1")] == ["emitido"]


def test_a_different_request_under_the_same_reference_is_refused(server):
    assert instant(server, "inst-dup")["error"] == "N"
    answer = instant(server, "inst-dup", precio="200")
    assert answer["error"] == "S" and answer["error_details"][0]["code"] == "TFC-8010"


def test_a_request_afip_could_not_get_in_time_is_not_kept(server, simulator):
    simulator.faults(latency_ms=6000)  # the lane's first call (its last number) outlasts the deadline
    answer = instant(server, "sin-enviar")
    assert answer["error"] == "S" and answer["error_details"][0]["code"] == "TFC-8014", answer
    assert by_reference(server, "sin-enviar") == []
    simulator.faults(latency_ms=0)
    time.sleep(7)
    assert ledger_numbers(simulator) == []


def test_the_date_must_be_today(server):
    body = factura_b(server.keys, reference="ayer", fecha=TODAY - timedelta(days=1), punto_venta=10)
    answer = server.post("facturacion/nuevo", body).json()
    assert answer["error"] == "S" and "TFC-8012" in [d["code"] for d in answer["error_details"]]
    assert by_reference(server, "ayer") == []


def test_a_pdv_with_queued_invoices_refuses_instant_ones_but_errors_do_not_count(server, simulator):
    body = factura_b(server.keys, reference="en-cola", fecha=TODAY + timedelta(days=3), punto_venta=10, tipo="NOTA DE DEBITO B")
    body["comprobante"]["comprobantes_asociados_periodo"] = {"fecha_desde": wire(TODAY), "fecha_hasta": wire(TODAY)}
    assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    answer = instant(server, "bloqueada")
    assert answer["error"] == "S" and answer["error_details"][0]["code"] == "TFC-8011"
    assert by_reference(server, "bloqueada") == []
    assert server.post("facturacion/eliminar_encolado", {**server.keys, "external_reference": "en-cola"}).json()["error"] == "N"
    simulator.faults(reject_next=1)
    rejected = instant(server, "rechazada")
    assert rejected["error"] == "S" and rejected["error_details"][0]["code"] == "TFC-8013"
    assert any("AFIP" in text for text in rejected["errores"])
    assert instant(server, "despues-del-error")["error"] == "N"  # an invoice in error does not block


def test_another_pdvs_queue_does_not_block_and_its_invoices_are_not_seen(server):
    body = factura_b(server.other, reference="otro-pdv", fecha=TODAY + timedelta(days=3), punto_venta=11)
    assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    assert instant(server, "mi-pdv")["error"] == "N"
    assert by_reference(server, "otro-pdv") == []
    answer = instant(server, "pdv-ajeno", punto_venta=11)  # my keys, another point of sale
    assert answer["error"] == "S" and "TFC-2007" in [d["code"] for d in answer["error_details"]]


def test_afip_down_answers_at_once_and_keeps_nothing_so_the_client_may_retry(server, simulator, receiver):
    simulator.faults(down=True)
    started = time.monotonic()
    answer = instant(server, "caida-1")
    assert time.monotonic() - started < 4
    assert answer["error"] == "S" and answer["error_details"][0]["code"] == "TFC-8014", answer
    assert by_reference(server, "caida-1") == []
    alerta = server.post("estado_servicios/alertas", server.keys).json()
    assert alerta["error"] == "S" and alerta["rta"] == "ERROR" and "hs." in alerta["facturacion"]
    assert alerta["novedades"] == ""
    simulator.faults(down=False)
    assert instant(server, "caida-1")["error"] == "N"
    assert ledger_numbers(simulator) == [1]
    wait_until(lambda: server.post("estado_servicios/alertas", server.keys).json()["facturacion"] == "OK", timeout=15)
    assert [h.body["evento"] for h in receiver.wait_for("caida-1", "emitido")] == ["emitido"]


def test_an_unknown_outcome_at_the_deadline_is_said_then_reconciled_and_notified_once(server, simulator, receiver):
    assert instant(server, "rapida-1")["error"] == "N"  # the lane knows its last number: the next is sent at once
    simulator.faults(latency_ms=6000)  # longer than the 4 s deadline, shorter than the 10 s AFIP timeout
    started = time.monotonic()
    answer = instant(server, "lenta-1")
    assert 3.5 < time.monotonic() - started < 6
    assert answer["error"] == "S" and answer["error_details"][0]["code"] == "TFC-8015", answer
    simulator.faults(latency_ms=0)
    receiver.wait_for("lenta-1", "emitido", timeout=30)
    (found,) = by_reference(server, "lenta-1")
    assert found["status"] == "EMITIDO"
    again = instant(server, "lenta-1")
    assert again["error"] == "N" and again["cae"] == found["cae"]
    assert ledger_numbers(simulator) == [1, 2]
    assert [h.body["evento"] for h in receiver.for_reference("lenta-1")] == ["emitido"]


def test_a_dropped_reply_is_reconciled_and_never_emitted_twice(server, simulator):
    simulator.faults(drop_responses=1)
    answer = instant(server, "perdida-1")
    if answer["error"] == "S":  # reconciled after the deadline: the result follows
        assert answer["error_details"][0]["code"] == "TFC-8015"
        wait_until(lambda: by_reference(server, "perdida-1")[0]["status"] == "EMITIDO", timeout=40)
    assert ledger_numbers(simulator) == [1]
    assert instant(server, "perdida-1")["comprobante_nro"] == "00010-00000001"


def test_concurrent_instant_requests_of_a_lane_are_numbered_once_each(server, simulator):
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda i: instant(server, f"conc-{i}"), range(48)))
    assert all(a["error"] == "N" for a in answers), [a for a in answers if a["error"] != "N"][:2]
    numbers = sorted(int(a["comprobante_nro"].split("-")[1]) for a in answers)
    assert numbers == list(range(1, 49)) == ledger_numbers(simulator)


def test_numeracion_answers_the_last_number_from_afip_or_from_encolas_record(server, simulator):
    for i in range(3):
        assert instant(server, f"num-{i}")["error"] == "N"
    ask = {**server.keys, "comprobante": {"tipo": "FACTURA B", "operacion": "V", "punto_venta": "10"}}
    answer = server.post("facturacion/numeracion", ask).json()
    assert answer == {"error": "N", "errores": [""], "rta": "OK",
                      "comprobante": {"tipo": "FACTURA B", "operacion": "V", "punto_venta": 10, "numero": 3}}
    other_type = {**ask, "comprobante": {"tipo": "FACTURA A", "operacion": "V", "punto_venta": 10}}
    assert server.post("facturacion/numeracion", other_type).json()["comprobante"]["numero"] == 0
    simulator.faults(down=True)
    started = time.monotonic()
    assert server.post("facturacion/numeracion", ask).json()["comprobante"]["numero"] == 3
    assert time.monotonic() - started < 5
    simulator.faults(down=False)
    foreign = {**ask, "comprobante": {"tipo": "FACTURA B", "punto_venta": 11}}
    refused = server.post("facturacion/numeracion", foreign).json()
    assert refused["error"] == "S" and refused["error_details"][0]["code"] == "TFC-2007"
    assert server.post("facturacion/numeracion", {**server.other, "comprobante": {"tipo": "FACTURA B", "punto_venta": 11}}).json()["comprobante"]["numero"] == 0


def test_estado_servicios_is_ok_while_afip_answers(server):
    answer = server.post("estado_servicios/alertas", server.keys).json()
    assert answer == {"error": "N", "errores": [""], "rta": "OK", "facturacion": "OK", "novedades": ""}


def test_estado_servicios_never_waits_long_on_a_hanging_afip(server, simulator):
    simulator.faults(latency_ms=8000)
    started = time.monotonic()
    answer = server.post("estado_servicios/alertas", server.other).json()
    assert time.monotonic() - started < 4
    assert answer["error"] in ("N", "S")
    simulator.faults(latency_ms=0)


def test_an_abonos_next_recurrence_is_queued_on_its_date_once_the_previous_is_emitted(server, simulator, receiver):
    hasta = add_months(TODAY, 2)
    body = factura_b(server.keys, reference="abono-1", fecha=TODAY, punto_venta=10)
    body["comprobante"].update(abono="S", abono_frecuencia="1", abono_hasta=hasta.strftime("%m/%Y"), abono_actualiza_precios="N")
    assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    receiver.wait_for("abono-1", "emitido")
    found = wait_until(lambda: (rows := by_reference(server, "abono-1")) and len(rows) == 2 and rows, timeout=10)
    nuevo, primero = found
    assert primero["status"] == "EMITIDO" and primero["abono_recurrencia"] == 1
    assert nuevo["abono_recurrencia"] == 2 and nuevo["fecha"] == wire(add_months(TODAY, 1))
    assert nuevo["status"] == f"APROBADO Y EN COLA. SE EMITE EL {wire(add_months(TODAY, 1))}"
    assert nuevo["external_reference"] == "abono-1"
    listed = server.post(
        "facturacion/consulta_avanzada",
        {**server.keys, "busqueda_tipo": "EXT_REF_LIST", "comprobante": {"external_reference_list": ["abono-1"]}},
    ).json()
    assert listed["total"] == 2
    stopped = server.post("facturacion/eliminar_encolado", {**server.keys, "external_reference": "abono-1"}).json()
    assert stopped["procesados_cant"] == 1
    assert [c["status"] for c in by_reference(server, "abono-1")] == ["EMITIDO"]
    receiver.wait_for("abono-1", "eliminado")  # hooks are delivered after the answer, not before
    assert Counter(h.body["evento"] for h in receiver.for_reference("abono-1")) == Counter(encolado=1, emitido=1, eliminado=1)


def test_instant_requests_through_an_api_only_server_are_emitted_by_workers(backend, databases, simulator, receiver):
    """``serve --no-engine`` and two ``worker``s (PostgreSQL's deployment; SQLite too): the API
    waits on the invoice row, a worker emits it, LISTEN/NOTIFY (or polling) brings the answer."""
    database = databases.new(backend)
    env = {**ENV, "ENCOLA_AFIP_URL": simulator.base}
    api = EncolaProcess(database, extra_env=env, args=("serve", "--no-engine"))
    api.keys = api.provision(CUIT, 10, receiver.url, token=receiver.token)
    api.start()
    workers = [EncolaProcess(database, extra_env=env, args=("worker",)).start() for _ in range(2)]
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: instant(api, f"w-{i}"), range(24)))
        assert all(a["error"] == "N" for a in answers), [a for a in answers if a["error"] != "N"][:2]
        assert sorted(int(a["comprobante_nro"].split("-")[1]) for a in answers) == list(range(1, 25)) == ledger_numbers(simulator)
        ask = {**api.keys, "comprobante": {"tipo": "FACTURA B", "operacion": "V", "punto_venta": 10}}
        assert api.post("facturacion/numeracion", ask).json()["comprobante"]["numero"] == 24
    finally:
        for worker in workers:
            worker.stop(signal.SIGKILL)
        api.stop(signal.SIGKILL)
