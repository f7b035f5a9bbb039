"""One group commit holding many intakes: written together, yet each as if written alone.

``Store._enqueue_many`` is what the group-commit writer runs with every request waiting at that
moment; calling it with a chosen batch makes the batch deterministic.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from encola.store.db import make_engine
from encola.store.store import EnqueueResult, NewEvent, QuotaExceeded, Store
from store_helpers import make_pdv
from support import factura_b


def item(seller, reference, cupo=None, **overrides):
    request = factura_b(seller.keys, reference=reference, fecha=seller.intake.clock.today(),
                        punto_venta=seller.pdv.punto_venta, **overrides)
    new = seller.intake.prepare(seller.pdv, request)
    return (new, NewEvent("encolado", reference), cupo, seller.pdv.workspace_id)


def test_a_batch_stores_new_invoices_in_arrival_order_with_one_event_each(store):
    seller = make_pdv(store)
    results = store._enqueue_many([item(seller, f"ref-{i}") for i in range(5)])

    ids = [result.invoice_id for result in results]
    assert all(isinstance(result, EnqueueResult) and result.existing is None for result in results)
    assert ids == sorted(ids) and len(set(ids)) == 5  # the lane's order is arrival order
    stored = {ref: store.search_by_external_reference(seller.pdv.id, ref, 0, 5).rows for ref in (f"ref-{i}" for i in range(5))}
    assert [stored[f"ref-{i}"][0].id for i in range(5)] == ids
    assert sorted(e.external_reference for e in store.events()) == [f"ref-{i}" for i in range(5)]


def test_a_reference_twice_in_one_batch_is_stored_once_and_the_second_sees_the_first(store):
    seller = make_pdv(store)
    first, twin, other = store._enqueue_many(
        [item(seller, "ref-1"), item(seller, "ref-1", precio="200"), item(seller, "ref-2")]
    )

    assert first.invoice_id is not None
    assert twin.invoice_id is None and twin.existing.id == first.invoice_id
    assert twin.existing.total == "121.00"
    assert other.invoice_id is not None
    assert store.search_by_external_reference(seller.pdv.id, "ref-1", 0, 5).total == 1
    assert sorted(e.external_reference for e in store.events()) == ["ref-1", "ref-2"]


def test_a_reference_already_live_is_returned_not_stored_again(store):
    seller = make_pdv(store)
    seller.submit("ref-1")
    [again, fresh] = store._enqueue_many([item(seller, "ref-1"), item(seller, "ref-2")])

    assert again.existing is not None and again.existing.external_reference == "ref-1"
    assert fresh.invoice_id is not None
    assert store.search_by_external_reference(seller.pdv.id, "ref-1", 0, 5).total == 1
    assert len(store.events()) == 2  # ref-1's first encolado and ref-2's


def test_a_monthly_quota_counts_the_invoices_of_the_same_batch(store):
    seller = make_pdv(store)
    results = store._enqueue_many([item(seller, f"ref-{i}", cupo=2) for i in range(3)])

    assert [isinstance(result, EnqueueResult) for result in results] == [True, True, False]
    assert isinstance(results[2], QuotaExceeded) and (results[2].used, results[2].cupo) == (2, 2)
    assert len(store.events()) == 2


def test_points_of_sale_in_one_batch_keep_their_own_references(store):
    first = make_pdv(store, punto_venta=10)
    second = make_pdv(store, punto_venta=11)
    results = store._enqueue_many([item(first, "ref-1"), item(second, "ref-1")])

    assert all(result.invoice_id is not None for result in results)
    assert store.search_by_external_reference(first.pdv.id, "ref-1", 0, 5).total == 1
    assert store.search_by_external_reference(second.pdv.id, "ref-1", 0, 5).total == 1


def test_two_processes_writing_the_same_references_store_each_once(store, database_url, clock):
    """Two stores (as two API processes have), each with its own group-commit writer, race to
    store the same 40 invoices: the live-reference index lets one of each pair in, and the
    other answers with the invoice that got in."""
    seller = make_pdv(store)
    other = Store(make_engine(database_url), clock)
    batch = [item(seller, f"ref-{i}") for i in range(40)]
    try:
        with ThreadPoolExecutor(2) as pool:
            mine, theirs = pool.map(lambda writer: [writer._enqueue_many([one])[0] for one in batch], (store, other))
    finally:
        other.engine.dispose()

    for a, b in zip(mine, theirs):
        assert (a.invoice_id is None) != (b.invoice_id is None)  # exactly one of the two stored it
        winner = a.invoice_id or b.invoice_id
        loser = b if a.invoice_id else a
        assert loser.existing.id == winner
    assert store.search_by_external_reference(seller.pdv.id, "ref-7", 0, 5).total == 1
    assert len(store.events()) == 40


def test_a_lote_is_stored_in_its_order_whatever_commits_it_spans(store):
    """A lote's invoices are queued for the writer together; their ids (a lane's order among
    invoices of one date) must follow the lote's order."""
    seller = make_pdv(store)
    today = seller.intake.clock.today()
    requests = [factura_b(seller.keys, reference=f"lote-{i}", fecha=today, punto_venta=seller.pdv.punto_venta)
                for i in range(60)]

    answer = asyncio.run(seller.intake.submit_lote(seller.pdv, {**seller.keys, "requests": requests}))

    assert answer["error"] == "N" and len(answer["response"]) == 60
    ids = [store.search_by_external_reference(seller.pdv.id, f"lote-{i}", 0, 5).rows[0].id for i in range(60)]
    assert ids == sorted(ids)
