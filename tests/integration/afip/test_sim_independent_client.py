"""A SOAP client nobody here wrote (zeep, strict, built from AFIP's official WSDLs) against a real
`encola afip-sim` process: every WSFEv1 operation through both the SOAP 1.1 and the SOAP 1.2
binding, and WSAA's loginCms, must be answered with something zeep parses without complaint.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import zeep
from lxml import etree

from encola.afip.wsaa import build_tra, sign_tra
from encola.certificates.simulator import obtain_blocking
from support import HTTP
from sim_process import free_port

WSDL = Path(__file__).resolve().parents[3] / "encola" / "afip" / "wsdl"
FEV1 = "{http://ar.gov.afip.dif.FEV1/}"
ART = timezone(timedelta(hours=-3))
CUIT = 20111111112
BINDINGS = {"soap11": f"{FEV1}ServiceSoap", "soap12": f"{FEV1}ServiceSoap12"}
# Points of sale per binding, so the two bindings' calls do not share lanes: (CAE, CAEA, CAEA idle).
POINTS = {"soap11": (11, 12, 13), "soap12": (21, 22, 23)}


@pytest.fixture(scope="module")
def sim():
    """`encola afip-sim` as its own process (strict WSAA, the default), stopped at the end."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "encola.cli", "afip-sim", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"afip-sim exited: {proc.stderr.read().decode()}")
        try:
            HTTP.get(base + "/_sim/faults", timeout=0.5)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    for binding, numbers in POINTS.items():
        for nro, tipo in zip(numbers, ("CAE", "CAEA", "CAEA")):
            HTTP.post(base + "/_sim/puntos_venta", json={"cuit": CUIT, "punto_venta": nro, "emision_tipo": tipo},
                       timeout=5).raise_for_status()
    yield base
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _client(wsdl: str) -> zeep.Client:
    return zeep.Client(str(WSDL / wsdl), settings=zeep.Settings(strict=True, xml_huge_tree=False))


@pytest.fixture(scope="module")
def auth(sim):
    """A ticket from the simulator's WSAA, asked for through zeep (WSAA's WSDL binds SOAP 1.1 only)."""
    cert, key = obtain_blocking(sim, CUIT, "Cliente Independiente SA")
    client = _client("wsaa.wsdl")
    service = client.create_service(next(iter(client.wsdl.bindings)), sim + "/ws/services/LoginCms")
    cms = sign_tra(build_tra("wsfe", datetime.now(ART)), cert, key)
    ticket = etree.fromstring(service.loginCms(in0=base64.b64encode(cms).decode()).encode())
    with pytest.raises(zeep.exceptions.Fault) as second:  # strict WSAA: one ticket at a time
        service.loginCms(in0=base64.b64encode(sign_tra(build_tra("wsfe", datetime.now(ART)), cert, key)).decode())
    assert "alreadyAuthenticated" in str(second.value.code)
    return {"Token": ticket.findtext("credentials/token"), "Sign": ticket.findtext("credentials/sign"), "Cuit": CUIT}


def _detail(numero: int, day: str, **extra) -> dict:
    return dict(Concepto=1, DocTipo=80, DocNro=30000000007, CbteDesde=numero, CbteHasta=numero, CbteFch=day,
                ImpTotal=121, ImpTotConc=0, ImpNeto=100, ImpOpEx=0, ImpTrib=0, ImpIVA=21, MonId="PES", MonCotiz=1,
                CondicionIVAReceptorId=1, Iva={"AlicIva": [{"Id": 5, "BaseImp": 100, "Importe": 21}]}, **extra)


