"""The instant phase of benchmarks/run.py: ``facturacion/nuevo`` against ``encola serve`` (engine in)
and the simulator, on one lane (one point of sale, FACTURA B).

- latency: one client, one request after another, simulator at 300 ms per call (target p50 < 400 ms);
- throughput: 16 concurrent clients on the same lane, at 300 ms and at 0 ms (target ≥ 100/s: the
  lane's concurrent requests share a FECAESolicitar). With 16 clients each waiting for its CAE, a
  300 ms AFIP bounds the rate at 16 / 0.3 s ≈ 53/s whatever encola does; the 0 ms row shows what
  encola itself sustains.

Every answer's number is checked against the simulator's ledger: consecutive, each once.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx

QUICK = {"latency_requests": 20, "throughput_seconds": 3.0}
FULL = {"latency_requests": 200, "throughput_seconds": 15.0}
CLIENTS = 16
PUNTO_VENTA = 1


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def _send(client: httpx.AsyncClient, url: str, body: bytes) -> tuple[float, dict]:
    started = time.perf_counter()
    response = await client.post(url, content=body, headers={"Content-Type": "application/json"})
    return (time.perf_counter() - started) * 1000, response.json()


async def _latency(url: str, bodies: list[bytes]) -> tuple[list[float], list[dict]]:
    latencies, answers = [], []
    async with httpx.AsyncClient(timeout=100, trust_env=False) as client:
        for body in bodies:
            ms, answer = await _send(client, url, body)
            latencies.append(ms)
            answers.append(answer)
    return latencies, answers


async def _throughput(url: str, bodies: list[bytes], seconds: float) -> tuple[float, list[float], list[dict]]:
    latencies, answers = [], []
    queue = list(reversed(bodies))
    started = time.perf_counter()
    stop = started + seconds

    async def one_client(client: httpx.AsyncClient) -> None:
        while queue and time.perf_counter() < stop:
            ms, answer = await _send(client, url, queue.pop())
            latencies.append(ms)
            answers.append(answer)

    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(timeout=100, trust_env=False, limits=limits) as client:
        await asyncio.gather(*(one_client(client) for _ in range(CLIENTS)))
    return time.perf_counter() - started, latencies, answers


def _numbers(answers: list[dict]) -> list[int]:
    return [int(a["comprobante_nro"].split("-")[1]) for a in answers if a.get("error") == "N"]


def run(backend_run, sim, quick: bool) -> dict:
    """Runs the phase with its own ``encola serve``; returns the results for the table."""
    h = backend_run.h
    sizes = QUICK if quick else FULL
    backend_run.clear()  # no queued invoice may be left on the point of sale (TF's rule, TFC-8011)
    server = h.start_serve(backend_run.b, sim, engine=True, label="instant")  # ENCOLA_INSTANT_DEADLINE: 60 s
    url = server.base + "/app/api/v2/facturacion/nuevo"
    faults = sim.base + "/_sim/faults"
    try:
        server.wait_http("/health")
        warm = backend_run.invoice_bodies("inst-warm-", 1, punto_venta=PUNTO_VENTA)
        warm_answer = asyncio.run(_latency(url, warm))[1][0]  # WSAA login, the CUIT's certificate
        if warm_answer.get("error") != "N":
            raise RuntimeError(f"the warm-up instant invoice failed: {warm_answer}")
        out: dict = {}
        latencies, answers = asyncio.run(
            _latency(url, backend_run.invoice_bodies("inst-lat-", sizes["latency_requests"], punto_venta=PUNTO_VENTA))
        )
        out["latency"] = {"requests": len(answers), "ok": sum(a.get("error") == "N" for a in answers),
                          "p50_ms": round(percentile(latencies, 50), 1), "p99_ms": round(percentile(latencies, 99), 1)}
        numbers = _numbers(answers)
        for latency_ms in (300, 0):
            httpx.post(faults, json={"latency_ms": latency_ms}, timeout=10)
            bodies = backend_run.invoice_bodies(f"inst-t{latency_ms}-", 20_000, punto_venta=PUNTO_VENTA)
            wall, lat, got = asyncio.run(_throughput(url, bodies, sizes["throughput_seconds"]))
            ok = sum(a.get("error") == "N" for a in got)
            out[f"throughput_{latency_ms}ms"] = {
                "clients": CLIENTS, "ok": ok, "failed": len(got) - ok, "per_s": round(ok / wall, 1),
                "p50_ms": round(percentile(lat, 50), 1), "p99_ms": round(percentile(lat, 99), 1),
            }
            numbers += _numbers(got)
        httpx.post(faults, json={"latency_ms": 300}, timeout=10)
        out["exactly_once"] = _check_ledger(sim, numbers)
        return out
    finally:
        h.stop(server)
        backend_run.clear()


def _check_ledger(sim, numbers: list[int]) -> bool:
    """The answers' numbers are consecutive and distinct, and the ledger has each exactly once."""
    if not numbers:
        return False
    low, high = min(numbers), max(numbers)
    ledger = httpx.get(sim.base + "/_sim/comprobantes", timeout=120).json()
    mine = sorted(c["numero"] for c in ledger if c["pto_vta"] == PUNTO_VENTA and c["cbte_tipo"] == 6 and low <= c["numero"] <= high)
    return sorted(numbers) == list(range(low, high + 1)) == mine


def table_rows(results: dict, backends: list[str], cell) -> list[list[str]]:
    """The instant rows of the table; ``cell(backend, getter)`` as build_table's."""

    def mark(ok: bool) -> str:
        return " ✓" if ok else " ✗"

    def latency(d):
        x = d["instant"]["latency"]
        return f"p50 {x['p50_ms']:,.0f} ms p99 {x['p99_ms']:,.0f} ms ({x['ok']}/{x['requests']}){mark(x['p50_ms'] < 400)}"

    def throughput(name):
        def get(d):
            x = d["instant"][name]
            once = "" if d["instant"].get("exactly_once") else " (ledger check FAILED)"
            return f"{x['per_s']:,.1f}/s (p50 {x['p50_ms']:,.0f} ms, {x['failed']} failed){once}"
        return get

    def throughput_0(d):
        return throughput("throughput_0ms")(d) + mark(d["instant"]["throughput_0ms"]["per_s"] >= 100)

    return [
        ["instant nuevo, 1 client, one lane (300 ms AFIP)", *(cell(b, latency) for b in backends), "p50 < 400 ms"],
        ["instant nuevo, 16 clients, one lane (300 ms AFIP)", *(cell(b, throughput("throughput_300ms")) for b in backends),
         "≤ 16 / 0.3 s ≈ 53/s by arithmetic"],
        ["instant nuevo, 16 clients, one lane (0 ms AFIP)", *(cell(b, throughput_0) for b in backends), "≥ 100/s"],
    ]


if __name__ == "__main__":  # pragma: no cover - a helper module of run.py
    print(json.dumps({"quick": QUICK, "full": FULL}))
