"""The simulator's business rules, in-process: each comprobante AFIP rejects is rejected with AFIP's code,
and the same comprobante made right is authorized (so the rule, not something else, decided)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from encola.afip import (
    AfipCallError,
    AfipClient,
    AfipEndpoints,
    AlicIva,
    CaeDetail,
    CbteAsoc,
    Credentials,
    Opcional,
    PeriodoAsoc,
    Tributo,
)
from encola.afip_sim import create_app, rules, tables
from encola.certificates.simulator import signed_by

pytestmark = pytest.mark.anyio
CUIT = 20123456786
BUYER = 30000000007
ART = timezone(timedelta(hours=-3))
PV = 5
LIMIT = rules.CONSUMIDOR_FINAL_LIMIT
CBU = "2850590940090418135201"


def today() -> date:
    return datetime.now(ART).date()


def factura(cbte_tipo: int = 1, **changes) -> CaeDetail:
    """A Factura A (or, by `cbte_tipo`, B/notes) AFIP authorizes; `changes` break one rule."""
    klass_b = cbte_tipo in tables.CLASS_B
    base = dict(
        concepto=1, doc_tipo=80, doc_nro=BUYER, cbte_desde=1, cbte_hasta=1, cbte_fch=today(),
        imp_total=Decimal("121"), imp_neto=Decimal("100"), imp_iva=Decimal("21"),
        iva=(AlicIva(5, Decimal("100"), Decimal("21")),), condicion_iva_receptor_id=5 if klass_b else 1,
    )
    if cbte_tipo in rules.DEBIT_CREDIT_NOTES:
        base["cbtes_asoc"] = (CbteAsoc(1 if cbte_tipo in (2, 3) else 6, PV, 1, str(CUIT)),)
    base.update(changes)
    return CaeDetail(**base)


def fce(cbte_tipo: int = 201, **changes) -> CaeDetail:
    """A Factura de Credito Electronica AFIP authorizes (FchVtoPago, CBU, transmission SCA)."""
    base = dict(fch_vto_pago=today() + timedelta(days=30),
                opcionales=(Opcional("2101", CBU), Opcional("27", "SCA")))
    base.update(changes)
    return factura(cbte_tipo, **base)


def with_total(detail: CaeDetail, neto: Decimal) -> CaeDetail:
    iva = (neto * Decimal("0.21")).quantize(Decimal("0.01"))
    return dataclasses.replace(detail, imp_neto=neto, imp_iva=iva, imp_total=neto + iva, iva=(AlicIva(5, neto, iva),))


@pytest.fixture
async def world():
    app = create_app()
    app.state.ledger.register_point_of_sale(CUIT, PV)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim") as http:
        afip = AfipClient(http, AfipEndpoints.for_simulator("http://sim"),
                          Credentials(*signed_by(app.state.ca, CUIT, "ACME SA")), CUIT)
        yield app, http, afip


async def codes_of(afip: AfipClient, cbte_tipo: int, detail: CaeDetail, pto_vta: int = PV) -> tuple[int, ...]:
    """AFIP's codes for one detail: () when authorized."""
    result = await afip.request_cae(pto_vta, cbte_tipo, [detail])
    [only] = result.details
    if result.resultado == "A":
        return ()
    return tuple(sorted({m.code for m in result.errors} | set(only.codes)))


# ------------------------------------------------------------------ points of sale


async def test_a_point_of_sale_never_registered_is_10005_and_11002(world):
    app, http, afip = world
    assert await codes_of(afip, 1, factura(), pto_vta=PV + 1) == (10005,)
    with pytest.raises(AfipCallError) as info:
        await afip.last_authorized(PV + 1, 1)
    assert [e.code for e in info.value.errors] == [11002]
    assert await codes_of(afip, 1, factura()) == ()  # the registered one authorizes
    assert await afip.last_authorized(PV, 1) == 1


async def test_caea_blocked_and_dado_de_baja_points_of_sale_cannot_ask_for_a_cae(world):
    app, http, afip = world
    ledger = app.state.ledger
    ledger.register_point_of_sale(CUIT, 6, "CAEA")
    ledger.register_point_of_sale(CUIT, 7, bloqueado=True)
    ledger.register_point_of_sale(CUIT, 8, fch_baja=(today() - timedelta(days=1)).strftime("%Y%m%d"))
    ledger.register_point_of_sale(CUIT, 9, fch_baja=(today() + timedelta(days=3)).strftime("%Y%m%d"))
    for pto_vta in (6, 7, 8):
        assert await codes_of(afip, 1, factura(), pto_vta=pto_vta) == (10005,), pto_vta
        assert await afip.last_authorized(pto_vta, 1) == 0  # still readable: 11002 is for unknown ones only
    assert await codes_of(afip, 1, factura(), pto_vta=9) == ()  # a baja from a later date: active today


