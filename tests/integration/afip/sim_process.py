"""Run `encola.afip_sim.server.serve` as a real process on a free 127.0.0.1 port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from support import HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SimProcess:
    def __init__(self, ledger_path: str | None = None, latency_ms: int = 0, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        code = (
            "from encola.afip_sim.server import serve; "
            f"serve('127.0.0.1', {self.port}, latency_ms={latency_ms}, ledger_path={ledger_path!r})"
        )
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"simulator exited: {self.proc.stderr.read().decode()}")
            try:
                HTTP.get(self.base_url + "/_sim/faults", timeout=0.5)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("simulator did not start")

    def register_points_of_sale(self, cuit: int, numbers) -> None:
        """Register CAE points of sale, as ARCA's "ABM de puntos de venta" would (10005/11002 otherwise)."""
        for nro in numbers:
            answer = HTTP.post(self.base_url + "/_sim/puntos_venta", json={"cuit": cuit, "punto_venta": nro}, timeout=5)
            answer.raise_for_status()

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