@pytest.mark.parametrize("binding", BINDINGS)
def test_zeep_from_the_official_wsdl_parses_every_wsfe_operation_in_both_soap_versions(sim, auth, binding):
    client = _client("wsfev1.wsdl")
    ws = client.create_service(BINDINGS[binding], sim + "/wsfev1/service.asmx")
    cae_pv, caea_pv, idle_pv = POINTS[binding]
    now = datetime.now(ART)
    today = now.strftime("%Y%m%d")
    called = set()

    def call(name, **kwargs):
        called.add(name)
        return getattr(ws, name)(**kwargs)

    assert call("FEDummy").AppServer == "OK"
    assert call("FECompTotXRequest", Auth=auth).RegXReq == 250
    last = call("FECompUltimoAutorizado", Auth=auth, PtoVta=cae_pv, CbteTipo=1)
    assert last.CbteNro == 0 and not last.Errors
    cae = call("FECAESolicitar", Auth=auth, FeCAEReq={
        "FeCabReq": {"CantReg": 1, "PtoVta": cae_pv, "CbteTipo": 1},
        "FeDetReq": {"FECAEDetRequest": [_detail(1, today)]}})
    assert cae.FeCabResp.Resultado == "A", cae
    assert len(cae.FeDetResp.FECAEDetResponse[0].CAE) == 14
    found = call("FECompConsultar", Auth=auth, FeCompConsReq={"CbteTipo": 1, "CbteNro": 1, "PtoVta": cae_pv})
    assert found.ResultGet.CodAutorizacion == cae.FeDetResp.FECAEDetResponse[0].CAE

    tables = {"FEParamGetTiposCbte": "CbteTipo", "FEParamGetTiposConcepto": "ConceptoTipo",
              "FEParamGetTiposDoc": "DocTipo", "FEParamGetTiposIva": "IvaTipo", "FEParamGetTiposMonedas": "Moneda",
              "FEParamGetTiposOpcional": "OpcionalTipo", "FEParamGetTiposTributos": "TributoTipo",
              "FEParamGetTiposPaises": "PaisTipo", "FEParamGetActividades": "ActividadesTipo",
              "FEParamGetPtosVenta": "PtoVenta"}
    for name, item in tables.items():
        answer = call(name, Auth=auth)
        assert not answer.Errors and getattr(answer.ResultGet, item), name
    assert len(call("FEParamGetTiposMonedas", Auth=auth).ResultGet.Moneda) == 50
    assert {c.Id for c in call("FEParamGetTiposCbte", Auth=auth).ResultGet.CbteTipo} >= {34, 35, 39, 40, 60, 61, 63, 64}
    condiciones = call("FEParamGetCondicionIvaReceptor", Auth=auth, ClaseCmp="A").ResultGet.CondicionIvaReceptor
    assert {c.Id for c in condiciones} == {1, 6, 13, 16}
    cotizacion = call("FEParamGetCotizacion", Auth=auth, MonId="DOL").ResultGet
    assert cotizacion.MonId == "DOL" and cotizacion.MonCotiz > 0

    periodo, orden = int(now.strftime("%Y%m")), 1 if now.day <= 15 else 2
    granted = call("FECAEASolicitar", Auth=auth, Periodo=periodo, Orden=orden)
    if granted.Errors:  # the other binding asked first: one CAEA per CUIT and fortnight
        assert granted.Errors.Err[0].Code == 15008
    caea = call("FECAEAConsultar", Auth=auth, Periodo=periodo, Orden=orden).ResultGet
    assert len(caea.CAEA) == 14 and caea.FchVigDesde <= today <= caea.FchVigHasta
    informed = call("FECAEARegInformativo", Auth=auth, FeCAEARegInfReq={
        "FeCabReq": {"CantReg": 1, "PtoVta": caea_pv, "CbteTipo": 1},
        "FeDetReq": {"FECAEADetRequest": [_detail(1, today, CAEA=caea.CAEA, CbteFchHsGen=now.strftime("%Y%m%d%H%M%S"))]}})
    assert informed.FeCabResp.Resultado == "A", informed
    assert informed.FeDetResp.FECAEADetResponse[0].CAEA == caea.CAEA
    idle = call("FECAEASinMovimientoInformar", Auth=auth, PtoVta=idle_pv, CAEA=caea.CAEA)
    assert idle.Resultado == "A", idle
    listed = call("FECAEASinMovimientoConsultar", Auth=auth, CAEA=caea.CAEA, PtoVta=idle_pv)
    assert [r.PtoVta for r in listed.ResultGet.FECAEASinMov] == [idle_pv]

    every_operation = set(client.wsdl.bindings[BINDINGS[binding]]._operations)
    assert called == every_operation, every_operation - called


# What the WSDL requires besides Auth (minOccurs=1), which zeep checks before sending.
REQUIRED = {"FECAEASolicitar": {"Periodo": 202611, "Orden": 1}, "FECAEAConsultar": {"Periodo": 202611, "Orden": 1},
            "FECompUltimoAutorizado": {"PtoVta": 1, "CbteTipo": 1}, "FECAEASinMovimientoInformar": {"PtoVta": 1},
            "FECAEASinMovimientoConsultar": {"PtoVta": 1}}


@pytest.mark.parametrize("binding", BINDINGS)
def test_zeep_parses_every_operations_error_answer_too(sim, binding):
    """AFIP's errors come with HTTP 200 inside the result (`Errors/Err`): a ticket the simulator
    never issued gets 600 from every operation that takes Auth, each parsed by zeep."""
    client = _client("wsfev1.wsdl")
    ws = client.create_service(BINDINGS[binding], sim + "/wsfev1/service.asmx")
    forged = {"Token": "Zm9yZ2Vk", "Sign": "Zm9yZ2Vk", "Cuit": CUIT}
    for name in sorted(client.wsdl.bindings[BINDINGS[binding]]._operations):
        if name == "FEDummy":
            continue
        answer = getattr(ws, name)(Auth=forged, **REQUIRED.get(name, {}))
        assert [e.Code for e in answer.Errors.Err] == [600], name


def test_wsaa_answers_soap12_in_soap12(sim):
    """WSAA's WSDL binds SOAP 1.1 only, but AFIP's WSAA accepts SOAP 1.2 (README §2.3): the answer
    (here the fault for a CMS it cannot read) comes back as a SOAP 1.2 fault."""
    envelope = ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">'
                '<soap:Body><loginCms xmlns="http://wsaa.view.sua.dvadac.desein.afip.gov"><in0>bm90IGEgQ01T</in0>'
                "</loginCms></soap:Body></soap:Envelope>")
    answer = HTTP.post(sim + "/ws/services/LoginCms", content=envelope,
                        headers={"content-type": 'application/soap+xml; charset=utf-8; action=""'}, timeout=5)
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("application/soap+xml")
    fault = etree.fromstring(answer.content).find("{*}Body/{*}Fault")
    assert etree.QName(fault).namespace == "http://www.w3.org/2003/05/soap-envelope"
    assert fault.findtext("{*}Code/{*}Value") == "soap:Sender"
    assert fault.findtext("{*}Code/{*}Subcode/{*}Value").startswith("ns1:cms.")
    assert fault.findtext("{*}Reason/{*}Text")
