"""encola benchmarks: real processes on 127.0.0.1, driven over HTTP. See benchmarks/README.md.

    .venv/bin/python benchmarks/run.py [--quick] [--only sqlite|postgresql] [--profile DIR]

For SQLite and PostgreSQL it measures intake (nuevo_encola per second, p50/p99 latency at 1, 16
and 64 clients), emission (one lane, 10 lanes, 100 points of sale; simulator at 300 ms per call),
end-to-end latency (nuevo_encola sent -> ``emitido`` hook received), webhook delivery rate, the
cost of a dequeue with many future-dated invoices queued, document downloads (time to the first
byte of ``comprobante_pdf_url`` at 16 clients, first download and again), PDF renders per core
(benchmarks/documents.py), the buyers' mails per second to a local SMTP sink, instant emission
(``facturacion/nuevo``: latency at 300 ms AFIP, invoices per second per lane at 16 clients,
benchmarks/instant.py), and every encola process's peak RSS.
It prints one table and writes it, with the machine, to benchmarks/results/<UTC stamp>.json.

Every process it starts is stopped at the end (by pid), also on errors or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import DateTime, bindparam, event, func, select, text  # noqa: E402
from sqlalchemy.exc import IntegrityError, OperationalError  # noqa: E402

import afip_modes as afip_phase  # noqa: E402  (benchmarks/afip_modes.py)
import instant as instant_phase  # noqa: E402  (benchmarks/instant.py)
import console as console_phase  # noqa: E402  (benchmarks/console.py)
import ops as ops_phase  # noqa: E402  (benchmarks/ops.py)
from encola.api.provisioning import PdvSpec, provision  # noqa: E402
from encola.clock import Clock  # noqa: E402
from encola.documents.links import Links  # noqa: E402
from encola.secretbox import SecretBox  # noqa: E402
from encola.store.db import make_engine, migrate  # noqa: E402
from encola.store.lanes import LaneStore  # noqa: E402
from encola.store.schema import invoices  # noqa: E402
from encola.store.store import Store  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
ENCOLA = [PYTHON, "-m", "encola.cli"]
# Every process of a run shares one secret key: the harness seals the points of sale it provisions.
BENCH_KEY = Fernet.generate_key().decode()
PG_ADMIN_URL = os.environ.get("ENCOLA_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
CUIT = "30712345671"
PHASES = ("e2e", "intake", "webhooks", "emission", "afip", "documents", "mail", "instant", "dequeue", "ops", "console")
DOCUMENT_CLIENTS = 16
LATENCY_MS = 300
BATCH = 250
WEBHOOK_TOKEN = "bench-webhook-token"

QUICK = {
    "intake": {1: 300, 16: 400, 64: 400}, "intake_seconds": 1.5,
    "emission": {"1 lane": (1, 500), "10 lanes": (10, 25), "100 PDVs": (100, 5)},
    "e2e_rate": 20, "e2e_seconds": 3,
    "hooks": 500, "two_workers": False,
    "dequeue": (1_000, 10_000, 30_000),
    "dequeue_runs": 15,
    "documents": 160, "render_seconds": 0.5,
    "mails": 500,
}
FULL = {
    "intake": {1: 3000, 16: 15000, 64: 15000}, "intake_seconds": 20,
    "emission": {"1 lane": (1, 2500), "10 lanes": (10, 250), "100 PDVs": (100, 50)},
    "e2e_rate": 25, "e2e_seconds": 30,
    "hooks": 5000, "two_workers": True,
    "dequeue": (1_000, 10_000, 100_000, 1_000_000),
    "dequeue_runs": 21,
    "documents": 800, "render_seconds": 2.0,
    "mails": 3000,
}


# --- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def vm_hwm_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class Proc:
    """One child process (its own session), its log file, and its peak RSS read before it stops."""

    def __init__(self, harness: "Harness", label: str, args: list[str], env: dict, *, port: int | None = None,
                 encola: bool = True):
        self.label, self.port, self.encola = label, port, encola
        self.log_path = harness.workdir / f"{label}-{len(harness.procs)}.log"
        self._log = open(self.log_path, "wb")
        self.popen = subprocess.Popen(args, env=env, cwd=harness.workdir, stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.popen.pid
        self.started = time.time()
        self.peak_kb: int | None = None
        harness.procs.append(self)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_http(self, path: str, timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.label} exited ({self.popen.returncode}): {self.log_text()[-2000:]}")
            try:
                httpx.get(self.base + path, timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.label} did not answer {path} within {timeout}s")

    def wait_log(self, needle: str, timeout: float = 40.0) -> float:
        """Poll the log until ``needle`` shows; returns the (epoch) time it was seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log_text():
                return time.time()
            if not self.alive():
                raise RuntimeError(f"{self.label} exited: {self.log_text()[-2000:]}")
            time.sleep(0.01)
        raise RuntimeError(f"{self.label}: {needle!r} not in its log within {timeout}s")

    def stop(self) -> None:
        if self.alive():
            self.peak_kb = vm_hwm_kb(self.pid) or self.peak_kb
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        self._log.close()


