"""The simulator's WSAA as strict as AFIP's, its WSASS, and encola's client against it."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from encola.afip import (
    AfipEndpoints,
    AlreadyAuthenticatedError,
    Credentials,
    InMemoryTicketCache,
    UntrustedCertificateError,
    WsaaClient,
    WsaaError,
    generate_test_certificate,
    load_certificate,
)
from encola.afip_sim import create_app
from encola.afip_sim.ca import SimulatorCA
from encola.certificates.csr import build_csr, key_and_csr, new_private_key
from encola.certificates.simulator import signed_by

pytestmark = pytest.mark.anyio
CUIT = 20123456786
EP = AfipEndpoints.for_simulator("http://sim")


class CountingApp:
    """The simulator app, counting the loginCms requests it gets."""

    def __init__(self, app):
        self.app, self.logins = app, 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].endswith("LoginCms") and scope["method"] == "POST":
            self.logins += 1
        await self.app(scope, receive, send)


def wsaa_for(app, cert, cache=None) -> tuple[httpx.AsyncClient, WsaaClient]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim")
    return http, WsaaClient(http, EP.wsaa, Credentials(*cert), cache)


async def test_a_self_signed_certificate_is_untrusted_with_afips_text():
    http, wsaa = wsaa_for(create_app(), generate_test_certificate(CUIT, "ACME SA"))
    async with http:
        with pytest.raises(UntrustedCertificateError) as info:
            await wsaa.login()
    assert info.value.faultcode == "cms.cert.untrusted"
    assert "Certificado no emitido por AC de confianza" in str(info.value)


async def test_another_simulators_certificate_is_untrusted_too():
    http, wsaa = wsaa_for(create_app(), signed_by(SimulatorCA.create(), CUIT, "ACME SA"))
    async with http:
        with pytest.raises(UntrustedCertificateError):
            await wsaa.login()


async def test_a_second_login_while_a_ticket_is_valid_is_already_authenticated():
    app = create_app()
    http, wsaa = wsaa_for(app, signed_by(app.state.ca, CUIT, "ACME SA"))
    async with http:
        assert (await wsaa.login()).token
        with pytest.raises(AlreadyAuthenticatedError) as info:
            await wsaa.login()
    assert "El CEE ya posee un TA valido para el acceso al WSN solicitado" in str(info.value)


async def test_lenient_trusts_any_certificate_and_issues_a_ticket_each_time():
    http, wsaa = wsaa_for(create_app(strict_wsaa=False), generate_test_certificate(CUIT, "ACME SA"))
    async with http:
        assert (await wsaa.login()).token != (await wsaa.login()).token


@pytest.mark.parametrize("service, code", [("wsfex", "coe.notAuthorized"), ("ws_sr_padron_a5", "coe.notAuthorized"),
                                           ("nada", "wsn.notFound")])
async def test_services_not_authorized_and_unknown_ones(service, code):
    app = create_app()
    http, wsaa = wsaa_for(app, signed_by(app.state.ca, CUIT, "ACME SA"))
    async with http:
        with pytest.raises(WsaaError) as info:
            await wsaa.login(service)
    assert info.value.faultcode == code
    if code == "coe.notAuthorized":
        assert "Computador no autorizado a acceder al servicio" in str(info.value)


async def test_the_client_reuses_the_ticket_another_process_stored():
    """Two processes, one certificate, one shared cache: the second one's login is refused and
    it takes the stored ticket instead of failing."""
    app = create_app()
    cert = signed_by(app.state.ca, CUIT, "ACME SA")
    shared = InMemoryTicketCache()

    class LateCache(InMemoryTicketCache):
        """What the second process read before the first stored its ticket: nothing; the
        shared copy (the database, in encola: StoreTicketCache.reload) has it."""

        async def reload(self, cuit, service):
            return await shared.get(cuit, service)

    http, first = wsaa_for(app, cert, shared)
    async with http:
        stored = await first.ticket(CUIT)
        second = WsaaClient(http, EP.wsaa, Credentials(*cert), LateCache())
        assert (await second.ticket(CUIT)).token == stored.token


async def test_with_no_ticket_to_reuse_the_client_waits_instead_of_asking_again():
    counting = CountingApp(create_app())
    cert = signed_by(counting.app.state.ca, CUIT, "ACME SA")
    http, elsewhere = wsaa_for(counting, cert)
    async with http:
        await elsewhere.login()  # another system holds the only valid ticket
        ours = WsaaClient(http, EP.wsaa, Credentials(*cert))
        with pytest.raises(AlreadyAuthenticatedError) as first:
            await ours.ticket(CUIT)
        assert first.value.retry_after >= 600  # the engine backs its lanes off this long
        for _ in range(5):
            with pytest.raises(AlreadyAuthenticatedError):
                await ours.ticket(CUIT)
    assert counting.logins == 2  # the other system's and our one attempt: no loop on WSAA


# ------------------------------------------------------------------------------------- WSASS


async def test_wsass_signs_a_csr_and_the_certificate_logs_in():
    app = create_app()
    key_pem, csr_pem = key_and_csr(CUIT, "ACME SA", "acme")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim") as http:
        answer = await http.post("/_sim/wsass", content=csr_pem)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/x-pem-file")
        cert = load_certificate(answer.content)
        assert cert.issuer == load_certificate((await http.get("/_sim/wsass/ca")).content).subject
        assert (await WsaaClient(http, EP.wsaa, Credentials(answer.content, key_pem)).login()).token


@pytest.mark.parametrize("csr, says", [
    (b"", "PEM"),
    (b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "PEM"),
    (build_csr(new_private_key(), "CUIT-malo", "ACME SA"), "serialNumber"),
])
async def test_wsass_refuses_bad_csrs_clearly(csr, says):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://sim") as http:
        answer = await http.post("/_sim/wsass", content=csr)
    assert answer.status_code == 400 and says in answer.text


async def test_wsass_refuses_a_small_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    csr = build_csr(rsa.generate_private_key(public_exponent=65537, key_size=1024), CUIT, "ACME SA")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://sim") as http:
        answer = await http.post("/_sim/wsass", content=csr)
    assert answer.status_code == 400 and "2048" in answer.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=3000), st.text(max_size=3000).map(str.encode),
                      st.binary(max_size=600).map(lambda b: b"-----BEGIN CERTIFICATE REQUEST-----\n" + b
                                                  + b"\n-----END CERTIFICATE REQUEST-----\n")))
def test_wsass_answers_anything_with_a_certificate_or_a_clear_400(body):
    import asyncio

    async def ask():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_APP), base_url="http://sim") as http:
            return await http.post("/_sim/wsass", content=body)

    answer = asyncio.run(ask())
    assert answer.status_code in (400, 413), answer.text
    assert answer.text.strip()


_APP = create_app()


def test_the_ca_lives_beside_a_durable_ledger(tmp_path):
    ledger = str(tmp_path / "sim.db")
    first = create_app(ledger_path=ledger)
    cert_pem, _ = signed_by(first.state.ca, CUIT, "ACME SA")
    again = create_app(ledger_path=ledger)  # a restart
    assert again.state.ca.signed(load_certificate(cert_pem))
    assert oct((tmp_path / "sim.db.ca.pem").stat().st_mode & 0o777) == "0o600"
    assert not create_app().state.ca.signed(load_certificate(cert_pem))  # in memory: a CA of its own
