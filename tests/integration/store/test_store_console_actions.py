"""The console actions' statements on SQLite and PostgreSQL: a paused lane is left out of the
engine's due lanes (before or after its first run, with or without a lease in force), lookups
stay within the operator's workspaces, one delivery is sent again, the audit log is scoped."""

from __future__ import annotations

from datetime import timedelta

from encola.store.audit import Actor
from encola.store.lanes import Lane, LaneStore
from store_helpers import CUIT, PUNTO_VENTA, make_pdv

LANE = Lane(CUIT, PUNTO_VENTA, 6)  # FACTURA B, as store_helpers' invoices


def pause(store, paused: bool, lane: Lane = LANE) -> bool:
    with store.writing() as connection:
        return store.set_lane_paused(connection, lane.cuit, lane.punto_venta, lane.cbte_tipo, paused)


def test_a_paused_lane_is_not_due_until_resumed_even_before_its_first_run(store, clock):
    seller = make_pdv(store)
    assert seller.submit("r-1")["error"] == "N"
    lanes = LaneStore(store, lease_seconds=30)
    assert lanes.due_lanes(clock.today()) == [LANE]

    assert pause(store, True) is True  # no lease row yet: one is made, expired
    assert pause(store, True) is False  # already paused
    assert lanes.due_lanes(clock.today()) == []
    assert lanes.due_lanes(clock.today(), holder="w1") == []

    assert pause(store, False) is True
    assert lanes.due_lanes(clock.today()) == [LANE]
    lease = lanes.acquire(LANE, "w1")
    assert lease is not None and lease.token == 1  # the paused row's token 0 does not skip a number


def test_pausing_a_lane_held_by_this_worker_leaves_it_out_at_the_next_claim(store, clock):
    seller = make_pdv(store)
    seller.submit("r-1")
    lanes = LaneStore(store, lease_seconds=30)
    lease = lanes.acquire(LANE, "w1")
    pause(store, True)
    assert lanes.due_lanes(clock.today(), holder="w1") == []
    lanes.release(lease)
    clock.advance(seconds=60)
    assert lanes.due_lanes(clock.today(), holder="w2") == []
    pause(store, False)
    assert lanes.due_lanes(clock.today(), holder="w2") == [LANE]
    assert lanes.acquire(LANE, "w2").token == lease.token + 1


def test_lookups_find_nothing_outside_the_workspaces(store):
    seller = make_pdv(store)
    seller.submit("r-1")
    mine, other = frozenset({seller.pdv.workspace_id}), frozenset({seller.pdv.workspace_id + 1})
    with store.reading() as connection:
        row = store.by_external_reference(connection, seller.pdv.id, "r-1")[0]
        assert store.invoice_in_scope(connection, row.id, mine)[0].id == row.id
        assert store.invoice_in_scope(connection, row.id, None) is not None
        assert store.invoice_in_scope(connection, row.id, other) is None
        assert store.pdv_in_scope(connection, seller.pdv.id, other) is None
        assert store.pdv_in_scope(connection, seller.pdv.id, mine).id == seller.pdv.id
    event = store.events(seller.pdv.id)[0]
    with store.reading() as connection:
        assert store.event_in_scope(connection, event.hook_id, other) is None
        assert store.event_in_scope(connection, event.hook_id, mine)[0].id == event.id
    assert store.pdvs_in_scope(other) == [] and [p.id for p in store.pdvs_in_scope(mine)] == [seller.pdv.id]
    assert store.lanes_in_scope(other) == []


def test_one_delivered_event_is_sent_again_with_its_schedule_from_the_start(store, clock):
    seller = make_pdv(store)
    seller.submit("r-1")
    (claimed,) = store.claim_due_events(10, 30)
    store.record_attempt(claimed, url="u", status_code=200, error=None, duration_ms=5, delivered=True, next_attempt_at=None)
    with store.writing() as connection:
        event, _ = store.event_in_scope(connection, claimed.hook_id, None)
        assert event.state == "delivered"
        assert store.redeliver_event(connection, event) is True
    again = store.events(seller.pdv.id)[0]
    assert (again.hook_id, again.state, again.schedule_start) == (claimed.hook_id, "pending", 1)
    (claimed_again,) = store.claim_due_events(10, 30)
    assert claimed_again.hook_id == claimed.hook_id
    with store.writing() as connection:  # leased right now: left to the dispatcher holding it
        assert store.redeliver_event(connection, claimed_again) is False
    clock.advance(seconds=31)
    with store.writing() as connection:
        assert store.redeliver_event(connection, claimed_again) is True


def test_the_audit_log_is_listed_per_workspace_newest_first_and_paged(store, clock):
    actor = Actor(7, "ops@example.com", None)
    with store.writing() as connection:
        for n in range(5):
            store.record_audit(connection, actor, 1 if n % 2 == 0 else 2, "eliminar", f"invoice {n}", {"n": n})
            clock.advance(seconds=1)
    assert [e.target for e in store.audit_entries(None)] == [f"invoice {n}" for n in (4, 3, 2, 1, 0)]
    assert [e.details["n"] for e in store.audit_entries(frozenset({1}))] == [4, 2, 0]
    assert [e.details["n"] for e in store.audit_entries(frozenset({1}), workspace_id=2)] == []
    first = store.audit_entries(None, limit=2)
    rest = store.audit_entries(None, before_id=first[-1].id)
    assert [e.details["n"] for e in first + rest] == [4, 3, 2, 1, 0]
    entry = first[0]
    assert (entry.operator_id, entry.operator_email, entry.action) == (7, "ops@example.com", "eliminar")
    assert entry.at == store.audit_entries(None)[0].at and entry.at <= clock.now() - timedelta(seconds=1)


def test_a_lane_paused_during_its_run_gets_no_further_batch(store, clock):
    seller = make_pdv(store)
    for n in range(3):
        seller.submit(f"r-{n}")
    lanes = LaneStore(store, lease_seconds=30)
    assert lanes.acquire(LANE, "w1") is not None
    assert len(lanes.next_batch(LANE, clock.today(), 2)) == 2
    pause(store, True)
    assert lanes.next_batch(LANE, clock.today(), 2) == []
    pause(store, False)
    assert len(lanes.next_batch(LANE, clock.today(), 10)) == 3