def family(pid: int) -> list[int]:
    """A process and its children (the mailer's render processes)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *(int(child) for child in children)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class CpuMeter:
    """Where the machine's CPU went during one measurement: each process we started, PostgreSQL's
    server processes (all of them: a backend that exits meanwhile is not counted) and this harness
    (the load generator). Divided by the work done, it says what one request costs, and where."""

    def __init__(self, procs: dict[str, int], postgres: bool):
        self.procs, self.postgres = procs, postgres
        self.began = self._sample()

    def _sample(self) -> dict[str, float]:
        sample = {label: cpu_seconds(pid) for label, pid in self.procs.items()}
        sample["load generator"] = time.process_time()
        if self.postgres:
            sample["postgresql"] = sum(cpu_seconds(pid) for pid in postgres_pids())
        return sample

    def per_item_ms(self, items: int) -> dict[str, float]:
        ended = self._sample()
        used = {label: max(0.0, ended[label] - self.began.get(label, 0.0)) for label in ended}
        out = {label: r(1000 * seconds / max(1, items), 3) for label, seconds in used.items()}
        out["total"] = r(1000 * sum(used.values()) / max(1, items), 3)
        return out


# --- requests ------------------------------------------------------------------------------------


def wire(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def factura_b(reference: str, fecha: date, punto_venta: int) -> dict:
    """A small FACTURA B to a consumidor final: 100 + 21 % IVA = 121 (as tests/support.py)."""
    return {
        "cliente": {
            "documento_tipo": "DNI", "documento_nro": "12345678", "razon_social": "Consumidor Final",
            "domicilio": "Av. Siempre Viva 742", "provincia": "1", "envia_por_mail": "N",
            "condicion_pago": "201", "condicion_iva": "CF",
        },
        "comprobante": {
            "fecha": wire(fecha), "tipo": "FACTURA B", "operacion": "V", "punto_venta": punto_venta, "numero": 0,
            "moneda": "PES", "cotizacion": 1, "vencimiento": wire(fecha), "rubro": "Ventas",
            "rubro_grupo_contable": "Ventas", "external_reference": reference,
            "detalle": [{"cantidad": "1", "producto": {
                "descripcion": "Producto de prueba", "unidad_bulto": "1", "lista_precios": "Lista", "codigo": "P1",
                "precio_unitario_sin_iva": "100", "alicuota": "21"}}],
            "total": "121.00",
        },
    }


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def r(value, digits=1):
    return None if value is None else round(value, digits)


class RawHttpClient:
    """One keep-alive HTTP/1.1 connection, spoken with asyncio streams.

    The load generator shares the 2 cores with encola; httpx spent about 4 ms of CPU per request
    at 16 clients and 12 ms at 64 (its pool grows costly with many connections), so it, not the
    server, set the intake figures. This client costs a small fraction of that.
    """

    def __init__(self, base: str):
        rest = base.split("://", 1)[1]
        self.host, _, port = rest.partition(":")
        self.port = int(port.split("/")[0])
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    async def get(self, path: str) -> tuple[int, float, bytes]:
        """GET ``path``: the status, the milliseconds to the answer's first line, and the body."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        started = time.perf_counter()
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode())
        status_line = await self.reader.readline()
        first_byte_ms = (time.perf_counter() - started) * 1000
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return int(status_line.split()[1]), first_byte_ms, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def post_all(bases: list[str], path: str, bodies: list[bytes], concurrency: int, accepted_of,
                   max_seconds: float | None = None) -> dict:
    """POST every body with ``concurrency`` clients (client i uses bases[i % len]); latencies in ms.

    With ``max_seconds``, clients stop taking new bodies once that much time has passed."""
    latencies: list[float] = []
    accepted = failed = 0
    errors: dict[str, int] = {}
    cursor = iter(range(len(bodies)))
    path_only = "/" + path.lstrip("/")

    async def one_client(index: int) -> None:
        nonlocal accepted, failed
        client = RawHttpClient(bases[index % len(bases)])
        try:
            for i in cursor:
                if max_seconds is not None and time.perf_counter() - began > max_seconds:
                    break
                started = time.perf_counter()
                try:
                    _, raw = await asyncio.wait_for(client.post(path_only, bodies[i]), timeout=60)
                    answer = json.loads(raw)
                    good = accepted_of(answer)
                except (OSError, ValueError, asyncio.TimeoutError, asyncio.IncompleteReadError) as exc:
                    answer, good = {"errores": [type(exc).__name__]}, 0
                    await client.close()
                    client = RawHttpClient(bases[index % len(bases)])
                latencies.append((time.perf_counter() - started) * 1000)
                accepted += good
                if not good:
                    failed += 1
                    key = str(answer.get("errores"))[:160]
                    errors[key] = errors.get(key, 0) + 1
        finally:
            await client.close()

    began = time.perf_counter()
    await asyncio.gather(*(one_client(i) for i in range(concurrency)))
    wall = time.perf_counter() - began
    return {"wall_s": wall, "sent": len(latencies), "latencies": latencies, "accepted": accepted, "failed": failed,
            "errors": dict(list(errors.items())[:3])}


def accepted_one(answer: dict) -> int:
    return 1 if answer.get("error") == "N" else 0


def accepted_lote(answer: dict) -> int:
    return sum(1 for item in answer.get("response") or [] if item.get("error") == "N")


# --- the harness ---------------------------------------------------------------------------------


class WaitSampler:
    """Samples what PostgreSQL's backends of the bench database are waiting on (every 200 ms: the
    sampling itself costs PostgreSQL CPU, which the intake figures count)."""

    def __init__(self, url: str):
        import threading

        self.url, self.counts, self.samples = url, {}, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=3) as connection:
                while not self._stop.wait(0.2):
                    rows = connection.execute(
                        "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'), state FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'"
                    ).fetchall()
                    self.samples += 1
                    for wait, state in rows:
                        key = f"{state} {wait}"
                        self.counts[key] = self.counts.get(key, 0) + 1
        except Exception as exc:  # evidence only; never fail the run for it
            self.counts[f"sampler failed: {exc}"[:80]] = 0

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(timeout=5)
        top = sorted(self.counts.items(), key=lambda kv: -kv[1])[:6]
        return {"samples": self.samples,
                "avg_active_backends_by_wait": {k: round(v / max(1, self.samples), 2) for k, v in top}}


@dataclass
class Backend:
    name: str
    url: str
    api_processes: int


