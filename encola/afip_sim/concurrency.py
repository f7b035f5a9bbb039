"""How the simulator serves concurrent calls of one lane, and how long it takes to answer.

AFIP does not promise to serve two ``FECAESolicitar`` of one lane (CUIT, PtoVta, CbteTipo) at
once (reference README §6): the second may be refused with ``502 … Transaccion Activa``, or the
two may be processed in either order (the later then takes the number the earlier expected, and
one of them gets 10016). The simulator can behave in each way:

- ``inorder``: every call is processed the moment it arrives, then answered after its latency
  (the simulator's historic behaviour; kinder than AFIP: pipelined batches always work).
- ``busy`` (the default): a ``FECAESolicitar`` holds its lane from arrival until its answer
  leaves; another of the same lane arriving meanwhile is refused with 502 "Transaccion Activa"
  (nothing processed) after a latency of its own.
- ``reorder``: each call waits a random part of its latency before it is processed, so calls of a
  lane that overlap are processed in any order.

Latency: a fixed ``latency_ms``, or — given a p99 above it — a log-normal distribution whose
median is ``latency_ms`` and whose 99th percentile is ``latency_p99_ms`` (heavy-tailed, as
AFIP's answers are), capped at ten times the p99 so a run cannot stall on one absurd draw.
``drop_ratio`` drops that fraction of ``FECAESolicitar`` answers at random after processing
them (the outcome is unknown to the client; the ledger has them).

Only ``FECAESolicitar`` takes part in the lane rules: consultas are read-only at AFIP too.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from statistics import NormalDist
from typing import Awaitable, Callable

from encola.afip_sim import wire as w
from encola.afip_sim.wsfe import Answer

MODES = ("inorder", "reorder", "busy")
DEFAULT_MODE = "busy"
BUSY_CODE = 502
# AFIP's text as reported in practice (reference README §8), without accents as AFIP writes it.
BUSY_MESSAGE = "Error interno de base de datos - Autorizador CAE / Regimen CAEA - Transaccion Activa"
Z99 = NormalDist().inv_cdf(0.99)
TAIL_CAP = 10.0  # the longest latency drawn, in multiples of the p99

# The lane of a FECAESolicitar, read from the raw body without parsing it twice: the first
# <Cuit> is Auth's and the first <PtoVta>/<CbteTipo> are FeCabReq's (CbtesAsoc come later).
_SOLICITAR = re.compile(rb"<(?:[\w.-]+:)?FECAESolicitar[\s>/]")
_FIRST = {name: re.compile(rb"<(?:[\w.-]+:)?" + name + rb">\s*(\d{1,12})\s*<") for name in (b"Cuit", b"PtoVta", b"CbteTipo")}

Lane = tuple[int, int, int]


def lane_of(body: bytes) -> Lane | None:
    """The (CUIT, PtoVta, CbteTipo) of a FECAESolicitar body; None for any other call."""
    if not _SOLICITAR.search(body):
        return None
    values = []
    for pattern in _FIRST.values():
        found = pattern.search(body)
        if found is None:
            return None  # malformed: let the service answer it as it would
        values.append(int(found.group(1)))
    return values[0], values[1], values[2]


@dataclass
class Latency:
    """Median ``p50_ms``; with ``p99_ms`` above it, log-normal through both percentiles."""

    p99_ms: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def seconds(self, p50_ms: int) -> float:
        if p50_ms <= 0:
            return 0.0
        if self.p99_ms <= p50_ms:
            return p50_ms / 1000
        sigma = (math.log(self.p99_ms) - math.log(p50_ms)) / Z99
        drawn = self.rng.lognormvariate(math.log(p50_ms), sigma)
        return min(drawn, TAIL_CAP * self.p99_ms) / 1000


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"concurrency must be one of {', '.join(MODES)}")
    return mode


@dataclass
class LaneConcurrency:
    """Serves WSFEv1 calls with latency, lane rules and random drops (see the module doc)."""

    mode: str = DEFAULT_MODE
    latency: Latency = field(default_factory=Latency)
    drop_ratio: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    busy_refusals: int = 0  # how many 502s were answered (the bench and tests read it)
    _active: set[Lane] = field(default_factory=set)

    def __post_init__(self) -> None:
        check_mode(self.mode)
        if not 0.0 <= self.drop_ratio <= 1.0:
            raise ValueError("drop_ratio must be between 0 and 1")

    async def serve(self, body: bytes, handle: Callable[[bytes], Answer], p50_ms: int,
                    busy_answer: Callable[[], Answer], sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Answer:
        """Answer one call: ``handle(body)`` processes it (synchronously, against the ledger)."""
        lane = lane_of(body)
        delay = self.latency.seconds(p50_ms)
        if lane is None or self.mode == "inorder":
            answer = handle(body)
            await sleep(delay)
            return self._maybe_dropped(answer, lane)
        if self.mode == "reorder":
            before = delay * self.rng.random()
            await sleep(before)
            answer = handle(body)
            await sleep(delay - before)
            return self._maybe_dropped(answer, lane)
        if not delay:
            return self._maybe_dropped(handle(body), lane)  # nothing can overlap a call that never waits
        if lane in self._active:
            self.busy_refusals += 1
            await sleep(delay)
            return busy_answer()
        self._active.add(lane)
        try:
            answer = handle(body)
            await sleep(delay)
        finally:
            self._active.discard(lane)
        return self._maybe_dropped(answer, lane)

    def _maybe_dropped(self, answer: Answer, lane: Lane | None) -> Answer:
        if lane is None or answer.drop or not self.drop_ratio or self.rng.random() >= self.drop_ratio:
            return answer
        return replace(answer, drop=True)


def busy_body(now: datetime, ambiente: str) -> bytes:
    """AFIP's answer to a FECAESolicitar refused because another of its lane is active: only
    ``Errors`` (like every call-level refusal, e.g. a bad token), HTTP 200."""
    return w.fe_envelope("FECAESolicitar", w.messages("Errors", "Err", [(BUSY_CODE, BUSY_MESSAGE)]), now, ambiente)



def update(state: LaneConcurrency, changes: object) -> None:
    """Apply ``{"mode", "latency_p99_ms", "drop_ratio"}`` (any subset); ValueError on bad input,
    with nothing changed."""
    if not isinstance(changes, dict):
        raise ValueError("expected a JSON object")
    unknown = set(changes) - {"mode", "latency_p99_ms", "drop_ratio"}
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    mode = changes.get("mode", state.mode)
    if not isinstance(mode, str):
        raise ValueError("mode must be a string")
    check_mode(mode)
    p99 = changes.get("latency_p99_ms", state.latency.p99_ms)
    if isinstance(p99, bool) or not isinstance(p99, int) or not 0 <= p99 <= 600_000:
        raise ValueError("latency_p99_ms must be an integer from 0 to 600000")
    ratio = changes.get("drop_ratio", state.drop_ratio)
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio <= 1:
        raise ValueError("drop_ratio must be a number from 0 to 1")
    state.mode, state.latency.p99_ms, state.drop_ratio = mode, p99, float(ratio)


def as_dict(state: LaneConcurrency) -> dict:
    return {"mode": state.mode, "latency_p99_ms": state.latency.p99_ms, "drop_ratio": state.drop_ratio,
            "busy_refusals": state.busy_refusals}


def routes(state: LaneConcurrency) -> list:
    """``GET|POST /_sim/concurrency``: read or change the mode, the p99 and the drop ratio."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def endpoint(request: Request) -> JSONResponse:
        if request.method == "POST":
            try:
                update(state, json.loads(await request.body() or b"{}"))
            except (ValueError, RecursionError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(as_dict(state))

    return [Route("/_sim/concurrency", endpoint, methods=["GET", "POST"])]
