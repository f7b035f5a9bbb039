"""The operations pieces on their own: JSON log lines, bounded metric labels, the metrics token,
readiness of loops, the AFIP call observer, settings."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from encola.afip import observe
from encola.ops import health, http as ops_http, queries
from encola.ops.logs import SECRET_NAME, JsonFormatter
from encola.settings import Settings, SettingsError
from support import open_store_of_processes

BOUNDED_LABELS = ops_http.API_ROUTES | {"other", "/"} | (ops_http.PAGES - {""})
TOKEN = "metrics-token-123456"
_names = st.from_regex(r"[a-z][a-z_]{0,20}", fullmatch=True)


def _record(message: str, extra: dict) -> logging.LogRecord:
    record = logging.LogRecord("encola.test", logging.INFO, __file__, 1, message, (), None)
    for name, value in extra.items():
        setattr(record, name, value)
    return record


@given(st.text(), st.dictionaries(_names, st.one_of(st.text(), st.integers(), st.none(), st.floats(allow_nan=False))))
def test_a_json_log_line_is_one_object_with_its_fields_and_secret_named_fields_hidden(message, extra):
    extra = {k: v for k, v in extra.items() if k not in vars(logging.LogRecord("", 0, "", 0, "", (), None))}
    line = JsonFormatter().format(_record(message, extra))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["event"] == message and parsed["level"] == "info" and parsed["timestamp"].endswith("+00:00")
    for name, value in extra.items():
        assert parsed[name] == ("[redacted]" if SECRET_NAME.search(name) else value)


@pytest.mark.parametrize("name", ["apikey", "apitoken", "usertoken", "webhook_token", "webhook_secret", "key_pem", "password", "sign"])
def test_credentials_passed_as_log_fields_are_never_written(name):
    line = JsonFormatter().format(_record("hola", {name: "very-secret-value", "invoice_id": 7, "lane": "30712345671/00001/006"}))
    assert "very-secret-value" not in line
    assert json.loads(line)["invoice_id"] == 7


@given(st.text())
def test_every_request_path_gets_one_of_a_few_endpoint_labels(path):
    assert ops_http.endpoint_label(path) in BOUNDED_LABELS


def test_endpoint_labels_name_the_tf_routes():
    assert ops_http.endpoint_label("/app/api/v2/facturacion/nuevo_encola") == "facturacion/nuevo_encola"
    assert ops_http.endpoint_label("/app/api/v2/facturacion/30712345671") == "other"
    assert ops_http.endpoint_label("/comprobantes/abc/pdf") == "comprobantes"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return open_store_of_processes(f"sqlite:///{tmp_path_factory.mktemp('ops') / 'encola.db'}")


@pytest.fixture(scope="module")
def client(store):
    with TestClient(ops_http.ops_app(store, [], TOKEN)) as test_client:
        yield test_client


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60))
def test_metrics_answer_only_the_exact_bearer_token(client, header):
    answer = client.get("/metrics", headers={"Authorization": header})
    assert answer.status_code == (200 if header.strip() in (f"Bearer {TOKEN}", f"bearer {TOKEN}") else 401)


def test_metrics_expose_the_store_gauges(client):
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert 'encola_invoices{state="queued"} 0.0' in text
    assert "encola_oldest_due_invoice_age_seconds 0.0" in text


def test_a_loop_that_never_ticked_or_stopped_ticking_makes_the_process_not_ready(store, monkeypatch):
    health.reset()
    assert asyncio.run(health.readiness(store.engine, [])).ready
    assert not asyncio.run(health.readiness(store.engine, ["engine"])).ready
    health.beat("engine")
    assert asyncio.run(health.readiness(store.engine, ["engine"])).ready
    monkeypatch.setattr(health, "STALE_AFTER_SECONDS", 0.0)
    assert not asyncio.run(health.readiness(store.engine, ["engine"])).checks["engine"]["ok"]
    monkeypatch.undo()
    health.stopping()
    assert asyncio.run(health.readiness(store.engine, ["engine"])).checks["shutdown"] == {"ok": False, "error": "stopping"}
    health.reset()


def test_the_observer_names_methods_from_soap_actions_and_counts_a_batch_from_its_body():
    from encola.afip import wsfe_xml
    from encola.afip.soap import envelope
    from encola.ops import metrics

    assert observe.method_of("https://x/wsfev1/service.asmx", {"SOAPAction": '"http://ar.gov.afip.dif.FEV1/FECAESolicitar"'}) == "FECAESolicitar"
    assert observe.method_of("https://wsaahomo.afip.gov.ar/ws/services/LoginCms", {"SOAPAction": '""'}) == "loginCms"
    assert observe.method_of("https://x/", {"SOAPAction": '"http://evil/30712345671"'}) == "other"
    details = [_detail(numero) for numero in range(1, 8)]
    body = envelope(wsfe_xml.cae_request(wsfe_xml.operation("FECAESolicitar"), 1, 6, details))
    before = metrics.BATCH_SIZE._sum.get()

    async def answered():
        return 200, b""

    headers = {"SOAPAction": '"http://ar.gov.afip.dif.FEV1/FECAESolicitar"'}
    asyncio.run(observe.observed(answered(), "https://x/wsfev1", body, headers))
    assert metrics.BATCH_SIZE._sum.get() - before == 7


def _detail(numero: int):
    from encola.afip.models import AlicIva, CaeDetail

    day = date(2026, 1, 1)
    return CaeDetail(
        concepto=1, doc_tipo=96, doc_nro=12345678, cbte_desde=numero, cbte_hasta=numero, cbte_fch=day,
        imp_total=Decimal("121"), imp_neto=Decimal("100"), imp_iva=Decimal("21"), iva=(AlicIva(5, Decimal("100"), Decimal("21")),),
    )


def test_a_queued_invoice_became_due_at_its_arrival_or_at_the_start_of_its_day_in_argentina():
    assert queries.became_due(date(2026, 3, 2), datetime(2026, 3, 1, 12)) == datetime(2026, 3, 2, 3)
    assert queries.became_due(date(2026, 3, 1), datetime(2026, 3, 1, 12)) == datetime(2026, 3, 1, 12)


def test_shutdown_grace_and_metrics_token_settings():
    assert Settings.from_env({}).shutdown_grace == 20.0 and Settings.from_env({}).metrics_token is None
    values = Settings.from_env({"ENCOLA_SHUTDOWN_GRACE": "5s", "ENCOLA_METRICS_TOKEN": " t0ken "})
    assert values.shutdown_grace == 5.0 and values.metrics_token == "t0ken"
    with pytest.raises(SettingsError):
        Settings.from_env({"ENCOLA_SHUTDOWN_GRACE": "0"})


@given(st.text(max_size=30))
def test_a_date_filter_of_the_operator_commands_is_a_date_or_a_clear_refusal(text):
    import click

    from encola.ops.commands import _wire_date

    try:
        parsed = _wire_date(text, "--desde")
    except click.BadParameter as refusal:
        assert "dd/mm/aaaa" in str(refusal)
    else:
        assert isinstance(parsed, date) and parsed.strftime("%d/%m/%Y") == datetime.strptime(text.strip(), "%d/%m/%Y").strftime("%d/%m/%Y")
