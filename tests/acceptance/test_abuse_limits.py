"""Abuse limits as a client meets them: real `encola serve` processes, real sockets, TF's 429."""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from encola.clock import Clock
from support import EncolaProcess, factura_b

CUIT = "30712345674"
TODAY = Clock().today()
NUEVO = "facturacion/nuevo_encola"
CONSULTA = "facturacion/consulta_avanzada"


def bad_keys(i: int) -> dict:
    return {"usertoken": "x" * 20, "apikey": str(900000 + i), "apitoken": "y" * 20}


def consulta(keys: dict, reference: str = "nada") -> dict:
    return {**keys, "busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": reference}}


def assert_tf_429(response: httpx.Response, code: str) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    answer = response.json()
    assert answer["error"] == "S"
    assert answer["error_cod"] == []
    assert [d["code"] for d in answer["error_details"]] == [code]
    assert answer["errores"] == [d["text"] for d in answer["error_details"]]
    assert f"{response.headers['Retry-After']} segundos" in answer["errores"][0]


@pytest.fixture(scope="module")
def throttled(database_url):
    """A server with the default limits: 20 failed authentications a minute per address."""
    process = EncolaProcess(database_url)
    process.keys = process.provision(CUIT, 10, "http://127.0.0.1:9/hook")
    process.start()
    yield process
    process.stop()


