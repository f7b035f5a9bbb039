"""Many processes on one database: an API-only `serve --no-engine` and several `encola worker`s,
two of them killed with `kill -9` under load. Every invoice is emitted once, numbers stay
consecutive per lane, and no hook is lost."""

from __future__ import annotations

import signal
from collections import defaultdict

from encola.clock import Clock
from support import EncolaProcess, SimulatorProcess, factura_b

TODAY = Clock().today()
CUIT = "30712345671"
POINTS_OF_SALE = (1, 2, 3, 4, 5, 6)
PER_LANE = 40
ENV = {"ENCOLA_AFIP_TIMEOUT": "3s", "ENCOLA_LANE_LEASE": "3s", "ENCOLA_AFIP_BATCH_SIZE": "10"}


def test_workers_share_lanes_and_survive_kill_9(backend, databases, tmp_path, receiver):
    simulator = SimulatorProcess(tmp_path / "ledger.db", latency_ms=200).start()
    database = databases.new(backend)
    env = {**ENV, "ENCOLA_AFIP_URL": simulator.base}
    api = EncolaProcess(database, extra_env=env, args=("serve", "--no-engine"))
    keys = {pv: api.provision(CUIT, pv, receiver.url, token=receiver.token) for pv in POINTS_OF_SALE}
    api.start()
    workers = [EncolaProcess(database, extra_env=env, args=("worker",)).start() for _ in range(3)]
    references = []
    try:
        for i in range(PER_LANE):
            for pv in POINTS_OF_SALE:
                reference = f"w{pv}-{i}"
                answer = api.post("facturacion/nuevo_encola", factura_b(keys[pv], reference=reference, fecha=TODAY, punto_venta=pv))
                assert answer.json()["error"] == "N"
                references.append(reference)
            if i == PER_LANE // 3:
                workers[0].stop(signal.SIGKILL)  # in the middle of its batches
            if i == 2 * PER_LANE // 3:
                workers[1].stop(signal.SIGKILL)
                workers.append(EncolaProcess(database, extra_env=env, args=("worker",)).start())
        for reference in references:
            receiver.wait_for(reference, "emitido", timeout=90)
        lanes = defaultdict(list)
        for item in simulator.comprobantes():
            lanes[item["pto_vta"]].append(item["numero"])
        assert set(lanes) == set(POINTS_OF_SALE)
        for pv, numbers in lanes.items():
            assert sorted(numbers) == list(range(1, PER_LANE + 1)), (pv, sorted(numbers))
        for reference in references:  # exactly one emitido hook per invoice, whatever the retries
            emitted = {h.body["hook_id"] for h in receiver.for_reference(reference) if h.body["evento"] == "emitido"}
            assert len(emitted) == 1, reference
    finally:
        for worker in workers:
            worker.stop(signal.SIGKILL)
        api.stop()
        simulator.stop()
