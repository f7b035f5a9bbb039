"""Endpoints as the dispatcher treats them: checked addresses, independence, signatures, Retry-After,
410 and the 24 h rule, redelivery. The real store on SQLite and PostgreSQL, real HTTP receivers on
127.0.0.1, a clock we move; names resolve through a made-up DNS (never a real one).
"""

from __future__ import annotations

import asyncio
import socket
import time
from contextlib import asynccontextmanager
from datetime import timedelta
from email.utils import format_datetime as http_date

import pytest
from aiohttp.abc import AbstractResolver
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from encola.settings import Settings
from encola.store.store import NewEvent
from encola.webhooks.dispatcher import Dispatcher, http_session
from encola.webhooks.redelivery import endpoint_state, reenviar
from encola.webhooks.signing import rotate_secret
from store_helpers import TinyServer, make_pdv

pytestmark = pytest.mark.anyio

SCHEDULE = (300.0, 1800.0)
HOUR = 3600.0


class MadeUpDns(AbstractResolver):
    """A DNS server that answers from a dict, and remembers what it was asked."""

    def __init__(self, names: dict[str, list[str]]):
        self.names = names
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET):
        self.asked.append(host)
        if host not in self.names:
            raise OSError(f"no such name {host}")
        return [
            {"hostname": host, "host": address, "port": port, "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
             "proto": 0, "flags": socket.AI_NUMERICHOST}
            for address in self.names[host]
        ]

    async def close(self) -> None:
        pass


@asynccontextmanager
async def dispatching(store, clock, resolver=None, **overrides):
    values = dict(webhook_retry_schedule=SCHEDULE, webhook_allow_private=True, webhook_first_timeout=5.0, webhook_retry_timeout=5.0)
    values.update(overrides)
    settings = Settings(**values)
    async with http_session(settings, resolver) as session:
        yield Dispatcher(store, settings, clock, session)


@pytest.fixture
def server():
    made: list[TinyServer] = []

    def start(answer) -> TinyServer:
        made.append(TinyServer(answer))
        return made[-1]

    yield start
    for tiny in made:
        tiny.stop()


def event_of(store, hook_id):
    return next(event for event in store.events(limit=1000) if event.hook_id == hook_id)


def pdv_now(store, seller):
    with store.reading() as connection:
        return store.pdv(connection, cuit=seller.pdv.cuit, punto_venta=seller.pdv.punto_venta)


# --- connecting only to checked addresses --------------------------------------------------


async def test_a_name_that_resolves_to_loopback_at_connect_time_is_refused_without_connecting(store, clock, receiver):
    # A rebinding DNS server answers a public address when the URL is configured and loopback
    # when the hook is sent: the address judged is the one aiohttp would connect to.
    port = receiver.url.split(":")[2].split("/")[0]
    seller = make_pdv(store, f"http://rebind.invalid:{port}/hook")
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    dns = MadeUpDns({"rebind.invalid": ["127.0.0.1"]})
    async with dispatching(store, clock, dns, webhook_allow_private=False) as dispatcher:
        assert await dispatcher.run_once() == 1

    assert dns.asked == ["rebind.invalid"]
    assert receiver.hooks == []
    [attempt] = store.attempts_of(hook_id)
    assert attempt["status_code"] is None
    assert attempt["error"] == "URL rechazada: apunta a una red privada o local rebind.invalid → 127.0.0.1"
    assert event_of(store, hook_id).state == "pending"


async def test_the_same_name_is_delivered_when_private_targets_are_allowed(store, clock, receiver):
    port = receiver.url.split(":")[2].split("/")[0]
    seller = make_pdv(store, f"http://rebind.invalid:{port}/hook")
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    dns = MadeUpDns({"rebind.invalid": ["127.0.0.1"]})
    async with dispatching(store, clock, dns, webhook_allow_private=True) as dispatcher:
        await dispatcher.run_once()

    assert [hook.body["hook_id"] for hook in receiver.hooks] == [hook_id]
    assert event_of(store, hook_id).state == "delivered"


