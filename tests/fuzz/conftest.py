"""One real ``encola serve`` per database pass for the fuzz tests, with the rows it stores in view.

The engine is off (``--no-engine``): nothing but the requests themselves writes invoices or hooks,
so counting rows before and after a request tells what that request stored.
"""

from __future__ import annotations

import pytest

from fuzz_support import ADMIN_PUNTO_VENTA, CUIT, PUNTO_VENTA, UNLIMITED, Rows, valid_bodies
from support import EncolaProcess, WebhookReceiver


@pytest.fixture(scope="module")
def receiver(backend):
    hooks = WebhookReceiver()
    yield hooks
    hooks.stop()


@pytest.fixture(scope="module")
def server(database_url, receiver):
    process = EncolaProcess(database_url, args=("serve", "--no-engine"), extra_env=UNLIMITED)
    process.keys = process.provision(CUIT, PUNTO_VENTA, receiver.url, token=receiver.token)
    process.admin_keys = process.provision(CUIT, ADMIN_PUNTO_VENTA, receiver.url, token=receiver.token)
    process.bodies = valid_bodies(process.keys, process.admin_keys, receiver.url)
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def rows(server, database_url):
    counter = Rows(database_url)
    yield counter
    counter.close()
