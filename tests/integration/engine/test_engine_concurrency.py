"""The engine against the simulator's AFIP-like concurrency (busy, reorder, inorder), in-process
with real latency: every invoice emitted exactly once (the simulator's ledger against the
database), none with an attempt counted, pipelining switched off when AFIP shows it does not
serve a lane's calls in order; a lane someone else keeps busy; the batch size AFIP allows; the
attempts recorded per invoice for the console."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from encola.afip import AfipEndpoints
from encola.afip_sim.server import create_app as create_simulator
from encola.api.intake import Intake
from encola.api.provisioning import PdvSpec, provision
from encola.clock import FixedClock
from encola.engine.afip_access import AfipAccess
from encola.engine.engine import Engine
from encola.engine.lane import LaneConfig
from encola.store.db import make_engine, migrate
from encola.store.lanes import Lane, LaneStore
from encola.store.store import Store
from support import NOON_TODAY, factura_b

BASE = "http://afip-sim.test"
NOW = NOON_TODAY  # 12:00 in Buenos Aires today: the in-process simulator keeps the real date
CUIT, PDV, FACTURA_B = "30712345671", 10, 6
LANE = Lane(CUIT, PDV, FACTURA_B)


def build(database_url, *, invoices: int, batch_size: int = 5, **simulator_options):
    clock = FixedClock(NOW)
    store = Store(make_engine(database_url), clock)
    migrate(store.engine)
    simulator = create_simulator(**simulator_options)
    simulator.state.ledger.register_point_of_sale(int(CUIT), PDV)  # as at ARCA
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator), base_url=BASE)
    lanes = LaneStore(store, lease_seconds=30)
    access = AfipAccess(lanes, http, AfipEndpoints.for_simulator(BASE), simulated=True)
    engine = Engine(lanes, access, clock, config=LaneConfig(batch_size=batch_size))
    keys = provision(store, PdvSpec(CUIT, PDV, "RI", "Empresa", "P", "http://127.0.0.1:9/hook")).credentials
    pdv = store.pdv_by_apikey(keys.apikey)

    async def submit_all():
        intake = Intake(store, clock)
        for i in range(invoices):
            answer = await intake.submit(pdv, factura_b(keys.as_json(), reference=f"c-{i}", fecha=clock.today(), punto_venta=PDV))
            assert answer["error"] == "N", answer

    asyncio.run(submit_all())
    return store, clock, simulator, engine


@pytest.fixture
def world(database_url, request):
    options = dict(request.param) if hasattr(request, "param") else {}
    store, clock, simulator, engine = build(database_url, **options)
    yield store, clock, simulator, engine
    store.engine.dispose()


def invoices_of(store: Store) -> list:
    with store.reading() as connection:
        return [store.by_external_reference(connection, 1, f"c-{i}")[0] for i in range(INVOICES)]


def assert_exactly_once(store: Store, simulator) -> None:
    """Every invoice emitted under a number the ledger holds once, with the same CAE; nothing else at AFIP."""
    invoices = invoices_of(store)
    ledger = simulator.state.ledger.all()
    assert Counter(a.numero for a in ledger) == Counter(range(1, INVOICES + 1))
    caes = {a.numero: a.cae for a in ledger}
    assert all(i.state == "emitted" for i in invoices), Counter(i.state for i in invoices)
    assert sorted(i.numero for i in invoices) == list(range(1, INVOICES + 1))
    assert all(caes[i.numero] == i.cae for i in invoices)


INVOICES = 30
LATENCY = {"latency_ms": 40}


@pytest.mark.anyio
@pytest.mark.parametrize("world", [dict(invoices=INVOICES, concurrency_mode="busy", **LATENCY)], indirect=True)
async def test_busy_afip_refuses_the_pipelined_batch_and_the_lane_goes_one_batch_at_a_time(world):
    store, clock, simulator, engine = world
    await engine.run_until_idle(timeout=30)
    assert_exactly_once(store, simulator)
    assert all(i.attempts == 0 for i in invoices_of(store))
    assert simulator.state.concurrency.busy_refusals >= 1  # the probe
    assert not engine.pipelining.allowed(LANE)
    outcomes = Counter(a["outcome"] for i in invoices_of(store) for a in store.afip_attempts_for_invoice(i.id))
    assert outcomes["busy"] >= 1 and outcomes["accepted"] == INVOICES


@pytest.mark.anyio
@pytest.mark.parametrize("world", [dict(invoices=INVOICES, concurrency_mode="reorder", latency_ms=40,
                                        latency_p99_ms=400)], indirect=True)
async def test_reordering_afip_costs_calls_but_never_a_number_or_an_attempt(world):
    store, clock, simulator, engine = world
    await engine.run_until_idle(timeout=60)
    assert_exactly_once(store, simulator)
    assert all(i.attempts == 0 for i in invoices_of(store))


@pytest.mark.anyio
@pytest.mark.parametrize("world", [dict(invoices=INVOICES, concurrency_mode="inorder", **LATENCY)], indirect=True)
async def test_in_order_afip_keeps_pipelining_on(world):
    store, clock, simulator, engine = world
    await engine.run_until_idle(timeout=30)
    assert_exactly_once(store, simulator)
    assert engine.pipelining.allowed(LANE)
    assert simulator.state.concurrency.busy_refusals == 0
    attempts = [a for i in invoices_of(store) for a in store.afip_attempts_for_invoice(i.id)]
    assert {a["outcome"] for a in attempts} == {"accepted"} and len(attempts) == INVOICES
    one = attempts[0]
    assert one["method"] == "FECAESolicitar" and one["cuit"] == CUIT and one["punto_venta"] == PDV
    assert one["cbte_tipo"] == FACTURA_B and one["duration_ms"] >= 0 and len(one["batch_id"]) == 32


@pytest.mark.anyio
@pytest.mark.parametrize("world", [dict(invoices=INVOICES, batch_size=250, max_records=7, concurrency_mode="busy")],
                         indirect=True)
async def test_batches_never_exceed_what_fecomptotxrequest_allows(world):
    store, clock, simulator, engine = world
    await engine.run_until_idle(timeout=30)
    assert_exactly_once(store, simulator)
    per_call = Counter(a["batch_id"] for i in invoices_of(store) for a in store.afip_attempts_for_invoice(i.id))
    assert max(per_call.values()) == 7


@pytest.mark.anyio
@pytest.mark.parametrize("world", [dict(invoices=3, concurrency_mode="busy", **LATENCY)], indirect=True)
async def test_a_lane_someone_else_keeps_busy_waits_without_counting_attempts(world):
    store, clock, simulator, engine = world
    lanes = simulator.state.concurrency
    lanes._active.add((int(CUIT), PDV, FACTURA_B))  # another system's FECAESolicitar is being processed
    await engine.run_until_idle(timeout=30)
    with store.reading() as connection:
        waiting = [store.by_external_reference(connection, 1, f"c-{i}")[0] for i in range(3)]
    assert all(i.state == "queued" and i.attempts == 0 and i.numero is None for i in waiting)
    assert [a["outcome"] for a in store.afip_attempts_for_invoice(waiting[0].id)] == ["busy"]
    assert store.afip_attempts_for_invoice(waiting[0].id)[0]["messages"][0]["code"] == 502
    lanes._active.clear()  # the other call was answered
    engine._not_before.clear()  # the lane's short pause (1 s) is over
    await engine.run_until_idle(timeout=30)
    with store.reading() as connection:
        done = [store.by_external_reference(connection, 1, f"c-{i}")[0] for i in range(3)]
    assert [i.state for i in done] == ["emitted"] * 3 and all(i.attempts == 0 for i in done)
    assert sorted(a.numero for a in simulator.state.ledger.all()) == [1, 2, 3]


@pytest.mark.anyio
@pytest.mark.parametrize("world", [dict(invoices=INVOICES, concurrency_mode="busy", latency_ms=20, latency_p99_ms=200,
                                        drop_ratio=0.3)], indirect=True)
async def test_lost_answers_are_reconciled_once_each_with_no_attempt_counted(world):
    store, clock, simulator, engine = world
    # 30 % of the answers are lost at random, and the first batch AFIP accepts is lost for sure:
    # which calls overlap (and so which get refused rather than processed) depends on timing.
    simulator.state.faults.drop_responses = 1
    for _ in range(30):
        engine._not_before.clear()  # the lane's pause after an unknown outcome
        await engine.run_until_idle(timeout=30)
        if all(i.state == "emitted" for i in invoices_of(store)):
            break
        clock.advance(seconds=40)  # past the grace for a request that may still be travelling
    assert_exactly_once(store, simulator)
    assert all(i.attempts == 0 for i in invoices_of(store))
    histories = [[a["outcome"] for a in store.afip_attempts_for_invoice(i.id)] for i in invoices_of(store)]
    lost = [history for history in histories if "unknown" in history]
    assert any(history[-1] == "adopted" for history in lost)  # the first accepted batch, from AFIP's record
    # Every lost answer was settled afterwards: adopted from AFIP's record, or found missing there
    # (AFIP had refused that call) and sent again.
    for history in lost:
        after = history[len(history) - history[::-1].index("unknown"):]
        assert after and after[-1] in ("adopted", "accepted"), history
