"""Graceful stop: SIGTERM to a real `encola worker` / `encola serve` in the middle of batches at a
slow AFIP. The process exits 0 within the grace, the batches at AFIP are settled (or handed back),
and once another process finishes the queue, AFIP's ledger and the database agree one to one:
nothing lost, nothing emitted twice, numbers consecutive per lane."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import defaultdict

import httpx
from sqlalchemy import select

from encola.clock import Clock
from encola.store.schema import invoices
from support import HTTP, EncolaProcess, free_port, SimulatorProcess, factura_b, open_store_of_processes, wait_until

TODAY = Clock().today()
CUIT = "30712345671"
POINTS_OF_SALE = (1, 2)
PER_LANE = 30
GRACE = 10.0
ENV = {"ENCOLA_AFIP_BATCH_SIZE": "4", "ENCOLA_SHUTDOWN_GRACE": f"{GRACE:g}s", "ENCOLA_LANE_LEASE": "5s",
       "ENCOLA_AFIP_TIMEOUT": "5s"}


def _enqueue(api: EncolaProcess, keys: dict) -> list[str]:
    """Every lane's invoices in one lotes_encola each: all queued before the first batch is back."""
    references = []
    for pv in POINTS_OF_SALE:
        requests = []
        for i in range(PER_LANE):
            reference = f"s{pv}-{i}"
            body = factura_b(keys[pv], reference=reference, fecha=TODAY, punto_venta=pv)
            requests.append({"comprobante": body["comprobante"], "cliente": body["cliente"]})
            references.append(reference)
        answer = api.post("facturacion/lotes_encola", {**keys[pv], "requests": requests}).json()
        assert answer["error"] == "N" and all(item["error"] == "N" for item in answer["response"]), answer
    return references


def _terminate_mid_batch(process: EncolaProcess, simulator: SimulatorProcess) -> float:
    """SIGTERM once AFIP has some comprobantes but not all; returns how long the exit took."""
    wait_until(lambda: len(simulator.comprobantes()) >= 4, timeout=60, message="the first batch at AFIP")
    assert len(simulator.comprobantes()) < PER_LANE * len(POINTS_OF_SALE), "the queue finished before the stop"
    started = time.monotonic()
    process.process.send_signal(signal.SIGTERM)
    try:
        code = process.process.wait(timeout=2 * GRACE + 10)
    except subprocess.TimeoutExpired:
        process.process.kill()
        raise AssertionError("the process did not stop within the grace")
    assert code == 0, process.process.stderr.read().decode()[-2000:]
    return time.monotonic() - started


def _ready(port: int) -> dict | None:
    try:
        answer = HTTP.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
    except httpx.HTTPError:
        return None
    return answer.json() if answer.status_code == 200 else None


def _rows(database: str) -> list:
    store = open_store_of_processes(database)
    with store.reading() as connection:
        return connection.execute(select(invoices.c.external_reference, invoices.c.punto_venta, invoices.c.numero,
                                         invoices.c.state, invoices.c.cae)).all()


def _ledger_matches_database(simulator: SimulatorProcess, database: str, *, complete: bool) -> None:
    ledger = simulator.comprobantes()
    numbers = defaultdict(list)
    for item in ledger:
        numbers[item["pto_vta"]].append(item["numero"])
    for pv, found in numbers.items():  # never a number twice, never a gap
        assert sorted(found) == list(range(1, len(found) + 1)), (pv, sorted(found))
    cae_at_afip = {(item["pto_vta"], item["numero"]): item["cae"] for item in ledger}
    rows = _rows(database)
    emitted = {(row.punto_venta, row.numero): row.cae.strip() for row in rows if row.state == "emitted"}
    assert emitted == cae_at_afip  # every CAE AFIP gave is recorded, against the number it was given for
    if complete:
        assert len(emitted) == len(rows) == PER_LANE * len(POINTS_OF_SALE)


def test_sigterm_to_a_worker_mid_batch_loses_and_doubles_nothing(backend, databases, tmp_path, receiver):
    simulator = SimulatorProcess(tmp_path / "ledger.db", latency_ms=1000).start()
    database = databases.new(backend)
    env = {**ENV, "ENCOLA_AFIP_URL": simulator.base}
    api = EncolaProcess(database, extra_env=env, args=("serve", "--no-engine"))
    keys = {pv: api.provision(CUIT, pv, receiver.url, token=receiver.token) for pv in POINTS_OF_SALE}
    api.start()
    workers = []
    try:
        references = _enqueue(api, keys)
        ops_port = free_port()
        workers.append(EncolaProcess(database, extra_env=env, args=("worker", "--ops-port", str(ops_port))).start())
        ready = wait_until(lambda: _ready(ops_port), timeout=30, message="the worker's /readyz")
        assert set(ready["checks"]) == {"database", "migrations", "engine", "dispatcher"}
        took = _terminate_mid_batch(workers[0], simulator)
        assert took < GRACE + 5
        # The batches at AFIP were settled before the exit: nothing left in doubt, AFIP and the database agree.
        assert not [row for row in _rows(database) if row.state == "processing"]
        _ledger_matches_database(simulator, database, complete=False)
        workers.append(EncolaProcess(database, extra_env=env, args=("worker",)).start())
        for reference in references:
            receiver.wait_for(reference, "emitido", timeout=90)
        _ledger_matches_database(simulator, database, complete=True)
        for reference in references:
            assert len({h.body["hook_id"] for h in receiver.for_reference(reference) if h.body["evento"] == "emitido"}) == 1
    finally:
        for worker in workers:
            worker.stop(signal.SIGKILL)
        api.stop()
        simulator.stop()


def test_sigterm_to_serve_mid_batch_exits_zero_and_a_restart_finishes_the_queue(backend, databases, tmp_path, receiver):
    simulator = SimulatorProcess(tmp_path / "ledger.db", latency_ms=1000).start()
    database = databases.new(backend)
    env = {**ENV, "ENCOLA_AFIP_URL": simulator.base}
    server = EncolaProcess(database, extra_env=env)
    keys = {pv: server.provision(CUIT, pv, receiver.url, token=receiver.token) for pv in POINTS_OF_SALE}
    server.start()
    restarted = None
    try:
        references = _enqueue(server, keys)
        _terminate_mid_batch(server, simulator)
        _ledger_matches_database(simulator, database, complete=False)
        restarted = EncolaProcess(database, extra_env=env).start()
        for reference in references:
            receiver.wait_for(reference, "emitido", timeout=90)
        _ledger_matches_database(simulator, database, complete=True)
    finally:
        server.stop(signal.SIGKILL)
        if restarted is not None:
            restarted.stop()
        simulator.stop()
