"""Raw bodies no JSON encoder would write, and the keep-alive connection they arrive on.

A client holds one connection for many requests: a refusal, or even encola failing (503), must
leave that connection usable for the next request or say ``Connection: close``. Here every
answer must come back on the same connection, which the local address of the stream shows.
"""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from fuzz_support import CUIT, ENDPOINTS, PUNTO_VENTA, UNLIMITED, assert_envelope, encode, valid_bodies
from support import EncolaProcess

RAW_BODIES = {
    "invalid UTF-8": b'{"usertoken": "\xff\xfe"}',
    "a surrogate encoded as UTF-8 (CESU)": b'{"usertoken": "\xed\xa0\x80"}',
    "an escaped lone surrogate": b'{"usertoken": "\\ud800", "apikey": "1", "apitoken": "x"}',
    "an escaped low surrogate in a key": b'{"\\udc00": 1}',
    "an escaped NUL": b'{"usertoken": "a\\u0000b"}',
    "a raw NUL in a string": b'{"usertoken": "a\x00b"}',
    "an escaped noncharacter": b'{"usertoken": "\\uffff"}',
    "a raw noncharacter": '{"usertoken": "\ufdd0"}'.encode(),
    "deep arrays": b"[" * 100_000 + b"]" * 100_000,
    "deep objects": b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    "nesting past the limit": b'{"comprobante":' + b"[" * 40 + b"]" * 40 + b"}",
    "an integer of 5000 digits": b'{"pagina": ' + b"9" * 5_000 + b"}",
    "an integer of 4000 digits": b'{"pagina": ' + b"9" * 4_000 + b"}",
    "a float past the double range": b'{"pagina": 1e999999}',
    "a negative float past the range": b'{"pagina": -1e999999}',
    "NaN": b'{"pagina": NaN}',
    "Infinity": b'{"pagina": Infinity}',
    "empty": b"",
    "whitespace": b" \r\n\t ",
    "a BOM alone": b"\xef\xbb\xbf",
    "UTF-16": '{"a": 1}'.encode("utf-16"),
    "null": b"null",
    "an array": b"[]",
    "a string": b'"\\ud800"',
    "trailing garbage": b"{}garbage",
    "duplicate keys": b'{"usertoken": "a", "usertoken": "\\ud800"}',
    "a huge key": b'{"' + b"k" * 200_000 + b'": 1}',
}


def local_address(response: httpx.Response) -> tuple:
    return response.extensions["network_stream"].get_extra_info("client_addr")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_raw_bodies_are_refused_with_the_envelope_on_one_keep_alive_connection(server, rows, endpoint):
    with httpx.Client(base_url=f"{server.base}/app/api/v2/", timeout=30) as client:
        addresses = set()
        for name, raw in RAW_BODIES.items():
            before = rows.count()
            response = client.post(endpoint, content=raw, headers={"Content-Type": "application/json"})
            answer = assert_envelope(response)
            assert answer["error"] == "S", name
            assert rows.count() == before, name
            assert response.headers.get("connection", "").lower() != "close", name
            addresses.add(local_address(response))
        # And the connection still serves a good request after all of them.
        last = client.post(endpoint, content=encode(server.bodies[endpoint][0]), headers={"Content-Type": "application/json"})
        assert_envelope(last)
        addresses.add(local_address(last))
        assert len(addresses) == 1


def test_the_codes_of_raw_refusals(server):
    def code(raw: bytes) -> str:
        answer = server.post("facturacion/consulta", None, raw=raw).json()
        return answer["error_details"][0]["code"]

    assert code(RAW_BODIES["invalid UTF-8"]) == "TFC-1003"
    assert code(RAW_BODIES["a surrogate encoded as UTF-8 (CESU)"]) == "TFC-1003"
    assert code(RAW_BODIES["an escaped lone surrogate"]) == "TFC-1016"
    assert code(RAW_BODIES["an escaped NUL"]) == "TFC-1016"
    assert code(RAW_BODIES["a raw noncharacter"]) == "TFC-1016"
    assert code(RAW_BODIES["deep arrays"]) == "TFC-1001"
    assert code(RAW_BODIES["deep objects"]) == "TFC-1001"
    assert code(RAW_BODIES["nesting past the limit"]) == "TFC-1001"
    assert code(RAW_BODIES["an integer of 5000 digits"]) == "TFC-1001"
    assert code(RAW_BODIES["an integer of 4000 digits"]) == "TFC-1006"  # read; then no credentials


def _break_database(database_url: str) -> None:
    """Make the database unusable under a running server: what TFC-1014 (503) is for."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[1]
        with sqlite3.connect(path) as connection:  # fold the WAL in, then overwrite every page
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with open(path, "r+b") as database:
            size = database.seek(0, 2)
            database.seek(0)
            database.write(b"\xde\xad" * (size // 2))
        return
    import psycopg

    server, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_after_a_503_the_connection_still_serves_and_one_traceback_is_logged(backend, databases, receiver):
    database_url = databases.new(backend)
    process = EncolaProcess(database_url, args=("serve", "--no-engine"), extra_env=UNLIMITED)
    keys = process.provision(CUIT, PUNTO_VENTA, receiver.url, token=receiver.token)
    process.start()
    bodies = valid_bodies(keys, keys, receiver.url)
    try:
        with httpx.Client(base_url=f"{process.base}/app/api/v2/", timeout=30) as client:
            assert_envelope(client.post("facturacion/consulta", content=encode(bodies["facturacion/consulta"][0])))  # keys cached
            _break_database(database_url)
            failures = []
            for path in ("facturacion/consulta", "facturacion/consulta_avanzada", "facturacion/nuevo_encola"):
                response = client.post(path, content=encode(bodies[path][0]))
                assert response.status_code == 503, response.text
                assert [d["code"] for d in assert_envelope_503(response)] == ["TFC-1014"]
                failures.append(response)
            closes = [r.headers.get("connection", "").lower() == "close" for r in failures]
            if not any(closes):
                assert len({local_address(r) for r in failures}) == 1
            # The refusal of a malformed body needs no database: still served on this connection.
            after = client.post("facturacion/consulta", content=b"{")
            assert after.json()["error_details"][0]["code"] == "TFC-1001"
    finally:
        process.stop()
    log = process.process.stderr.read().decode()
    assert log.count("unexpected error on /app/api/v2/") == len(failures), log[-3000:]
    assert "Exception in ASGI application" not in log, log[-3000:]


def assert_envelope_503(response: httpx.Response) -> list[dict]:
    answer = response.json()
    assert answer["error"] == "S" and answer["errores"] == [d["text"] for d in answer["error_details"]]
    return answer["error_details"]
