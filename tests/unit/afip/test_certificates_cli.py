"""``encola cert new`` and ``check_certificate``: what they accept, what they refuse, and that
nothing a user types makes them fail any other way."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from encola.afip.certs import CertificateProblem, check_certificate, generate_test_certificate
from encola.afip_sim.ca import SimulatorCA
from encola.certificates.cli import cert as cert_group
from encola.certificates.csr import build_csr, new_private_key
from encola.certificates.simulator import signed_by

CUIT = "20123456786"
_KEY = new_private_key()  # one key for the property tests: generating one per example is slow


def test_cert_new_writes_a_private_key_0600_and_afips_csr(tmp_path):
    result = CliRunner().invoke(cert_group, ["new", "--cuit", CUIT, "--razon-social", "Ñandú Hnos. S.R.L.", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    key, csr_file = tmp_path / "nandu-hnos-s-r-l.key", tmp_path / "nandu-hnos-s-r-l.csr"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    csr = x509.load_pem_x509_csr(csr_file.read_bytes())
    assert [(a.oid, a.value) for a in csr.subject] == [
        (NameOID.COUNTRY_NAME, "AR"), (NameOID.ORGANIZATION_NAME, "Ñandú Hnos. S.R.L."),
        (NameOID.COMMON_NAME, "nandu-hnos-s-r-l"), (NameOID.SERIAL_NUMBER, f"CUIT {CUIT}"),
    ]
    assert "PRIVATE KEY" not in result.output  # the key is written, never printed
    assert "WSASS" in result.output and "Administración de Certificados Digitales" in result.output


@pytest.mark.parametrize("args, says", [
    (["--cuit", "20123456785", "--razon-social", "X"], "not a valid CUIT"),
    (["--cuit", "2012345678", "--razon-social", "X"], "not a valid CUIT"),
    (["--cuit", CUIT, "--razon-social", "   "], "must not be empty"),
    (["--cuit", CUIT, "--razon-social", "X", "--alias", "../x"], "no slashes"),
])
def test_cert_new_refuses_what_arca_would_not_take(tmp_path, args, says):
    result = CliRunner().invoke(cert_group, ["new", *args, "--out", str(tmp_path)])
    assert result.exit_code == 2 and says in result.output
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuit=st.one_of(st.just(CUIT), st.just(f" {CUIT} "), st.text(max_size=14)), razon=st.text(max_size=90),
       alias=st.one_of(st.none(), st.text(max_size=70)))
def test_cert_new_either_writes_the_pair_or_refuses_with_a_usage_error(tmp_path_factory, cuit, razon, alias):
    out = tmp_path_factory.mktemp("out")
    args = ["new", "--cuit", cuit, "--razon-social", razon, "--out", str(out)] + (["--alias", alias] if alias is not None else [])
    result = CliRunner().invoke(cert_group, args)
    if result.exit_code == 0:
        (csr_file,) = out.glob("*.csr")
        csr = x509.load_pem_x509_csr(csr_file.read_bytes())
        assert csr.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == f"CUIT {cuit.strip()}"
        assert csr.is_signature_valid
    else:
        assert result.exit_code == 2, (result.output, result.exception)
        assert not list(out.glob("*.key"))


def test_check_certificate_accepts_the_pair_and_says_when_it_ends():
    cert, key = signed_by(SimulatorCA.create(), CUIT, "ACME SA", "acme")
    info = check_certificate(cert, key, CUIT)
    assert info.cuit == int(CUIT) and "CN=acme" in info.subject and "serialNumber=CUIT 20123456786" in info.subject
    assert 725 <= info.days_left() <= 730 and not info.expiring()
    assert info.expiring(datetime.now(timezone.utc) + timedelta(days=710))


def test_check_certificate_refuses_with_the_reason():
    cert, key = generate_test_certificate(int(CUIT), "ACME SA")
    _, other_key = generate_test_certificate(int(CUIT), "ACME SA")
    with pytest.raises(CertificateProblem, match="does not belong to this private key"):
        check_certificate(cert, other_key, CUIT)
    with pytest.raises(CertificateProblem, match="is for CUIT 20123456786, not 30712345671"):
        check_certificate(cert, key, "30712345671")
    with pytest.raises(CertificateProblem, match="expired"):
        check_certificate(cert, key, CUIT, now=datetime.now(timezone.utc) + timedelta(days=800))
    csr_only = build_csr(_KEY, CUIT, "ACME SA")
    with pytest.raises(CertificateProblem, match="not a readable PEM certificate"):
        check_certificate(csr_only, key, CUIT)


_GOOD_CERT, _GOOD_KEY = generate_test_certificate(int(CUIT), "ACME SA")


@settings(max_examples=120, deadline=None)
@given(cert=st.one_of(st.binary(max_size=2000), st.just(_GOOD_CERT), st.binary(max_size=300).map(lambda b: _GOOD_CERT[:200] + b)),
       key=st.one_of(st.binary(max_size=2000), st.just(_GOOD_KEY), st.text(max_size=300)),
       cuit=st.one_of(st.just(CUIT), st.text(max_size=20), st.integers()))
def test_check_certificate_raises_nothing_but_certificate_problem(cert, key, cuit):
    try:
        info = check_certificate(cert, key, cuit)
    except CertificateProblem as exc:
        assert str(exc)
        assert "PRIVATE KEY" not in str(exc)  # never the key back
    else:
        assert (cert, key, str(cuit)) == (_GOOD_CERT, _GOOD_KEY, CUIT) and info.cuit == int(CUIT)
