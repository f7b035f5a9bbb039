"""What the fuzz tests share: the twelve endpoints' valid bodies, hostile values, and the checks.

Every check is about the client's view: never a 5xx, always TusFacturas' envelope, and a refusal
stores nothing (no invoice, no hook other than the ``error`` hook TF's rule asks for).
"""

from __future__ import annotations

import copy
import json
import sqlite3
from dataclasses import dataclass
from datetime import timedelta

from hypothesis import strategies as st

from encola.clock import Clock
from support import factura_b, wire

CUIT = "30712345674"
PUNTO_VENTA = 10
ADMIN_PUNTO_VENTA = 12  # administrar M may deactivate its caller: fuzz it on a PDV of its own
FUTURE = Clock().today() + timedelta(days=30)  # queued, never due while the tests run
TODAY = Clock().today()  # instant requests must be dated today

# The fuzz sends thousands of requests from one address, many with wrong credentials: the abuse
# limits (tested in tests/acceptance/test_abuse_limits.py) would answer them all with TFC-1018/1019.
UNLIMITED = {
    # No engine runs here: an instant request that gets past validation is discarded at this deadline.
    "ENCOLA_INSTANT_DEADLINE": "300ms",
    "ENCOLA_RATE_LIMIT_PER_CREDENTIAL": "off",
    "ENCOLA_RATE_LIMIT_PER_ADDRESS": "off",
    "ENCOLA_AUTH_FAILURES_PER_ADDRESS": "off",
}

ENDPOINTS = (
    "facturacion/nuevo_encola",
    "facturacion/lotes_encola",
    "facturacion/eliminar_encolado",
    "facturacion/cambiar_fecha_encolado",
    "facturacion/reenviar_encolado",
    "facturacion/consulta_avanzada",
    "facturacion/consulta",
    "puntos_venta/administrar",
    "webhooks/test",
    "facturacion/nuevo",
    "facturacion/numeracion",
    "estado_servicios/alertas",
)


def request_only(body: dict) -> dict:
    return {k: v for k, v in body.items() if k in ("comprobante", "cliente")}


def valid_bodies(keys: dict, admin_keys: dict, webhook: str) -> dict[str, list[dict]]:
    """For each endpoint, bodies it accepts (or answers as "not found"): the fuzz starts from these."""
    invoice = factura_b(keys, reference="fz-base", fecha=FUTURE, punto_venta=PUNTO_VENTA)
    reference = {**keys, "external_reference": "fz-base"}
    return {
        "facturacion/nuevo_encola": [invoice],
        "facturacion/lotes_encola": [{**keys, "requests": [request_only(invoice), request_only(invoice)]}],
        "facturacion/eliminar_encolado": [reference],
        "facturacion/cambiar_fecha_encolado": [{**reference, "fecha": wire(FUTURE), "vencimiento": wire(FUTURE)}],
        "facturacion/reenviar_encolado": [reference],
        "facturacion/consulta_avanzada": [
            {**keys, "busqueda_tipo": "TN", "pagina": 0, "limite": 10,
             "comprobante": {"tipo": "FACTURA B", "punto_venta": PUNTO_VENTA, "numero_desde": 1, "numero_hasta": 10}},
            {**keys, "busqueda_tipo": "F", "pagina": "0", "limite": "100", "comprobante": {"fecha": wire(FUTURE)}},
            {**keys, "busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": "fz-base"}},
            {**keys, "busqueda_tipo": "EXT_REF_LIST", "pagina": 0, "limite": 100,
             "comprobante": {"external_reference_list": ["fz-base", "fz-otra"], "operacion": "V"}},
        ],
        "facturacion/consulta": [{**keys, "comprobante": {"tipo": "FACTURA B", "punto_venta": PUNTO_VENTA, "numero": 1}}],
        "puntos_venta/administrar": [
            {**admin_keys, "operacion": "M", "webhook": webhook, "razon_social": "Fuzz", "conceptos_tipo": "P",
             "webhook_token": "token-de-prueba-123", "esta_activo": "S"},
            {**admin_keys, "operacion": "A", "punto_venta": "00040", "cuit": CUIT, "iva_condicion": "RI",
             "conceptos_tipo": "P", "razon_social": "Fuzz", "webhook": webhook, "esta_activo": "S"},
        ],
        "webhooks/test": [dict(keys)],
        "facturacion/nuevo": [
            factura_b(keys, reference="fz-instant", fecha=TODAY, punto_venta=PUNTO_VENTA),
            {k: v for k, v in factura_b(keys, reference="", fecha=TODAY, punto_venta=PUNTO_VENTA).items()},
        ],
        "facturacion/numeracion": [
            {**keys, "comprobante": {"tipo": "FACTURA B", "operacion": "V", "punto_venta": str(PUNTO_VENTA)}},
        ],
        "estado_servicios/alertas": [dict(keys)],
    }


# --- where to put a hostile value ------------------------------------------------------------

Path = tuple  # keys and list indexes from the body's root


def paths(value: object, prefix: Path = ()) -> list[Path]:
    """Every leaf and every container of a body, the root left out."""
    found: list[Path] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, prefix + (index,))
    return found


def replaced(body: dict, path: Path, value: object) -> dict:
    changed = copy.deepcopy(body)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


