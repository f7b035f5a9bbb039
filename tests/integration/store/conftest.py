"""The store on a real SQLite file, migrated, with a clock that moves only when told."""

from __future__ import annotations

from datetime import datetime

import pytest

from encola.clock import FixedClock
from encola.store.db import make_engine, migrate
from encola.store.store import Store
from support import WebhookReceiver

START = datetime(2025, 3, 10, 15, 0, 0)  # 12:00 on Monday 10/03/2025 in Buenos Aires


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def clock():
    return FixedClock(START)


@pytest.fixture
def database_url(backend, databases):
    """A fresh database per test, on SQLite and on PostgreSQL (see tests/conftest.py)."""
    return databases.new(backend)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine, clock):
    return Store(engine, clock)


@pytest.fixture
def receiver():
    hooks = WebhookReceiver()
    yield hooks
    hooks.stop()