async def test_fe_param_get_ptos_venta_lists_them_with_afips_shape(world):
    app, http, afip = world
    app.state.ledger.register_point_of_sale(CUIT, 2, "CAEA", bloqueado=True, fch_baja="20260101")
    listed = await afip.puntos_venta()
    assert [(p.nro, p.emision_tipo, p.bloqueado, p.fch_baja) for p in listed] == [
        (2, "CAEA - Ri Iva", True, date(2026, 1, 1)),
        (PV, "CAE - Ri Iva", False, None),
    ]


async def test_a_cuit_without_points_of_sale_gets_602(world):
    app, http, afip = world
    other = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://sim") as http2:
        empty = AfipClient(http2, AfipEndpoints.for_simulator("http://sim"),
                           Credentials(*signed_by(other.state.ca, CUIT, "ACME SA")), CUIT)
        assert await empty.puntos_venta() == ()


async def test_the_control_endpoint_registers_lists_and_refuses_nonsense(world):
    app, http, afip = world
    made = await http.post("/_sim/puntos_venta", json={"cuit": "30712345671", "punto_venta": 4, "emision_tipo": "CAEA"})
    assert made.status_code == 200 and made.json()["emision_tipo"] == "CAEA"
    assert app.state.ledger.point_of_sale(30712345671, 4).emision_tipo == "CAEA"
    mine = (await http.get("/_sim/puntos_venta", params={"cuit": "30712345671"})).json()
    assert mine == [{"cuit": 30712345671, "punto_venta": 4, "emision_tipo": "CAEA", "bloqueado": False, "fch_baja": None}]
    assert len((await http.get("/_sim/puntos_venta")).json()) == 2  # every CUIT's
    for bad in ({"cuit": 1, "punto_venta": 1}, {"cuit": CUIT, "punto_venta": 0}, {"cuit": CUIT, "punto_venta": 1,
                "emision_tipo": "CF"}, {"cuit": CUIT, "punto_venta": 1, "fch_baja": "20261399"}, [1], "x"):
        answer = await http.post("/_sim/puntos_venta", json=bad)
        assert answer.status_code == 400 and answer.json()["error"], bad
    assert (await http.post("/_sim/puntos_venta", content=b"{")).status_code == 400
    assert (await http.get("/_sim/puntos_venta", params={"cuit": "abc"})).status_code == 400


# ------------------------------------------------------------------ comprobante rules

