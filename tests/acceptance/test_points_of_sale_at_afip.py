"""Points of sale where encola emits, end to end: `encola pdv create` registers them at a real
`encola afip-sim` process (or the embedded simulator's ledger), which then enforces AFIP's rules
(10005, 11002, 10119, …) and reports them per CUIT in FEParamGetPtosVenta; against AFIP it checks
them, and without a certificate says what to do at ARCA."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml
from lxml import etree

from encola.afip import AfipCallError, AfipClient, AfipEndpoints, AlicIva, CaeDetail, Credentials
from encola.afip import wsfe_xml
from encola.afip_sim.ledger import Ledger
from encola.certificates.simulator import obtain_blocking
from encola.api.provisioning import PdvSpec, provision
from encola.pdv_at_afip import check_at_afip, judge
from encola.runtime import open_store
from encola.settings import Settings
from support import HTTP, ENCOLA, SECRET_KEY, EncolaProcess, factura_b, wait_until

pytestmark = pytest.mark.anyio
CUIT = "30712345671"
OTHER_CUIT = "20123456786"
ART = timezone(timedelta(hours=-3))
RECORDED = Path(__file__).parents[1] / "fixtures" / "afip_recorded" / "wsfev1_main_ptos_venta.yaml"


@pytest.fixture
def anyio_backend():
    return "asyncio"


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ENCOLA, *args], env=env, capture_output=True, text=True, timeout=60)


def pdv_create(env: dict, cuit: str, punto_venta: int) -> subprocess.CompletedProcess:
    return run(env, "pdv", "create", "--cuit", cuit, "--punto-venta", str(punto_venta), "--condicion-iva", "RI",
               "--razon-social", f"Empresa {cuit}", "--webhook", "http://127.0.0.1:9/hook")


def factura_a(numero: int, **changes) -> CaeDetail:
    base = dict(concepto=1, doc_tipo=80, doc_nro=30000000007, cbte_desde=numero, cbte_hasta=numero,
                cbte_fch=datetime.now(ART).date(), imp_total=Decimal("121"), imp_neto=Decimal("100"),
                imp_iva=Decimal("21"), iva=(AlicIva(5, Decimal("100"), Decimal("21")),), condicion_iva_receptor_id=1)
    base.update(changes)
    return CaeDetail(**base)


def test_pdv_create_registers_at_the_simulator_process_and_invoices_are_emitted(backend, databases, simulator):
    server = EncolaProcess(databases.new(backend), extra_env={"ENCOLA_AFIP_URL": simulator.base})
    done = pdv_create(server.env, CUIT, 12)
    assert done.returncode == 0, done.stderr
    keys = json.loads(done.stdout)
    assert "registered at the AFIP simulator" in done.stderr
    listed = HTTP.get(simulator.base + "/_sim/puntos_venta", params={"cuit": CUIT}).json()
    assert listed == [{"cuit": int(CUIT), "punto_venta": 12, "emision_tipo": "CAE", "bloqueado": False, "fch_baja": None}]
    again = pdv_create(server.env, CUIT, 12)  # fresh keys; the simulator's registry is left as it is
    assert again.returncode == 0 and "already registered" in again.stderr
    keys = json.loads(again.stdout)
    server.start()
    try:
        today = datetime.now(ART).date()
        answer = server.post("facturacion/nuevo_encola", factura_b(keys, reference="pv-1", fecha=today, punto_venta=12))
        assert answer.json()["error"] == "N", answer.json()
        wait_until(lambda: [c for c in simulator.comprobantes() if c["pto_vta"] == 12], message="the CAE at AFIP")
    finally:
        server.stop()


def test_pdv_create_refuses_when_the_simulator_cannot_register_and_stores_nothing(backend, databases):
    gone = "http://127.0.0.1:9"  # nothing listens on the discard port
    server = EncolaProcess(databases.new(backend), extra_env={"ENCOLA_AFIP_URL": gone})
    done = pdv_create(server.env, CUIT, 3)
    assert done.returncode != 0
    assert "could not register point of sale 3" in done.stderr and "encola afip-sim" in done.stderr
    assert "apikey" not in done.stdout
    assert CUIT not in run(server.env, "pdv", "list").stdout


def test_pdv_create_registers_at_the_embedded_simulators_ledger(backend, databases, tmp_path):
    ledger_path = tmp_path / "embedded-ledger.db"
    server = EncolaProcess(databases.new(backend), extra_env={"ENCOLA_AFIP_SIM_LEDGER": str(ledger_path)})
    server.env.pop("ENCOLA_AFIP_URL", None)
    server.env.pop("ENCOLA_AFIP_ENV", None)
    done = pdv_create(server.env, CUIT, 4)
    assert done.returncode == 0, done.stderr
    ledger = Ledger(str(ledger_path))
    try:
        assert ledger.point_of_sale(int(CUIT), 4).emision_tipo == "CAE"
        assert ledger.point_of_sale(int(CUIT), 5) is None
    finally:
        ledger.close()


def test_pdv_create_against_afip_without_a_certificate_says_what_to_do_at_arca(backend, databases):
    server = EncolaProcess(databases.new(backend), extra_env={"ENCOLA_AFIP_ENV": "homologacion"})
    server.env.pop("ENCOLA_AFIP_URL", None)
    done = pdv_create(server.env, CUIT, 7)  # no certificate: nothing is asked of AFIP (no network)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["apikey"]
    assert "not checked at AFIP" in done.stderr and "A/B/M de puntos de venta" in done.stderr
    assert "RECE para aplicativo y web services" in done.stderr


def test_afips_recorded_list_of_points_of_sale_is_judged_as_encola_would():
    [call] = [i for i in yaml.safe_load(RECORDED.read_text())["interactions"] if i["request"]["method"] == "POST"]
    envelope = etree.fromstring(call["response"]["body"]["string"].encode())
    result = envelope.find(".//{http://ar.gov.afip.dif.FEV1/}FEParamGetPtosVentaResult")
    listed = wsfe_xml.puntos_venta(result)
    assert [p.nro for p in listed] == [3, 4, 6]
    assert judge(listed, "20267565393", 4, "homologacion").ok
    missing = judge(listed, "20267565393", 5, "homologacion")
    assert not missing.ok and "registered: 3, 4, 6" in missing.message and "A/B/M de puntos de venta" in missing.message
    caea = judge([*listed[:1], type(listed[0])(9, "CAEA - Ri Iva", False)], "20267565393", 9, "produccion")
    assert not caea.ok and "CAEA" in caea.message
    blocked = judge([type(listed[0])(3, "CAE - Ri Iva", True)], "20267565393", 3, "produccion")
    assert not blocked.ok and "blocked" in blocked.message


async def test_the_simulator_process_enforces_points_of_sale_and_rules_per_cuit(simulator):
    cuit, other = int(CUIT), int(OTHER_CUIT)
    for who, nro in ((cuit, 1), (cuit, 2), (other, 8)):
        HTTP.post(simulator.base + "/_sim/puntos_venta", json={"cuit": who, "punto_venta": nro}).raise_for_status()
    async with httpx.AsyncClient() as http:
        ep = AfipEndpoints.for_simulator(simulator.base)
        mine = AfipClient(http, ep, Credentials(*obtain_blocking(simulator.base, cuit, "Empresa")), cuit)
        theirs = AfipClient(http, ep, Credentials(*obtain_blocking(simulator.base, other, "Otra")), other)
        assert [p.nro for p in await mine.puntos_venta()] == [1, 2]  # a CUIT sees only its own
        assert [p.nro for p in await theirs.puntos_venta()] == [8]
        refused = await mine.request_cae(8, 1, [factura_a(1)])  # the other CUIT's number is not mine
        assert refused.resultado == "R" and [e.code for e in refused.errors] == [10005]
        with pytest.raises(AfipCallError) as info:
            await mine.last_authorized(8, 1)
        assert info.value.errors[0].code == 11002
        dollars = await mine.request_cae(1, 1, [factura_a(1, mon_id="DOL", mon_cotiz=Decimal("1"))])
        assert dollars.details[0].codes == (10119,)
        assert (await mine.request_cae(1, 1, [factura_a(1)])).resultado == "A"
        today = datetime.now(ART).date()
        next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        b = dict(condicion_iva_receptor_id=5)
        big = dict(imp_total=Decimal("12100000"), imp_neto=Decimal("10000000"), imp_iva=Decimal("2100000"),
                   iva=(AlicIva(5, Decimal("10000000"), Decimal("2100000")),))
        for cbte_tipo, detail, code in (
            (6, factura_a(1, doc_tipo=99, doc_nro=0, **b, **big), 10015),  # RG 5700: identify the buyer
            (6, factura_a(1, cbte_hasta=2, **b), 10015),  # a B range only for DocTipo 99
            (1, factura_a(1, cbte_fch=next_month), 10152),
            (3, factura_a(1), 10197),  # a credit note without CbtesAsoc nor PeriodoAsoc
            (201, factura_a(1), 10163),  # FCE without FchVtoPago (nor CBU: 10168)
        ):
            result = await mine.request_cae(2, cbte_tipo, [detail])
            assert code in result.details[0].codes, (cbte_tipo, result)
    assert [(c["cuit"], c["pto_vta"]) for c in simulator.comprobantes()] == [(cuit, 1)]


def test_the_afip_check_asks_fe_param_get_ptos_venta_with_the_cuits_certificate(simulator, tmp_path, monkeypatch):
    """`check_at_afip` runs against AFIP; here the simulator's WSFEv1 stands in for AFIP's (same SOAP)."""
    monkeypatch.setenv("ENCOLA_SECRET_KEY", SECRET_KEY)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'encola.db'}", afip_url=simulator.base)
    store = open_store(settings)
    provision(store, PdvSpec(CUIT, 5, "RI", "Empresa"))
    assert "no certificate" in check_at_afip(store, settings, CUIT, 5).message
    cert, key = obtain_blocking(simulator.base, int(CUIT), "Empresa")
    store.save_credentials(CUIT, cert.decode(), key.decode(), only_if_missing=False)
    for nro, extra in ((5, {}), (6, {"bloqueado": True}), (9, {"emision_tipo": "CAEA"})):
        HTTP.post(simulator.base + "/_sim/puntos_venta", json={"cuit": CUIT, "punto_venta": nro, **extra}).raise_for_status()
    found = check_at_afip(store, settings, CUIT, 5)
    assert found.ok and "found at AFIP" in found.message
    missing = check_at_afip(store, settings, CUIT, 7)  # the stored ticket is reused: no second login
    assert not missing.ok and "registered: 5, 6, 9" in missing.message
    assert not check_at_afip(store, settings, CUIT, 6).ok
    assert "not for CAE web services" in check_at_afip(store, settings, CUIT, 9).message
    store.engine.dispose()
