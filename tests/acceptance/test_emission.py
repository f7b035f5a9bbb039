"""Emission as a user runs it: `encola afip-sim` and `encola serve` as separate processes, invoices
over HTTP, and the simulator's ledger compared with hooks and consultas — including dropped
answers, AFIP down, and `kill -9` of the server in the middle of a batch."""

from __future__ import annotations

import signal
from collections import defaultdict
from datetime import timedelta

import pytest

from encola.clock import Clock
from support import EncolaProcess, example, factura_b, wait_until, wire

TODAY = Clock().today()
CUIT = "30712345671"
ENGINE_ENV = {
    "ENCOLA_AFIP_TIMEOUT": "3s",  # unknown outcomes are settled after 3 + 5 s
    "ENCOLA_LANE_LEASE": "3s",  # a dead worker's lanes are taken over within 3 s
}


@pytest.fixture
def server(backend, databases, simulator, receiver):
    process = EncolaProcess(databases.new(backend), extra_env={**ENGINE_ENV, "ENCOLA_AFIP_URL": simulator.base})
    process.keys = process.provision(CUIT, 10, receiver.url, token=receiver.token)
    process.start()
    yield process
    process.stop(signal.SIGKILL)


def consulta(server, reference: str) -> dict:
    found = server.post(
        "facturacion/consulta_avanzada",
        {**server.keys, "busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": reference}},
    ).json()
    return found["comprobantes"][0]["comprobante"]


def send_b(server, count: int, prefix: str, fecha=TODAY) -> list[str]:
    references = [f"{prefix}-{i}" for i in range(count)]
    for reference in references:
        answer = server.post("facturacion/nuevo_encola", factura_b(server.keys, reference=reference, fecha=fecha, punto_venta=10))
        assert answer.json()["error"] == "N", answer.json()
    return references


def assert_ledger_exactly_once(simulator, references_by_type: dict[int, int]) -> list[dict]:
    """Each lane's numbers are 1..n with no gap and no repeat, n the invoices of that type."""
    ledger = simulator.comprobantes()
    lanes = defaultdict(list)
    for item in ledger:
        lanes[(item["pto_vta"], item["cbte_tipo"])].append(item["numero"])
    for (pto_vta, cbte_tipo), numbers in lanes.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), numbers
    counts = {cbte_tipo: len(numbers) for (_, cbte_tipo), numbers in lanes.items()}
    assert counts == references_by_type
    return ledger


def test_invoices_dated_today_are_emitted_once_with_consecutive_numbers(server, simulator, receiver):
    references = send_b(server, 30, "hoy")
    body = example("factura_a", server.keys, reference="hoy-a", fecha=TODAY, punto_venta=10)
    assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    for reference in references + ["hoy-a"]:
        receiver.wait_for(reference, "emitido", timeout=30)
    ledger = assert_ledger_exactly_once(simulator, {6: 30, 1: 1})
    cae_by_number = {(item["cbte_tipo"], item["numero"]): item["cae"] for item in ledger}
    emitted = consulta(server, "hoy-a")
    assert emitted["status"] == "EMITIDO"
    assert emitted["cae"] == cae_by_number[(1, emitted["numero"])] + " "
    assert emitted["comprobante_nro"] == f"00010-{emitted['numero']:08d}"
    assert emitted["afip_qr"].startswith("https://www.afip.gob.ar/fe/qr/?p=")
    assert len(emitted["afip_codigo_barras"].strip()) == 42
    numbers = sorted(consulta(server, r)["numero"] for r in references)
    assert numbers == list(range(1, 31))


def test_future_dated_invoices_wait_in_the_queue(server, simulator, receiver):
    later = TODAY + timedelta(days=2)
    send_b(server, 2, "futuro", fecha=later)
    send_b(server, 1, "ahora")
    receiver.wait_for("ahora-0", "emitido", timeout=30)
    assert consulta(server, "futuro-0")["status"] == f"APROBADO Y EN COLA. SE EMITE EL {wire(later)}"
    assert len(simulator.comprobantes()) == 1


def test_an_afip_rejection_ends_in_error_with_afips_code_and_can_be_resent(server, simulator, receiver):
    simulator.faults(reject_next=1)
    send_b(server, 1, "rechazo")
    hook = receiver.wait_for("rechazo-0", "error", timeout=30)[0]
    assert hook.body["msg"][0].startswith(" AFIP Factura electronica, informa el siguiente error: Cod. Error: #6661145.0")
    assert any("#6661145.10015" in line for line in hook.body["msg"]), hook.body["msg"]
    state = consulta(server, "rechazo-0")
    assert state["status"] == "ENVIADO A PROCESAR - CON ERROR"
    assert server.post("facturacion/reenviar_encolado", {**server.keys, "external_reference": "rechazo-0"}).json()["error"] == "N"
    receiver.wait_for("rechazo-0", "emitido", timeout=30)
    assert_ledger_exactly_once(simulator, {6: 1})


def test_dropped_answers_are_reconciled_without_emitting_twice(server, simulator, receiver):
    simulator.faults(drop_responses=2)
    references = send_b(server, 12, "drop")
    for reference in references:
        receiver.wait_for(reference, "emitido", timeout=45)
    assert_ledger_exactly_once(simulator, {6: 12})
    assert simulator.faults()["drop_responses"] == 0


