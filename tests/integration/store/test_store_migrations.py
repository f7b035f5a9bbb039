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


def sqlite_schema(engine) -> list[tuple]:
    with engine.connect() as connection:
        return connection.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")).all()


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
        sql = connection.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'uq_invoices_live_external_reference'")
        ).scalar_one()
    assert "UNIQUE" in sql.upper()
    assert "state IN ('queued', 'processing', 'emitted')" in sql


def test_migrating_twice_changes_nothing_and_keeps_the_data(engine, store):
    seller = make_pdv(store)
    hook_id = store.record_event(seller.pdv.id, NewEvent("test", "ref-1", recurso="test"))
    before = sqlite_schema(engine)

    migrate(engine)

    assert sqlite_schema(engine) == before
    assert differences(engine) == []
    assert [e.hook_id for e in store.events()] == [hook_id]
    assert store.pdv_by_apikey(seller.pdv.apikey) == seller.pdv


def test_two_engines_on_one_file_can_both_migrate(tmp_path):
    url = f"sqlite:///{tmp_path}/shared.db"
    first, second = make_engine(url), make_engine(url)
    try:
        migrate(first)
        migrate(second)
        assert differences(second) == []
    finally:
        first.dispose()
        second.dispose()
