"""The engine's retry policy for transient AFIP failures, and the texts of its error hooks."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from encola.afip import AfipMessage
from encola.engine import messages, policy


@pytest.mark.parametrize(("attempts", "base"), [(0, 2.0), (1, 2.0), (2, 4.0), (3, 8.0), (5, 32.0), (8, 256.0)])
def test_backoff_doubles_from_two_seconds_within_twenty_percent_jitter(attempts, base):
    rng = random.Random(attempts)
    for _ in range(200):
        assert 0.8 * base <= policy.backoff_seconds(attempts, rng) <= 1.2 * base


@pytest.mark.parametrize("attempts", [9, 10, 20, 50, 99, 100])
def test_backoff_is_capped_at_five_minutes_before_jitter(attempts):
    rng = random.Random(attempts)
    delays = [policy.backoff_seconds(attempts, rng) for _ in range(200)]
    assert all(0.8 * 300 <= d <= 1.2 * 300 for d in delays)


def test_the_jitter_spreads_lanes_that_fail_together():
    rng = random.Random(7)
    delays = {round(policy.backoff_seconds(4, rng), 6) for _ in range(50)}
    assert len(delays) > 40


def test_the_jitter_reaches_both_ends_of_its_range():
    class Edge(random.Random):
        def __init__(self, pick):
            super().__init__()
            self.pick = pick

        def uniform(self, a, b):
            return a if self.pick == "low" else b

    assert policy.backoff_seconds(1, Edge("low")) == pytest.approx(1.6)
    assert policy.backoff_seconds(1, Edge("high")) == pytest.approx(2.4)
    assert policy.backoff_seconds(50, Edge("high")) == pytest.approx(360.0)


def test_backoff_stays_capped_for_any_attempt_count():
    assert policy.backoff_seconds(2000, random.Random(1)) <= 1.2 * policy.CAP_SECONDS


def test_next_attempt_at_respects_a_minimum_wait():
    now = datetime(2025, 3, 10, 15, 0, 0)
    later = policy.next_attempt_at(now, 1, minimum_seconds=600)
    assert (later - now).total_seconds() == 600
    sooner = policy.next_attempt_at(now, 1)
    assert 1.6 <= (sooner - now).total_seconds() <= 2.4


def test_an_invoice_is_exhausted_at_its_hundredth_attempt():
    assert policy.MAX_ATTEMPTS == 100
    assert not policy.exhausted(0)
    assert not policy.exhausted(99)
    assert policy.exhausted(100)
    assert policy.exhausted(101)


def test_an_afip_rejection_leads_with_the_general_message_then_each_error_and_observation():
    text = messages.afip_rejection(
        (AfipMessage(10036, "El campo FchVtoPago no puede ser anterior a la fecha del comprobante."),),
        (AfipMessage(10217, "El credito es de cuenta corriente."),),
    )
    assert text == [
        " AFIP Factura electronica, informa el siguiente error: Cod. Error: #6661145.0 - AFIP rechazo la generacion del comprobante",
        " AFIP Factura electronica, informa el siguiente error: Cod. Error: #6661145.10036 - "
        "El campo FchVtoPago no puede ser anterior a la fecha del comprobante.",
        " AFIP Factura electronica, informa el siguiente error: Cod. Error: #6661145.10217 - El credito es de cuenta corriente.",
    ]


def test_a_rejection_without_details_still_says_afip_rejected_it():
    assert messages.afip_rejection((), ()) == [messages.REJECTED]


def test_the_rejection_keeps_afip_text_verbatim():
    odd = "Campo  con  dobles espacios, acentos (ñ, á) y símbolos: <>&"
    assert messages.afip_rejection((AfipMessage(1, odd),), ())[1].endswith(f"#6661145.1 - {odd}")


def test_running_out_of_attempts_names_the_count_and_the_last_error():
    assert messages.attempts_exhausted(100, "timeout de WSFEv1") == [
        "No se pudo emitir el comprobante luego de 100 intentos: los servicios de AFIP no respondieron. "
        "Ultimo error: timeout de WSFEv1"
    ]
