"""Every request the client builds validates against the XSD inside AFIP's official WSDL."""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from encola.afip import AlicIva, CaeDetail, CbteAsoc, Opcional, PeriodoAsoc, Tributo, generate_test_certificate
from encola.afip import wsfe_xml as x
from encola.afip.soap import SOAP_ENV, envelope
from encola.afip.wsaa import WSAA_NS, build_tra, login_cms_request, now_argentina, sign_tra
from encola.afip.wsdl_schema import schema

TOKEN, SIGN, CUIT = "dG9rZW4=", "c2lnbg==", 20123456786


def assert_valid(operation: etree._Element, xsd: etree.XMLSchema) -> None:
    """Validate the operation element as it travels: inside the envelope's Body."""
    document = etree.fromstring(envelope(operation))
    body_child = document.find(f"{{{SOAP_ENV}}}Body")[0]
    sent = etree.fromstring(etree.tostring(body_child))
    assert xsd.validate(sent), xsd.error_log


def wsfe_schema() -> etree.XMLSchema:
    return schema("wsfev1")


def auth(name: str) -> etree._Element:
    return x.auth_operation(name, TOKEN, SIGN, CUIT)


def full_detail(numero: int) -> CaeDetail:
    return CaeDetail(
        concepto=3, doc_tipo=80, doc_nro=30000000007, cbte_desde=numero, cbte_hasta=numero,
        cbte_fch=date(2026, 3, 10), imp_total=Decimal("1330.50"), imp_tot_conc=Decimal("10.00"),
        imp_neto=Decimal("1000.00"), imp_op_ex=Decimal("5.00"), imp_trib=Decimal("20.50"), imp_iva=Decimal("295.00"),
        fch_serv_desde=date(2026, 3, 1), fch_serv_hasta=date(2026, 3, 31), fch_vto_pago=date(2026, 4, 10),
        mon_id="DOL", mon_cotiz=Decimal("1050.254"), can_mis_mon_ext="N", condicion_iva_receptor_id=1,
        cbtes_asoc=(CbteAsoc(tipo=1, pto_vta=3, nro=77, cuit="20123456786", cbte_fch=date(2026, 3, 1)),),
        tributos=(Tributo(id=99, desc="Impuesto Municipal", base_imp=Decimal("1000"), alic=Decimal("2.05"), importe=Decimal("20.50")),),
        iva=(AlicIva(5, Decimal("500"), Decimal("105")), AlicIva(6, Decimal("500"), Decimal("190"))),
        opcionales=(Opcional(id="2101", valor="0140000000000000000001"),),
        periodo_asoc=PeriodoAsoc(date(2026, 2, 1), date(2026, 2, 28)),
    )


def test_fedummy_request_is_valid():
    assert_valid(x.operation("FEDummy"), wsfe_schema())


def test_ultimo_autorizado_request_is_valid():
    assert_valid(x.ultimo_autorizado_request(auth("FECompUltimoAutorizado"), 4000, 1), wsfe_schema())


def test_multi_detail_fecaesolicitar_with_every_array_is_valid():
    op = x.cae_request(auth("FECAESolicitar"), 4000, 1, [full_detail(1), full_detail(2), full_detail(3)])
    assert_valid(op, wsfe_schema())
    assert op.find(f"{{{x.NS}}}FeCAEReq/{{{x.NS}}}FeCabReq/{{{x.NS}}}CantReg").text == "3"


def test_minimal_fecaesolicitar_is_valid():
    detail = CaeDetail(concepto=1, doc_tipo=99, doc_nro=0, cbte_desde=1, cbte_hasta=1, cbte_fch=date(2026, 3, 10),
                       imp_total=Decimal("100"), imp_neto=Decimal("100"), condicion_iva_receptor_id=5)
    assert_valid(x.cae_request(auth("FECAESolicitar"), 1, 11, [detail]), wsfe_schema())


def test_compconsultar_request_is_valid():
    assert_valid(x.consultar_request(auth("FECompConsultar"), 4000, 1, 1836), wsfe_schema())


@pytest.mark.parametrize("name", [
    "FECompTotXRequest", "FEParamGetTiposCbte", "FEParamGetTiposIva", "FEParamGetTiposDoc",
    "FEParamGetTiposMonedas", "FEParamGetTiposConcepto", "FEParamGetTiposTributos", "FEParamGetPtosVenta",
])
def test_auth_only_requests_are_valid(name):
    assert_valid(auth(name), wsfe_schema())


def test_condicion_iva_receptor_request_is_valid_with_and_without_class():
    assert_valid(x.condicion_iva_request(auth("FEParamGetCondicionIvaReceptor"), "A"), wsfe_schema())
    assert_valid(x.condicion_iva_request(auth("FEParamGetCondicionIvaReceptor"), None), wsfe_schema())


def test_login_cms_request_is_valid_against_the_wsaa_wsdl():
    cert, key = generate_test_certificate(CUIT, "ACME SA")
    cms = sign_tra(build_tra("wsfe", now_argentina()), cert, key)
    op = login_cms_request(cms)
    assert_valid(op, schema("wsaa", WSAA_NS))
    assert base64.b64decode(op[0].text) == cms


def test_amounts_travel_with_two_decimals():
    op = x.cae_request(auth("FECAESolicitar"), 1, 1, [full_detail(1)])
    det = op.find(f".//{{{x.NS}}}FECAEDetRequest")
    assert det.findtext(f"{{{x.NS}}}ImpTotal") == "1330.50"
    assert det.findtext(f"{{{x.NS}}}ImpTrib") == "20.50"
    assert det.findtext(f"{{{x.NS}}}MonCotiz") == "1050.254"
    assert [e.findtext(f"{{{x.NS}}}BaseImp") for e in det.iter(f"{{{x.NS}}}AlicIva")] == ["500.00", "500.00"]
