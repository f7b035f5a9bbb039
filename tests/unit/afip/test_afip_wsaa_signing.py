"""The TRA and its CMS signature, checked by the simulator's verifier."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from encola.afip import cuit_of, generate_test_certificate, load_certificate
from encola.afip.wsaa import build_tra, sign_tra
from encola.afip_sim import cms

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone(timedelta(hours=-3)))


def test_tra_carries_service_and_argentine_times():
    tra = etree.fromstring(build_tra("wsfe", NOW, unique_id=42))
    assert tra.findtext("service") == "wsfe"
    assert tra.findtext("header/uniqueId") == "42"
    assert tra.findtext("header/generationTime") == "2026-03-10T11:50:00-03:00"
    assert tra.findtext("header/expirationTime") == "2026-03-10T12:10:00-03:00"


def test_signed_tra_verifies_and_carries_the_certificate():
    cert_pem, key_pem = generate_test_certificate(20123456786, "ACME SA")
    tra = build_tra("wsfe", NOW)
    signed = cms.verify(sign_tra(tra, cert_pem, key_pem))
    assert signed.content == tra
    assert cuit_of(signed.certificate) == 20123456786 == cuit_of(load_certificate(cert_pem))


def test_tampered_signature_is_refused():
    cert_pem, key_pem = generate_test_certificate(20123456786, "ACME SA")
    der = bytearray(sign_tra(build_tra("wsfe", NOW), cert_pem, key_pem))
    der[-5] ^= 0xFF
    with pytest.raises(cms.CmsError) as info:
        cms.verify(bytes(der))
    assert info.value.code == "cms.sign.invalid"


def test_garbage_is_a_bad_cms():
    with pytest.raises(cms.CmsError) as info:
        cms.verify(b"\x30\x03\x02\x01")
    assert info.value.code == "cms.bad"
