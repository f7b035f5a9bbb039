"""Idempotency by external_reference: a retried request replays its answer; another one is refused."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from encola.api import queue_ops
from store_helpers import make_pdv
from support import factura_b


def codes(answer: dict) -> list[str]:
    return [detail["code"] for detail in answer["error_details"]]


def stored(store, seller, reference):
    return store.search_by_external_reference(seller.pdv.id, reference, 0, 50)


def test_the_same_request_twice_gives_the_same_answer_and_one_invoice(store):
    seller = make_pdv(store)
    first = seller.submit("ref-1")
    second = seller.submit("ref-1")
    assert first["error"] == "N"
    assert second == first
    assert stored(store, seller, "ref-1").total == 1
    assert [e.evento for e in store.events()] == ["encolado"]  # no second hook either


def test_a_retried_request_replays_the_answer_even_after_the_day_changes(store, clock):
    seller = make_pdv(store)
    request = factura_b(seller.keys, reference="ref-1", fecha=clock.today(), punto_venta=10)
    first = asyncio.run(seller.intake.submit(seller.pdv, request))
    clock.advance(days=1)
    assert asyncio.run(seller.intake.submit(seller.pdv, request)) == first
    assert stored(store, seller, "ref-1").total == 1


def test_a_different_request_under_a_live_reference_is_refused_with_tfc_8010(store):
    seller = make_pdv(store)
    seller.submit("ref-1")
    answer = seller.submit("ref-1", precio="200")
    assert answer["error"] == "S"
    assert codes(answer) == ["TFC-8010"]
    assert "ref-1" in answer["errores"][0]
    assert answer["external_reference"] == "ref-1"
    [only] = stored(store, seller, "ref-1").rows
    assert only.total == "121.00"
    assert [e.evento for e in store.events()] == ["encolado"]  # no error hook about a live invoice


def test_after_eliminar_the_reference_can_be_used_again(store):
    seller = make_pdv(store)
    seller.submit("ref-1")
    deleted = queue_ops.eliminar(store, seller.pdv, {"external_reference": "ref-1"})
    assert (deleted["error"], deleted["procesados_cant"]) == ("N", 1)

    again = seller.submit("ref-1", precio="200")

    assert again["error"] == "N"
    [live] = stored(store, seller, "ref-1").rows  # the deleted one no longer shows
    assert live.total == "242.00"
    assert [e.evento for e in reversed(store.events())] == ["encolado", "eliminado", "encolado"]


def test_after_eliminar_the_very_same_request_is_a_new_invoice(store):
    seller = make_pdv(store)
    first = seller.submit("ref-1")
    queue_ops.eliminar(store, seller.pdv, {"external_reference": "ref-1"})
    assert seller.submit("ref-1") == first
    rows = stored(store, seller, "ref-1").rows
    assert len(rows) == 1 and rows[0].state == "queued"


def test_references_are_per_point_of_sale(store):
    ten = make_pdv(store, punto_venta=10)
    eleven = make_pdv(store, punto_venta=11)
    assert ten.submit("ref-1")["error"] == "N"
    assert eleven.submit("ref-1", precio="300")["error"] == "N"


def test_different_references_are_different_invoices(store):
    seller = make_pdv(store)
    for reference in ("ref-1", "ref-2"):
        assert seller.submit(reference)["error"] == "N"
    assert stored(store, seller, "ref-1").total == stored(store, seller, "ref-2").total == 1


def test_the_same_request_sent_concurrently_stores_one_invoice(store):
    seller = make_pdv(store)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: seller.submit("ref-1"), range(8)))
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["error"] == "N"
    assert stored(store, seller, "ref-1").total == 1
    assert len(store.events()) == 1


def test_different_requests_racing_for_one_reference_leave_one_winner(store):
    seller = make_pdv(store)
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda i: seller.submit("ref-1", precio=str(100 + i)), range(6)))
    assert sorted(answer["error"] for answer in answers) == ["N"] + ["S"] * 5
    assert all(codes(answer) == ["TFC-8010"] for answer in answers if answer["error"] == "S")
    assert stored(store, seller, "ref-1").total == 1