def test_invoices_wait_while_afip_is_down_and_go_out_when_it_returns(server, simulator, receiver):
    simulator.faults(down=True)
    references = send_b(server, 5, "caida")
    wait_until(lambda: consulta(server, "caida-0"), message="queued")
    import time

    time.sleep(2)
    assert simulator.comprobantes() == []
    assert consulta(server, "caida-0")["status"].startswith("APROBADO Y EN COLA")
    simulator.faults(down=False)
    for reference in references:
        receiver.wait_for(reference, "emitido", timeout=60)
    assert_ledger_exactly_once(simulator, {6: 5})


def test_kill_9_in_the_middle_of_a_batch_loses_nothing_and_emits_nothing_twice(simulator, receiver, server):
    # The WSAA ticket first: a process killed inside its WSAA login loses a ticket AFIP has issued,
    # and AFIP (the simulator too) refuses another while that one is valid (coe.alreadyAuthenticated:
    # the lane waits, see docs/going-live.md). This test is about a CAE batch cut in the middle.
    send_b(server, 1, "antes")
    receiver.wait_for("antes-0", "emitido", timeout=30)
    simulator.faults(latency_ms=1500)  # a batch in flight for 1.5 s: kill the server inside it
    references = send_b(server, 40, "kill")
    import time

    time.sleep(0.8)
    server.stop(signal.SIGKILL)
    simulator.faults(latency_ms=0)
    restarted = EncolaProcess(server.env["ENCOLA_DATABASE_URL"], extra_env={**ENGINE_ENV, "ENCOLA_AFIP_URL": simulator.base})
    restarted.keys = server.keys
    restarted.start()
    try:
        for reference in references:
            receiver.wait_for(reference, "emitido", timeout=60)
        assert_ledger_exactly_once(simulator, {6: 41})
        numbers = sorted(consulta(restarted, r)["numero"] for r in references)
        assert numbers == list(range(2, 42))
    finally:
        restarted.stop(signal.SIGKILL)


def test_numbers_used_outside_encola_are_noticed_and_numbering_continues(server, simulator, receiver):
    """The lane remembers AFIP's last number; when someone else emits on the same point of sale,
    AFIP's 10016 makes the engine ask AFIP again instead of failing the invoice."""
    import asyncio
    from decimal import Decimal

    import httpx

    from encola.afip import AfipClient, AfipEndpoints, CaeDetail, Credentials
    from encola.certificates.simulator import obtain_blocking

    send_b(server, 1, "antes")
    receiver.wait_for("antes-0", "emitido", timeout=30)

    async def emit_elsewhere():
        cert, key = obtain_blocking(simulator.base, CUIT, "otro sistema")  # its own, from the strict simulator
        async with httpx.AsyncClient() as http:
            client = AfipClient(http, AfipEndpoints.for_simulator(simulator.base), Credentials(cert, key), int(CUIT))
            last = await client.last_authorized(10, 6)
            detail = CaeDetail(
                concepto=1, doc_tipo=99, doc_nro=0, cbte_desde=last + 1, cbte_hasta=last + 1, cbte_fch=TODAY,
                imp_total=Decimal("1.00"), imp_tot_conc=Decimal("1.00"), condicion_iva_receptor_id=5,
            )
            result = await client.request_cae(10, 6, [detail])
            assert result.accepted, result

    asyncio.run(emit_elsewhere())
    send_b(server, 1, "despues")
    receiver.wait_for("despues-0", "emitido", timeout=30)
    assert consulta(server, "despues-0")["numero"] == 3
    assert_ledger_exactly_once(simulator, {6: 3})


def test_a_rejection_ahead_of_a_pipelined_batch_costs_nothing_but_a_retry(backend, databases, simulator, receiver):
    """Batches of 5, pipelined: AFIP rejects the very first invoice, so the rest of its batch and the
    whole batch sent behind it get 10016. They go back to the queue and are emitted in order."""
    process = EncolaProcess(
        databases.new(backend),
        extra_env={**ENGINE_ENV, "ENCOLA_AFIP_URL": simulator.base, "ENCOLA_AFIP_BATCH_SIZE": "5"},
    )
    process.keys = process.provision(CUIT, 10, receiver.url, token=receiver.token)
    simulator.faults(reject_next=1, latency_ms=200)
    intake_only = EncolaProcess(process.env["ENCOLA_DATABASE_URL"], extra_env=process.env, args=("serve", "--no-engine"))
    intake_only.keys = process.keys
    intake_only.start()
    try:
        references = send_b(intake_only, 30, "pipe")  # all queued before the engine starts
    finally:
        intake_only.stop()
    process.start()
    try:
        receiver.wait_for("pipe-0", "error", timeout=30)
        for reference in references[1:]:
            receiver.wait_for(reference, "emitido", timeout=60)
        assert_ledger_exactly_once(simulator, {6: 29})
        numbers = [consulta(process, r)["numero"] for r in references[1:]]
        assert numbers == list(range(1, 30))  # arrival order kept through the retries
    finally:
        process.stop(signal.SIGKILL)
