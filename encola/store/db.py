"""Engines for SQLite (embedded default) and PostgreSQL, and the migration entry point."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` as users write it and use psycopg 3 for it."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # No pre-ping (a round trip per transaction): a dropped connection fails one transaction,
    # which answers 503 or is retried by its loop, and the pool then replaces it.
    return create_engine(url, pool_size=20, max_overflow=30, pool_recycle=1800)


def _sqlite_engine(url: str) -> Engine:
    # As many pooled connections as worker threads (anyio's default 40), so none is opened per request.
    engine = create_engine(url, pool_size=40, max_overflow=10, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # Take transaction control from the driver so that writers can BEGIN IMMEDIATE:
        # a deferred transaction that later writes can fail with SQLITE_BUSY no matter the timeout.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        mode = "IMMEDIATE" if connection.get_execution_options().get("write") else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration; safe to run from several processes."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            # Serialise concurrent `encola` processes migrating the same database.
            connection.execute(text("SELECT pg_advisory_lock(727274)"))
            connection.commit()
        else:
            connection = connection.execution_options(write=True)
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(727274)"))
                connection.commit()
