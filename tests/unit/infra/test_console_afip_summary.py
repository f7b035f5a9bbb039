"""The AFIP status page's arithmetic, without I/O: calls counted per batch, outcomes per invoice,
nearest-rank percentiles, and what a stored certificate says about its expiry."""

from __future__ import annotations

from datetime import datetime, timedelta

from encola.afip import generate_test_certificate
from encola.console.afip_status import certificate_state, summarize
from encola.store.afip_status import AttemptSample

T0 = datetime(2026, 11, 28, 12, 0, 0)


def sample(method: str, batch: str, ms: int, outcome: str = "accepted", seconds: int = 0) -> AttemptSample:
    return AttemptSample(method, batch, "30712345674", T0 + timedelta(seconds=seconds), ms, outcome)


def test_a_batch_is_one_call_and_each_invoice_one_outcome():
    samples = [sample("FECAESolicitar", "b1", 120), sample("FECAESolicitar", "b1", 120, "rejected"),
               sample("FECAESolicitar", "b1", 120), sample("FECAESolicitar", "b2", 80, seconds=5)]
    (summary,) = summarize(samples)
    assert summary.calls == 2
    assert summary.outcomes == [("accepted", 3), ("rejected", 1)]
    assert (summary.p50_ms, summary.max_ms, summary.last_at) == (80, 120, T0 + timedelta(seconds=5))


def test_percentiles_are_nearest_rank_per_method():
    samples = [sample("FECompConsultar", f"c{i}", ms) for i, ms in enumerate(range(1, 101))]
    samples.append(sample("FECAESolicitar", "x", 7))
    consultar, solicitar = sorted(summarize(samples), key=lambda s: s.method != "FECompConsultar")
    assert (consultar.calls, consultar.p50_ms, consultar.p95_ms, consultar.max_ms) == (100, 50, 95, 100)
    assert (solicitar.p50_ms, solicitar.p95_ms) == (7, 7)


def test_a_certificate_is_expiring_under_30_days_and_one_of_another_cuit_is_flagged():
    now = datetime.utcnow()
    soon, _ = generate_test_certificate("30712345674", "A", valid_days=10)
    later, _ = generate_test_certificate("30712345674", "A", valid_days=400)
    assert certificate_state("30712345674", soon.decode(), now).expiring
    state = certificate_state("30712345674", later.decode(), now)
    assert not state.expiring and state.problem is None and state.days_left >= 399
    assert certificate_state("20123456786", later.decode(), now).problem == "es del CUIT 30712345674"
    assert certificate_state("20123456786", None, now).problem == "sin certificado"
    assert certificate_state("20123456786", "basura", now).problem.startswith("el certificado guardado")