def test_a_thousand_wrong_credentials_get_429_after_twenty_and_never_a_5xx(throttled):
    def attempt(i: int) -> httpx.Response:
        path = NUEVO if i % 2 else CONSULTA
        body = factura_b(bad_keys(i), reference=f"bad-{i}", fecha=TODAY, punto_venta=10) if i % 2 else consulta(bad_keys(i))
        return client.post(f"{throttled.base}/app/api/v2/{path}", json=body)

    # One client with kept-alive connections: a new one per request made the thousand take over
    # half a minute, and more than the limit's one-minute window on a loaded machine.
    started = time.monotonic()
    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(attempt, range(1000)))
    windows = int((time.monotonic() - started) // 60) + 1  # the count starts afresh each minute
    statuses = [a.status_code for a in answers]
    assert all(s < 500 for s in statuses), sorted(set(statuses))
    refused = [a for a in answers if a.status_code == 200]
    assert all(a.json()["error_details"][0]["code"] == "TFC-1005" for a in refused)
    # The threshold, plus what was in flight when it was reached, per window.
    assert len(refused) <= (20 + 8) * windows
    assert statuses.count(429) >= 1000 - (20 + 8) * windows
    assert_tf_429(next(a for a in answers if a.status_code == 429), "TFC-1019")
    # Locked out: even the right credentials are not looked at from this address.
    locked = throttled.post(CONSULTA, consulta(throttled.keys))
    assert_tf_429(locked, "TFC-1019")
    assert "autenticacion fallidos" in locked.json()["errores"][0]


def test_a_forwarded_for_header_does_not_escape_the_address_lockout(throttled):
    response = throttled.post(CONSULTA, consulta(throttled.keys), headers={"X-Forwarded-For": "203.0.113.9"})
    assert_tf_429(response, "TFC-1019")


@pytest.fixture(scope="module")
def limited(database_url):
    process = EncolaProcess(database_url, extra_env={
        "ENCOLA_RATE_LIMIT_PER_CREDENTIAL": "30/minute",
        "ENCOLA_BODY_READ_TIMEOUT": "1s",
    })
    process.keys = process.provision("20111111112", 10, "http://127.0.0.1:9/hook", condicion="M")
    process.other = process.provision("20111111112", 11, "http://127.0.0.1:9/hook", condicion="M")
    process.start()
    yield process
    process.stop()


def test_an_apikey_over_its_limit_gets_429_and_other_apikeys_go_on(limited):
    answers = [limited.post(CONSULTA, consulta(limited.keys)) for _ in range(40)]
    assert [a.status_code for a in answers[:30]] == [200] * 30
    assert all(a.json()["error"] == "N" for a in answers[:30])
    assert [a.status_code for a in answers[30:]] == [429] * 10
    assert_tf_429(answers[-1], "TFC-1018")
    assert "(30 por minuto)" in answers[-1].json()["errores"][0]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    # The intake fast path is limited too, and another point of sale is not.
    intake = limited.post(NUEVO, factura_b(limited.keys, reference="over-1", fecha=TODAY, punto_venta=10))
    assert_tf_429(intake, "TFC-1018")
    assert limited.post(CONSULTA, consulta(limited.other)).json()["error"] == "N"


def send_slowly(port: int, body: bytes, pause: float, chunks: int) -> bytes:
    """A client that declares the whole body but sends it a piece at a time."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            b"POST /app/api/v2/facturacion/consulta_avanzada HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        step = max(1, len(body) // chunks)
        answer = b""
        sock.setblocking(True)
        for start in range(0, len(body), step):
            try:
                sock.sendall(body[start:start + step])
            except OSError:
                break
            sock.settimeout(pause)
            try:
                answer += sock.recv(65536)
                break  # the server answered before the body was complete
            except TimeoutError:
                pass
        sock.settimeout(10)
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            more = sock.recv(65536)
            if not more:
                break
            answer += more
        return answer


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def test_a_body_sent_too_slowly_is_answered_with_the_timeout_code(limited):
    body = json.dumps(consulta(limited.other)).encode()
    started = time.monotonic()
    answer = send_slowly(limited.port, body, pause=0.4, chunks=20)  # ~8 s if it were all read
    elapsed = time.monotonic() - started
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), answer
    assert json.loads(payload)["error_details"][0]["code"] == "TFC-1017"
    assert "1 segundos" in json.loads(payload)["errores"][0]
    assert elapsed < 4
    # A body sent at a normal pace is read as always.
    assert limited.post(CONSULTA, consulta(limited.other)).json()["error"] == "N"


def test_the_limits_can_be_switched_off(database_url):
    process = EncolaProcess(database_url, extra_env={
        "ENCOLA_RATE_LIMIT_PER_CREDENTIAL": "off",
        "ENCOLA_RATE_LIMIT_PER_ADDRESS": "0",
        "ENCOLA_AUTH_FAILURES_PER_ADDRESS": "off",
    }).start()
    try:
        answers = [process.post(CONSULTA, consulta(bad_keys(i))) for i in range(60)]
        assert {a.status_code for a in answers} == {200}
        assert {a.json()["error_details"][0]["code"] for a in answers} == {"TFC-1005"}
    finally:
        process.stop()


def test_a_low_address_limit_applies_to_every_endpoint(database_url):
    process = EncolaProcess(database_url, extra_env={"ENCOLA_RATE_LIMIT_PER_ADDRESS": "5/minute"}).start()
    try:
        answers = [process.post(CONSULTA, {}) for _ in range(5)]
        assert {a.status_code for a in answers} == {200}
        over = process.post(NUEVO, {})
        assert_tf_429(over, "TFC-1018")
        assert "(5 por minuto)" in over.json()["errores"][0]
    finally:
        process.stop()


def test_redis_storage_shares_the_counts_between_two_processes(database_url):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    namespace_db = "15"
    redis.Redis(host="127.0.0.1", port=6379, db=int(namespace_db)).flushdb()
    env = {"ENCOLA_RATE_LIMIT_STORAGE": f"redis://127.0.0.1:6379/{namespace_db}",
           "ENCOLA_RATE_LIMIT_PER_ADDRESS": "10/minute"}
    first = EncolaProcess(database_url, extra_env=env).start()
    second = EncolaProcess(database_url, extra_env=env).start()
    try:
        answers = [(first if i % 2 else second).post(CONSULTA, {}) for i in range(12)]
        assert [a.status_code for a in answers] == [200] * 10 + [429] * 2
        assert_tf_429(answers[-1], "TFC-1018")
    finally:
        first.stop()
        second.stop()
        redis.Redis(host="127.0.0.1", port=6379, db=int(namespace_db)).flushdb()
