"""The dispatcher end to end: the real store, real HTTP receivers on 127.0.0.1, a clock we move.

The HTTP session is built as ``Dispatcher.run`` builds its own (``http_session``).
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from encola.settings import Settings
from encola.store.store import NewEvent
from encola.webhooks.dispatcher import Dispatcher, http_session
from store_helpers import TOKEN, TinyServer, make_pdv

pytestmark = pytest.mark.anyio

SCHEDULE = (300.0, 1800.0)  # two retries: 5 minutes, then 30 minutes


@asynccontextmanager
async def dispatching(store, clock, **overrides):
    values = dict(webhook_retry_schedule=SCHEDULE, webhook_allow_private=True, webhook_first_timeout=5.0, webhook_retry_timeout=5.0)
    values.update(overrides)
    settings = Settings(**values)
    async with http_session(settings) as session:
        yield Dispatcher(store, settings, clock, session)


@pytest.fixture
def server():
    made: list[TinyServer] = []

    def start(answer, body: bytes = b"") -> TinyServer:
        made.append(TinyServer(answer, answer_body=body))
        return made[-1]

    yield start
    for tiny in made:
        tiny.stop()


def the_event(store):
    [event] = store.events()
    return event


async def test_a_2xx_answer_delivers_the_event(store, clock, receiver):
    seller = make_pdv(store, receiver.url)
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        assert await dispatcher.run_once() == 1
        assert await dispatcher.run_once() == 0

    assert the_event(store).state == "delivered"
    [hook] = receiver.hooks
    assert hook.body == {
        "creado": "10/03/2025 12:00:00",  # 15:00 UTC in Argentina
        "evento": "encolado",
        "recurso": "facturacion",
        "external_reference": "ref-1",
        "intento": 1,
        "msg": [],
        "hook_id": hook_id,
    }
    [attempt] = store.attempts_of(hook_id)
    assert (attempt["intento"], attempt["status_code"], attempt["error"], attempt["url"]) == (1, 200, None, receiver.url)


async def test_the_hook_carries_the_documented_headers(store, clock, receiver):
    seller = make_pdv(store, receiver.url, token=TOKEN)
    store.record_event(seller.pdv.id, NewEvent("emitido", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()

    headers = {name.lower(): value for name, value in receiver.hooks[0].headers.items()}
    assert headers["user-agent"] == "TusFacturasAPP-webhook/1.0"
    assert headers["tf-webhooktoken"] == TOKEN
    assert headers["content-type"].startswith("application/json")


async def test_the_body_is_utf8_json_with_readable_spanish(store, clock, server):
    tiny = server(lambda n: (200, {}, 0))
    seller = make_pdv(store, tiny.url)
    store.record_event(seller.pdv.id, NewEvent("error", "ref-ñ", ("El campo razón social es inválido",)))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()

    [raw] = tiny.bodies
    assert "razón social es inválido".encode("utf-8") in raw  # not \u escapes
    body = json.loads(raw.decode("utf-8"))
    assert (body["external_reference"], body["msg"]) == ("ref-ñ", ["El campo razón social es inválido"])


async def test_a_500_schedules_the_next_attempt_per_the_schedule(store, clock, receiver):
    receiver.fail_first = 1
    seller = make_pdv(store, receiver.url)
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    start = clock.now()
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
        event = the_event(store)
        assert (event.state, event.attempts) == ("pending", 1)
        assert store.next_event_due_at() == start + timedelta(seconds=SCHEDULE[0])

        clock.advance(seconds=SCHEDULE[0] - 1)
        assert await dispatcher.run_once() == 0
        clock.advance(seconds=1)
        assert await dispatcher.run_once() == 1

    assert the_event(store).state == "delivered"
    assert [(a["status_code"], a["error"]) for a in store.attempts_of(hook_id)] == [(500, "HTTP 500"), (200, None)]


async def test_after_the_schedule_is_spent_the_event_is_failed(store, clock, receiver):
    receiver.fail_first = 100
    seller = make_pdv(store, receiver.url)
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
        for delay in SCHEDULE:
            clock.advance(seconds=delay)
            assert await dispatcher.run_once() == 1
        clock.advance(days=2)
        assert await dispatcher.run_once() == 0

    event = the_event(store)
    assert (event.state, event.attempts) == ("failed", 3)  # the first send and one per delay
    assert len(receiver.hooks) == 3
    assert store.next_event_due_at() is None
    assert [a["intento"] for a in store.attempts_of(hook_id)] == [1, 2, 3]


async def test_intento_counts_up_across_retries_with_the_same_hook_id(store, clock, receiver):
    receiver.fail_first = 2
    seller = make_pdv(store, receiver.url)
    hook_id = store.record_event(seller.pdv.id, NewEvent("emitido", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
        clock.advance(seconds=SCHEDULE[0])
        await dispatcher.run_once()
        clock.advance(seconds=SCHEDULE[1])
        await dispatcher.run_once()

    bodies = [hook.body for hook in receiver.hooks]
    assert [b["intento"] for b in bodies] == [1, 2, 3]
    assert {b["hook_id"] for b in bodies} == {hook_id}
    assert {b["creado"] for b in bodies} == {"10/03/2025 12:00:00"}  # when it happened, not when sent
    assert the_event(store).state == "delivered"


async def test_a_redirect_is_not_followed_and_counts_as_a_failure(store, clock, receiver, server):
    redirecting = server(lambda n: (302, {"Location": receiver.url}, 0))
    seller = make_pdv(store, redirecting.url)
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()

    assert receiver.hooks == []
    assert redirecting.paths == ["/hook"]
    [attempt] = store.attempts_of(hook_id)
    assert (attempt["status_code"], attempt["error"]) == (302, "HTTP 302")
    assert the_event(store).state == "pending"


@pytest.mark.parametrize("status", [301, 307, 308])
async def test_no_redirect_status_counts_as_delivered(store, clock, receiver, server, status):
    redirecting = server(lambda n: (status, {"Location": receiver.url}, 0))
    seller = make_pdv(store, redirecting.url)
    store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
    assert receiver.hooks == []
    assert the_event(store).attempts == 1 and the_event(store).state == "pending"


@pytest.mark.parametrize("status", [201, 202, 204, 299])
async def test_any_2xx_acknowledges_the_hook(store, clock, server, status):
    tiny = server(lambda n: (status, {}, 0))
    seller = make_pdv(store, tiny.url)
    store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
    assert the_event(store).state == "delivered"


@pytest.mark.parametrize("status", [400, 403, 404, 429, 500, 503])  # 410: see test_store_webhook_endpoints.py
async def test_a_4xx_or_5xx_is_retried(store, clock, server, status):
    tiny = server(lambda n: (status, {}, 0))
    seller = make_pdv(store, tiny.url)
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
    assert the_event(store).state == "pending"
    assert store.attempts_of(hook_id)[0]["error"] == f"HTTP {status}"


async def test_a_wrong_token_answered_with_403_is_not_a_delivery(store, clock, receiver):
    seller = make_pdv(store, receiver.url, token="otro-token-del-pdv")
    store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
    assert receiver.hooks[0].headers["TF-WebhookToken"] == "otro-token-del-pdv"
    assert the_event(store).state == "pending"


async def test_a_receiver_slower_than_the_timeout_is_a_failure(store, clock, server):
    slow = server(lambda n: (200, {}, 1.0))
    seller = make_pdv(store, slow.url)
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock, webhook_first_timeout=0.2) as dispatcher:
        await dispatcher.run_once()

    [attempt] = store.attempts_of(hook_id)
    assert attempt["status_code"] is None
    assert attempt["error"] == "sin respuesta en 0.2 s"
    assert the_event(store).state == "pending"


async def test_retries_wait_for_the_shorter_retry_timeout(store, clock, server):
    # The first send waits up to 20 s in TF and retries 5 s: here 2 s and 0.2 s.
    tiny = server(lambda n: (500, {}, 0) if n == 1 else (200, {}, 0.6))
    seller = make_pdv(store, tiny.url)
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock, webhook_first_timeout=2.0, webhook_retry_timeout=0.2) as dispatcher:
        await dispatcher.run_once()
        clock.advance(seconds=SCHEDULE[0])
        await dispatcher.run_once()

    assert [a["error"] for a in store.attempts_of(hook_id)] == ["HTTP 500", "sin respuesta en 0.2 s"]


async def test_a_first_send_slower_than_the_retry_timeout_still_delivers(store, clock, server):
    tiny = server(lambda n: (200, {}, 0.4))
    seller = make_pdv(store, tiny.url)
    store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock, webhook_first_timeout=3.0, webhook_retry_timeout=0.1) as dispatcher:
        await dispatcher.run_once()
    assert the_event(store).state == "delivered"


async def test_a_private_address_is_refused_unless_allowed(store, clock, receiver):
    seller = make_pdv(store, receiver.url)  # 127.0.0.1
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock, webhook_allow_private=False) as dispatcher:
        await dispatcher.run_once()

    assert receiver.hooks == []
    [attempt] = store.attempts_of(hook_id)
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("URL rechazada: apunta a una red privada o local 127.0.0.1")
    assert the_event(store).state == "pending"  # retried: the rule may be lifted meanwhile


async def test_a_point_of_sale_without_webhook_fails_its_attempts(store, clock):
    seller = make_pdv(store, None)
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
    [attempt] = store.attempts_of(hook_id)
    assert attempt["error"] == "URL rechazada: el punto de venta no tiene direccion de webhook"


async def test_a_closed_port_is_a_failure_not_a_crash(store, clock, server):
    tiny = server(lambda n: (200, {}, 0))
    url = tiny.url
    tiny.stop()
    seller = make_pdv(store, url)
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        assert await dispatcher.run_once() == 1
    [attempt] = store.attempts_of(hook_id)
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("no se pudo conectar")


async def test_an_impossible_port_is_recorded_as_a_failure(store, clock):
    seller = make_pdv(store, "http://127.0.0.1:99999/hook")  # provisioning's check_url accepts it
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
    assert len(store.attempts_of(hook_id)) == 1


async def test_events_of_several_points_of_sale_go_to_their_own_receivers(store, clock, receiver, server):
    other = server(lambda n: (200, {}, 0))
    first = make_pdv(store, receiver.url, punto_venta=10)
    second = make_pdv(store, other.url, punto_venta=11)
    store.record_event(first.pdv.id, NewEvent("encolado", "ref-a"))
    store.record_event(second.pdv.id, NewEvent("encolado", "ref-b"))
    async with dispatching(store, clock) as dispatcher:
        assert await dispatcher.run_once() == 2
    assert [h.body["external_reference"] for h in receiver.hooks] == ["ref-a"]
    assert len(other.paths) == 1
    assert {e.state for e in store.events()} == {"delivered"}


async def test_one_round_delivers_at_most_the_concurrency_limit(store, clock, receiver):
    seller = make_pdv(store, receiver.url)
    for i in range(5):
        store.record_event(seller.pdv.id, NewEvent("encolado", f"ref-{i}"))
    async with dispatching(store, clock, webhook_concurrency=2) as dispatcher:
        assert [await dispatcher.run_once() for _ in range(4)] == [2, 2, 1, 0]
    assert sorted(h.body["external_reference"] for h in receiver.hooks) == [f"ref-{i}" for i in range(5)]


async def test_a_long_answer_still_acknowledges_and_the_next_hook_goes_out(store, clock, server):
    # Only the first 64 KiB of an answer are read; its connection is dropped, not reused.
    talkative = server(lambda n: (200, {}, 0), body=b"x" * (1024 * 1024))
    seller = make_pdv(store, talkative.url)
    store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        assert await dispatcher.run_once() == 1
        store.record_event(seller.pdv.id, NewEvent("encolado", "ref-2"))
        assert await dispatcher.run_once() == 1

    assert [event.state for event in store.events()] == ["delivered", "delivered"]
    assert len(talkative.bodies) == 2
