"""The webhook outbox: events are leased to one dispatcher at a time and every attempt is recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from encola.store.store import NewEvent
from store_helpers import make_pdv

LEASE = 60.0


def record_attempt(store, event, *, delivered, next_attempt_at=None, status_code=None, error=None):
    store.record_attempt(
        event,
        url=event.webhook_url or "",
        status_code=status_code,
        error=error,
        duration_ms=12,
        delivered=delivered,
        next_attempt_at=next_attempt_at,
    )


def only_event(store):
    [event] = store.events()
    return event


@pytest.fixture
def seller(store):
    return make_pdv(store, "https://hooks.example.com/tf")


def test_a_new_event_is_pending_and_due_at_once(store, clock, seller):
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    event = only_event(store)
    assert (event.hook_id, event.state, event.attempts, event.creado) == (hook_id, "pending", 0, clock.now())
    assert store.next_event_due_at() == clock.now()


def test_a_claimed_event_carries_the_point_of_sale_url_and_token(store, seller):
    store.record_event(seller.pdv.id, NewEvent("error", "ref-1", ("uno", "dos")))
    [event] = store.claim_due_events(10, LEASE)
    assert event.webhook_url == "https://hooks.example.com/tf"
    assert event.webhook_token == seller.pdv.webhook_token
    assert (event.evento, event.recurso, event.external_reference, event.msg) == ("error", "facturacion", "ref-1", ["uno", "dos"])


def test_a_second_claim_gets_nothing_while_the_lease_is_live(store, clock, seller):
    store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    assert len(store.claim_due_events(10, LEASE)) == 1
    assert store.claim_due_events(10, LEASE) == []
    clock.advance(seconds=LEASE - 1)
    assert store.claim_due_events(10, LEASE) == []


def test_an_event_is_claimable_again_once_its_lease_lapses(store, clock, seller):
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    store.claim_due_events(10, LEASE)
    clock.advance(seconds=LEASE)
    [again] = store.claim_due_events(10, LEASE)
    assert again.hook_id == hook_id
    assert again.attempts == 0  # the lapsed claim recorded nothing


def test_a_claim_takes_at_most_the_limit_oldest_first(store, clock, seller):
    references = [f"ref-{i}" for i in range(5)]
    for reference in references:
        store.record_event(seller.pdv.id, NewEvent("encolado", reference))
        clock.advance(seconds=1)
    first = store.claim_due_events(2, LEASE)
    second = store.claim_due_events(10, LEASE)
    assert [e.external_reference for e in first] == references[:2]
    assert [e.external_reference for e in second] == references[2:]


def test_a_delivered_event_is_never_claimed_again(store, clock, seller):
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    [event] = store.claim_due_events(10, LEASE)
    clock.advance(seconds=2)
    record_attempt(store, event, delivered=True, status_code=200)

    stored = only_event(store)
    assert (stored.state, stored.attempts) == ("delivered", 1)
    clock.advance(days=30)
    assert store.claim_due_events(10, LEASE) == []
    assert store.next_event_due_at() is None
    [attempt] = store.attempts_of(hook_id)
    assert attempt["intento"] == 1
    assert attempt["status_code"] == 200
    assert attempt["error"] is None
    assert attempt["url"] == "https://hooks.example.com/tf"
    assert attempt["duration_ms"] == 12
    assert attempt["created_at"] == clock.now() - timedelta(days=30)


def test_a_failed_attempt_with_a_next_time_waits_until_then(store, clock, seller):
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    [event] = store.claim_due_events(10, LEASE)
    retry_at = clock.now() + timedelta(minutes=5)
    record_attempt(store, event, delivered=False, next_attempt_at=retry_at, status_code=500, error="HTTP 500")

    stored = only_event(store)
    assert (stored.state, stored.attempts) == ("pending", 1)
    assert store.next_event_due_at() == retry_at
    clock.advance(minutes=5, seconds=-1)
    assert store.claim_due_events(10, LEASE) == []
    clock.advance(seconds=1)
    [again] = store.claim_due_events(10, LEASE)
    assert (again.hook_id, again.attempts) == (hook_id, 1)


def test_the_recorded_attempt_frees_the_lease_at_once(store, clock, seller):
    store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    [event] = store.claim_due_events(10, LEASE)
    record_attempt(store, event, delivered=False, next_attempt_at=clock.now(), error="HTTP 503")
    assert len(store.claim_due_events(10, LEASE)) == 1


def test_a_failed_attempt_without_a_next_time_fails_the_event(store, clock, seller):
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    [event] = store.claim_due_events(10, LEASE)
    record_attempt(store, event, delivered=False, next_attempt_at=None, error="sin respuesta en 5 s")

    stored = only_event(store)
    assert (stored.state, stored.attempts) == ("failed", 1)
    clock.advance(days=30)
    assert store.claim_due_events(10, LEASE) == []
    assert [a["error"] for a in store.attempts_of(hook_id)] == ["sin respuesta en 5 s"]


def test_every_attempt_is_recorded_in_order_with_its_number(store, clock, seller):
    hook_id = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    for status in (500, 502):
        [event] = store.claim_due_events(10, LEASE)
        record_attempt(store, event, delivered=False, next_attempt_at=clock.now(), status_code=status, error=f"HTTP {status}")
    [event] = store.claim_due_events(10, LEASE)
    record_attempt(store, event, delivered=True, status_code=204)

    attempts = store.attempts_of(hook_id)
    assert [(a["intento"], a["status_code"], a["error"]) for a in attempts] == [
        (1, 500, "HTTP 500"),
        (2, 502, "HTTP 502"),
        (3, 204, None),
    ]
    assert only_event(store).state == "delivered"


def test_attempts_of_one_event_leave_the_others_out(store, seller):
    first = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    second = store.record_event(seller.pdv.id, NewEvent("encolado", "ref-2"))
    for event in store.claim_due_events(10, LEASE):
        record_attempt(store, event, delivered=True, status_code=200)
    assert len(store.attempts_of(first)) == 1
    assert len(store.attempts_of(second)) == 1
    assert store.attempts_of("no-such-hook") == []


def test_a_late_result_from_a_lapsed_lease_does_not_undo_a_delivery(store, clock, seller):
    store.record_event(seller.pdv.id, NewEvent("encolado", "ref-1"))
    [slow] = store.claim_due_events(10, LEASE)  # dispatcher A, which then hangs
    clock.advance(seconds=LEASE)
    [fast] = store.claim_due_events(10, LEASE)  # dispatcher B takes over and delivers
    record_attempt(store, fast, delivered=True, status_code=200)

    record_attempt(store, slow, delivered=False, next_attempt_at=None, error="sin respuesta en 20 s")

    assert only_event(store).state == "delivered"