RULES = [
    ("a foreign currency at cotizacion 1", 1,
     factura(mon_id="DOL", mon_cotiz=Decimal("1")), factura(mon_id="DOL", mon_cotiz=tables.COTIZACIONES["DOL"]), 10119),
    ("a foreign currency at five times AFIP's rate", 1,
     factura(mon_id="060", mon_cotiz=tables.COTIZACIONES["060"] * 5), factura(mon_id="060", mon_cotiz=tables.COTIZACIONES["060"] * 3), 10119),
    ("a Factura B to DocTipo 99 at the RG 5700 limit", 6,
     with_total(factura(6, doc_tipo=99, doc_nro=0), LIMIT / Decimal("1.21")),
     with_total(factura(6, doc_tipo=96, doc_nro=30111222), LIMIT / Decimal("1.21")), 10015),
    ("a dollar Factura B to DocTipo 99 over the limit in pesos", 6,
     factura(6, doc_tipo=99, doc_nro=0, mon_id="DOL", mon_cotiz=tables.COTIZACIONES["DOL"],
             imp_neto=Decimal("100000"), imp_iva=Decimal("21000"), imp_total=Decimal("121000"),
             iva=(AlicIva(5, Decimal("100000"), Decimal("21000")),)),
     factura(6, doc_tipo=99, doc_nro=0, mon_id="DOL", mon_cotiz=tables.COTIZACIONES["DOL"]), 10015),
    ("a B range to DocTipo 80", 6,
     factura(6, cbte_hasta=3), factura(6, cbte_hasta=3, doc_tipo=99, doc_nro=0), 10015),
    ("a B range whose unit amount reaches the limit", 6,
     with_total(factura(6, cbte_hasta=2, doc_tipo=99, doc_nro=0), LIMIT * 2),
     with_total(factura(6, cbte_hasta=2, doc_tipo=99, doc_nro=0), LIMIT), 10014),
    ("products dated into next month", 1,
     factura(cbte_fch=(today().replace(day=1) + timedelta(days=32)).replace(day=1)), factura(), 10152),
    ("an NC A without CbtesAsoc or PeriodoAsoc", 3,
     factura(3, cbtes_asoc=()), factura(3, cbtes_asoc=(), periodo_asoc=PeriodoAsoc(today() - timedelta(days=30), today())), 10197),
    ("an ND B associating a Factura A", 7,
     factura(7, cbtes_asoc=(CbteAsoc(1, PV, 1),)), factura(7, cbtes_asoc=(CbteAsoc(6, PV, 1),)), 10040),
    ("a repeated CbteAsoc", 3,
     factura(3, cbtes_asoc=(CbteAsoc(1, PV, 1), CbteAsoc(1, PV, 1))), factura(3, cbtes_asoc=(CbteAsoc(1, PV, 1), CbteAsoc(1, PV, 2))), 10060),
    ("a period ending after the note", 3,
     factura(3, cbtes_asoc=(), periodo_asoc=PeriodoAsoc(today(), today() + timedelta(days=2))),
     factura(3, cbtes_asoc=(), periodo_asoc=PeriodoAsoc(today() - timedelta(days=2), today())), 10208),
    ("a Factura with a PeriodoAsoc", 1,
     factura(periodo_asoc=PeriodoAsoc(today() - timedelta(days=30), today())), factura(), 10198),
    ("an FCE factura without FchVtoPago", 201, fce(fch_vto_pago=None), fce(), 10163),
    ("an FCE factura due before today", 201, fce(fch_vto_pago=today() - timedelta(days=1)), fce(fch_vto_pago=today()), 10164),
    ("an FCE factura without CBU", 201, fce(opcionales=(Opcional("27", "SCA"),)), fce(), 10168),
    ("an FCE factura with a short CBU", 201, fce(opcionales=(Opcional("2101", "123"), Opcional("27", "SCA"))), fce(), 10165),
    ("an FCE factura without transmission (27)", 201, fce(opcionales=(Opcional("2101", CBU),)), fce(), 10216),
    ("an FCE factura to a DNI", 206,
     fce(206, doc_tipo=96, doc_nro=30111222, condicion_iva_receptor_id=4), fce(206, condicion_iva_receptor_id=4), 10015),
    ("an FCE factura dated two days ahead", 201, fce(cbte_fch=today() + timedelta(days=2), fch_vto_pago=today() + timedelta(days=30)),
     fce(cbte_fch=today() + timedelta(days=1), fch_vto_pago=today() + timedelta(days=30)) if (today() + timedelta(days=1)).month == today().month else fce(), 10016),
    ("an FCE credit note without CbtesAsoc", 203,
     factura(203, opcionales=(Opcional("22", "N"),)), factura(203, opcionales=(Opcional("22", "N"),), cbtes_asoc=(CbteAsoc(201, PV, 1, str(CUIT)),)), 10153),
    ("an FCE credit note without codigo de anulacion", 203,
     factura(203, cbtes_asoc=(CbteAsoc(201, PV, 1, str(CUIT)),), opcionales=(Opcional("23", "ref"),)),
     factura(203, cbtes_asoc=(CbteAsoc(201, PV, 1, str(CUIT)),), opcionales=(Opcional("22", "S"),)), 10173),
    ("a CBU on a comprobante that is not FCE", 1, factura(opcionales=(Opcional("2101", CBU),)), factura(), 10169),
    ("a B to No Categorizado without the IVA perception", 6,
     factura(6, doc_nro=23000000000, condicion_iva_receptor_id=7),
     factura(6, doc_nro=23000000000, condicion_iva_receptor_id=7, imp_trib=Decimal("3"), imp_total=Decimal("124"),
             tributos=(Tributo(13, Decimal("100"), Decimal("3"), Decimal("3"), "Percepcion IVA"),)), 10067),
    ("used goods to DocTipo 99", 49,
     factura(49, doc_tipo=99, doc_nro=0, condicion_iva_receptor_id=5, imp_neto=Decimal("0"), imp_iva=Decimal("0"),
             imp_tot_conc=Decimal("121"), iva=()),
     factura(49, doc_tipo=96, doc_nro=30111222, condicion_iva_receptor_id=5, imp_neto=Decimal("0"), imp_iva=Decimal("0"),
             imp_tot_conc=Decimal("121"), iva=()), 10015),
]


@pytest.mark.parametrize("what, cbte_tipo, wrong, right, code", RULES, ids=[r[0] for r in RULES])
async def test_each_rule_rejects_with_afips_code_and_the_fixed_comprobante_passes(world, what, cbte_tipo, wrong, right, code):
    app, http, afip = world
    assert code in await codes_of(afip, cbte_tipo, wrong)
    assert await afip.last_authorized(PV, cbte_tipo) == 0  # nothing was numbered
    assert await codes_of(afip, cbte_tipo, right) == ()
