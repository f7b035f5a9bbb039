"""The engine with instant requests and abonos, in-process against the simulator app (SQLite and
PostgreSQL): an instant request AFIP certainly did not take is discarded, never retried; one
answered "late" is retried like a queued invoice; a rejection notifies only a late one; a lane
backing off is still tried for an instant request; an abono's next recurrence is created once,
also after a crash between the emission and its creation."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from sqlalchemy import update

from encola.afip import AfipEndpoints
from encola.afip_sim.server import create_app as create_simulator
from encola.api.intake import Intake
from encola.api.provisioning import PdvSpec, provision
from encola.clock import FixedClock
from encola.domain.abono import add_months
from encola.engine.afip_access import AfipAccess
from encola.engine.engine import Engine
from encola.store.db import make_engine, migrate
from encola.store.lanes import LaneStore
from encola.store.schema import invoices
from encola.store.store import Store
from support import NOON_TODAY, factura_b

BASE = "http://afip-sim.test"
NOW = NOON_TODAY  # 12:00 in Buenos Aires today: the in-process simulator keeps the real date


@dataclasses.dataclass
class World:
    store: Store
    clock: FixedClock
    simulator: object
    engine: Engine
    intake: Intake
    pdv: object
    keys: dict

    def instant(self, reference: str = "") -> int:
        new = self.intake.prepare(self.pdv, factura_b(self.keys, reference=reference, fecha=self.clock.today(), punto_venta=10), instant=True)
        return self.store.insert_instant(new, None, self.pdv.workspace_id).invoice_id

    def row(self, invoice_id: int):
        return self.store.invoices_by_id([invoice_id])[0]

    def hooks(self, reference: str) -> list[str]:
        return [e.evento for e in self.store.events() if e.external_reference == reference]

    def ledger(self) -> list[int]:
        return [a.numero for a in self.simulator.state.ledger.all()]


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
    yield World(store, clock, simulator, engine, Intake(store, clock), pdv, keys.as_json())
    store.engine.dispose()


@pytest.mark.anyio
async def test_an_instant_request_is_emitted_with_a_hook_only_when_it_has_a_reference(world):
    with_ref, without = world.instant("inst-a"), world.instant()
    await world.engine.run_until_idle(timeout=20)
    assert world.row(with_ref).state == world.row(without).state == "emitted"
    assert world.hooks("inst-a") == ["emitido"]
    assert world.hooks("") == []
    assert world.ledger() == [1, 2]


@pytest.mark.anyio
async def test_afip_down_discards_a_waiting_instant_request_and_keeps_the_queue_retrying(world):
    answer = await world.intake.submit(world.pdv, factura_b(world.keys, reference="cola-1", fecha=world.clock.today(), punto_venta=10))
    assert answer["error"] == "N"
    waiting = world.instant("inst-down")
    world.simulator.state.faults.down = True
    await world.engine.run_until_idle(timeout=20)
    discarded = world.row(waiting)
    assert discarded.state == "discarded" and discarded.numero is None and discarded.errors
    assert world.hooks("inst-down") == []
    with world.store.reading() as connection:
        (cola,) = world.store.by_external_reference(connection, world.pdv.id, "cola-1")
    assert cola.state == "queued" and cola.attempts == 1
    # Its reference is free again: the client's retry is a new invoice.
    assert world.instant("inst-down") != waiting


@pytest.mark.anyio
async def test_a_late_instant_request_is_retried_like_any_invoice_and_its_error_is_notified(world):
    late = world.instant("inst-late")
    with world.store.writing() as connection:  # as after the API answered "unknown" (TFC-8015)
        connection.execute(update(invoices).where(invoices.c.id == late).values(instant="late"))
    world.simulator.state.faults.down = True
    await world.engine.run_until_idle(timeout=20)
    assert world.row(late).state == "queued" and world.row(late).attempts == 1
    world.simulator.state.faults.down = False
    world.simulator.state.faults.reject_next = 1
    world.engine._not_before.clear()
    world.clock.advance(seconds=600)
    await world.engine.run_until_idle(timeout=20)
    assert world.row(late).state == "error"
    assert world.hooks("inst-late") == ["error"]


@pytest.mark.anyio
async def test_a_rejection_while_the_request_waits_is_answered_not_notified(world):
    waiting = world.instant("inst-rej")
    world.simulator.state.faults.reject_next = 1
    await world.engine.run_until_idle(timeout=20)
    assert world.row(waiting).state == "error"
    assert world.hooks("inst-rej") == []


@pytest.mark.anyio
async def test_a_lane_backing_off_is_tried_at_once_for_an_instant_request(world):
    world.simulator.state.faults.down = True
    first = world.instant("inst-1")
    await world.engine.run_until_idle(timeout=20)
    assert world.row(first).state == "discarded"
    lane = next(iter(world.engine._not_before))
    assert world.engine._not_before[lane] > 0  # the lane backs off...
    world.simulator.state.faults.down = False
    second = world.instant("inst-2")
    await world.engine.run_until_idle(timeout=20)  # ...but not for an instant request
    assert world.row(second).state == "emitted"


@pytest.mark.anyio
async def test_the_deadline_discards_a_request_never_numbered_and_marks_a_numbered_one_late(world):
    never = world.instant("inst-never")
    assert world.store.give_up_instant(never, "sin tiempo") == "discarded"
    numbered = world.instant("inst-numbered")
    with world.store.writing() as connection:
        connection.execute(update(invoices).where(invoices.c.id == numbered).values(state="processing", numero=1))
    assert world.store.give_up_instant(numbered, "sin tiempo") == "late"
    assert world.store.give_up_instant(numbered, "sin tiempo") is None


@pytest.mark.anyio
async def test_an_abonos_next_recurrence_is_created_once_and_after_a_crash_too(world):
    body = factura_b(world.keys, reference="abono-x", fecha=world.clock.today(), punto_venta=10)
    body["comprobante"].update(abono="S", abono_frecuencia=2, abono_hasta=add_months(world.clock.today(), 3).strftime("%m/%Y"),
                               abono_actualiza_precios="N")
    assert (await world.intake.submit(world.pdv, body))["error"] == "N"
    await world.engine.run_until_idle(timeout=20)
    with world.store.reading() as connection:
        rows = world.store.by_external_reference(connection, world.pdv.id, "abono-x")
    assert [(r.recurrencia, r.state, r.fecha) for r in rows] == [
        (0, "emitted", world.clock.today()),
        (1, "queued", add_months(world.clock.today(), 2)),
    ]
    assert rows[1].abono_siguiente is None  # 2 months later would be past abono_hasta
    # A crash between the emission and the creation leaves abono_siguiente set: the next run creates it.
    with world.store.writing() as connection:
        connection.execute(update(invoices).where(invoices.c.id == rows[1].id).values(state="deleted"))
        connection.execute(update(invoices).where(invoices.c.id == rows[0].id).values(abono_siguiente=add_months(world.clock.today(), 2)))
    world.instant("otra")  # something due in the lane, so it runs
    await world.engine.run_until_idle(timeout=20)
    with world.store.reading() as connection:
        rows = world.store.by_external_reference(connection, world.pdv.id, "abono-x")
    assert [(r.recurrencia, r.state) for r in rows] == [(0, "emitted"), (1, "queued")]
    assert sorted(world.hooks("abono-x")) == ["emitido", "encolado"]
