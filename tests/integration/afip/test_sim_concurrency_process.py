"""`encola afip-sim --concurrency … --latency-ms … --latency-p99-ms … --drop-ratio …` as a real
process on 127.0.0.1: the options take effect, and two concurrent FECAESolicitar of one lane get
AFIP's 502 "Transaccion Activa" in busy mode."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from encola.afip import (
    Accepted,
    AfipClient,
    AfipEndpoints,
    AfipLaneBusyError,
    AlicIva,
    CaeDetail,
    Credentials,
    generate_test_certificate,
)
from support import HTTP
from sim_process import free_port

CUIT = 20123456786
ENCOLA = str(Path(sys.executable).with_name("encola"))


def start(*options: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([ENCOLA, "afip-sim", "--port", str(port), "--lenient-wsaa", *options],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode())
        try:
            HTTP.get(base + "/_sim/concurrency", timeout=0.5)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.05)
    stop(proc)
    raise RuntimeError("simulator did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@pytest.fixture
def busy_sim():
    proc, base = start("--concurrency", "busy", "--latency-ms", "200", "--latency-p99-ms", "250", "--drop-ratio", "0")
    HTTP.post(base + "/_sim/puntos_venta", json={"cuit": CUIT, "punto_venta": 1}, timeout=5).raise_for_status()
    yield base
    stop(proc)


def test_the_command_line_options_are_the_simulators_state(busy_sim):
    assert HTTP.get(busy_sim + "/_sim/concurrency").json() == {
        "mode": "busy", "latency_p99_ms": 250, "drop_ratio": 0.0, "busy_refusals": 0,
    }


def test_two_concurrent_calls_of_a_lane_get_502_transaccion_activa(busy_sim):
    today = datetime.now(timezone(timedelta(hours=-3))).date()

    def detail(n: int) -> CaeDetail:
        return CaeDetail(concepto=1, doc_tipo=80, doc_nro=30000000007, cbte_desde=n, cbte_hasta=n, cbte_fch=today,
                         imp_total=Decimal("121"), imp_neto=Decimal("100"), imp_iva=Decimal("21"),
                         iva=(AlicIva(5, Decimal("100"), Decimal("21")),), condicion_iva_receptor_id=1)

    async def go():
        async with httpx.AsyncClient() as http:
            afip = AfipClient(http, AfipEndpoints.for_simulator(busy_sim),
                              Credentials(*generate_test_certificate(CUIT, "ACME SA")), CUIT)
            await afip.wsaa.ticket(CUIT)
            first = asyncio.create_task(afip.request_cae(1, 1, [detail(1)]))
            await asyncio.sleep(0.05)
            with pytest.raises(AfipLaneBusyError):
                await afip.request_cae(1, 1, [detail(2)])
            assert isinstance((await first).details[0], Accepted)

    asyncio.run(go())
    assert HTTP.get(busy_sim + "/_sim/concurrency").json()["busy_refusals"] == 1
    assert [c["numero"] for c in HTTP.get(busy_sim + "/_sim/comprobantes").json()] == [1]
