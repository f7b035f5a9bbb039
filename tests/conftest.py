"""Databases for tests: every test that asks for ``backend`` runs on SQLite and on PostgreSQL.

PostgreSQL runs when ``ENCOLA_TEST_POSTGRES_URL`` names a server we may create databases on
(``.ci/run`` sets it); without it those tests are skipped, and the skip says why. Each test
module gets a fresh database, dropped at the end of the session.
"""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import HealthCheck, settings

# Property and fuzz tests: a bounded run by default (CI runs both databases in a few minutes), a
# long one with HYPOTHESIS_PROFILE=fuzz (``make fuzz``). Servers are slow next to Hypothesis'
# expectations, so no deadline and no health check on speed.
_HYPOTHESIS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=150, **_HYPOTHESIS)
settings.register_profile("fuzz", max_examples=5000, **_HYPOTHESIS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

POSTGRES_URL = os.environ.get("ENCOLA_TEST_POSTGRES_URL", "")


@pytest.fixture(scope="session")
def anyio_backend():
    return "asyncio"


class Databases:
    def __init__(self, tmp_path_factory):
        self.tmp_path_factory = tmp_path_factory
        self.created: list[str] = []

    def new(self, backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.tmp_path_factory.mktemp('db') / 'encola.db'}"
        import psycopg

        name = f"encola_t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_psycopg_url(POSTGRES_URL), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return _with_database(POSTGRES_URL, name)

    def drop_all(self) -> None:
        if not self.created:
            return
        import psycopg

        with psycopg.connect(_psycopg_url(POSTGRES_URL), autocommit=True) as connection:
            for name in self.created:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _with_database(url: str, name: str) -> str:
    base, _, _ = _psycopg_url(url).rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    made = Databases(tmp_path_factory)
    yield made
    made.drop_all()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request):
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip("PostgreSQL pass skipped: ENCOLA_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    return request.param


@pytest.fixture(scope="module")
def database_url(backend, databases):
    return databases.new(backend)
