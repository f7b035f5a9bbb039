"""The engine in-process against the simulator app, with a clock we move: AFIP down for good
uses up an invoice's attempts, which then ends in error with an ``error`` hook; AFIP down for a
while only delays it."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from encola.afip import AfipEndpoints
from encola.afip_sim.server import create_app as create_simulator
from encola.api.intake import Intake
from encola.api.provisioning import PdvSpec, provision
from encola.clock import FixedClock
from encola.engine import policy
from encola.engine.afip_access import AfipAccess
from encola.engine.engine import Engine
from encola.store.db import make_engine, migrate
from encola.store.lanes import LaneStore
from encola.store.store import Store
from support import NOON_TODAY, factura_b

BASE = "http://afip-sim.test"
NOW = NOON_TODAY  # 12:00 in Buenos Aires today: the in-process simulator keeps the real date


@pytest.fixture
def world(database_url):
    clock = FixedClock(NOW)
    store = Store(make_engine(database_url), clock)
    migrate(store.engine)
    simulator = create_simulator()
    simulator.state.ledger.register_point_of_sale(30712345671, 10)  # as at ARCA
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator), base_url=BASE)
    lanes = LaneStore(store, lease_seconds=30)
    engine = Engine(lanes, AfipAccess(lanes, http, AfipEndpoints.for_simulator(BASE), simulated=True), clock)
    keys = provision(store, PdvSpec("30712345671", 10, "RI", "Empresa", "P", "http://127.0.0.1:9/hook")).credentials
    pdv = store.pdv_by_apikey(keys.apikey)
    answer = asyncio.run(Intake(store, clock).submit(pdv, factura_b(keys.as_json(), reference="caida-1", fecha=clock.today(), punto_venta=10)))
    assert answer["error"] == "N"
    yield store, clock, simulator, engine
    store.engine.dispose()


async def run_round(engine: Engine, clock: FixedClock) -> None:
    engine._not_before.clear()  # the in-memory lane back-off; the invoice's own back-off is in the store
    await engine.run_until_idle(timeout=20)
    clock.advance(seconds=policy.CAP_SECONDS * 1.3)


def invoice_of(store: Store):
    with store.reading() as connection:
        return store.by_external_reference(connection, 1, "caida-1")[0]


@pytest.mark.anyio
async def test_an_invoice_that_never_reaches_afip_ends_in_error_after_its_attempts(world, monkeypatch):
    store, clock, simulator, engine = world
    monkeypatch.setattr(policy, "MAX_ATTEMPTS", 3)
    simulator.state.faults.down = True
    for _ in range(5):
        await run_round(engine, clock)
    invoice = invoice_of(store)
    assert invoice.state == "error"
    assert invoice.numero is None
    assert "luego de 3 intentos" in invoice.errors[0]
    hooks = [e for e in store.events() if e.evento == "error" and e.external_reference == "caida-1"]
    assert len(hooks) == 1 and hooks[0].msg == invoice.errors
    assert simulator.state.ledger.all() == []


@pytest.mark.anyio
async def test_afip_down_for_a_while_only_delays_the_invoice(world):
    store, clock, simulator, engine = world
    simulator.state.faults.down = True
    await run_round(engine, clock)
    assert invoice_of(store).state == "queued"
    assert invoice_of(store).attempts == 1
    simulator.state.faults.down = False
    await run_round(engine, clock)
    invoice = invoice_of(store)
    assert invoice.state == "emitted" and invoice.numero == 1
    assert [a.numero for a in simulator.state.ledger.all()] == [1]
