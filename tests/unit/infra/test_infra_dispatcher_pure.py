"""The dispatcher's pure parts: when to retry, and the JSON body TusFacturas documents."""

from __future__ import annotations

from datetime import datetime

import pytest

from encola.settings import DEFAULT_RETRY_SCHEDULE
from encola.store.store import HookEvent
from encola.webhooks.dispatcher import next_retry_at, payload

NOW = datetime(2022, 3, 22, 13, 0, 0)  # 10:00 in Buenos Aires


def event(**overrides) -> HookEvent:
    values = dict(
        id=1,
        hook_id="5b1f3f0e-6f0a-4f7e-9c1a-2a4b0f3d9e11",
        pdv_id=1,
        recurso="facturacion",
        evento="encolado",
        external_reference="17032",
        msg=[],
        creado=datetime(2022, 3, 18, 18, 58, 11),  # UTC
        state="pending",
        attempts=0,
    )
    values.update(overrides)
    return HookEvent(**values)


def test_the_first_failure_is_retried_after_the_first_delay():
    assert next_retry_at(NOW, 1, (300.0, 1800.0)) == datetime(2022, 3, 22, 13, 5, 0)


def test_each_failure_waits_the_next_delay_of_the_schedule():
    schedule = (1.0, 2.0, 3.0)
    assert [(next_retry_at(NOW, n, schedule) - NOW).total_seconds() for n in (1, 2, 3)] == [1.0, 2.0, 3.0]


def test_once_the_schedule_is_spent_there_is_no_next_attempt():
    assert next_retry_at(NOW, 3, (1.0, 2.0)) is None
    assert next_retry_at(NOW, 6, DEFAULT_RETRY_SCHEDULE) is None
    assert next_retry_at(NOW, 60, DEFAULT_RETRY_SCHEDULE) is None


def test_the_default_schedule_reproduces_tusfacturas_example_of_retries():
    # "Hook 0 enviado el 22/03/2022 a las 10:00; Hook 1 10:05; Hook 2 10:35; Hook 3 13:35;
    #  Hook 4 19:35; Hook 5 23/03/2022 07:35" (times in Argentina, UTC-3).
    sent = [NOW]
    while (following := next_retry_at(sent[-1], len(sent), DEFAULT_RETRY_SCHEDULE)) is not None:
        sent.append(following)
    assert [s.strftime("%d/%m/%Y %H:%M") for s in sent] == [
        "22/03/2022 13:00",
        "22/03/2022 13:05",
        "22/03/2022 13:35",
        "22/03/2022 16:35",
        "22/03/2022 22:35",
        "23/03/2022 10:35",
    ]
    assert len(sent) == 6  # the first send plus five retries


def test_the_payload_has_exactly_the_documented_keys():
    body = payload(event(), 1)
    assert list(body) == ["creado", "evento", "recurso", "external_reference", "intento", "msg", "hook_id"]


def test_the_payload_carries_the_event_attempt_and_stable_hook_id():
    hooked = event(evento="error", msg=["Cod. Error: #6661145.10036 - El campo FchVtoPago ..."])
    first, third = payload(hooked, 1), payload(hooked, 3)
    assert first["evento"] == "error"
    assert first["recurso"] == "facturacion"
    assert first["external_reference"] == "17032"
    assert first["msg"] == ["Cod. Error: #6661145.10036 - El campo FchVtoPago ..."]
    assert (first["intento"], third["intento"]) == (1, 3)
    assert isinstance(first["intento"], int)
    assert first["hook_id"] == third["hook_id"] == hooked.hook_id


def test_creado_is_argentina_time_as_dd_mm_yyyy_hh_mm_ss():
    assert payload(event(), 1)["creado"] == "18/03/2022 15:58:11"


@pytest.mark.parametrize(
    ("utc", "argentina"),
    [
        (datetime(2022, 3, 19, 2, 30, 5), "18/03/2022 23:30:05"),  # the day before in Argentina
        (datetime(2024, 1, 1, 2, 59, 59), "31/12/2023 23:59:59"),  # the year before
        (datetime(2025, 7, 9, 3, 0, 0), "09/07/2025 00:00:00"),  # midnight; no daylight saving in July
    ],
)
def test_creado_is_converted_from_utc_across_midnight(utc, argentina):
    assert payload(event(creado=utc), 1)["creado"] == argentina
