"""Health, readiness and metrics of real `encola serve` processes, scraped while invoices flow."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from encola.clock import Clock
from support import HTTP, EncolaProcess, SimulatorProcess, factura_b, open_store_of_processes, wait_until

TODAY = Clock().today()
CUIT = "30712345671"
ENV = {"ENCOLA_AFIP_BATCH_SIZE": "5"}


def samples(text: str) -> dict[tuple, float]:
    """{(name, sorted labels): value} of a Prometheus exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(scraped: dict, name: str, **labels) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(process: EncolaProcess, **headers) -> dict:
    answer = HTTP.get(process.base + "/metrics", headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return samples(answer.text)


def test_metrics_follow_invoices_from_intake_to_afip_and_hooks(backend, databases, tmp_path, receiver):
    simulator = SimulatorProcess(tmp_path / "ledger.db", latency_ms=50).start()
    process = EncolaProcess(databases.new(backend), extra_env={**ENV, "ENCOLA_AFIP_URL": simulator.base})
    keys = process.provision(CUIT, 1, receiver.url, token=receiver.token)
    process.start()
    try:
        assert HTTP.get(process.base + "/healthz").json() == {"status": "ok"}
        ready = HTTP.get(process.base + "/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {"database", "migrations", "dispatcher", "engine"}
        references = [f"m-{i}" for i in range(12)]
        for reference in references:
            answer = process.post("facturacion/nuevo_encola", factura_b(keys, reference=reference, fecha=TODAY, punto_venta=1))
            assert answer.json()["error"] == "N", answer.text
        assert process.post("facturacion/nuevo_encola", None, raw=b"{not json").json()["error"] == "S"
        for reference in references:
            receiver.wait_for(reference, "emitido", timeout=30)

        def delivered():
            scraped = scrape(process)
            settled = value(scraped, "encola_outbox_events", kind="hook", state="pending") == 0
            return scraped if settled and value(scraped, "encola_deliveries_total", kind="hook", outcome="delivered") >= 12 else None

        # The receiver saw every "emitido"; other hooks (the "encolado" ones) may still be in flight.
        scraped = wait_until(delivered, timeout=20, message="12 hooks counted as delivered and none pending")
        assert value(scraped, "encola_http_requests_total", endpoint="facturacion/nuevo_encola", outcome="ok") == 12
        assert value(scraped, "encola_http_requests_total", endpoint="facturacion/nuevo_encola", outcome="error") == 1
        assert value(scraped, "encola_intake_seconds_count", endpoint="facturacion/nuevo_encola") == 13
        assert value(scraped, "encola_afip_calls_total", method="FECAESolicitar", outcome="answered") >= 3
        assert value(scraped, "encola_afip_call_seconds_count", method="FECAESolicitar") >= 3
        # Every invoice went to AFIP (a pipelined batch behind a refused one may go twice: 10016).
        assert value(scraped, "encola_afip_batch_size_sum") >= 12
        assert value(scraped, "encola_invoices", state="queued") == 0
        assert value(scraped, "encola_invoices", state="processing") == 0
        assert value(scraped, "encola_oldest_due_invoice_age_seconds") == 0
        assert value(scraped, "encola_outbox_events", kind="hook", state="pending") == 0
        # Bounded labels, nothing of a tenant: no CUIT, no reference, no invoice ids in the exposition.
        text = HTTP.get(process.base + "/metrics").text
        assert CUIT not in text and "m-1" not in text and keys["apikey"] not in text
    finally:
        process.stop()
        simulator.stop()


def test_due_invoices_show_in_queue_depth_and_oldest_age_while_afip_is_down(backend, databases, tmp_path, receiver):
    simulator = SimulatorProcess(tmp_path / "ledger.db").start()
    process = EncolaProcess(databases.new(backend), extra_env={**ENV, "ENCOLA_AFIP_URL": simulator.base})
    keys = process.provision(CUIT, 1, receiver.url, token=receiver.token)
    simulator.faults(down=True)
    process.start()
    try:
        for i in range(3):
            answer = process.post("facturacion/nuevo_encola", factura_b(keys, reference=f"d-{i}", fecha=TODAY, punto_venta=1))
            assert answer.json()["error"] == "N", answer.text
        scraped = wait_until(lambda: (s := scrape(process)) and value(s, "encola_oldest_due_invoice_age_seconds") > 1 and s,
                             timeout=20, message="the due head ages")
        assert value(scraped, "encola_invoices", state="queued") + value(scraped, "encola_invoices", state="processing") == 3
        failed = sum(v for (name, labels), v in scraped.items()
                     if name == "encola_afip_calls_total" and dict(labels)["outcome"] != "answered")
        assert failed >= 1
    finally:
        process.stop()
        simulator.stop()


def test_metrics_token_is_required_when_set_and_compared_exactly(databases):
    process = EncolaProcess(databases.new("sqlite"), extra_env={"ENCOLA_METRICS_TOKEN": "s3cret-metrics-token"})
    process.start()
    try:
        assert HTTP.get(process.base + "/metrics").status_code == 401
        assert HTTP.get(process.base + "/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert HTTP.get(process.base + "/metrics", headers={"Authorization": "Basic s3cret-metrics-token"}).status_code == 401
        assert HTTP.get(process.base + "/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"}).status_code == 200
        assert HTTP.get(process.base + "/healthz").status_code == 200  # health stays open for probes
    finally:
        process.stop()


def test_two_api_processes_sharing_a_multiprocess_dir_report_their_sum(databases, tmp_path, receiver):
    shared = tmp_path / "prometheus"
    shared.mkdir()
    database = databases.new("sqlite")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    first = EncolaProcess(database, extra_env=env, args=("serve", "--no-engine"))
    keys = first.provision(CUIT, 1, receiver.url, token=receiver.token)
    first.start()
    second = EncolaProcess(database, extra_env=env, args=("serve", "--no-engine")).start()
    try:
        for i, process in enumerate([first, first, first, second, second]):
            assert process.post("facturacion/nuevo_encola", factura_b(keys, reference=f"p-{i}", fecha=TODAY, punto_venta=1)).json()["error"] == "N"
        for process in (first, second):
            scraped = scrape(process)
            assert value(scraped, "encola_http_requests_total", endpoint="facturacion/nuevo_encola", outcome="ok") == 5
            assert value(scraped, "encola_intake_seconds_count", endpoint="facturacion/nuevo_encola") == 5
            # Store gauges are read once per scrape, not summed over processes.
            assert value(scraped, "encola_invoices", state="queued") == 5
        assert any(re.match(r"counter_\d+\.db", path.name) for path in shared.iterdir())
    finally:
        first.stop()
        second.stop()


def test_api_only_process_is_ready_without_an_engine(databases):
    process = EncolaProcess(databases.new("sqlite"), args=("serve", "--no-engine")).start()
    try:
        answer = HTTP.get(process.base + "/readyz")
        assert answer.status_code == 200
        assert "engine" not in answer.json()["checks"]
    finally:
        process.stop()


def test_not_ready_while_the_database_schema_is_behind_this_build(backend, databases):
    database = databases.new(backend)
    process = EncolaProcess(database).start()
    try:
        assert HTTP.get(process.base + "/readyz").status_code == 200
        store = open_store_of_processes(database)
        from sqlalchemy import text

        with store.writing() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        answer = HTTP.get(process.base + "/readyz")
        assert answer.status_code == 503
        assert answer.json()["status"] == "not ready"
        assert answer.json()["checks"]["migrations"] == {"ok": False, "database": "0001", "expected": answer.json()["checks"]["migrations"]["expected"]}
        assert answer.json()["checks"]["database"]["ok"] is True
        with store.writing() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
        answer = HTTP.get(process.base + "/readyz")
        assert answer.status_code == 503 and answer.json()["checks"]["database"]["ok"] is False
        assert HTTP.get(process.base + "/healthz").status_code == 200  # alive all the same
    finally:
        process.stop()
