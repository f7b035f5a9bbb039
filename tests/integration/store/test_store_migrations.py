"""Migrations: upgrading an empty database builds exactly ``schema.metadata``, and again is a no-op."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.config import Config
from sqlalchemy import inspect, text

from encola.store import schema
from encola.store.db import MIGRATIONS, make_engine, migrate
from encola.store.store import NewEvent
from store_helpers import make_pdv


def differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, schema.metadata)


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def schema_snapshot(engine) -> list[tuple]:
    """Tables, columns and indexes as the database reports them (either engine)."""
    inspector = inspect(engine)
    snapshot = []
    for table in sorted(inspector.get_table_names()):
        columns = [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)]
        indexes = sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table))
        snapshot.append((table, columns, indexes))
    return snapshot


def test_upgrading_an_empty_database_gives_exactly_the_metadata(engine):
    assert differences(engine) == []


def test_every_table_of_the_metadata_exists_after_migrating(engine):
    tables = set(inspect(engine).get_table_names())
    assert set(schema.metadata.tables) <= tables
    assert tables - set(schema.metadata.tables) == {"alembic_version"}


def test_the_database_is_stamped_with_the_newest_migration(engine):
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()


def test_the_live_reference_index_is_partial_and_unique(engine):
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = "SELECT sql FROM sqlite_master WHERE name = 'uq_invoices_live_external_reference'"
        else:
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_invoices_live_external_reference'"
        sql = connection.execute(text(query)).scalar_one()
    assert "UNIQUE" in sql.upper()
    normalized = sql.replace("::text", "").replace("ARRAY[", "(").replace("]", ")").replace("= ANY ", "IN ")
    for state in ("'queued'", "'processing'", "'emitted'"):
        assert state in normalized
    assert "WHERE" in sql.upper()


def test_migrating_twice_changes_nothing_and_keeps_the_data(engine, store):
    seller = make_pdv(store)
    hook_id = store.record_event(seller.pdv.id, NewEvent("test", "ref-1", recurso="test"))
    before = schema_snapshot(engine)

    migrate(engine)

    assert schema_snapshot(engine) == before
    assert differences(engine) == []
    assert [e.hook_id for e in store.events()] == [hook_id]
    assert store.pdv_by_apikey(seller.pdv.apikey) == seller.pdv


def test_two_engines_on_one_database_can_both_migrate(database_url):
    first, second = make_engine(database_url), make_engine(database_url)
    try:
        migrate(first)
        migrate(second)
        assert differences(second) == []
    finally:
        first.dispose()
        second.dispose()


def test_the_buyer_document_column_is_filled_for_invoices_stored_before_it(engine, store):
    """Migration 0011: invoices stored before ``doc_nro`` existed get it from their ``view``."""
    from datetime import date, datetime

    from alembic import command
    from sqlalchemy import insert

    seller = make_pdv(store)
    now = datetime(2025, 6, 16, 12)
    row = {"pdv_id": seller.pdv.id, "cuit": seller.pdv.cuit, "punto_venta": seller.pdv.punto_venta, "cbte_tipo": 6,
           "tipo": "FACTURA B", "external_reference": "", "request_hash": "0" * 64, "fecha": date(2025, 6, 16),
           "state": "queued", "next_attempt_at": now, "total": "121.00", "afip": "{}", "response": "{}",
           "created_at": now, "updated_at": now}
    with engine.begin() as connection:
        connection.execute(insert(schema.invoices), [
            {**row, "external_reference": "a", "view": '{"cliente":{"documento_nro":"30111222 "}}'},
            {**row, "external_reference": "b", "view": '{"cliente":{"documento_nro":" "}}'},
        ])
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
        command.upgrade(config, "head")
    with engine.connect() as connection:
        found = connection.execute(text("SELECT external_reference, doc_nro FROM invoices ORDER BY external_reference")).all()
    assert [tuple(r) for r in found] == [("a", "30111222"), ("b", None)]
    assert differences(engine) == []
