"""The console's search by buyer document within a date range: the right invoices, newest first,
and — on SQLite, which plans without statistics — through the buyer's index, not a month of
everyone's invoices (the query that missed the 1 M-invoice target before it was told)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from encola.store.console_queries import SearchFilters, _filter_conditions, _ids_query
from store_helpers import make_pdv
from support import factura_b

BUYER = "20123456"
OTHER = "27999888"


def _submit(seller, reference: str, document: str, fecha: date) -> None:
    request = factura_b(seller.keys, reference=reference, fecha=fecha, punto_venta=seller.pdv.punto_venta)
    request["cliente"]["documento_nro"] = document
    answer = asyncio.run(seller.intake.submit(seller.pdv, request))
    assert answer["error"] == "N", answer


def test_a_buyer_within_a_month_finds_that_buyers_invoices_of_that_month_newest_first(store):
    seller = make_pdv(store)
    today = store.clock.today()
    inside, outside = today + timedelta(days=3), today + timedelta(days=40)  # queued for later
    _submit(seller, "b-old", BUYER, outside)
    _submit(seller, "b-1", BUYER, inside)
    _submit(seller, "o-1", OTHER, inside)
    _submit(seller, "b-2", BUYER, today)

    filters = SearchFilters(documento=BUYER, desde=today, hasta=today + timedelta(days=30))
    page = store.search_invoices([seller.pdv.id], filters, before=None, limit=10)

    assert [row.external_reference for row in page.rows] == ["b-2", "b-1"]
    assert page.next_before is None


def test_on_sqlite_the_buyer_search_reads_the_buyers_index_whatever_the_date_range(store):
    if store.engine.dialect.name != "sqlite":
        return  # PostgreSQL plans by its statistics; the hint is SQLite's alone
    seller = make_pdv(store)
    filters = SearchFilters(documento=BUYER, desde=date(2025, 2, 1), hasta=date(2025, 2, 28))
    query = _ids_query([seller.pdv.id, seller.pdv.id + 1], filters, _filter_conditions(filters, sqlite=True), 51)
    sql = str(query.compile(store.engine, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as connection:
        plan = [row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]

    reads = [step for step in plan if step.startswith("SEARCH invoices")]
    assert reads and all("ix_invoices_console_doc" in step for step in reads), plan
