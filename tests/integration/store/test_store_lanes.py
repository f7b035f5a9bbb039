"""Lane leases with fencing tokens, and numbering that stays consecutive."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from encola.api import queue_ops
from encola.store.lanes import Lane, LaneStore, LeaseLost
from encola.store.schema import PROCESSING, QUEUED
from store_helpers import CUIT, PUNTO_VENTA, make_pdv

LEASE = 30.0
FACTURA_B = 6
LANE = Lane(CUIT, PUNTO_VENTA, FACTURA_B)


@pytest.fixture
def lanes(store):
    return LaneStore(store, lease_seconds=LEASE)


@pytest.fixture
def seller(store):
    return make_pdv(store)


def test_the_first_acquisition_of_a_lane_gets_token_1(lanes):
    lease = lanes.acquire(LANE, "worker-a")
    assert (lease.lane, lease.holder, lease.token) == (LANE, "worker-a", 1)


def test_another_holder_cannot_acquire_a_live_lease(lanes, clock):
    lanes.acquire(LANE, "worker-a")
    assert lanes.acquire(LANE, "worker-b") is None
    clock.advance(seconds=LEASE - 1)
    assert lanes.acquire(LANE, "worker-b") is None


def test_other_lanes_are_independent(lanes):
    lanes.acquire(LANE, "worker-a")
    other_type = Lane(CUIT, PUNTO_VENTA, 11)
    other_pdv = Lane(CUIT, PUNTO_VENTA + 1, FACTURA_B)
    assert lanes.acquire(other_type, "worker-b").token == 1
    assert lanes.acquire(other_pdv, "worker-b").token == 1


def test_after_expiry_another_holder_acquires_with_the_next_token(lanes, clock):
    lanes.acquire(LANE, "worker-a")
    clock.advance(seconds=LEASE)
    lease = lanes.acquire(LANE, "worker-b")
    assert (lease.holder, lease.token) == ("worker-b", 2)


def test_the_first_holder_cannot_write_once_another_took_the_lane(lanes, clock):
    stale = lanes.acquire(LANE, "worker-a")
    clock.advance(seconds=LEASE + 1)
    fresh = lanes.acquire(LANE, "worker-b")

    with pytest.raises(LeaseLost, match=str(LANE)):
        with lanes.fenced(stale):
            pytest.fail("a stale holder must not get a transaction")
    with pytest.raises(LeaseLost):
        lanes.heartbeat(stale)
    with lanes.fenced(fresh):
        pass


def test_an_expired_lease_cannot_write_even_if_nobody_took_the_lane(lanes, clock):
    lease = lanes.acquire(LANE, "worker-a")
    clock.advance(seconds=LEASE)
    with pytest.raises(LeaseLost):
        lanes.heartbeat(lease)


def test_a_heartbeat_keeps_the_lane(lanes, clock):
    lease = lanes.acquire(LANE, "worker-a")
    for _ in range(5):
        clock.advance(seconds=LEASE - 5)
        lanes.heartbeat(lease)
    assert lanes.acquire(LANE, "worker-b") is None
    with lanes.fenced(lease):
        pass


def test_the_same_holder_reacquiring_gets_a_new_token_that_fences_its_old_one(lanes):
    old = lanes.acquire(LANE, "worker-a")
    new = lanes.acquire(LANE, "worker-a")
    assert new.token == old.token + 1
    with pytest.raises(LeaseLost):
        lanes.heartbeat(old)
    lanes.heartbeat(new)


def test_release_frees_the_lane_at_once(lanes):
    lease = lanes.acquire(LANE, "worker-a")
    lanes.release(lease)
    taken = lanes.acquire(LANE, "worker-b")
    assert (taken.holder, taken.token) == ("worker-b", 2)
    with pytest.raises(LeaseLost):
        lanes.heartbeat(lease)


def test_a_stale_release_does_not_free_the_new_holder_lane(lanes, clock):
    stale = lanes.acquire(LANE, "worker-a")
    clock.advance(seconds=LEASE)
    fresh = lanes.acquire(LANE, "worker-b")
    lanes.release(stale)
    assert lanes.acquire(LANE, "worker-c") is None
    lanes.heartbeat(fresh)


def test_a_fenced_transaction_that_fails_writes_nothing(lanes, seller, store, clock):
    seller.submit("ref-1")
    [row] = lanes.next_batch(LANE, clock.today(), 10)
    lease = lanes.acquire(LANE, "worker-a")
    clock.advance(seconds=LEASE)
    lanes.acquire(LANE, "worker-b")
    with pytest.raises(LeaseLost):
        lanes.assign_numbers(lease, [(row, 1)])
    assert (store.invoice(row.id).state, store.invoice(row.id).numero) == (QUEUED, None)


def test_queued_invoices_make_their_lane_due(lanes, seller, clock):
    assert lanes.due_lanes(clock.today()) == []
    seller.submit("ref-1")
    assert lanes.due_lanes(clock.today()) == [LANE]


def test_the_batch_is_in_arrival_order(lanes, seller, clock):
    for i in range(3):
        seller.submit(f"ref-{i}")
    batch = lanes.next_batch(LANE, clock.today(), 10)
    assert [row.external_reference for row in batch] == ["ref-0", "ref-1", "ref-2"]
    assert [row.external_reference for row in lanes.next_batch(LANE, clock.today(), 2)] == ["ref-0", "ref-1"]


def test_assign_numbers_numbers_the_batch_and_marks_it_processing(lanes, seller, store, clock):
    for i in range(3):
        seller.submit(f"ref-{i}")
    batch = lanes.next_batch(LANE, clock.today(), 10)
    lease = lanes.acquire(LANE, "worker-a")

    assigned = lanes.assign_numbers(lease, list(zip(batch, (41, 42, 43))))

    assert [(row.external_reference, n) for row, n in assigned] == [("ref-0", 41), ("ref-1", 42), ("ref-2", 43)]
    assert [(store.invoice(r.id).state, store.invoice(r.id).numero) for r in batch] == [(PROCESSING, 41), (PROCESSING, 42), (PROCESSING, 43)]
    assert [r.numero for r in lanes.in_flight(LANE)] == [41, 42, 43]
    assert lanes.next_batch(LANE, clock.today(), 10) == []
    lanes.release(lease)
    assert lanes.due_lanes(clock.today()) == [LANE]  # in flight: its outcome must still be settled


def test_assign_numbers_stops_at_an_invoice_deleted_meanwhile(lanes, seller, store, clock):
    for i in range(3):
        seller.submit(f"ref-{i}")
    batch = lanes.next_batch(LANE, clock.today(), 10)
    lease = lanes.acquire(LANE, "worker-a")
    answer = queue_ops.eliminar(store, seller.pdv, {"external_reference": "ref-1"})
    assert answer["error"] == "N"

    assigned = lanes.assign_numbers(lease, list(zip(batch, (1, 2, 3))))

    assert [(row.external_reference, n) for row, n in assigned] == [("ref-0", 1)]
    first, deleted, after = (store.invoice(r.id) for r in batch)
    assert (first.state, first.numero) == (PROCESSING, 1)
    assert (deleted.state, deleted.numero) == ("deleted", None)
    assert (after.state, after.numero) == (QUEUED, None)  # not 3: that would leave a hole at 2
    assert [row.external_reference for row in lanes.next_batch(LANE, clock.today(), 10)] == ["ref-2"]


def test_assign_numbers_stops_at_an_invoice_redated_meanwhile(lanes, seller, store, clock):
    for i in range(2):
        seller.submit(f"ref-{i}")
    batch = lanes.next_batch(LANE, clock.today(), 10)
    lease = lanes.acquire(LANE, "worker-a")
    tomorrow = clock.today() + timedelta(days=1)
    answer = queue_ops.cambiar_fecha(store, clock, seller.pdv, {"external_reference": "ref-0", "fecha": tomorrow.strftime("%d/%m/%Y")})
    assert answer["error"] == "N", answer

    assert lanes.assign_numbers(lease, list(zip(batch, (1, 2)))) == []
    assert [store.invoice(r.id).numero for r in batch] == [None, None]


def _emitted(row, cae: str, observaciones=()) -> dict:
    return {
        "id": row.id, "pdv_id": row.pdv_id, "reference": row.external_reference, "cae": cae,
        "cae_vencimiento": row.fecha + timedelta(days=10), "afip_qr": f"https://qr/{cae}",
        "afip_codigo_barras": f"bar{cae}", "observaciones": list(observaciones),
    }


def test_mark_emitted_stores_each_cae_with_one_emitido_event(lanes, seller, store, clock):
    for i in range(3):
        seller.submit(f"ref-{i}")
    batch = lanes.next_batch(LANE, clock.today(), 10)
    lease = lanes.acquire(LANE, "worker-a")
    lanes.assign_numbers(lease, list(zip(batch, (7, 8, 9))))
    before = {event.id for event in store.events()}

    caes = ("71000000000001", "71000000000002", "71000000000003")
    lanes.mark_emitted(lease, [_emitted(row, cae) for row, cae in zip(batch, caes)], last_numero=9)

    stored = [store.invoice(row.id) for row in batch]
    assert [(i.state, i.numero, i.cae, i.afip_qr, i.afip_codigo_barras) for i in stored] == [
        ("emitted", n, cae, f"https://qr/{cae}", f"bar{cae}") for n, cae in zip((7, 8, 9), caes)
    ]
    assert all(i.cae_vencimiento == clock.today() + timedelta(days=10) for i in stored)
    events = [event for event in store.events() if event.id not in before]
    assert sorted((e.evento, e.external_reference, e.msg, e.state, e.recurso) for e in events) == [
        ("emitido", f"ref-{i}", [], "pending", "facturacion") for i in range(3)
    ]
    assert len({e.hook_id for e in events}) == 3 and all(len(e.hook_id) == 36 for e in events)
    lanes.release(lease)
    assert lanes.acquire(LANE, "worker-b").last_numero == 9


def test_mark_emitted_keeps_the_observations(lanes, seller, store, clock, engine):
    seller.submit("ref-0")
    [row] = lanes.next_batch(LANE, clock.today(), 10)
    lease = lanes.acquire(LANE, "worker-a")
    lanes.assign_numbers(lease, [(row, 1)])
    lanes.mark_emitted(lease, [_emitted(row, "71000000000001", ["10063 - Observación"])])
    with engine.connect() as connection:
        stored = connection.exec_driver_sql(f"SELECT observaciones FROM invoices WHERE id = {row.id}").scalar()
    assert json.loads(stored) == ["10063 - Observación"]


def test_a_stale_holder_cannot_record_results(lanes, seller, store, clock):
    seller.submit("ref-0")
    [row] = lanes.next_batch(LANE, clock.today(), 10)
    stale = lanes.acquire(LANE, "worker-a")
    lanes.assign_numbers(stale, [(row, 1)])
    before = len(store.events())
    clock.advance(seconds=LEASE)
    lanes.acquire(LANE, "worker-b")

    with pytest.raises(LeaseLost):
        lanes.mark_emitted(stale, [_emitted(row, "71000000000001")], last_numero=1)

    assert (store.invoice(row.id).state, store.invoice(row.id).cae) == (PROCESSING, None)
    assert len(store.events()) == before


def test_wsaa_tickets_are_sealed_at_rest_and_read_back(lanes, store):
    from sqlalchemy import select

    from encola.store.lanes import StoredTicket
    from encola.store.schema import afip_tickets

    ticket = StoredTicket("token-del-ticket", "firma-del-ticket", datetime(2025, 3, 11), datetime(2025, 3, 10))
    lanes.save_ticket("30712345671", "wsfe", ticket)
    with store.reading() as connection:
        raw = connection.execute(select(afip_tickets.c.token, afip_tickets.c.sign)).one()
    assert "token-del-ticket" not in raw.token and "firma-del-ticket" not in raw.sign
    assert lanes.ticket("30712345671", "wsfe") == ticket
