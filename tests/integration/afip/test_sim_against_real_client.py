"""The simulator as a real process, driven by the real client over TCP."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from encola.afip import (
    Accepted,
    AfipClient,
    AfipConnectionError,
    AfipEndpoints,
    AfipHttpError,
    AfipTimeouts,
    AlicIva,
    CaeDetail,
    Credentials,
    InMemoryTicketCache,
    Rejected,
    TokenRejectedError,
    Tributo,
)
from encola.certificates.simulator import obtain_blocking
from support import HTTP
from sim_process import SimProcess

pytestmark = pytest.mark.anyio
ART = timezone(timedelta(hours=-3))
CUIT = 20123456786
_CERT: tuple[bytes, bytes] = (b"", b"")  # signed by the module's simulator (its WSASS), in sim()
_TICKETS = InMemoryTicketCache()  # the strict WSAA issues one ticket per certificate: every client shares it
_counter = iter(range(1, 10_000))


def today() -> date:
    return datetime.now(ART).date()


def pto_vta() -> int:
    """A fresh point of sale per test, so tests sharing one simulator do not collide."""
    return next(_counter)


def factura_a(numero: int, **changes) -> CaeDetail:
    base = dict(
        concepto=1, doc_tipo=80, doc_nro=30000000007, cbte_desde=numero, cbte_hasta=numero, cbte_fch=today(),
        imp_total=Decimal("121.00"), imp_neto=Decimal("100.00"), imp_iva=Decimal("21.00"),
        iva=(AlicIva(5, Decimal("100.00"), Decimal("21.00")),), condicion_iva_receptor_id=1,
    )
    base.update(changes)
    return CaeDetail(**base)


@pytest.fixture(scope="module")
def sim():
    process = SimProcess()
    process.register_points_of_sale(CUIT, range(1, 201))  # pto_vta() hands these out, one per test
    global _CERT
    _CERT = obtain_blocking(process.base_url, CUIT, "ACME SA")
    yield process
    process.stop()


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
async def afip(sim, http):
    HTTP.post(sim.base_url + "/_sim/faults", json={"down": False, "latency_ms": 0, "drop_responses": 0, "reject_next": 0})
    return AfipClient(http, AfipEndpoints.for_simulator(sim.base_url), Credentials(*_CERT), CUIT, ticket_cache=_TICKETS,
                      timeouts=AfipTimeouts(connect=2, wsaa_read=5, wsfe_read=5))


# ------------------------------------------------------------------ auth


async def test_auth_flow_issues_a_twelve_hour_ticket_and_reuses_it(afip):
    first = await afip.wsaa.ticket(CUIT)
    assert timedelta(hours=11, minutes=59) < first.expiration_time - datetime.now(ART) <= timedelta(hours=12)
    assert await afip.wsaa.ticket(CUIT) is first
    assert (await afip.dummy()).ok


async def test_a_cuit_not_in_the_certificate_is_refused_with_600(sim, http):
    cert = obtain_blocking(sim.base_url, CUIT, "ACME SA", "otro")  # a ticket of its own
    other = AfipClient(http, AfipEndpoints.for_simulator(sim.base_url), Credentials(*cert), 30712345671)
    with pytest.raises(TokenRejectedError) as info:
        await other.last_authorized(1, 1)
    assert info.value.errors[0].code == 600


# ------------------------------------------------------------- numbering


async def test_numbers_are_sequential_per_lane(afip):
    pv = pto_vta()
    assert await afip.last_authorized(pv, 1) == 0
    result = await afip.request_cae(pv, 1, [factura_a(1), factura_a(2), factura_a(3)])
    assert result.resultado == "A"
    assert [d.numero for d in result.accepted] == [1, 2, 3]
    assert all(len(d.cae) == 14 and d.cae.isdigit() for d in result.accepted)
    assert result.accepted[0].cae_fch_vto == today() + timedelta(days=10)
    assert await afip.last_authorized(pv, 1) == 3
    assert await afip.last_authorized(pv, 6) == 0


async def test_a_skipped_or_repeated_number_is_10016(afip):
    pv = pto_vta()
    skipped = await afip.request_cae(pv, 1, [factura_a(2)])
    assert skipped.resultado == "R" and skipped.rejected[0].is_sequence_error
    await afip.request_cae(pv, 1, [factura_a(1)])
    repeated = await afip.request_cae(pv, 1, [factura_a(1)])
    assert repeated.rejected[0].is_sequence_error


async def test_a_date_before_the_last_authorized_one_is_10016(afip):
    pv = pto_vta()
    await afip.request_cae(pv, 1, [factura_a(1)])
    earlier = await afip.request_cae(pv, 1, [factura_a(2, cbte_fch=today() - timedelta(days=1))])
    assert earlier.rejected[0].is_sequence_error


async def test_batch_with_a_rejected_detail_is_partial_and_stops_numbering_there(afip):
    pv = pto_vta()
    bad = factura_a(2, imp_total=Decimal("999.00"))
    result = await afip.request_cae(pv, 1, [factura_a(1), bad, factura_a(3)])
    assert result.resultado == "P"
    first, second, third = result.details
    assert isinstance(first, Accepted)
    assert isinstance(second, Rejected) and second.codes[-1] == 10048 and not second.is_sequence_error
    assert isinstance(third, Rejected) and third.is_sequence_error
    assert await afip.last_authorized(pv, 1) == 1


async def test_a_batch_over_the_per_request_limit_is_refused_with_10003(afip):
    limit = await afip.max_records_per_request()
    assert limit == 250
    pv = pto_vta()
    result = await afip.request_cae(pv, 1, [factura_a(n) for n in range(1, limit + 2)])
    assert result.resultado == "R" and result.errors[0].code == 10003


async def test_a_full_batch_of_250_is_authorized_quickly(afip):
    pv = pto_vta()
    started = time.monotonic()
    result = await afip.request_cae(pv, 6, [
        CaeDetail(concepto=1, doc_tipo=99, doc_nro=0, cbte_desde=n, cbte_hasta=n, cbte_fch=today(),
                  imp_total=Decimal("121.00"), imp_neto=Decimal("100.00"), imp_iva=Decimal("21.00"),
                  iva=(AlicIva(5, Decimal("100.00"), Decimal("21.00")),), condicion_iva_receptor_id=5)
        for n in range(1, 251)
    ])
    assert result.resultado == "A" and len(result.accepted) == 250
    assert time.monotonic() - started < 2.0


# ----------------------------------------------------------------- rules


def _c(numero, **kw):
    return CaeDetail(**{**dict(concepto=1, doc_tipo=99, doc_nro=0, cbte_desde=numero, cbte_hasta=numero,
                                cbte_fch=today(), imp_total=Decimal("100"), imp_neto=Decimal("100"),
                                condicion_iva_receptor_id=5), **kw})


RULES = [
    ("class A needs a CUIT", 1, lambda n: factura_a(n, doc_tipo=96, doc_nro=30111222), 10013),
    ("products date window", 1, lambda n: factura_a(n, cbte_fch=today() + timedelta(days=6)), 10016),
    ("services date window", 1, lambda n: factura_a(n, concepto=2, cbte_fch=today() + timedelta(days=11),
                                                    fch_serv_desde=today(), fch_serv_hasta=today(),
                                                    fch_vto_pago=today() + timedelta(days=12)), 10016),
    ("services need their dates", 1, lambda n: factura_a(n, concepto=2), 10049),
    ("payment due before the date", 1, lambda n: factura_a(n, concepto=2, fch_serv_desde=today(),
                                                           fch_serv_hasta=today(),
                                                           fch_vto_pago=today() - timedelta(days=1)), 10036),
    ("service period reversed", 1, lambda n: factura_a(n, concepto=2, fch_serv_desde=today(),
                                                       fch_serv_hasta=today() - timedelta(days=3),
                                                       fch_vto_pago=today()), 10032),
    ("total arithmetic", 1, lambda n: factura_a(n, imp_total=Decimal("121.02")), 10048),
    ("iva sum", 1, lambda n: factura_a(n, imp_total=Decimal("122.00"), imp_iva=Decimal("22.00")), 10023),
    ("iva bases", 1, lambda n: factura_a(n, iva=(AlicIva(5, Decimal("90.00"), Decimal("21.00")),)), 10061),
    ("iva array required", 1, lambda n: factura_a(n, iva=()), 10070),
    ("class C has no iva", 11, lambda n: _c(n, iva=(AlicIva(5, Decimal("100"), Decimal("0")),)), 10071),
    ("class C has no ImpIVA", 11, lambda n: _c(n, imp_total=Decimal("121"), imp_iva=Decimal("21")), 10047),
    ("tributos sum", 1, lambda n: factura_a(n, imp_total=Decimal("122.00"), imp_trib=Decimal("1.00"),
                                             tributos=(Tributo(99, Decimal("100"), Decimal("2"), Decimal("2"), "Municipal"),)), 10029),
    ("PES rate is one", 1, lambda n: factura_a(n, mon_cotiz=Decimal("2")), 10039),
    ("unknown currency", 1, lambda n: factura_a(n, mon_id="XXX"), 10037),
    ("condicion IVA required", 1, lambda n: factura_a(n, condicion_iva_receptor_id=None), 10246),
    ("condicion IVA unknown", 1, lambda n: factura_a(n, condicion_iva_receptor_id=99), 10242),
    ("condicion IVA not for class A", 1, lambda n: factura_a(n, condicion_iva_receptor_id=5), 10243),
    ("class B consumidor final has DocNro 0", 6, lambda n: _c(n, doc_nro=5, imp_total=Decimal("121"),
                                                               imp_iva=Decimal("21"),
                                                               iva=(AlicIva(5, Decimal("100"), Decimal("21")),)), 10015),
    ("receiver is not the emitter", 1, lambda n: factura_a(n, doc_nro=CUIT), 10069),
    ("class A ranges", 1, lambda n: factura_a(n, cbte_hasta=n + 1), 10012),
]


@pytest.mark.parametrize("what, cbte_tipo, make, code", RULES, ids=[r[0] for r in RULES])
async def test_each_rule_rejects_with_afip_code(afip, what, cbte_tipo, make, code):
    pv = pto_vta()
    result = await afip.request_cae(pv, cbte_tipo, [make(1)])
    [detail] = result.details
    assert isinstance(detail, Rejected), what
    assert code in detail.codes, (what, detail)
    assert await afip.last_authorized(pv, cbte_tipo) == 0


async def test_valid_services_invoice_and_class_c_are_accepted(afip):
    pv = pto_vta()
    services = factura_a(1, concepto=2, fch_serv_desde=today() - timedelta(days=30), fch_serv_hasta=today(),
                         fch_vto_pago=today() + timedelta(days=10))
    assert (await afip.request_cae(pv, 1, [services])).resultado == "A"
    assert (await afip.request_cae(pv, 11, [_c(1)])).resultado == "A"


async def test_consulta_returns_what_was_authorized(afip):
    pv = pto_vta()
    sent = factura_a(1, imp_total=Decimal("122.50"), imp_trib=Decimal("1.50"),
                     tributos=(Tributo(99, Decimal("100"), Decimal("1.5"), Decimal("1.50"), "Municipal"),))
    [accepted] = (await afip.request_cae(pv, 1, [sent])).details
    stored = await afip.consult(pv, 1, 1)
    assert stored.cae == accepted.cae and stored.fch_vto == accepted.cae_fch_vto
    assert (stored.imp_total, stored.imp_trib, stored.doc_nro, stored.cbte_fch) == (Decimal("122.5"), Decimal("1.5"), 30000000007, today())
    assert stored.iva == sent.iva and stored.tributos[0].desc == "Municipal"
    assert (stored.emision_tipo, stored.resultado) == ("CAE", "A")
    assert await afip.consult(pv, 1, 2) is None


# ---------------------------------------------------------------- faults


async def test_dropped_response_is_a_connection_error_and_consulta_finds_it(sim, afip):
    pv = pto_vta()
    await afip.wsaa.ticket(CUIT)
    HTTP.post(sim.base_url + "/_sim/faults", json={"drop_responses": 1})
    with pytest.raises(AfipConnectionError):
        await afip.request_cae(pv, 1, [factura_a(1)])
    assert HTTP.get(sim.base_url + "/_sim/faults").json()["drop_responses"] == 0
    stored = await afip.consult(pv, 1, 1)
    assert stored is not None and len(stored.cae) == 14
    assert await afip.last_authorized(pv, 1) == 1


async def test_down_answers_http_503_until_it_comes_back(sim, afip):
    HTTP.post(sim.base_url + "/_sim/faults", json={"down": True})
    with pytest.raises(AfipHttpError) as info:
        await afip.last_authorized(1, 1)
    assert info.value.status_code == 503
    HTTP.post(sim.base_url + "/_sim/faults", json={"down": False})
    assert (await afip.dummy()).ok


async def test_reject_next_rejects_valid_comprobantes_with_an_unforeseeable_code(sim, afip):
    pv = pto_vta()
    HTTP.post(sim.base_url + "/_sim/faults", json={"reject_next": 1})
    result = await afip.request_cae(pv, 1, [factura_a(1), factura_a(2)])
    first, second = result.details
    assert isinstance(first, Rejected) and first.codes == (10015,)
    assert isinstance(second, Rejected) and second.is_sequence_error
    retried = await afip.request_cae(pv, 1, [factura_a(1)])
    assert retried.resultado == "A"


async def test_latency_delays_every_answer_without_blocking_others(sim, afip):
    import anyio

    await afip.wsaa.ticket(CUIT)
    HTTP.post(sim.base_url + "/_sim/faults", json={"latency_ms": 300})
    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(afip.dummy)
    elapsed = time.monotonic() - started
    HTTP.post(sim.base_url + "/_sim/faults", json={"latency_ms": 0})
    assert 0.3 <= elapsed < 1.5


async def test_fault_endpoint_keeps_fields_left_out_and_refuses_nonsense(sim, afip):
    HTTP.post(sim.base_url + "/_sim/faults", json={"latency_ms": 5})
    state = HTTP.post(sim.base_url + "/_sim/faults", json={"reject_next": 2}).json()
    assert state == {"down": False, "latency_ms": 5, "drop_responses": 0, "reject_next": 2}
    assert HTTP.post(sim.base_url + "/_sim/faults", json={"latency_ms": -1}).status_code == 400


async def test_comprobantes_endpoint_lists_authorized_ones(sim, afip):
    pv = pto_vta()
    [accepted] = (await afip.request_cae(pv, 1, [factura_a(1)])).details
    listed = [c for c in HTTP.get(sim.base_url + "/_sim/comprobantes").json() if c["pto_vta"] == pv]
    assert listed == [{"cuit": CUIT, "pto_vta": pv, "cbte_tipo": 1, "numero": 1, "cae": accepted.cae,
                       "imp_total": 121.0, "fecha": today().strftime("%Y%m%d")}]