async def test_a_name_with_any_non_public_address_is_refused_whole(store, clock, receiver):
    # Not "connect to the public one": a name that also points inward is not a webhook target.
    seller = make_pdv(store, "http://mixed.invalid/hook")
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    dns = MadeUpDns({"mixed.invalid": ["8.8.8.8", "169.254.169.254", "::1"]})
    async with dispatching(store, clock, dns, webhook_allow_private=False) as dispatcher:
        await dispatcher.run_once()

    [attempt] = store.attempts_of(hook_id)
    assert attempt["error"] == "URL rechazada: apunta a una red privada o local mixed.invalid → 169.254.169.254, ::1"


@pytest.mark.parametrize("host", ["[::ffff:127.0.0.1]", "[::127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::1]", "0x7f000001", "127.1", "①②⑦.0.0.1"])
async def test_literal_addresses_that_mean_loopback_are_refused_before_connecting(store, clock, receiver, host):
    port = receiver.url.split(":")[2].split("/")[0]
    seller = make_pdv(store, f"http://{host}:{port}/hook")
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    dns = MadeUpDns({})
    async with dispatching(store, clock, dns, webhook_allow_private=False) as dispatcher:
        await dispatcher.run_once()

    assert receiver.hooks == [] and dns.asked == []
    [attempt] = store.attempts_of(hook_id)
    assert attempt["error"].startswith("URL rechazada: apunta a una red privada o local")


# --- each endpoint on its own ----------------------------------------------------------------


async def test_the_claim_gives_each_point_of_sale_at_most_its_limit_in_flight(store, clock):
    busy = make_pdv(store, "http://127.0.0.1:9/a", punto_venta=10)
    quiet = make_pdv(store, "http://127.0.0.1:9/b", punto_venta=11)
    for i in range(10):
        store.record_event(busy.pdv.id, NewEvent("encolado", f"busy-{i}"))
    for i in range(3):
        store.record_event(quiet.pdv.id, NewEvent("encolado", f"quiet-{i}"))

    first = store.claim_due_events(32, 60, per_endpoint=4)
    assert sorted(e.external_reference for e in first) == ["busy-0", "busy-1", "busy-2", "busy-3", "quiet-0", "quiet-1", "quiet-2"]
    assert store.claim_due_events(32, 60, per_endpoint=4) == []  # leases in force count, whoever holds them

    from encola.store.store import Attempt

    done = [e for e in first if e.external_reference in ("busy-0", "busy-1")]
    store.record_attempts([Attempt(e, "u", 200, None, 1, True, None) for e in done])
    assert sorted(e.external_reference for e in store.claim_due_events(32, 60, per_endpoint=4)) == ["busy-4", "busy-5"]


async def test_a_backlog_at_one_endpoint_does_not_hide_a_later_hook_of_another(store, clock):
    flooded = make_pdv(store, "http://127.0.0.1:9/a", punto_venta=10)
    other = make_pdv(store, "http://127.0.0.1:9/b", punto_venta=11)
    with store.writing() as connection:
        store.add_events(connection, [(flooded.pdv.id, NewEvent("encolado", f"flood-{i}"), None) for i in range(600)])
    clock.advance(seconds=1)
    store.record_event(other.pdv.id, NewEvent("encolado", "late"))

    first = store.claim_due_events(32, 60, per_endpoint=4)
    second = store.claim_due_events(32, 60, per_endpoint=4)
    assert [e.pdv_id for e in first] == [flooded.pdv.id] * 4 and first.more_due
    assert [e.external_reference for e in second] == ["late"]  # the flooded endpoint is full: skipped


