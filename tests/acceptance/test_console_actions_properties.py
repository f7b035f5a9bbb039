"""Property tests of the console's action forms against a real `encola serve`: whatever an operator
types (dates, URLs, tokens, tipos, ids), the answer is a page (never a 5xx), and when it is a
refusal nothing changed, the audit log included."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from console_session import ConsoleSession, create_operator
from encola.clock import Clock
from encola.console.operations import parse_day
from support import EncolaProcess, WebhookReceiver, factura_b, open_store_of_processes

TODAY = Clock().today()
CUIT = "30712345674"
FACTURA_B = 6
ANSWERS = (200, 400, 404)

# Text that looks like what a person or a browser would send, and text that does not.
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
day_texts = st.one_of(
    days.map(lambda d: d.strftime("%d/%m/%Y")),
    days.map(lambda d: d.isoformat()),
    st.from_regex(r"\A\d{1,4}[/-]\d{1,3}[/-]\d{1,5}\Z"),
    st.text(max_size=40),
)
url_texts = st.one_of(
    st.from_regex(r"\A(https?|ftp|javascript|file)://[a-z0-9.\-\[\]:@%]{0,40}(/[a-z0-9/?=&#%.]{0,30})?\Z"),
    st.sampled_from(["", " ", "http://", "https://user:pw@127.0.0.1/x", "http://[::1]/", "https://" + "a" * 2100]),
    st.text(max_size=80),
)
token_texts = st.one_of(st.text(max_size=300), st.from_regex(r"\A[ -~]{0,20}\Z"))
_SETTINGS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)


@pytest.fixture(scope="module")
def receiver(backend):
    hooks = WebhookReceiver()
    yield hooks
    hooks.stop()


@pytest.fixture(scope="module")
def server(database_url, receiver):
    process = EncolaProcess(database_url)
    # The re-dated invoice's hooks go to a receiver on 127.0.0.1; the other point of sale has no
    # events at all, so whatever URL it is given is never called (no name is ever resolved).
    made = process.provision(CUIT, 1, receiver.url, token=receiver.token)
    process.keys = {k: made[k] for k in ("usertoken", "apikey", "apitoken")}
    process.provision(CUIT, 2, None)
    process.password = create_operator(process, "ops@a.example", "--workspace", CUIT)
    process.start()
    process.store = open_store_of_processes(database_url)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def operator(server):
    session = ConsoleSession(server.base, "ops@a.example", server.password)
    yield session
    session.close()


@pytest.fixture(scope="module")
def pdv_ids(server):
    with server.store.reading() as connection:
        return [server.store.pdv(connection, cuit=CUIT, punto_venta=n).id for n in (1, 2)]


@pytest.fixture(scope="module")
def queued_invoice(server, operator, pdv_ids):
    """A queued invoice on a paused lane: it stays changeable whatever date it is given."""
    assert operator.post(f"/console/puntos-de-venta/{pdv_ids[0]}/carriles/pausar", {"cbte_tipo": str(FACTURA_B)}).status_code == 200
    body = factura_b(server.keys, reference="prop-1", fecha=TODAY + timedelta(days=10), punto_venta=1)
    answer = server.post("facturacion/nuevo_encola", body).json()
    assert answer["error"] == "N", answer
    with server.store.reading() as connection:
        return server.store.by_external_reference(connection, pdv_ids[0], "prop-1")[0].id


def audit_count(server) -> int:
    return len(server.store.audit_entries(None, limit=100_000))


@_SETTINGS
@given(fecha=day_texts, vencimiento=st.one_of(st.just(""), day_texts))
def test_any_fecha_is_taken_or_refused_with_nothing_changed(server, operator, queued_invoice, fecha, vencimiento):
    before, logged = server.store.invoice(queued_invoice), audit_count(server)
    answer = operator.post(f"/console/comprobantes/{queued_invoice}/cambiar-fecha", {"fecha": fecha, "vencimiento": vencimiento})
    assert answer.status_code in (200, 400), answer.text
    after = server.store.invoice(queued_invoice)
    if answer.status_code == 400:
        assert (after.fecha, after.vencimiento, after.state) == (before.fecha, before.vencimiento, before.state)
        assert audit_count(server) == logged
    else:
        assert after.fecha == parse_day(fecha) and after.state == "queued"
        assert audit_count(server) == logged + 1


@_SETTINGS
@given(url=url_texts, token=token_texts)
def test_any_webhook_url_and_token_are_taken_or_refused_with_nothing_changed(server, operator, pdv_ids, url, token):
    def current():
        with server.store.reading() as connection:
            found = server.store.pdv(connection, cuit=CUIT, punto_venta=2)
        return found.webhook_url, found.webhook_token

    before, logged = current(), audit_count(server)
    answer = operator.post(f"/console/puntos-de-venta/{pdv_ids[1]}/webhook", {"url": url, "token": token})
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 400:
        assert current() == before and audit_count(server) == logged
    else:
        assert current() == (url.strip() or None, token or before[1])


@_SETTINGS
@given(cbte_tipo=st.one_of(st.integers(-10, 300).map(str), st.text(max_size=12)), pause=st.booleans())
def test_any_tipo_pauses_a_real_lane_or_is_refused(server, operator, pdv_ids, cbte_tipo, pause):
    lanes_before, logged = server.store.lanes_in_scope(None), audit_count(server)
    verb = "pausar" if pause else "reanudar"
    answer = operator.post(f"/console/puntos-de-venta/{pdv_ids[1]}/carriles/{verb}", {"cbte_tipo": cbte_tipo})
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 400:
        assert server.store.lanes_in_scope(None) == lanes_before and audit_count(server) == logged


@_SETTINGS
@given(target=st.text(min_size=1, max_size=60), desde=day_texts, kind=st.text(max_size=6))
def test_any_id_or_moment_in_a_delivery_form_is_answered_with_a_page(server, operator, pdv_ids, target, desde, kind):
    logged = audit_count(server)
    for path, data in (
        (f"/console/envios/{quote(target, safe='')}/reenviar", {"comprobante": target}),
        (f"/console/comprobantes/{quote(target, safe='')}/reenviar", {}),
        (f"/console/puntos-de-venta/x{quote(target, safe='')}/webhook/prueba", {}),  # never a real one: its URL is random
        (f"/console/puntos-de-venta/{pdv_ids[1]}/reenviar-fallidos", {"tipo": kind, "desde": desde}),
    ):
        answer = operator.post(path, data)
        assert answer.status_code in ANSWERS, (path, answer.status_code, answer.text[-500:])
    # Only a well-formed redelivery request of the operator's own point of sale is an action.
    assert audit_count(server) - logged <= 1


pem_like = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=200).map(lambda t: f"-----BEGIN CERTIFICATE-----\n{t}\n-----END CERTIFICATE-----\n".encode("utf-8", "replace")),
    st.text(max_size=200).map(lambda t: f"-----BEGIN PRIVATE KEY-----\n{t}\n-----END PRIVATE KEY-----\n".encode("utf-8", "replace")),
)


@_SETTINGS
@given(cert=pem_like, key=pem_like, cuit=st.one_of(st.just(CUIT), st.text(min_size=1, max_size=14)))
def test_any_uploaded_certificate_and_key_are_refused_with_nothing_changed(server, operator, cert, key, cuit):
    before, logged = server.store.credentials_of(CUIT), audit_count(server)
    answer = operator.post(f"/console/cuits/{quote(cuit, safe='')}/certificado",
                           files={"certificado": ("c.pem", cert), "clave": ("k.pem", key)})
    assert answer.status_code in (400, 404), answer.text[-500:]
    assert server.store.credentials_of(CUIT) == before and audit_count(server) == logged
