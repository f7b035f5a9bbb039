"""One instrumentation point for every AFIP call: its method, outcome and latency as metrics.

``transport.post`` hands each exchange here, whichever HTTP client carries it. The method comes
from the SOAPAction (WSFEv1) or the URL (WSAA's loginCms), kept to a fixed list so that a label
can never take arbitrary values; a FECAESolicitar's batch size is counted from its body.
"""

from __future__ import annotations

import time
from typing import Awaitable

from encola.afip.errors import AfipConnectionError, AfipNotSentError
from encola.ops import metrics

KNOWN_METHODS = frozenset({
    "FECAESolicitar", "FECompConsultar", "FECompUltimoAutorizado", "FEDummy", "FECompTotXRequest",
    "FEParamGetTiposCbte", "FEParamGetTiposDoc", "FEParamGetTiposIva", "FEParamGetTiposMonedas",
    "FEParamGetCotizacion", "FEParamGetPtosVenta", "FEParamGetTiposConcepto", "FEParamGetTiposTributos",
    "FEParamGetTiposOpcional", "FEParamGetCondicionIvaReceptor", "loginCms",
})
UNAVAILABLE = frozenset({502, 503, 504})


def method_of(url: str, headers: dict[str, str]) -> str:
    action = headers.get("SOAPAction", "").strip('"').rstrip("/").rsplit("/", 1)[-1]
    if action in KNOWN_METHODS:
        return action
    if "wsaa" in url.lower() or action.lower() == "logincms":
        return "loginCms"
    return "other"


def outcome_of(status: int) -> str:
    if status == 200:
        return "answered"
    if status == 500:
        return "fault"  # SOAP faults come with 500: AFIP answered, with a refusal
    return "unavailable" if status in UNAVAILABLE else "http_other"


async def observed(exchange: Awaitable[tuple[int, bytes]], url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """Await ``exchange`` (one POST) and record it; errors pass through unchanged."""
    method = method_of(url, headers)
    if method == "FECAESolicitar":
        metrics.BATCH_SIZE.observe(body.count(b"FECAEDetRequest>") // 2)  # opening and closing tags
    started = time.perf_counter()
    outcome = "unknown"
    try:
        status, content = await exchange
        outcome = outcome_of(status)
        return status, content
    except AfipNotSentError:
        outcome = "not_sent"
        raise
    except AfipConnectionError:
        outcome = "unknown"  # sent, answer lost: AFIP may or may not have processed it
        raise
    finally:
        metrics.AFIP_CALLS.labels(method, outcome).inc()
        metrics.AFIP_SECONDS.labels(method).observe(time.perf_counter() - started)