async def test_a_hanging_endpoint_does_not_delay_another_endpoints_hooks(store, clock, receiver, server):
    hanging = server(lambda n: (200, {}, 3.0))  # answers after the 1 s timeout
    stuck = make_pdv(store, hanging.url, punto_venta=10)
    healthy = make_pdv(store, receiver.url, punto_venta=11)
    for i in range(10):
        store.record_event(stuck.pdv.id, NewEvent("encolado", f"stuck-{i}"))
    stop = asyncio.Event()
    async with dispatching(store, clock, webhook_concurrency=4, webhook_endpoint_concurrency=2,
                           webhook_first_timeout=1.0, webhook_retry_timeout=1.0) as dispatcher:
        dispatcher.poll_seconds = 0.05
        running = asyncio.create_task(dispatcher.run(stop))
        await wait_for(lambda: len(hanging.paths) >= 2)  # the hanging endpoint holds its 2 slots
        started = time.monotonic()
        for i in range(6):
            store.record_event(healthy.pdv.id, NewEvent("encolado", f"ok-{i}"))
            dispatcher.wake()
        await wait_for(lambda: len(receiver.hooks) == 6, timeout=5)
        took = time.monotonic() - started
        hanging_requests = len(hanging.paths)
        stop.set()
        await running

    assert took < 0.8, f"the healthy endpoint waited {took:.2f} s"
    assert hanging_requests == 2  # never more than its limit at once, although 10 were due
    assert {h.body["external_reference"] for h in receiver.hooks} == {f"ok-{i}" for i in range(6)}
    assert all(event_of(store, h.body["hook_id"]).state == "delivered" for h in receiver.hooks)


async def test_the_running_dispatcher_delivers_a_backlog_and_records_every_attempt(store, clock, receiver):
    seller = make_pdv(store, receiver.url)
    for i in range(50):
        store.record_event(seller.pdv.id, NewEvent("encolado", f"ref-{i}"))
    stop = asyncio.Event()
    async with dispatching(store, clock, webhook_concurrency=8, webhook_endpoint_concurrency=3) as dispatcher:
        running = asyncio.create_task(dispatcher.run(stop))
        await wait_for(lambda: all(e.state == "delivered" for e in store.events(limit=100)), timeout=10)
        stop.set()
        await running
    assert sorted(h.body["external_reference"] for h in receiver.hooks) == sorted(f"ref-{i}" for i in range(50))
    assert all(len(store.attempts_of(e.hook_id)) == 1 for e in store.events(limit=100))


async def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


# --- Standard Webhooks signatures ----------------------------------------------------------


