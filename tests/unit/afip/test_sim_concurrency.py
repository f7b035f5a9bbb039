"""The simulator's concurrency per lane (busy, reorder, inorder), its heavy-tailed latency, its
random dropped answers and its ``/_sim/concurrency`` control, in-process through encola's client."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from encola.afip import (
    Accepted,
    AfipClient,
    AfipConnectionError,
    AfipEndpoints,
    AfipLaneBusyError,
    AlicIva,
    CaeDetail,
    Credentials,
    Rejected,
    generate_test_certificate,
)
from encola.afip import soap
from encola.afip import wsfe_xml as x
from encola.afip_sim import create_app
from encola.afip_sim.concurrency import BUSY_MESSAGE, Latency, lane_of

CUIT = 20123456786
ART = timezone(timedelta(hours=-3))
CERT = generate_test_certificate(CUIT, "ACME SA")
EP = AfipEndpoints.for_simulator("http://sim")


def detail(n: int) -> CaeDetail:
    return CaeDetail(concepto=1, doc_tipo=80, doc_nro=30000000007, cbte_desde=n, cbte_hasta=n,
                     cbte_fch=datetime.now(ART).date(), imp_total=Decimal("121"), imp_neto=Decimal("100"),
                     imp_iva=Decimal("21"), iva=(AlicIva(5, Decimal("100"), Decimal("21")),), condicion_iva_receptor_id=1)


def simulator(**options):
    app = create_app(strict_wsaa=False, **options)
    for pto_vta in (1, 2):
        app.state.ledger.register_point_of_sale(CUIT, pto_vta)
    app.state.ledger.register_point_of_sale(CUIT, 3)
    app.state.concurrency.rng = random.Random(7)
    app.state.concurrency.latency.rng = random.Random(7)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim")
    return app, http, AfipClient(http, EP, Credentials(*CERT), CUIT)


@pytest.mark.anyio
async def test_busy_refuses_a_second_concurrent_call_of_a_lane_with_afips_502():
    app, http, afip = simulator(latency_ms=150)
    async with http:
        await afip.wsaa.ticket(CUIT)
        first = asyncio.create_task(afip.request_cae(1, 1, [detail(1)]))
        await asyncio.sleep(0.03)
        with pytest.raises(AfipLaneBusyError) as info:
            await afip.request_cae(1, 1, [detail(2)])
        assert [(e.code, e.msg) for e in info.value.errors] == [(502, BUSY_MESSAGE)]
        assert isinstance((await first).details[0], Accepted)
        assert [a.numero for a in app.state.ledger.all()] == [1]  # the refused call processed nothing
        assert app.state.concurrency.busy_refusals == 1
        # Once the first is answered the lane is free again.
        assert isinstance((await afip.request_cae(1, 1, [detail(2)])).details[0], Accepted)


@pytest.mark.anyio
async def test_busy_answer_has_afips_shape_only_errors_with_http_200():
    app, http, afip = simulator(latency_ms=100)
    async with http:
        ticket = await afip.wsaa.ticket(CUIT)
        op = x.cae_request(x.auth_operation("FECAESolicitar", ticket.token, ticket.sign, CUIT), 1, 1, [detail(1)])
        body = soap.envelope(op)
        headers = {"SOAPAction": '"http://ar.gov.afip.dif.FEV1/FECAESolicitar"', "Content-Type": "text/xml; charset=utf-8"}
        first = asyncio.create_task(http.post("/wsfev1/service.asmx", content=body, headers=headers))
        await asyncio.sleep(0.02)
        second = await http.post("/wsfev1/service.asmx", content=body, headers=headers)
        await first
    assert second.status_code == 200
    result = x.result_of(soap.body_child(second.content), "FECAESolicitar")
    assert [child.tag.split("}")[1] for child in result] == ["Errors"]
    assert b"FEHeaderInfo" in second.content


@pytest.mark.anyio
async def test_busy_is_per_lane_other_lanes_and_consultas_run_alongside():
    app, http, afip = simulator(latency_ms=120)
    async with http:
        await afip.wsaa.ticket(CUIT)
        results = await asyncio.gather(
            afip.request_cae(1, 1, [detail(1)]), afip.request_cae(2, 1, [detail(1)]), afip.request_cae(3, 1, [detail(1)]),
            afip.last_authorized(1, 1), afip.consult(1, 1, 1),
        )
    assert all(isinstance(r.details[0], Accepted) for r in results[:3])
    assert app.state.concurrency.busy_refusals == 0


@pytest.mark.anyio
async def test_reorder_processes_overlapping_calls_in_any_order_and_never_skips_a_number():
    app, http, afip = simulator(latency_ms=60, concurrency_mode="reorder")
    outcomes = []
    async with http:
        await afip.wsaa.ticket(CUIT)
        for _ in range(15):
            last = await afip.last_authorized(1, 1)
            first, second = await asyncio.gather(afip.request_cae(1, 1, [detail(last + 1)]),
                                                 afip.request_cae(1, 1, [detail(last + 2)]))
            outcomes.append((type(first.details[0]), type(second.details[0])))
    assert (Accepted, Rejected) in outcomes  # the second was processed first at least once: 10016
    assert (Accepted, Accepted) in outcomes
    numbers = [a.numero for a in app.state.ledger.all()]
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.anyio
async def test_inorder_serves_overlapping_calls_in_arrival_order():
    app, http, afip = simulator(latency_ms=60, concurrency_mode="inorder")
    async with http:
        await afip.wsaa.ticket(CUIT)
        first = asyncio.create_task(afip.request_cae(1, 1, [detail(1)]))
        await asyncio.sleep(0.01)
        second = await afip.request_cae(1, 1, [detail(2)])
        assert isinstance((await first).details[0], Accepted) and isinstance(second.details[0], Accepted)


@pytest.mark.anyio
async def test_dropped_answers_were_processed():
    app, http, afip = simulator(drop_ratio=1.0)
    async with http:
        await afip.wsaa.ticket(CUIT)
        with pytest.raises(AfipConnectionError):
            await afip.request_cae(1, 1, [detail(1)])
        assert (await afip.consult(1, 1, 1)) is not None
        assert await afip.last_authorized(1, 1) == 1  # consultas are never dropped


def test_latency_is_lognormal_through_the_median_and_the_p99():
    latency = Latency(p99_ms=3000, rng=random.Random(1))
    draws = sorted(latency.seconds(300) for _ in range(40_000))
    assert statistics.median(draws) == pytest.approx(0.300, rel=0.05)
    assert draws[int(len(draws) * 0.99)] == pytest.approx(3.0, rel=0.15)
    assert max(draws) <= 30.0  # capped at ten times the p99
    assert Latency().seconds(250) == 0.25 and Latency(p99_ms=100).seconds(250) == 0.25  # fixed without a higher p99


def test_the_lane_is_read_from_the_request_prefix_agnostic():
    body = (b'<s:Envelope xmlns:s="x"><s:Body><ns0:FECAESolicitar xmlns:ns0="y"><ns0:Auth><ns0:Token>t</ns0:Token>'
            b"<ns0:Cuit>20123456786</ns0:Cuit></ns0:Auth><ns0:FeCAEReq><ns0:FeCabReq><ns0:CantReg>1</ns0:CantReg>"
            b"<ns0:PtoVta>3</ns0:PtoVta><ns0:CbteTipo>6</ns0:CbteTipo></ns0:FeCabReq></ns0:FeCAEReq></ns0:FECAESolicitar>")
    assert lane_of(body) == (20123456786, 3, 6)
    assert lane_of(body.replace(b"FECAESolicitar", b"FECompConsultar")) is None


@pytest.mark.anyio
async def test_the_concurrency_control_reads_and_changes_the_mode():
    app, http, _ = simulator()
    async with http:
        assert (await http.get("/_sim/concurrency")).json()["mode"] == "busy"
        changed = await http.post("/_sim/concurrency", json={"mode": "reorder", "latency_p99_ms": 900, "drop_ratio": 0.01})
        assert changed.json() == {"mode": "reorder", "latency_p99_ms": 900, "drop_ratio": 0.01, "busy_refusals": 0}


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
FIELDS = st.dictionaries(st.sampled_from(["mode", "latency_p99_ms", "drop_ratio", "other"]), JSON, max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(FIELDS, JSON, st.binary(max_size=20)))
def test_any_body_to_the_control_is_a_clear_answer_and_bad_ones_change_nothing(body):
    async def go():
        app, http, _ = simulator()
        async with http:
            before = (await http.get("/_sim/concurrency")).json()
            content = body if isinstance(body, bytes) else json.dumps(body).encode()
            answer = await http.post("/_sim/concurrency", content=content)
            after = (await http.get("/_sim/concurrency")).json()
        assert answer.status_code in (200, 400)
        if answer.status_code == 400:
            assert "error" in answer.json() and after == before
        else:
            assert after["mode"] in ("inorder", "reorder", "busy")

    asyncio.run(go())


@given(concurrency=st.text(max_size=10), p99=st.text(max_size=8), ratio=st.text(max_size=8))
def test_the_embedded_simulators_settings_are_read_or_refused_clearly(concurrency, p99, ratio):
    from encola.settings import Settings, SettingsError

    env = {"ENCOLA_AFIP_SIM_CONCURRENCY": concurrency, "ENCOLA_AFIP_SIM_LATENCY_P99_MS": p99,
           "ENCOLA_AFIP_SIM_DROP_RATIO": ratio}
    try:
        settings = Settings.from_env(env)
    except SettingsError as exc:
        assert "ENCOLA_AFIP_SIM_" in str(exc)
        return
    assert settings.afip_sim_concurrency in ("inorder", "reorder", "busy")
    assert settings.afip_sim_latency_p99_ms >= 0 and 0.0 <= settings.afip_sim_drop_ratio <= 1.0
    if concurrency:
        assert settings.afip_sim_concurrency == concurrency
