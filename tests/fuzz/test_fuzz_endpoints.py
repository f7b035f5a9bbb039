"""Hostile values in every leaf of every endpoint's body, against a real ``encola serve``.

Issue 8: a lone surrogate, superscript or fullwidth digits, amounts past Decimal's 28 digits,
pagina × limite past 64 bits, numbers past PostgreSQL's INTEGER and NUL in text each answered 503
(or were stored as sent). Each case is here by name; Hypothesis then looks for the next ones.
"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz_support import (
    ENDPOINTS,
    assert_envelope,
    assert_stored_only_what_was_accepted,
    encode,
    hostile,
    paths,
    replaced,
)

CREDENTIALS = ("valid", "missing", "wrong")


@pytest.fixture(scope="module")
def client(server):
    """One keep-alive connection for the whole module, as a client would hold it."""
    with httpx.Client(base_url=f"{server.base}/app/api/v2/", timeout=30) as http:
        yield http


def send(client: httpx.Client, rows, endpoint: str, body: object) -> dict:
    before = rows.count()
    response = client.post(endpoint, content=encode(body), headers={"Content-Type": "application/json"})
    answer = assert_envelope(response)
    assert_stored_only_what_was_accepted(before, rows.count(), answer)
    return answer


def codes(answer: dict) -> list[str]:
    return [detail["code"] for detail in answer["error_details"]]


def with_credentials(body: dict, mode: str) -> dict:
    if mode == "missing":
        return {k: v for k, v in body.items() if k not in ("usertoken", "apikey", "apitoken")}
    if mode == "wrong":
        return {**body, "usertoken": "x" * 64, "apikey": "123456", "apitoken": "y" * 64}
    return body


@given(data=st.data())
def test_hostile_values_anywhere_never_answer_a_5xx_nor_store_a_refused_request(server, rows, client, data):
    endpoint = data.draw(st.sampled_from(ENDPOINTS), label="endpoint")
    body = data.draw(st.sampled_from(server.bodies[endpoint]), label="base")
    body = with_credentials(body, data.draw(st.sampled_from(CREDENTIALS), label="credentials"))
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        where = paths(body)
        if not where:
            break
        body = replaced(body, data.draw(st.sampled_from(where), label="path"), data.draw(hostile, label="value"))
    send(client, rows, endpoint, body)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("credential", ["usertoken", "apikey", "apitoken"])
def test_a_lone_surrogate_in_a_credential_is_refused_before_authentication(server, rows, client, endpoint, credential):
    body = {**server.bodies[endpoint][0], "usertoken": "nadie", credential: "\ud800"}
    answer = send(client, rows, endpoint, body)
    assert codes(answer) == ["TFC-1016"]
    assert credential in answer["errores"][0]


def _invoice(server, **changes) -> dict:
    body = replaced(server.bodies["facturacion/nuevo_encola"][0], ("comprobante", "external_reference"), changes.pop("reference"))
    for path, value in changes.items():
        body = replaced(body, tuple(int(step) if step.isdigit() else step for step in path.split("__")), value)
    return body


# (name, endpoint, body builder, the code that must come back)
CASES = [
    ("surrogate in an echoed field", "facturacion/nuevo_encola",
     lambda s: _invoice(s, reference="fz-sur\ud800"), "TFC-1016"),
    ("surrogate in a field name", "facturacion/consulta",
     lambda s: {**s.bodies["facturacion/consulta"][0], "\udfff": 1}, "TFC-1016"),
    ("NUL in text", "facturacion/nuevo_encola",
     lambda s: _invoice(s, reference="fz-nul", cliente__razon_social="Consumidor\x00Final"), "TFC-1016"),
    ("NUL in a queue operation's reference", "facturacion/eliminar_encolado",
     lambda s: {**s.keys, "external_reference": "fz\x00base"}, "TFC-1016"),
    ("noncharacter in text", "facturacion/nuevo_encola",
     lambda s: _invoice(s, reference="fz-nonchar", comprobante__detalle__0__leyenda="\ufffe"), "TFC-1016"),
    ("superscript digit as documento_nro", "facturacion/nuevo_encola",
     lambda s: _invoice(s, reference="fz-sup", cliente__documento_nro="²"), "TFC-3002"),
    ("fullwidth digits as documento_nro", "facturacion/nuevo_encola",
     lambda s: _invoice(s, reference="fz-full", cliente__documento_nro="１２３４５６７８"), "TFC-3002"),
    ("Arabic-Indic digits as cantidad", "facturacion/nuevo_encola",
     lambda s: _invoice(s, reference="fz-arab", comprobante__detalle__0__cantidad="٣"), "TFC-4002"),
    ("fullwidth date", "facturacion/nuevo_encola",
     lambda s: _invoice(s, reference="fz-date", comprobante__fecha="０１/０１/２０３０"), "TFC-2001"),
    ("cantidad × precio beyond 28 digits", "facturacion/nuevo_encola",
     lambda s: _invoice(s, reference="fz-big", comprobante__detalle__0__cantidad="999999999999999",
                        comprobante__detalle__0__producto__precio_unitario_sin_iva="999999999999999"), "TFC-2036"),
    ("total beyond AFIP's 13 digits", "facturacion/nuevo_encola",
     lambda s: _invoice(s, reference="fz-13", comprobante__detalle__0__cantidad="100000",
                        comprobante__detalle__0__producto__precio_unitario_sin_iva="100000000"), "TFC-2036"),
    ("impuestos internos rate beyond 28 digits", "facturacion/nuevo_encola",
     lambda s: _invoice(s, reference="fz-ii", comprobante__detalle__0__cantidad="99999999999999",
                        comprobante__detalle__0__producto__impuestos_internos_alicuota="99999999999999"), "TFC-2036"),
    ("punto_venta beyond 32 bits", "facturacion/nuevo_encola",
     lambda s: _invoice(s, reference="fz-pv", comprobante__punto_venta=2**31), "TFC-2035"),
    ("pagina × limite beyond 64 bits", "facturacion/consulta_avanzada",
     lambda s: {**s.bodies["facturacion/consulta_avanzada"][1], "pagina": "999999999999999999", "limite": 1000}, "TFC-7005"),
    ("pagina × limite beyond 32 bits", "facturacion/consulta_avanzada",
     lambda s: {**s.bodies["facturacion/consulta_avanzada"][1], "pagina": 2**31, "limite": 1}, "TFC-7005"),
    ("numero beyond 32 bits", "facturacion/consulta",
     lambda s: replaced(s.bodies["facturacion/consulta"][0], ("comprobante", "numero"), 2**31), "TFC-7010"),
    ("numero_hasta beyond 32 bits", "facturacion/consulta_avanzada",
     lambda s: replaced(s.bodies["facturacion/consulta_avanzada"][0], ("comprobante", "numero_hasta"), "9999999999"), "TFC-7010"),
    ("numero_desde beyond 64 bits", "facturacion/consulta_avanzada",
     lambda s: replaced(s.bodies["facturacion/consulta_avanzada"][0], ("comprobante", "numero_desde"), 2**64), "TFC-7010"),
    ("a new point of sale beyond 32 bits", "puntos_venta/administrar",
     lambda s: {**s.bodies["puntos_venta/administrar"][1], "punto_venta": 2**40}, "TFC-5003"),
    ("a fullwidth CUIT for a new point of sale", "puntos_venta/administrar",
     lambda s: {**s.bodies["puntos_venta/administrar"][1], "cuit": "３０７１２３４５６７４"}, "TFC-5002"),
]


@pytest.mark.parametrize("name, endpoint, build, code", CASES, ids=[case[0] for case in CASES])
def test_each_case_of_the_finding_is_a_tf_validation_error(server, rows, client, name, endpoint, build, code):
    answer = send(client, rows, endpoint, build(server))
    assert answer["error"] == "S"
    assert code in codes(answer)


def test_an_integer_with_thousands_of_leading_zeros_is_read_not_failed(server, rows, client):
    body = {**server.bodies["facturacion/consulta_avanzada"][1], "pagina": "0" * 5000 + "1"}
    assert send(client, rows, "facturacion/consulta_avanzada", body)["error"] == "N"


def test_a_lote_refuses_a_request_with_superscript_digits_and_takes_the_other(server, rows, client):
    lote = server.bodies["facturacion/lotes_encola"][0]
    bad = replaced(lote["requests"][0], ("cliente", "documento_nro"), "²")
    bad = replaced(bad, ("comprobante", "external_reference"), "fz-lote-bad")
    good = replaced(lote["requests"][1], ("comprobante", "external_reference"), "fz-lote-good")
    answer = send(client, rows, "facturacion/lotes_encola", {**lote, "requests": [bad, good]})
    assert [item["error"] for item in answer["response"]] == ["S", "N"]
    assert "TFC-3002" in codes(answer["response"][0])