async def test_the_hook_verifies_with_the_standard_webhooks_library(store, clock, receiver):
    seller = make_pdv(store, receiver.url)
    assert seller.pdv.webhook_secret.startswith("whsec_")
    hook_id = store.record_event(seller.pdv.id, NewEvent("emitido", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()

    [hook] = receiver.hooks
    assert Webhook(seller.pdv.webhook_secret).verify(hook.raw, hook.headers) == hook.body
    headers = {name.lower(): value for name, value in hook.headers.items()}
    assert headers["webhook-id"] == hook_id
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5
    assert headers["webhook-signature"].startswith("v1,") and " " not in headers["webhook-signature"]
    assert headers["tf-webhooktoken"] == receiver.token  # TF's headers stay
    assert headers["user-agent"] == "TusFacturasAPP-webhook/1.0"


async def test_another_secret_or_a_changed_body_does_not_verify(store, clock, receiver):
    seller = make_pdv(store, receiver.url, punto_venta=10)
    other = make_pdv(store, receiver.url, punto_venta=11)
    store.record_event(seller.pdv.id, NewEvent("emitido", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()

    [hook] = receiver.hooks
    with pytest.raises(WebhookVerificationError):
        Webhook(other.pdv.webhook_secret).verify(hook.raw, hook.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(seller.pdv.webhook_secret).verify(hook.raw.replace(b"ref-1", b"ref-2"), hook.headers)


async def test_during_a_rotation_both_secrets_verify_until_the_grace_ends(store, clock, receiver):
    seller = make_pdv(store, receiver.url)
    old = seller.pdv.webhook_secret
    new = rotate_secret(store, seller.pdv.id, HOUR)
    assert new.startswith("whsec_") and new != old
    store.record_event(seller.pdv.id, NewEvent("emitido", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
        clock.advance(seconds=HOUR + 1)
        store.record_event(seller.pdv.id, NewEvent("emitido", "ref-2"))
        await dispatcher.run_once()

    during, after = receiver.hooks
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(during.raw, during.headers) == during.body
    assert Webhook(new).verify(during.raw, during.headers) == during.body
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert Webhook(new).verify(after.raw, after.headers) == after.body
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.raw, after.headers)


async def test_a_rotation_without_grace_ends_the_old_secret_at_once(store, clock, receiver):
    seller = make_pdv(store, receiver.url)
    new = rotate_secret(store, seller.pdv.id, 0)
    store.record_event(seller.pdv.id, NewEvent("emitido", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
    [hook] = receiver.hooks
    Webhook(new).verify(hook.raw, hook.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(seller.pdv.webhook_secret).verify(hook.raw, hook.headers)


# --- Retry-After ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_in_seconds_puts_the_next_attempt_off(store, clock, server, status):
    tiny = server(lambda n: (status, {"Retry-After": "7200"}, 0))
    seller = make_pdv(store, tiny.url)
    store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    start = clock.now()
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
    assert store.next_event_due_at() == start + timedelta(seconds=7200)


async def test_retry_after_as_an_http_date_is_honoured(store, clock, server):
    when = (clock.now() + timedelta(hours=3)).replace(tzinfo=__import__("datetime").timezone.utc)
    tiny = server(lambda n: (503, {"Retry-After": http_date(when, usegmt=True)}, 0))
    seller = make_pdv(store, tiny.url)
    store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    start = clock.now()
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
    assert store.next_event_due_at() == start + timedelta(hours=3)


async def test_retry_after_never_brings_the_next_attempt_forward_and_is_bounded(store, clock, server):
    short = server(lambda n: (429, {"Retry-After": "1"}, 0))
    huge = server(lambda n: (429, {"Retry-After": "999999999999"}, 0))
    first = make_pdv(store, short.url, punto_venta=10)
    second = make_pdv(store, huge.url, punto_venta=11)
    a = store.record_event(first.pdv.id, NewEvent("encolado", "ref-a"))
    b = store.record_event(second.pdv.id, NewEvent("encolado", "ref-b"))
    start = clock.now()
    async with dispatching(store, clock, webhook_retry_after_max=2 * HOUR) as dispatcher:
        await dispatcher.run_once()
    due = {e.hook_id: e for e in store.events()}
    assert due[a].state == due[b].state == "pending"
    with store.reading() as connection:
        from sqlalchemy import select

        from encola.store.schema import hook_events

        times = dict(connection.execute(select(hook_events.c.hook_id, hook_events.c.next_attempt_at)).all())
    assert times[a] == start + timedelta(seconds=SCHEDULE[0])
    assert times[b] == start + timedelta(hours=2)


# --- 410 and TF's 24 h rule ----------------------------------------------------------------


async def test_a_410_disables_the_endpoint_and_fails_its_pending_hooks(store, clock, server):
    gone = server(lambda n: (410, {}, 0))
    seller = make_pdv(store, gone.url)
    first = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    second = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-2"))
    async with dispatching(store, clock, webhook_concurrency=1) as dispatcher:
        assert await dispatcher.run_once() == 1
        later = store.record_event(seller.pdv.id, NewEvent("emitido", "ref-1"))
        assert await dispatcher.run_once() == 1  # taken, and failed without a request

    assert gone.paths == ["/hook"]
    state = pdv_now(store, seller)
    assert state.webhook_disabled_at == clock.now()
    assert state.webhook_disabled_reason == "la direccion de webhook respondio HTTP 410 (Gone)"
    assert (event_of(store, first).state, event_of(store, first).attempts) == ("failed", 1)
    parked = event_of(store, second)
    assert (parked.state, parked.attempts) == ("failed", 0)
    skipped = event_of(store, later)
    assert (skipped.state, skipped.attempts) == ("failed", 0)
    assert store.attempts_of(later) == []
    assert endpoint_state(state) == {
        "estado": "deshabilitado",
        "deshabilitado_desde": "10/03/2025 12:00:00",
        "motivo": "la direccion de webhook respondio HTTP 410 (Gone)",
        "fallando_desde": "10/03/2025 12:00:00",
    }


async def test_a_new_url_enables_the_endpoint_again(store, clock, server, receiver):
    gone = server(lambda n: (410, {}, 0))
    seller = make_pdv(store, gone.url)
    store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
        assert pdv_now(store, seller).webhook_disabled_at is not None
        with store.writing() as connection:
            store.update_pdv(connection, seller.pdv.id, webhook_url=receiver.url)
        assert endpoint_state(pdv_now(store, seller))["estado"] == "activo"
        hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-2"))
        await dispatcher.run_once()
    assert event_of(store, hook_id).state == "delivered"


async def test_an_endpoint_failing_for_more_than_24_hours_is_disabled(store, clock, server):
    broken = server(lambda n: (500, {}, 0))
    seller = make_pdv(store, broken.url)
    async with dispatching(store, clock, webhook_retry_schedule=(30 * HOUR,)) as dispatcher:
        store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
        await dispatcher.run_once()
        since = clock.now()
        assert pdv_now(store, seller).webhook_failing_since == since
        clock.advance(hours=24)
        store.record_event(seller.pdv.id, NewEvent("encolado", "ref-2"))
        await dispatcher.run_once()
        assert pdv_now(store, seller).webhook_disabled_at is None  # 24 h, not more
        clock.advance(seconds=1)
        store.record_event(seller.pdv.id, NewEvent("encolado", "ref-3"))
        await dispatcher.run_once()

    state = pdv_now(store, seller)
    assert state.webhook_disabled_at == clock.now()
    assert state.webhook_disabled_reason == "la direccion de webhook fallo durante mas de 24 h seguidas"
    assert {e.external_reference: e.state for e in store.events()} == {"ref-1": "failed", "ref-2": "failed", "ref-3": "failed"}
    assert {e.last_error for e in store.events()} == {
        "webhook deshabilitado: la direccion de webhook fallo durante mas de 24 h seguidas"
    }


async def test_a_delivery_restarts_the_24_hour_count(store, clock, server):
    flaky = server(lambda n: (200, {}, 0) if n == 2 else (500, {}, 0))
    seller = make_pdv(store, flaky.url)
    async with dispatching(store, clock, webhook_retry_schedule=(30 * HOUR,)) as dispatcher:
        for reference in ("ref-1", "ref-2", "ref-3"):
            store.record_event(seller.pdv.id, NewEvent("encolado", reference))
            await dispatcher.run_once()
            clock.advance(hours=20)
    state = pdv_now(store, seller)
    assert state.webhook_disabled_at is None
    assert state.webhook_failing_since == clock.now() - timedelta(hours=20)


async def test_the_24_hour_rule_can_be_switched_off(store, clock, server):
    broken = server(lambda n: (500, {}, 0))
    seller = make_pdv(store, broken.url)
    async with dispatching(store, clock, webhook_retry_schedule=(30 * HOUR,), webhook_disable_after=None) as dispatcher:
        for reference in ("ref-1", "ref-2"):
            store.record_event(seller.pdv.id, NewEvent("encolado", reference))
            await dispatcher.run_once()
            clock.advance(hours=48)
    assert pdv_now(store, seller).webhook_disabled_at is None


# --- redelivery ----------------------------------------------------------------------------


async def spend_the_schedule(store, clock, dispatcher):
    await dispatcher.run_once()
    for delay in SCHEDULE:
        clock.advance(seconds=delay)
        await dispatcher.run_once()


async def test_redelivery_sends_failed_hooks_again_with_their_hook_id_and_a_fresh_schedule(store, clock, receiver):
    receiver.fail_first = 4
    seller = make_pdv(store, receiver.url)
    hook_id = store.record_event(seller.pdv.id, NewEvent("emitido", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await spend_the_schedule(store, clock, dispatcher)
        assert event_of(store, hook_id).state == "failed"
        assert store.redeliver_events(clock.now() - timedelta(days=1), seller.pdv.id) == 1
        event = event_of(store, hook_id)
        assert (event.state, event.attempts, event.schedule_start) == ("pending", 3, 3)
        await dispatcher.run_once()  # the 4th request fails too: the schedule starts over
        assert store.next_event_due_at() == clock.now() + timedelta(seconds=SCHEDULE[0])
        clock.advance(seconds=SCHEDULE[0])
        await dispatcher.run_once()

    assert event_of(store, hook_id).state == "delivered"
    assert [h.body["intento"] for h in receiver.hooks] == [1, 2, 3, 4, 5]
    assert {h.body["hook_id"] for h in receiver.hooks} == {hook_id}


async def test_redelivery_takes_only_hooks_created_since_the_moment(store, clock, server):
    broken = server(lambda n: (500, {}, 0))
    seller = make_pdv(store, broken.url)
    async with dispatching(store, clock, webhook_retry_schedule=()) as dispatcher:
        old = store.record_event(seller.pdv.id, NewEvent("encolado", "old"))
        clock.advance(hours=2)
        recent = store.record_event(seller.pdv.id, NewEvent("encolado", "recent"))
        await dispatcher.run_once()
    assert store.redeliver_events(clock.now() - timedelta(hours=1), seller.pdv.id) == 1
    assert (event_of(store, old).state, event_of(store, recent).state) == ("failed", "pending")


async def test_redelivery_of_one_point_of_sale_never_touches_anothers(store, clock, server):
    broken = server(lambda n: (410, {}, 0))
    mine = make_pdv(store, broken.url, punto_venta=10)
    theirs = make_pdv(store, broken.url, punto_venta=11)
    my_hook = store.record_event(mine.pdv.id, NewEvent("encolado", "same-ref"))
    their_hook = store.record_event(theirs.pdv.id, NewEvent("encolado", "same-ref"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()

    answer = reenviar(store, pdv_now(store, mine), {"desde": "10/03/2025"})
    assert answer == {"error": "N", "errores": [], "reenviados": 1}
    assert event_of(store, my_hook).state == "pending"
    assert event_of(store, their_hook).state == "failed"
    assert pdv_now(store, mine).webhook_disabled_at is None  # asking again says the endpoint is back
    assert pdv_now(store, theirs).webhook_disabled_at is not None


async def test_redelivery_sends_what_was_skipped_while_the_endpoint_was_disabled(store, clock, server, receiver):
    gone = server(lambda n: (410, {}, 0))
    seller = make_pdv(store, gone.url)
    store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    async with dispatching(store, clock) as dispatcher:
        await dispatcher.run_once()
        missed = store.record_event(seller.pdv.id, NewEvent("emitido", "ref-1"))
        await dispatcher.run_once()
        assert event_of(store, missed).state == "failed"
        with store.writing() as connection:
            store.update_pdv(connection, seller.pdv.id, webhook_url=receiver.url)
        assert store.redeliver_events(clock.now()) == 2
        await dispatcher.run_once()
    assert sorted(h.body["evento"] for h in receiver.hooks) == ["emitido", "encolado"]
    assert [h.body["intento"] for h in receiver.hooks if h.body["hook_id"] == missed] == [1]


@pytest.mark.parametrize("desde", [None, "", "ayer", "31/02/2025", 5])
async def test_redelivery_needs_a_valid_desde(store, clock, desde):
    seller = make_pdv(store, "http://127.0.0.1:9/hook")
    answer = reenviar(store, seller.pdv, {"desde": desde})
    assert answer["error"] == "S"
    assert answer["errores"] == ["El campo desde debe tener el formato dd/mm/aaaa."]