# --- hostile values --------------------------------------------------------------------------

# The finding of issue 8, one value per case, and their neighbours.
SURROGATES_AND_NONCHARACTERS = ["\ud800", "\udfff", "a\udbffb", "\x00", "abc\x00", "\ufffe", "\uffff", "\ufdd0", "\U0001fffe", "\U0010ffff"]
NON_ASCII_DIGITS = ["²", "12345678²", "٣", "١٢٣٤٥٦٧٨", "１２３４５６７８", "３０７１２３４５６７４", "߁", "𝟏𝟐"]
HUGE_NUMBERS = [
    2**31, 2**31 - 1, 2**32, 2**63 - 1, 2**63, 2**64, -(2**63), -1, 10**15, 10**15 - 1, 10**28, 10**30,
    10**300, 1e308, -1e308, 1e16, 5e-324, -0.0, 0.1, 999999999999999.99,
]
NUMERIC_STRINGS = [
    "9" * 30, "999999999999999", "99999999999999.999", "1" + "0" * 4400, "0" * 5000 + "1", "1e999", "NaN",
    "Infinity", "-0", "+1", ".5", "5.", "1_000", " 7 ", "0x10", "2147483648", "9223372036854775808", "-1",
]
DATES = ["31/02/2024", "00/00/0000", "99/99/9999", "1/1/1", "١٢/٠١/٢٠٢٤", "０１/０１/２０３０", "01/01/10000", "29/02/2100", "01/01/0001", "31/12/9999"]
ODD = [None, True, False, "", " ", [], {}, [[[]]], {"a": {"b": {}}}, "x" * 70000, ["x"] * 200]
PLAIN_CASES = SURROGATES_AND_NONCHARACTERS + NON_ASCII_DIGITS + HUGE_NUMBERS + NUMERIC_STRINGS + DATES + ODD

# Any code point, surrogates (category Cs) included, which st.text leaves out by default; the
# characters of the finding are drawn often on purpose, as they are rare among 1.1 million.
_SPECIAL_CHARACTERS = ["\ud800", "\udc00", "\x00", "\ufffe", "\uffff", "\ufdd0", "²", "٣", "１", "\u2028", "\ufeff", "\\", '"']
any_text = st.text(st.characters(codec=None, exclude_categories=()) | st.sampled_from(_SPECIAL_CHARACTERS), max_size=40)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), any_text)
hostile = st.one_of(
    st.sampled_from(PLAIN_CASES),
    any_text,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=None).map(str),
    st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3), max_leaves=6),
)


# --- the checks --------------------------------------------------------------------------------


def encode(body: object) -> bytes:
    """JSON as a client may send it: ensure_ascii writes a lone surrogate as the escape "\\ud800"."""
    return json.dumps(body, ensure_ascii=True).encode("ascii")


def assert_envelope(response) -> dict:
    """Not a 5xx, and TusFacturas' envelope: error S with TFC-coded details, or an answer."""
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    content_type = response.headers.get("content-type")
    if isinstance(content_type, list):  # Schemathesis' responses keep every value of a header
        content_type = content_type[0]
    assert content_type.startswith("application/json")
    answer = response.json()
    assert isinstance(answer, dict) and answer.get("error") in ("S", "N", "PARCIAL"), answer
    assert isinstance(answer.get("errores"), list)
    if answer["error"] == "S":
        details = answer["error_details"]
        assert details and len(details) == len(answer["errores"]), answer
        for detail, text in zip(details, answer["errores"]):
            assert detail["code"].startswith("TFC-") and detail["text"] == text and text.strip(), answer
    return answer


def accepted_count(answer: dict) -> int:
    """How many invoices an answer says it took (a lote answers each request apart)."""
    if isinstance(answer.get("response"), list):
        return sum(1 for item in answer["response"] if isinstance(item, dict) and item.get("error") == "N")
    return 1 if answer["error"] == "N" else 0


@dataclass(frozen=True)
class Counts:
    invoices: int
    events: int  # hooks a request writes itself; the "error" hook of a refusal is TF's rule


class Rows:
    """Counts rows straight from the server's database, from outside the server."""

    # An instant request AFIP never took is kept "discarded": no invoice (see encola/api/instant.py).
    QUERY = (
        "SELECT (SELECT count(*) FROM invoices WHERE state <> 'discarded'), "
        "(SELECT count(*) FROM hook_events WHERE evento <> 'error')"
    )

    def __init__(self, database_url: str):
        if database_url.startswith("sqlite"):
            self.connection = sqlite3.connect(database_url.split("///", 1)[1], isolation_level=None)
        else:
            import psycopg

            self.connection = psycopg.connect(database_url, autocommit=True)

    def count(self) -> Counts:
        invoices, events = self.connection.execute(self.QUERY).fetchone()
        return Counts(invoices, events)

    def close(self) -> None:
        self.connection.close()


def assert_stored_only_what_was_accepted(before: Counts, after: Counts, answer: dict) -> None:
    accepted = accepted_count(answer)
    assert after.invoices - before.invoices <= accepted, (before, after, answer)
    if answer["error"] == "S" and accepted == 0:
        assert after == before, f"a refusal stored something: {before} -> {after}; {answer}"
