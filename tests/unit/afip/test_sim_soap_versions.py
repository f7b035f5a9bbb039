"""The simulator speaks SOAP 1.1 and 1.2 as AFIP does, and routes calls by SOAP action as ASMX does."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from encola.afip_sim import soap_version
from sim_soap import FEV1, SOAP11, SOAP12, Sim

pytestmark = pytest.mark.anyio
CUIT = 20123456786


@pytest.fixture
async def sim():
    s = Sim()
    await s.login(CUIT)
    yield s
    await s.aclose()


@pytest.mark.parametrize("version, namespace, content_type", [
    ("1.1", SOAP11, "text/xml"), ("1.2", SOAP12, "application/soap+xml")])
async def test_each_version_is_answered_in_that_version_with_afips_header(sim, version, namespace, content_type):
    answer = await sim.call("FECompTotXRequest", cuit=CUIT, version=version)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == f"{content_type}; charset=utf-8"
    root = etree.fromstring(answer.content)
    assert etree.QName(root).namespace == namespace
    assert root.find(f"{{{namespace}}}Header/{{{FEV1}}}FEHeaderInfo/{{{FEV1}}}ambiente") is not None
    assert root.findtext(f".//{{{FEV1}}}RegXReq") == "250"


async def test_a_soap12_fault_has_code_reason_and_detail(sim):
    answer = await sim.call("FEParamGetTiposCbte", "<Nope/>", version="1.2",
                            headers={"content-type": f'application/soap+xml; charset=utf-8; action="{FEV1}NoSuchOperation"'})
    assert answer.status_code == 500
    fault = etree.fromstring(answer.content).find(f"{{{SOAP12}}}Body/{{{SOAP12}}}Fault")
    assert [etree.QName(c).localname for c in fault] == ["Code", "Reason", "Detail"]
    assert fault.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value") == "soap:Sender"
    assert "NoSuchOperation" in fault.findtext(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text")


@pytest.mark.parametrize("version, content_type", [("1.2", "text/xml; charset=utf-8"),
                                                   ("1.1", "application/soap+xml; charset=utf-8")])
async def test_an_envelope_of_the_other_version_is_a_version_mismatch(sim, version, content_type):
    answer = await sim.call("FEDummy", version=version, headers={"content-type": content_type})
    assert answer.status_code == 500
    assert b"VersionMismatch" in answer.content and b"Possible SOAP version mismatch" in answer.content
    expected = SOAP12 if content_type.startswith("application/soap+xml") else SOAP11
    assert etree.QName(etree.fromstring(answer.content)).namespace == expected


async def test_the_soap_action_picks_the_operation_and_an_empty_body_is_every_field_missing(sim):
    """pyafipws once sent an empty Body with SOAPAction FEDummy, and AFIP answered FEDummy (recorded)."""
    empty = f'<s:Envelope xmlns:s="{SOAP11}"><s:Body></s:Body></s:Envelope>'
    answer = await sim.http.post("/wsfev1/service.asmx", content=empty,
                                 headers={"content-type": "text/xml", "soapaction": f'"{FEV1}FEDummy"'})
    assert answer.status_code == 200 and b"<AppServer>OK</AppServer>" in answer.content
    answer = await sim.http.post("/wsfev1/service.asmx", content=empty,
                                 headers={"content-type": "text/xml", "soapaction": f'"{FEV1}FECompTotXRequest"'})
    assert b"<Code>500</Code>" in answer.content  # Auth missing, as AFIP says


async def test_a_body_that_is_not_the_actions_operation_cannot_be_read(sim):
    answer = await sim.call("FEDummy", headers={"content-type": "text/xml", "soapaction": f'"{FEV1}FECompTotXRequest"'})
    assert answer.status_code == 500
    assert b"Server was unable to read request" in answer.content and b"was not expected" in answer.content


async def test_without_an_action_the_body_element_picks_the_operation(sim):
    answer = await sim.call("FEDummy", headers={"content-type": "text/xml; charset=utf-8"})
    assert answer.status_code == 200 and b"FEDummyResponse" in answer.content


def test_wsaa_faults_become_soap12_faults_with_axis_code_as_subcode():
    from encola.afip_sim import wire
    fault11 = wire.soap_fault("coe.alreadyAuthenticated", "El CEE ya posee un TA valido", axis=True)
    fault = etree.fromstring(soap_version.in_version(fault11, "1.2")).find(f"{{{SOAP12}}}Body/{{{SOAP12}}}Fault")
    assert fault.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value") == "soap:Sender"
    subcode = fault.find(f"{{{SOAP12}}}Code/{{{SOAP12}}}Subcode/{{{SOAP12}}}Value")
    prefix, local = subcode.text.split(":")
    assert local == "coe.alreadyAuthenticated" and subcode.nsmap[prefix] == "http://xml.apache.org/axis/"
    assert fault.findtext(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text") == "El CEE ya posee un TA valido"
    assert fault.find(f"{{{SOAP12}}}Detail/{{http://xml.apache.org/axis/}}exceptionName") is not None


@pytest.mark.parametrize("content_type, action, expected", [
    ('application/soap+xml; charset=utf-8; action="http://ar.gov.afip.dif.FEV1/FEDummy"', None,
     ("1.2", "http://ar.gov.afip.dif.FEV1/FEDummy")),
    ('text/xml; charset="UTF-8"', '"http://ar.gov.afip.dif.FEV1/FEDummy"', ("1.1", "http://ar.gov.afip.dif.FEV1/FEDummy")),
    ("text/xml", '""', ("1.1", None)),
    ("APPLICATION/SOAP+XML", None, ("1.2", None)),
])
def test_version_and_action_are_read_from_the_headers(content_type, action, expected):
    namespace = SOAP12 if expected[0] == "1.2" else SOAP11
    request = soap_version.read_request(content_type, action, f'<e:Envelope xmlns:e="{namespace}"/>'.encode())
    assert (request.version, request.action, request.mismatch) == (*expected, None)


# Any header and body a client may send: the simulator answers a SOAP envelope of the version the
# content type names (or an HTTP 400 for XML it cannot parse) and never fails.
_bodies = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([SOAP11, SOAP12, "urn:other"]).flatmap(lambda ns: st.builds(
        lambda op, inner: f'<s:Envelope xmlns:s="{ns}"><s:Body><{op} xmlns="{FEV1}">{inner}</{op}></s:Body></s:Envelope>'.encode(),
        st.sampled_from(["FEDummy", "FECompTotXRequest", "FECAEASolicitar", "FEParamGetCotizacion", "Unknown"]),
        st.sampled_from(["", "<Periodo>x</Periodo>", "<Periodo>202613</Periodo><Orden>9</Orden>", "<MonId/>", "<Auth/>"]))),
)
_content_types = st.one_of(st.none(), st.sampled_from(["text/xml; charset=utf-8", "application/soap+xml",
                                                       'application/soap+xml; action="x"', "text/plain", ";;", "a/b; c"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_bodies, content_type=_content_types, action=st.one_of(st.none(), st.text(max_size=40)))
async def test_any_request_gets_a_soap_answer_or_a_400_never_a_crash(sim, body, content_type, action):
    headers = {} if content_type is None else {"content-type": content_type}
    if action is not None and action.isprintable() and action.isascii():
        headers["soapaction"] = action
    answer = await sim.http.post("/wsfev1/service.asmx", content=body, headers=headers)
    assert answer.status_code in (200, 400, 500)
    root = etree.fromstring(answer.content)
    assert etree.QName(root).localname == "Envelope"
    wants12 = (content_type or "").lower().startswith("application/soap+xml")
    if content_type and content_type.split(";")[0].strip():
        assert etree.QName(root).namespace == (SOAP12 if wants12 else SOAP11)


def test_only_the_envelope_is_rewritten_into_soap12_never_the_payload():
    from encola.afip_sim import wire
    from datetime import datetime
    payload = f"<ResultGet><Desc>{SOAP11}</Desc></ResultGet>"
    answer12 = soap_version.in_version(wire.fe_envelope("FEParamGetTiposPaises", payload, datetime.now(), "x"), "1.2")
    root = etree.fromstring(answer12)
    assert etree.QName(root).namespace == SOAP12
    assert root.findtext(f".//{{{FEV1}}}Desc") == SOAP11


@pytest.mark.parametrize("body, namespace", [
    (b'<?xml version="1.0"?><!-- c --><soap12:Envelope xmlns:soap12="http://www.w3.org/2003/05/soap-envelope">', SOAP12),
    (b"<Envelope xmlns='http://schemas.xmlsoap.org/soap/envelope/'><Body/></Envelope>", SOAP11),
    (b'<x:Envelope xmlns:y="urn:y">', None), (b"not xml", None), (b"", None),
])
def test_the_envelope_namespace_is_read_from_its_start_tag(body, namespace):
    assert soap_version.envelope_namespace(body) == namespace


async def test_wsaa_logs_in_through_soap12_and_answers_in_soap12():
    import base64
    from datetime import datetime

    from encola.afip.wsaa import build_tra, sign_tra
    from encola.certificates.simulator import signed_by
    from sim_soap import ART
    s = Sim()
    cert, key = signed_by(s.app.state.ca, CUIT, "ACME SA")
    cms = base64.b64encode(sign_tra(build_tra("wsfe", datetime.now(ART)), cert, key)).decode()
    envelope = (f'<soap:Envelope xmlns:soap="{SOAP12}"><soap:Body><loginCms xmlns="http://wsaa.view.sua.dvadac.desein.afip.gov">'
                f"<in0>{cms}</in0></loginCms></soap:Body></soap:Envelope>")
    answer = await s.http.post("/ws/services/LoginCms", content=envelope,
                               headers={"content-type": 'application/soap+xml; charset=utf-8; action=""'})
    await s.aclose()
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/soap+xml")
    root = etree.fromstring(answer.content)
    assert etree.QName(root).namespace == SOAP12
    ticket = etree.fromstring(root.findtext(f"{{{SOAP12}}}Body/{{*}}loginCmsResponse/{{*}}loginCmsReturn").encode())
    assert ticket.findtext("credentials/token") and ticket.findtext("header/expirationTime")
