"""What operations cost the hot paths (a phase of ``make bench``; also ``python benchmarks/ops.py``).

- request metrics: the ASGI wrapper that counts every request, timed in process around a tiny
  app, in this process's mode and, in a child process, with PROMETHEUS_MULTIPROC_DIR (the counters
  then live in mmap'd files);
- scrape: the store reads behind /metrics's gauges (invoices by state, the oldest due, the outbox),
  with many invoices queued for future dates and a million emitted (quick: fewer), on SQLite.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REQUESTS = 20_000


async def _tiny_app(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"error":"N","errores":[]}'})


async def _call_many(app, count: int) -> float:
    scope = {"type": "http", "method": "POST", "path": "/app/api/v2/facturacion/nuevo_encola", "headers": []}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message):
        return None

    started = time.perf_counter()
    for _ in range(count):
        await app(scope, receive, send)
    return (time.perf_counter() - started) / count * 1e6


def request_overhead_us() -> float:
    """µs the metrics wrapper adds to one request (median of 5 rounds)."""
    from encola.ops.http import RequestMetrics

    wrapped = RequestMetrics(_tiny_app)
    rounds = [asyncio.run(_call_many(wrapped, REQUESTS)) - asyncio.run(_call_many(_tiny_app, REQUESTS)) for _ in range(5)]
    return statistics.median(rounds)


def request_overhead_multiprocess_us() -> float:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder}
        done = subprocess.run([sys.executable, __file__, "--overhead-only"], env=env, capture_output=True, text=True, check=True)
        return json.loads(done.stdout)["request_overhead_us"]


def scrape_reads_ms(queued: int, emitted: int) -> dict:
    """p50/p99 of the gauges' store reads over a SQLite database holding these invoices."""
    from sqlalchemy import insert

    from encola.api.provisioning import PdvSpec, provision
    from encola.ops import queries
    from encola.runtime import open_store
    from encola.settings import Settings
    from encola.store.schema import invoices

    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("ENCOLA_SECRET_KEY", __import__("cryptography.fernet").fernet.Fernet.generate_key().decode())
        store = open_store(Settings(database_url=f"sqlite:///{folder}/ops.db"))
        provision(store, PdvSpec("30712345671", 1, "RI", "Bench", "P", None, None))
        now, today = store.clock.now(), store.clock.today()
        base = dict(pdv_id=1, cuit="30712345671", punto_venta=1, cbte_tipo=6, tipo="FACTURA B", request_hash="x",
                    total="121", afip="{}", view="{}", response="{}", created_at=now, updated_at=now, next_attempt_at=now)
        batch = 20_000
        for start in range(0, queued + emitted, batch):
            rows = []
            for i in range(start, min(start + batch, queued + emitted)):
                future = i < queued
                rows.append({**base, "external_reference": f"r{i}", "state": "queued" if future else "emitted",
                             "fecha": today + timedelta(days=30) if future else today, "numero": None if future else i})
            with store.writing() as connection:
                connection.execute(insert(invoices), rows)
        timings = []
        for _ in range(30):
            started = time.perf_counter()
            queries.queue_snapshot(store)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        return {"queued": queued, "emitted": emitted, "p50_ms": timings[len(timings) // 2], "p99_ms": timings[-1]}


def run(quick: bool) -> dict:
    return {
        "request_overhead_us": request_overhead_us(),
        "request_overhead_multiprocess_us": request_overhead_multiprocess_us(),
        "scrape": scrape_reads_ms(*((20_000, 100_000) if quick else (200_000, 1_000_000))),
    }


def table_rows(results: dict, quick: bool) -> list[list[str]]:
    """Rows for run.py's table (SQLite only: the store reads are index ranges on either engine)."""
    ops = results.get("ops")
    if not ops:
        return []
    scrape = ops["scrape"]
    return [
        ["metrics: added per request (single / multiprocess)",
         f"{ops['request_overhead_us']:.1f} µs / {ops['request_overhead_multiprocess_us']:.1f} µs", "", "≪ intake's cost per request"],
        [f"/metrics store reads, {scrape['queued']:,} queued + {scrape['emitted']:,} emitted",
         f"p50 {scrape['p50_ms']:.1f} ms p99 {scrape['p99_ms']:.1f} ms", "", "cached 2 s; independent of emitted"],
    ]


if __name__ == "__main__":
    if "--overhead-only" in sys.argv:
        print(json.dumps({"request_overhead_us": request_overhead_us()}))
    else:
        print(json.dumps(run("--quick" in sys.argv), indent=2))
