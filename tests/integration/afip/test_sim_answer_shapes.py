"""Every recorded AFIP conversation, replayed against the simulator, is answered with AFIP's shape.

For each cassette in tests/fixtures/afip_recorded the simulator is put in the state AFIP was in
(recorded_replay.seed), each recorded request is sent byte for byte, and the answer must have the
same elements in the same order with values of the same kind, and the same error and observation
codes (values may differ: CAEs, timestamps, the environment's name). Two adaptations, both
explained where they are made: details get the CondicionIVAReceptorId that RG 5616 made
mandatory after the recordings, and AFIP's observations from its taxpayer registry (10217) are
not expected from the simulator.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from lxml import etree

from encola.afip.wsaa import build_tra, sign_tra
from encola.afip_sim import create_app
from encola.certificates.simulator import signed_by

import recorded_replay as rr

pytestmark = pytest.mark.anyio
ART = timezone(timedelta(hours=-3))
WSFE_PATH = "/wsfev1/service.asmx"
WSAA_PATH = "/ws/services/LoginCms"


def _headers(request: dict) -> dict[str, str]:
    return {k: v[0] for k, v in request["headers"].items() if k.lower() in ("content-type", "soapaction")}


@pytest.mark.parametrize("cassette", rr.cassettes("wsfev1"), ids=lambda p: p.stem)
async def test_each_recorded_wsfe_request_gets_afips_answer_shape_and_codes(cassette):
    clock = {"now": datetime.now(ART)}
    app = create_app(clock=lambda: clock["now"])
    rr.seed(app.state.ledger, cassette)
    calls = [c for c in rr.posts(cassette) if c["request"]["uri"].endswith(WSFE_PATH)]
    assert calls, "a WSFEv1 cassette without WSFEv1 calls"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim") as http:
        for call in calls:
            recorded = call["response"]["body"]["string"]
            clock["now"] = rr.recorded_time(recorded)
            answer = await http.post(WSFE_PATH, content=rr.with_condicion_iva(call["request"]["body"]).encode("utf-8"),
                                     headers=_headers(call["request"]))
            assert answer.status_code == call["response"]["status"]["code"]
            # What FECompConsultar returns carries the condition the replay added to the request.
            ours, afips = etree.fromstring(answer.content), rr.xml(rr.with_condicion_iva(recorded))
            afips_result = rr.without_registry_observations(rr.body_child(afips))
            assert rr.header_shape(ours) == rr.header_shape(afips)
            assert rr.shape(rr.body_child(ours)) == rr.shape(afips_result)
            assert rr.codes(rr.body_child(ours)) == rr.codes(afips_result)


@pytest.mark.parametrize("cassette", rr.cassettes("wsaa"), ids=lambda p: p.stem)
async def test_each_recorded_login_is_refused_as_afip_would_and_a_fresh_one_gets_afips_shape(cassette):
    """The recorded CMS was signed by a certificate this simulator never issued: AFIP's fault for
    that (Axis-shaped). The same envelope with a CMS of a simulator-signed certificate is answered
    with AFIP's shape, the ticket (loginTicketResponse) inside included."""
    [call] = [c for c in rr.posts(cassette) if c["request"]["uri"].endswith(WSAA_PATH)]
    app = create_app()
    recorded_body = call["request"]["body"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim") as http:
        refused = await http.post(WSAA_PATH, content=recorded_body.encode("utf-8"), headers=_headers(call["request"]))
        cert, key = signed_by(app.state.ca, 20267565393, "reingart")
        fresh_cms = sign_tra(build_tra("wsfe", datetime.now(ART)), cert, key)
        in0 = rr.xml(recorded_body).find(".//{*}in0")
        in0.text = __import__("base64").b64encode(fresh_cms).decode()
        fresh_body = etree.tostring(in0.getroottree(), xml_declaration=True, encoding="UTF-8")
        answer = await http.post(WSAA_PATH, content=fresh_body, headers=_headers(call["request"]))
    assert refused.status_code == 500
    fault = rr.body_child(etree.fromstring(refused.content))
    assert fault.findtext("faultcode").split(":")[-1] in ("cms.cert.expired", "cms.cert.untrusted")  # 2021 cert
    assert [etree.QName(c).localname for c in fault] == ["faultcode", "faultstring", "detail"]
    assert {etree.QName(c).localname for c in fault.find("detail")} >= {"exceptionName", "hostname"}

    assert answer.status_code == 200
    ours, afips = rr.body_child(etree.fromstring(answer.content)), rr.body_child(rr.xml(call["response"]["body"]["string"]))
    assert rr.shape(ours) == rr.shape(afips)
    assert etree.QName(ours).namespace == etree.QName(afips).namespace  # Axis echoes the request's namespace
    ticket, afips_ticket = rr.xml(ours[0].text), rr.xml(afips[0].text)
    assert rr.shape(ticket) == rr.shape(afips_ticket)
    assert ticket.get("version") is not None and afips_ticket.get("version") is not None


def test_every_recorded_cassette_is_replayed_by_one_of_these_tests():
    everything = sorted(rr.FIXTURES.glob("*.yaml"))
    assert len(everything) == 31
    assert everything == sorted(rr.cassettes("wsfev1") + rr.cassettes("wsaa"))
