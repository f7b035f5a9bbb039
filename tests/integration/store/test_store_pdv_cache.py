"""The credentials' lookup is cached, unknown apikeys too: guessing apikeys costs no query each,
and a point of sale created in this process is usable at once."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from encola.domain import credentials
from encola.store import points_of_sale
from store_helpers import make_pdv

UNKNOWN = "1234567890"


@pytest.fixture
def pdv_queries(engine):
    """The statements that read the pdvs table, as the database receives them."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "FROM pdvs" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_an_unknown_apikey_is_read_from_the_database_once_within_the_cache_time(store, pdv_queries):
    assert all(store.pdv_by_apikey(UNKNOWN) is None for _ in range(500))
    assert len(pdv_queries) == 1
    assert store.pdv_is_cached(UNKNOWN)  # so intake answers it on the event loop


def test_an_unknown_apikey_is_looked_up_again_after_the_cache_time(store, pdv_queries, monkeypatch):
    monkeypatch.setattr(points_of_sale, "PDV_CACHE_SECONDS", 0.0)
    store.pdv_by_apikey(UNKNOWN)
    store.pdv_by_apikey(UNKNOWN)
    assert len(pdv_queries) == 2


def test_a_point_of_sale_created_in_this_process_is_usable_at_once_though_its_apikey_was_unknown(store, monkeypatch):
    assert store.pdv_by_apikey(UNKNOWN) is None
    real = credentials.generate
    monkeypatch.setattr(credentials, "generate", lambda: credentials.Credentials(real().usertoken, UNKNOWN, real().apitoken))
    seller = make_pdv(store)
    assert seller.keys["apikey"] == UNKNOWN
    assert store.pdv_by_apikey(UNKNOWN).id == seller.pdv.id


def test_a_flood_of_unknown_apikeys_does_not_evict_the_known_ones(store, pdv_queries, monkeypatch):
    monkeypatch.setattr(points_of_sale, "PDV_CACHE_SIZE", 50)
    monkeypatch.setattr(points_of_sale, "PDV_CACHE_SECONDS", 60.0)  # time is not what is tested here
    seller = make_pdv(store)
    apikey = seller.keys["apikey"]
    store.pdv_by_apikey(apikey)
    before = len(pdv_queries)
    for guess in range(200):
        store.pdv_by_apikey(str(2_000_000_000 + guess))
    assert len(pdv_queries) == before + 200
    assert store.pdv_by_apikey(apikey).id == seller.pdv.id
    assert len(pdv_queries) == before + 200  # still in memory