class Harness:
    def __init__(self, sizes: dict, quick: bool, profile_dir: Path | None):
        self.sizes, self.quick, self.profile_dir = sizes, quick, profile_dir
        self.workdir = Path(tempfile.mkdtemp(prefix="encola-bench-"))
        self.procs: list[Proc] = []
        self.peaks: dict[str, int] = {}
        self.receiver: Proc | None = None
        self.phases: set[str] = set(PHASES)

    # processes

    def env(self, backend: Backend, sim: Proc | None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENCOLA_")}
        env.update(ENCOLA_DATABASE_URL=backend.url, ENCOLA_WEBHOOK_ALLOW_PRIVATE="1", ENCOLA_LOG_LEVEL="INFO",
                   PYTHONUNBUFFERED="1", ENCOLA_SECRET_KEY=BENCH_KEY)
        if sim is not None:
            env["ENCOLA_AFIP_URL"] = sim.base
        return env

    def start_receiver(self) -> Proc:
        port = free_port()
        proc = Proc(self, "receiver", [PYTHON, str(HERE / "receiver.py"), str(port)], dict(os.environ), port=port,
                    encola=False)
        proc.wait_http("/stats")
        self.receiver = proc
        return proc

    def start_sim(self, backend: Backend) -> Proc:
        port = free_port()
        return Proc(self, f"{backend.name}-afip-sim", [*ENCOLA, "afip-sim", "--host", "127.0.0.1", "--port", str(port),
                    "--latency-ms", str(LATENCY_MS)], self.env(backend, None), port=port)

    def start_serve(self, backend: Backend, sim: Proc | None, *, engine: bool, label: str,
                    extra_env: dict | None = None) -> Proc:
        port = free_port()
        args = [*ENCOLA, "serve", "--host", "127.0.0.1", "--port", str(port)] + ([] if engine else ["--no-engine"])
        return Proc(self, f"{backend.name}-{label}", args, {**self.env(backend, sim), **(extra_env or {})}, port=port)

    def start_worker(self, backend: Backend, sim: Proc, label: str) -> Proc:
        return Proc(self, f"{backend.name}-{label}", [*ENCOLA, "worker"], self.env(backend, sim))

    def stop(self, *procs: Proc) -> None:
        for proc in procs:
            proc.stop()
            if proc.encola and proc.peak_kb:
                kind = proc.label
                self.peaks[kind] = max(self.peaks.get(kind, 0), proc.peak_kb)

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            try:
                self.stop(proc)
            except Exception as exc:  # keep stopping the others
                print(f"could not stop {proc.label} (pid {proc.pid}): {exc}", file=sys.stderr)

    # receiver

    def hooks(self, prefix: str = "", evento: str | None = None) -> dict:
        params = {"prefix": prefix, **({"evento": evento} if evento else {})}
        return httpx.get(self.receiver.base + "/stats", params=params, timeout=30).json()

    def hook_records(self, prefix: str, evento: str) -> list:
        return httpx.get(self.receiver.base + "/records", params={"prefix": prefix, "evento": evento},
                         timeout=60).json()

    # profiling (optional)

    def profile(self, proc: Proc, name: str, seconds: float) -> subprocess.Popen | None:
        if self.profile_dir is None:
            return None
        spy = shutil.which("py-spy") or str(ROOT / ".venv" / "bin" / "py-spy")
        if not Path(spy).exists():
            return None
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        out = self.profile_dir / f"{name}.txt"
        return subprocess.Popen([spy, "record", "--pid", str(proc.pid), "--duration", str(max(1, int(seconds))),
                                 "--format", "raw", "--output", str(out), "--nonblocking", "--threads", "--gil",
                                 "--subprocesses"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


class BackendRun:
    """All measurements on one database."""

    def __init__(self, harness: Harness, backend: Backend):
        self.h, self.b = harness, backend
        self.engine = make_engine(backend.url)
        migrate(self.engine)
        self.store = Store(self.engine, Clock(), SecretBox([BENCH_KEY.encode()]))
        self.today = Clock().today()
        self.keys: dict[int, dict] = {}
        self.results: dict = {}

    # database helpers

    def sql(self, statement: str, **params):
        with self.store.writing() as connection:
            return connection.execute(text(statement), params)

    def scalar(self, statement: str, **params):
        with self.store.reading() as connection:
            return connection.execute(text(statement), params).scalar()

    def clear(self) -> None:
        """Empty the queue and the outbox between phases (running dispatchers may still hold rows)."""
        self.wait_hooks_drained(60)
        for attempt in range(5):
            try:
                with self.store.writing() as connection:
                    for table in ("hook_attempts", "hook_events", "invoices", "lane_leases"):
                        connection.execute(text(f"DELETE FROM {table}"))
                return
            except (OperationalError, IntegrityError):
                # A deadlock with a dispatcher's claim, or an attempt it recorded between the two
                # DELETEs (PostgreSQL reads each statement afresh): try again.
                if attempt == 4:
                    raise
                time.sleep(0.5)

    def pending_hooks(self) -> int:
        return self.scalar("SELECT count(*) FROM hook_events WHERE state = 'pending'")

    def wait_hooks_drained(self, timeout: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.pending_hooks() == 0:
                break
            time.sleep(0.2)
        return time.monotonic() - started

    def emitted(self):
        with self.store.reading() as connection:
            return connection.execute(
                select(func.count(), func.min(invoices.c.emitted_at), func.max(invoices.c.emitted_at))
                .where(invoices.c.state == "emitted")
            ).one()

    def provision(self, count: int) -> None:
        url = self.h.receiver.base + "/hook"
        for punto_venta in range(1, count + 1):
            done = provision(self.store, PdvSpec(CUIT, punto_venta, "RI", f"Bench {punto_venta}", "P", url, WEBHOOK_TOKEN))
            self.keys[punto_venta] = done.credentials.as_json()

    def invoice_bodies(self, prefix: str, count: int, punto_venta: int = 1, fecha: date | None = None) -> list[bytes]:
        fecha = fecha or self.today
        keys = self.keys[punto_venta]
        return [json.dumps({**keys, **factura_b(f"{prefix}{i}", fecha, punto_venta)}).encode() for i in range(count)]

    def lote_bodies(self, prefix: str, per_pdv: int, pdv_count: int) -> list[bytes]:
        bodies = []
        for punto_venta in range(1, pdv_count + 1):
            items = [factura_b(f"{prefix}{punto_venta}-{i}", self.today, punto_venta) for i in range(per_pdv)]
            for start in range(0, len(items), 100):
                bodies.append(json.dumps({**self.keys[punto_venta], "requests": items[start:start + 100]}).encode())
        return bodies

    # the phases

    def run(self) -> dict:
        h = self.h
        self.provision(100)
        sim = h.start_sim(self.b)
        sim.wait_http("/_sim/faults")
        for punto_venta in self.keys:  # registered at the simulator, as `encola pdv create` does
            httpx.post(sim.base + "/_sim/puntos_venta", json={"cuit": CUIT, "punto_venta": punto_venta},
                       timeout=10).raise_for_status()
        early = h.start_serve(self.b, sim, engine=True, label="serve") if "e2e" in h.phases else None
        phases = h.phases
        httpx.post(h.receiver.base + "/reset", timeout=10)  # hooks of another database must not count
        timer = self.timer()
        if "e2e" in phases:
            self.results["e2e"] = self.end_to_end(sim, early)
        timer("e2e")
        apis = [h.start_serve(self.b, sim, engine=False, label=f"api{i + 1}") for i in range(self.b.api_processes)]
        for api in apis:
            api.wait_http("/health")
        bases = [api.base for api in apis]
        timer("start api")
        if "intake" in phases:
            self.results["intake"] = asyncio.run(self.intake(bases, apis))
            self.results["intake"]["hook_backlog_drain_s"] = r(self.wait_hooks_drained(120), 2)
        timer("intake")
        if "webhooks" in phases:
            self.results["webhooks"] = self.webhooks(apis)
        timer("webhooks")
        if "emission" in phases:
            self.results["emission"] = self.emission(bases, sim)
        timer("emission")
        if "afip" in phases:  # busy and reorder AFIP, heavy-tailed latency, 1 % lost answers: afip_modes.py
            post = lambda bodies: asyncio.run(post_all(bases, "/app/api/v2/facturacion/lotes_encola", bodies, 4, accepted_lote))  # noqa: E731
            self.results["afip_modes"] = afip_phase.run(self, bases, sim, h.quick, post)
        timer("afip")
        if "documents" in phases:
            self.results["documents"] = asyncio.run(self.documents(bases, apis))
        timer("documents")
        if "mail" in phases:
            self.results["mail"] = self.mail(sim)
        timer("mail")
        if "instant" in phases:  # facturacion/nuevo: benchmarks/instant.py
            self.results["instant"] = instant_phase.run(self, sim, h.quick)
        timer("instant")
        if "dequeue" in phases:
            self.results["dequeue"] = self.dequeue(bases)
        timer("dequeue")
        if "console" in phases:  # the console over a million invoices: benchmarks/console.py (runs last)
            self.results["console"] = console_phase.run(self, h.quick)
        timer("console")
        h.stop(*apis, sim)
        return self.results

    def timer(self):
        """Records how long each phase took (results["phase_seconds"])."""
        last = [time.monotonic()]
        spent = self.results.setdefault("phase_seconds", {})

        def lap(name: str) -> None:
            now = time.monotonic()
            spent[name] = round(now - last[0], 1)
            last[0] = now

        return lap

    def end_to_end(self, sim: Proc, server: Proc) -> dict:
        """nuevo_encola sent -> emitido hook received, at a steady rate, with `encola serve` (engine in)."""
        h = self.h
        try:
            server.wait_http("/health")
            # Warm-up: WSAA login and the CUIT's certificate, which later phases reuse.
            warm = self.invoice_bodies("e2e-warm-", 1)[0]
            started = time.monotonic()
            httpx.post(server.base + "/app/api/v2/facturacion/nuevo_encola", content=warm, timeout=30)
            while not h.hooks("e2e-warm-", "emitido")["count"]:
                if time.monotonic() - started > 60:
                    raise RuntimeError("the warm-up invoice was not emitted within 60 s")
                time.sleep(0.05)
            warm_s = time.monotonic() - started
            rate, seconds = h.sizes["e2e_rate"], h.sizes["e2e_seconds"]
            count = rate * seconds
            bodies = self.invoice_bodies("e2e-r", count)
            sent: dict[str, float] = {}
            answers: list[int] = []

            async def drive() -> None:
                async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
                    async def one(i: int) -> None:
                        sent[f"e2e-r{i}"] = time.time()
                        response = await client.post(server.base + "/app/api/v2/facturacion/nuevo_encola",
                                                     content=bodies[i], headers={"Content-Type": "application/json"})
                        answers.append(accepted_one(response.json()))

                    start = time.perf_counter()
                    tasks = []
                    for i in range(count):
                        delay = start + i / rate - time.perf_counter()
                        if delay > 0:
                            await asyncio.sleep(delay)
                        tasks.append(asyncio.create_task(one(i)))
                    await asyncio.gather(*tasks)

            spy = h.profile(server, f"{self.b.name}-e2e-serve", seconds)
            asyncio.run(drive())
            deadline = time.monotonic() + 60
            while h.hooks("e2e-r", "emitido")["count"] < sum(answers) and time.monotonic() < deadline:
                time.sleep(0.2)
            if spy:
                spy.wait(timeout=120)
            received = {ref: t for t, ref in h.hook_records("e2e-r", "emitido") if ref in sent}
            latencies = [(received[ref] - sent[ref]) * 1000 for ref in received]
            return {"rate_per_s": rate, "sent": count, "accepted": sum(answers), "emitido_received": len(received),
                    "p50_ms": r(percentile(latencies, 50)), "p99_ms": r(percentile(latencies, 99)),
                    "max_ms": r(max(latencies) if latencies else None), "warmup_s": r(warm_s, 2)}
        finally:
            h.stop(server)
            self.clear()

    async def intake(self, bases: list[str], apis: list[Proc]) -> dict:
        out = {"api_processes": len(bases), "levels": {}}
        await post_all(bases, "/app/api/v2/facturacion/nuevo_encola", self.invoice_bodies("warm-", 20), 4, accepted_one)
        for clients, count in self.h.sizes["intake"].items():
            bodies = self.invoice_bodies(f"in{clients}-", count)
            spies = [self.h.profile(api, f"{self.b.name}-intake-c{clients}-{api.label}", 4)
                     for api in apis] if clients == 16 else []
            sampler = WaitSampler(self.b.url) if self.b.name == "postgresql" else None
            meter = CpuMeter({p.label.split("-", 1)[-1]: p.pid for p in (*apis, self.h.receiver)},
                             postgres=self.b.name == "postgresql")
            result = await post_all(bases, "/app/api/v2/facturacion/nuevo_encola", bodies, clients, accepted_one,
                                    self.h.sizes["intake_seconds"])
            waits = sampler.stop() if sampler else None
            # Each accepted invoice owes an `encolado` hook: the level ends when they are delivered,
            # so its CPU includes theirs and the next level starts with no backlog.
            pending = self.pending_hooks()
            drain_s = self.wait_hooks_drained(120)
            cpu = meter.per_item_ms(result["accepted"])
            for spy in spies:
                if spy:
                    spy.wait(timeout=60)
            lat = result["latencies"]
            out["levels"][str(clients)] = {
                "requests": result["sent"], "accepted": result["accepted"], "failed": result["failed"],
                "accepted_per_s": r(result["accepted"] / result["wall_s"]),
                "p50_ms": r(percentile(lat, 50), 2), "p99_ms": r(percentile(lat, 99), 2),
                "wall_s": r(result["wall_s"], 2), "errors": result["errors"],
                "hooks_pending_at_end": pending, "hooks_drained_after_s": r(drain_s, 2),
                "cpu_ms_per_accepted": cpu,
            }
            if waits:
                out["levels"][str(clients)]["pg_wait_events"] = waits
        return out

    def webhooks(self, apis: list[Proc]) -> dict:
        """Bulk-insert N pending events; the running dispatchers deliver them to the receiver."""
        count = self.h.sizes["hooks"]
        pdv_id = self.scalar("SELECT id FROM pdvs WHERE punto_venta = 1")
        if self.b.name == "postgresql":
            series = "generate_series(1, CAST(:n AS integer)) AS seq(g)"
            prefix = ""
        else:
            series = "seq"
            prefix = "WITH RECURSIVE seq(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < :n) "
        statement = text(
            prefix + "INSERT INTO hook_events (hook_id, pdv_id, invoice_id, recurso, evento, external_reference, msg, "
            "creado, state, attempts, next_attempt_at) "
            f"SELECT 'bench-hook-' || g, :pdv, NULL, 'facturacion', 'encolado', 'wh-' || g, '[]', :now, 'pending', 0, :now "
            f"FROM {series}"
        ).bindparams(bindparam("now", type_=DateTime))
        spies = [self.h.profile(api, f"{self.b.name}-webhooks-{api.label}", 4) for api in apis]
        with self.store.writing() as connection:
            connection.execute(statement, {"n": count, "pdv": pdv_id, "now": Clock().now()})
        inserted = time.time()
        deadline = time.monotonic() + max(60, count / 20)
        stats = self.h.hooks("wh-")
        while stats["count"] < count and time.monotonic() < deadline:
            time.sleep(0.25)
            stats = self.h.hooks("wh-")
        for spy in spies:
            if spy:
                spy.wait(timeout=60)
        result = {"events": count, "delivered": stats["count"], "dispatcher_processes": len(apis)}
        if stats["count"] > 1:
            result["per_s"] = r((stats["count"] - 1) / (stats["last"] - stats["first"]))
            result["per_s_from_insert"] = r(stats["count"] / (stats["last"] - inserted))
        self.wait_hooks_drained(30)
        return result

    def emission(self, bases: list[str], sim: Proc) -> dict:
        out = {}
        scenarios = [(name, pdvs, per, 1) for name, (pdvs, per) in self.h.sizes["emission"].items()]
        if self.b.name == "postgresql" and self.h.sizes["two_workers"]:
            pdvs, per = self.h.sizes["emission"]["100 PDVs"]
            scenarios.append(("100 PDVs, 2 workers", pdvs, per, 2))
        for name, pdv_count, per_pdv, workers in scenarios:
            out[name] = self.emit_scenario(bases, sim, name, pdv_count, per_pdv, workers)
        return out

    def emit_scenario(self, bases, sim, name, pdv_count, per_pdv, worker_count) -> dict:
        h = self.h
        began = time.monotonic()
        self.clear()
        total = pdv_count * per_pdv
        tag = f"em{pdv_count}x{worker_count}-"
        loaded = time.monotonic()
        out = {"clear_s": r(loaded - began, 2)}
        asyncio.run(post_all(bases, "/app/api/v2/facturacion/lotes_encola",
                                      self.lote_bodies(tag, per_pdv, pdv_count), 4, accepted_lote))
        load_s = time.monotonic() - loaded
        queued = self.scalar("SELECT count(*) FROM invoices WHERE state = 'queued'")
        drain_s = self.wait_hooks_drained(120)
        out |= {"points_of_sale": pdv_count, "invoices": total, "queued": queued, "workers": worker_count,
               "load_per_s": r(queued / load_s), "load_hooks_drain_s": r(drain_s, 2),
               "limit_per_s": round(BATCH / (LATENCY_MS / 1000) * pdv_count)}
        workers = [h.start_worker(self.b, sim, f"worker{i + 1}") for i in range(worker_count)]
        try:
            t0 = min(worker.wait_log("engine started") for worker in workers)
            spies = [h.profile(worker, f"{self.b.name}-emission-{name.replace(' ', '').replace(',', '-')}-{worker.label}",
                               3 if self.h.quick else 8) for worker in workers]
            deadline = time.monotonic() + max(60, queued / 20)
            count, first, last = self.emitted()
            while count < queued and time.monotonic() < deadline:
                time.sleep(0.1)
                count, first, last = self.emitted()
            for spy in spies:
                if spy:
                    spy.wait(timeout=60)
        finally:
            stopping = time.monotonic()
            h.stop(*workers)
            out["worker_stop_s"] = r(time.monotonic() - stopping, 2)
        epoch = lambda moment: moment.replace(tzinfo=timezone.utc).timestamp()  # noqa: E731
        out["emitted"] = count
        if count and last is not None:
            span = epoch(last) - t0
            out["seconds"] = r(span, 2)
            out["per_s"] = r(count / span)
            out["first_emission_after_s"] = r(epoch(first) - t0, 2)
        out["complete"] = count >= queued
        return out

    @staticmethod
    def api_families(apis: list[Proc]) -> dict[str, int]:
        """Each API process and its render processes, by label ("api1", "api1 render 1", …)."""
        out = {}
        for api in apis:
            label = api.label.split("-", 1)[-1]
            out[label] = api.pid
            renders = [pid for pid in family(api.pid)[1:] if b"resource_tracker" not in _cmdline(pid)]
            for n, pid in enumerate(renders, 1):
                out[f"{label} render {n}"] = pid
        return out

    async def documents(self, bases: list[str], apis: list[Proc]) -> dict:
        """``comprobante_pdf_url`` of the emitted invoices (the emission phase's), 16 clients at once,
        without credentials: milliseconds to the first byte, the first time (rendered on demand) and
        again (from the API process's cache).

        With several API processes, each first download goes to the one with the fewest downloads
        in flight, as a least-connections balancer sends it (docs/operations.md), and each second
        download to the process that rendered it (whose cache holds it). Round-robin was measured
        and is not a fair model here: with equal CPU shares per API process, how the 16 downloads
        in flight split between them drifts like a random walk that nothing pulls back, and one
        process's downloads waited 2–3 times the other's (p99 ≈ 200–260 ms for the same CPU).
        The emission's hooks are delivered first: the API processes' dispatchers would otherwise
        be sending thousands of them during the measurement, as in every other phase here."""
        drained_s = self.wait_hooks_drained(120)
        with self.store.reading() as connection:
            ids = list(connection.execute(text("SELECT id FROM invoices WHERE state = 'emitted' ORDER BY id LIMIT :n"),
                                          {"n": self.h.sizes["documents"]}).scalars())
        if not ids:
            return {"error": "no emitted invoices (the emission phase makes them)"}
        links = Links("http://bench", self.store.document_link_key())
        paths = [links.of(self.store.invoice(i))["comprobante_pdf_url"].removeprefix("http://bench") for i in ids]
        out = {"invoices": len(paths), "clients": DOCUMENT_CLIENTS, "api_processes": len(bases),
               "hooks_drained_first_s": r(drained_s, 2)}
        served_by: dict[int, int] = {}  # invoice index → the API process that rendered it
        for run in ("first", "again"):
            times: list[float] = []
            statuses: dict[int, int] = {}
            sizes: list[int] = []
            cursor = iter(range(len(paths)))
            in_flight = [0] * len(bases)

            async def one_client(index: int) -> None:
                clients = [RawHttpClient(base) for base in bases]
                try:
                    for i in cursor:
                        api = served_by.setdefault(i, min(range(len(bases)), key=in_flight.__getitem__))
                        in_flight[api] += 1
                        try:
                            status, first_byte_ms, body = await clients[api].get(paths[i])
                        finally:
                            in_flight[api] -= 1
                        statuses[status] = statuses.get(status, 0) + 1
                        times.append(first_byte_ms)
                        sizes.append(len(body))
                finally:
                    for client in clients:
                        await client.close()

            spies = [self.h.profile(api, f"{self.b.name}-documents-{run}-{api.label}", 2)
                     for api in apis] if run == "first" else []
            meter = CpuMeter(self.api_families(apis), postgres=self.b.name == "postgresql")
            began = time.perf_counter()
            await asyncio.gather(*(one_client(i) for i in range(DOCUMENT_CLIENTS)))
            wall = time.perf_counter() - began
            cpu = meter.per_item_ms(len(times))
            for spy in spies:
                if spy:
                    spy.wait(timeout=60)
            out[run] = {"p50_ms": r(percentile(times, 50)), "p99_ms": r(percentile(times, 99)),
                        "max_ms": r(max(times)), "per_s": r(len(times) / wall), "statuses": statuses,
                        "kib": r(statistics.mean(sizes) / 1024), "cpu_ms_per_download": cpu}
        return out

    def mail(self, sim: Proc) -> dict:
        """The buyers' mail: N emitted invoices (the emission phase's) each get their mail event, and
        one ``encola serve`` with ``ENCOLA_SMTP_URL`` sends them (render the A4, build, SMTP) to a local
        sink (aiosmtpd, in this process). Rate from the first message received to the last."""
        from encola.mail.sink import MailSink
        from encola.store.rows import NewEvent

        count = self.h.sizes["mails"]
        with self.store.reading() as connection:
            rows = connection.execute(text("SELECT id, pdv_id, external_reference FROM invoices WHERE state = 'emitted' "
                                           "ORDER BY id LIMIT :n"), {"n": count}).all()
        if not rows:
            return {"error": "no emitted invoices (the emission phase makes them)"}
        arrivals: list[float] = []
        sink = MailSink().start()
        sink.on_message = lambda received: arrivals.append(time.monotonic())
        mailer = None
        try:
            with self.store.writing() as connection:
                connection.execute(text("UPDATE invoices SET mail_to = 'comprador@example.com', mail_sent_at = NULL "
                                        "WHERE state = 'emitted' AND id <= :last"), {"last": rows[-1].id})
                self.store.add_events(connection, [(row.pdv_id, NewEvent("emitido", row.external_reference, kind="mail"),
                                                    row.id) for row in rows])
            mailer = self.h.start_serve(self.b, sim, engine=False, label="mailer",
                                        extra_env={"ENCOLA_SMTP_URL": sink.url, "ENCOLA_MAIL_FROM": "bench@example.com"})
            mailer.wait_http("/health")
            spy = self.h.profile(mailer, f"{self.b.name}-mail-{mailer.label}", 4)
            deadline = time.monotonic() + max(60, count / 10)
            cpu_at: dict[int, float] = {}
            counted_from = 0
            while len(arrivals) < len(rows) and time.monotonic() < deadline:
                if arrivals and not cpu_at:  # from the first messages on: the render processes are up
                    cpu_at, counted_from = {pid: cpu_seconds(pid) for pid in family(mailer.pid)}, len(arrivals)
                time.sleep(0.02 if not cpu_at else 0.1)
            cpu_used = sum(cpu_seconds(pid) - cpu_at.get(pid, 0.0) for pid in family(mailer.pid)) if cpu_at else None
            if spy:
                spy.wait(timeout=60)
            out = {"mails": len(rows), "received": len(arrivals), "smtp_connections": 8,
                   "kib": r(statistics.mean(len(m.raw) for m in sink.received()) / 1024) if arrivals else None}
            if len(arrivals) > 1:
                out["per_s"] = r((len(arrivals) - 1) / (arrivals[-1] - arrivals[0]))
            if cpu_used is not None and len(arrivals) > counted_from:
                # The mailer and its render processes: what a mail costs whatever else the machine runs.
                out["cpu_ms_per_mail"] = r(cpu_used * 1000 / (len(arrivals) - counted_from), 2)
            out["marked_sent"] = self.scalar("SELECT count(*) FROM invoices WHERE mail_sent_at IS NOT NULL")
            return out
        finally:
            if mailer is not None:
                self.h.stop(mailer)
            sink.stop()

    def dequeue(self, bases: list[str]) -> dict:
        """due_lanes + next_batch in-process, with N future-dated invoices queued and a due lane of 20."""
        self.clear()
        due = asyncio.run(post_all(bases, "/app/api/v2/facturacion/nuevo_encola", self.invoice_bodies("due-", 20),
                                   4, accepted_one))
        self.wait_hooks_drained(30)
        template = self.scalar("SELECT min(id) FROM invoices")
        lanes = LaneStore(self.store)
        out = {"due_invoices": due["accepted"], "sizes": {}}
        present = 0
        for target in self.h.sizes["dequeue"]:
            started = time.monotonic()
            while present < target:
                chunk = min(target - present, 100_000)
                self.insert_future(template, present + 1, present + chunk)
                present += chunk
            if self.b.name == "postgresql":
                with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE invoices")  # what autovacuum does after a bulk load
            insert_s = time.monotonic() - started
            timings, due_ms, batch_ms = [], [], []
            for run in range(3 + self.h.sizes["dequeue_runs"]):
                t = time.perf_counter()
                found = lanes.due_lanes(self.today)
                t2 = time.perf_counter()
                batch = lanes.next_batch(found[0], self.today, BATCH) if found else []
                t3 = time.perf_counter()
                if run >= 3:
                    timings.append((t3 - t) * 1000)
                    due_ms.append((t2 - t) * 1000)
                    batch_ms.append((t3 - t2) * 1000)
            out["sizes"][str(target)] = {
                "median_ms": r(statistics.median(timings), 2), "due_lanes_ms": r(statistics.median(due_ms), 2),
                "next_batch_ms": r(statistics.median(batch_ms), 2), "lanes": len(found), "batch": len(batch),
                "insert_s": r(insert_s, 1),
            }
        out["plans"] = self.plans(lanes)
        sizes = list(out["sizes"].values())
        out["ratio_largest_to_smallest"] = r(sizes[-1]["median_ms"] / sizes[0]["median_ms"], 2)
        return out

    def insert_future(self, template: int, lo: int, hi: int) -> None:
        """Copy the template invoice (hi - lo + 1) times: future fecha, new reference, 100 lanes."""
        columns = ("pdv_id, cuit, punto_venta, cbte_tipo, tipo, external_reference, request_hash, fecha, vencimiento, "
                   "state, attempts, next_attempt_at, errors, total, afip, view, response, created_at, updated_at")
        if self.b.name == "postgresql":
            prefix, series = "", "generate_series(CAST(:lo AS integer), CAST(:hi AS integer)) AS seq(g)"
            fecha = "t.fecha + (1 + g % 300)"
        else:
            prefix = "WITH RECURSIVE seq(g) AS (SELECT :lo UNION ALL SELECT g + 1 FROM seq WHERE g < :hi) "
            series = "seq"
            fecha = "date(t.fecha, '+' || (1 + g % 300) || ' days')"
        statement = (
            f"{prefix}INSERT INTO invoices ({columns}) "
            f"SELECT p.id, t.cuit, p.punto_venta, t.cbte_tipo, t.tipo, 'fut-' || g, t.request_hash, {fecha}, {fecha}, "
            "'queued', 0, t.next_attempt_at, t.errors, t.total, t.afip, t.view, t.response, t.created_at, t.updated_at "
            f"FROM {series} JOIN invoices t ON t.id = :template "
            "JOIN pdvs p ON p.cuit = t.cuit AND p.punto_venta = 1 + (g % 100)"
        )
        self.sql(statement, lo=lo, hi=hi, template=template)

    def plans(self, lanes: LaneStore) -> dict:
        """The query plans of the two dequeue statements as the product issues them."""
        statements: list = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT"):
                statements.append((statement, parameters))

        event.listen(self.engine, "before_cursor_execute", capture)
        try:
            found = lanes.due_lanes(self.today)
            if found:
                lanes.next_batch(found[0], self.today, BATCH)
        finally:
            event.remove(self.engine, "before_cursor_execute", capture)
        plans = {}
        explain = "EXPLAIN (ANALYZE, BUFFERS) " if self.b.name == "postgresql" else "EXPLAIN QUERY PLAN "
        with self.engine.connect() as connection:
            for index, (statement, parameters) in enumerate(statements):
                rows = connection.exec_driver_sql(explain + statement, parameters).all()
                plans[f"query{index + 1}"] = {"sql": " ".join(statement.split())[:400],
                                              "plan": [" | ".join(str(c) for c in row) for row in rows]}
            connection.rollback()
        return plans


# --- PostgreSQL database per run -------------------------------------------------------------------


def pg_create(stamp: str) -> tuple[str | None, str | None]:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as connection:
            name = f"encola_bench_{stamp}"
            connection.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        return f"{base}/{name}", None
    except Exception as exc:  # not installed, not running, no permission: skip PostgreSQL
        return None, f"{type(exc).__name__}: {exc}".strip()[:200]


def pg_drop(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- output ----------------------------------------------------------------------------------------


def machine(command: list[str]) -> dict:
    meminfo = Path("/proc/meminfo").read_text().splitlines() if Path("/proc/meminfo").exists() else []
    ram_kb = next((int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:")), 0)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--short", "--", "encola"], capture_output=True,
                               text=True, timeout=10).stdout.split("\n")
    except Exception:
        commit, dirty = "", []
    return {"git_uncommitted_in_encola": [line.strip() for line in dirty if line.strip()],"cores": os.cpu_count(), "cpu": cpu, "ram_gb": round(ram_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"), "command": " ".join(command),
            "git_commit": commit}


def fmt_rate(value) -> str:
    return "—" if value is None else f"{value:,.0f}/s" if value >= 10 else f"{value:.2f}/s"


def build_table(results: dict, quick: bool) -> list[list[str]]:
    backends = ["sqlite", "postgresql"]
    rows = [["measure", "SQLite", "PostgreSQL", "anchor / target"]]

    def cell(name, getter):
        data = results.get(name)
        if not isinstance(data, dict):
            return "not run"
        if "skipped" in data:
            return "skipped (not reachable)"
        try:
            return getter(data)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return "failed (see below)" if "error" in data else "—"

    def mark(ok: bool) -> str:
        return " ✓" if ok else " ✗"

    def intake(level, judge=False):
        def get(d):
            lv = d["intake"]["levels"][level]
            text_ = f"{fmt_rate(lv['accepted_per_s'])} p50 {lv['p50_ms']:.0f} ms p99 {lv['p99_ms']:.0f} ms"
            if judge and level == "16":
                need = 1000 if d["backend"] == "postgresql" else 500
                text_ += mark(lv["accepted_per_s"] >= need and lv["p99_ms"] < 100)
            return text_
        return get

    for level in ("1", "16", "64"):
        target = "≥500/s SQLite, ≥1,000/s PG (2 API); p99 <100 ms" if level == "16" else ""
        rows.append([f"intake, {level} client{'s' if level != '1' else ''}", *(cell(b, intake(level, True)) for b in backends),
                     target])

    def intake_cpu(d):
        cpu = d["intake"]["levels"]["16"]["cpu_ms_per_accepted"]
        api = sum(v for k, v in cpu.items() if k.startswith("api"))
        return f"{cpu['total']:.2f} ms (encola {api:.2f}, PostgreSQL {cpu.get('postgresql', 0):.2f})" \
            if "postgresql" in cpu else f"{cpu['total']:.2f} ms (encola {api:.2f})"

    rows.append(["intake, 16 clients: CPU per accepted, all processes", *(cell(b, intake_cpu) for b in backends),
                 "2 cores ÷ this = ceiling"])
    anchors = {"1 lane": "TF 0.17–0.25/s; limit 833/s; target ≥417/s",
               "10 lanes": "TF 1.7–2.5/s; limit 8,333/s",
               "100 PDVs": "TF 17–25/s; limit 83,333/s; target ≥500/s",
               "100 PDVs, 2 workers": "limit 83,333/s"}
    targets = {"1 lane": BATCH / (LATENCY_MS / 1000) / 2, "100 PDVs": 500}
    for name, anchor in anchors.items():
        if not any(isinstance(results.get(b), dict) and name in results[b].get("emission", {}) for b in backends):
            continue

        def get(d, name=name):
            e = d["emission"][name]
            done = "" if e["complete"] else f" (only {e['emitted']}/{e['queued']})"
            # Quick mode's few invoices per lane measure a lane's start-up (two AFIP calls), not
            # its rate: only the full mode judges emission against the targets.
            verdict = mark(e["per_s"] >= targets[name]) if name in targets and not quick else ""
            return f"{fmt_rate(e['per_s'])} ({e['emitted']:,} in {e['seconds']:.1f} s){done}{verdict}"
        if name.endswith("workers"):
            vals = [cell(b, get) if b == "postgresql" else "n/a" for b in backends]
        else:
            vals = [cell(b, get) for b in backends]
        rows.append([f"emission, {name} (300 ms AFIP)", *vals, anchor])
    rows += afip_phase.table_rows(results, backends, cell, quick)
    rows += instant_phase.table_rows(results, backends, cell)
    rows += console_phase.table_rows(results, backends, cell)
    rows += ops_phase.table_rows(results, quick)
    rows.append(["end-to-end nuevo_encola → emitido hook",
                 *(cell(b, lambda d: f"p50 {d['e2e']['p50_ms']:,.0f} ms p99 {d['e2e']['p99_ms']:,.0f} ms "
                                     f"({d['e2e']['emitido_received']}/{d['e2e']['sent']} at {d['e2e']['rate_per_s']}/s)"
                                     f"{mark(d['e2e']['p50_ms'] < 1500)}")
                   for b in backends), "p50 < 1,500 ms"])
    rows.append(["webhooks delivered",
                 *(cell(b, lambda d: f"{fmt_rate(d['webhooks']['per_s'])} ({d['webhooks']['delivered']:,} hooks, "
                                     f"{d['webhooks']['dispatcher_processes']} proc)") for b in backends), ""])
    rows.append(["buyers' mail to a local SMTP sink (render A4 + SMTP)",
                 *(cell(b, lambda d: f"{fmt_rate(d['mail']['per_s'])} ({d['mail']['received']:,} mails, 1 proc, "
                                     f"{d['mail'].get('cpu_ms_per_mail', 0):.1f} ms CPU each)"
                                     f"{mark(d['mail']['per_s'] >= 100)}") for b in backends), "≥ 100/s"])
    renders = results.get("renders") or {}
    for key, label, target in (("a4_5_items_per_s", "A4, 5 items", 50), ("a4_130_items_per_s", "A4, 130 items", None),
                               ("ticket_5_items_per_s", "ticket, 5 items", None)):
        value = renders.get(key)
        text_ = "not run" if value is None else f"{value:,.1f}/s" + (mark(value >= target) if target else "")
        rows.append([f"PDF renders per core, {label} (no database)", text_, "same process", "≥ 50/s" if target else ""])
    for run, label in (("first", "first download: rendered"), ("again", "again: cached")):
        rows.append([f"comprobante_pdf_url first byte, 16 clients, {label}",
                     *(cell(b, lambda d, run=run: f"p50 {d['documents'][run]['p50_ms']:.0f} ms p99 "
                                                  f"{d['documents'][run]['p99_ms']:.0f} ms "
                                                  f"({fmt_rate(d['documents'][run]['per_s'])})"
                                                  f"{mark(d['documents'][run]['p99_ms'] < 100)}") for b in backends),
                     "p99 < 100 ms"])

    def download_cpu(d):
        cpu = d["documents"]["first"]["cpu_ms_per_download"]
        api = sum(v for k, v in cpu.items() if k.startswith("api") and "render" not in k)
        render = sum(v for k, v in cpu.items() if "render" in k)
        pg = f", PostgreSQL {cpu['postgresql']:.1f}" if "postgresql" in cpu else ""
        return f"{cpu['total']:.1f} ms (API {api:.1f}, render {render:.1f}{pg}, load {cpu['load generator']:.1f})"
    rows.append(["first download: CPU per download, all processes", *(cell(b, download_cpu) for b in backends),
                 "p50 ≈ 16 × this ÷ cores"])
    sizes = sorted({s for b in backends if isinstance(results.get(b), dict) and "dequeue" in results[b]
                    for s in results[b]["dequeue"]["sizes"]}, key=int)
    for size in sizes:
        rows.append([f"dequeue, {int(size):,} future queued",
                     *(cell(b, lambda d, s=size: f"{d['dequeue']['sizes'][s]['median_ms']:.2f} ms "
                                                 f"(due {d['dequeue']['sizes'][s]['due_lanes_ms']:.2f} + batch "
                                                 f"{d['dequeue']['sizes'][s]['next_batch_ms']:.2f})") for b in backends),
                     ""])
    rows.append(["dequeue, largest ÷ smallest",
                 *(cell(b, lambda d: f"{d['dequeue']['ratio_largest_to_smallest']:.2f}×"
                                     f"{mark(d['dequeue']['ratio_largest_to_smallest'] <= 1.5)}") for b in backends),
                 "≤ 1.5×"])
    kinds = sorted({k.split("-", 1)[1] for b in backends if isinstance(results.get(b), dict)
                    for k in results[b].get("peak_rss_mb", {})})
    for kind in kinds:
        rows.append([f"peak RSS, {kind}",
                     *(cell(b, lambda d, k=kind: f"{d['peak_rss_mb'][f'{b_name(d)}-{k}']:.0f} MB") for b in backends),
                     ""])
    return rows


def b_name(data: dict) -> str:
    return data["backend"]


def print_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if index == 0:
            lines.append("-+-".join("-" * w for w in widths))
    text_ = "\n".join(lines)
    print(text_)
    return text_


# --- main --------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts; under two minutes on 2 cores")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="one database only")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help=f"comma-separated subset of {','.join(PHASES)} (default: all)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="record py-spy raw profiles of the servers into this directory (needs py-spy)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    harness = Harness(sizes, args.quick, args.profile)
    harness.phases = set(args.phases.split(","))
    results: dict = {"machine": machine([Path(sys.argv[0]).name, *sys.argv[1:]]), "mode": "quick" if args.quick else "full"}
    pg_url = None

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    started = time.monotonic()
    if "documents" in harness.phases:
        import documents as document_bench  # benchmarks/documents.py: renders per CPU second, no server

        print("== renders ...", file=sys.stderr, flush=True)
        results["renders"] = document_bench.measure(sizes["render_seconds"])
    if "ops" in harness.phases:  # what metrics cost a request and a scrape, in process (benchmarks/ops.py)
        print("== ops ...", file=sys.stderr, flush=True)
        results["ops"] = ops_phase.run(args.quick)
    try:
        harness.start_receiver()
        plan = [b for b in ("sqlite", "postgresql") if args.only in (None, b)]
        for name in plan:
            phase_start = time.monotonic()
            if name == "sqlite":
                backend = Backend("sqlite", f"sqlite:///{harness.workdir / 'bench.db'}", 1)
            else:
                pg_url, why = pg_create(stamp.lower())
                if pg_url is None:
                    results["postgresql"] = {"skipped": f"PostgreSQL not reachable at {PG_ADMIN_URL}: {why}"}
                    print(results["postgresql"]["skipped"], file=sys.stderr)
                    continue
                backend = Backend("postgresql", pg_url, 2)
            print(f"== {name} ...", file=sys.stderr, flush=True)
            run = None
            try:
                run = BackendRun(harness, backend)
                results[name] = run.run()
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                import traceback

                traceback.print_exc()
                results[name] = {**(run.results if run else {}), "error": f"{type(exc).__name__}: {exc}"[:300]}
            finally:
                for proc in harness.procs:
                    if proc.label.startswith(name) and proc.alive():
                        harness.stop(proc)
                if run is not None:
                    run.engine.dispose()
            results[name]["backend"] = name
            results[name]["seconds"] = r(time.monotonic() - phase_start, 1)
            results[name]["peak_rss_mb"] = {k: round(v / 1024, 1) for k, v in harness.peaks.items()
                                            if k.startswith(name)}
    finally:
        harness.stop_all()
        if pg_url:
            try:
                pg_drop(pg_url)
            except Exception as exc:
                print(f"could not drop {pg_url}: {exc}", file=sys.stderr)
        shutil.rmtree(harness.workdir, ignore_errors=True)
    results["total_seconds"] = r(time.monotonic() - started, 1)
    rows = build_table(results, args.quick)
    results["table"] = print_table(rows).splitlines()
    for name in ("sqlite", "postgresql"):
        data = results.get(name)
        if isinstance(data, dict) and (data.get("error") or data.get("skipped")):
            print(f"{name}: {data.get('error') or data.get('skipped')}")
    print(f"\n{results['mode']} mode, {results['total_seconds']} s; {results['machine']['cores']} cores, "
          f"{results['machine']['ram_gb']} GB, Python {results['machine']['python']}")
    if args.quick:
        print("quick mode: emission rates are mostly a lane's start-up and are not judged; run the full mode for them")
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / f"{stamp}{'-quick' if args.quick else ''}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
