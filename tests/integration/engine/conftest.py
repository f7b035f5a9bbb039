import pytest


@pytest.fixture
def database_url(backend, databases):
    """A fresh database per test, on SQLite and on PostgreSQL (see tests/conftest.py)."""
    return databases.new(backend)
