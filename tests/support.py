"""Real parts for tests: an encola process, a webhook receiver on 127.0.0.1, request builders."""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, time as time_of_day
from http.cookiejar import CookieJar, DefaultCookiePolicy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from encola.clock import Clock

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ENCOLA = [sys.executable, "-m", "encola.cli"]
# One secret key for every encola process of a test run (processes sharing a database must agree).
SECRET_KEY = Fernet.generate_key().decode()
# For a test's FixedClock beside a simulator: 12:00 in Buenos Aires (naive UTC, as the store keeps
# it) on Argentina's today. A simulator keeps the real date and refuses, as AFIP does, an invoice
# dated more than 5 days back: a fixed calendar date stops working a few days after it is written.
NOON_TODAY = datetime.combine(Clock().today(), time_of_day(15, 0))

# One HTTP client for the tests' plain requests. ``httpx.post()`` builds a client per call, and with
# it an SSL context from the CA bundle: 30–60 ms on a slow host, which thousands of requests make
# into minutes of CI. Each request still opens its own connection (no keep-alive), so a test that
# stops a server meets a refused connection, never a stale pooled one; and no cookies are kept, so
# one test's session never rides along on another's request.
HTTP = httpx.Client(
    limits=httpx.Limits(max_keepalive_connections=0),
    cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
)


def open_store_of_processes(database_url: str):
    """The store as the test's encola processes open it (same secret key), for looking inside."""
    from encola.runtime import open_store
    from encola.settings import Settings

    previous = os.environ.get("ENCOLA_SECRET_KEY")
    os.environ["ENCOLA_SECRET_KEY"] = SECRET_KEY
    try:
        return open_store(Settings(database_url=database_url))
    finally:
        if previous is None:
            del os.environ["ENCOLA_SECRET_KEY"]
        else:
            os.environ["ENCOLA_SECRET_KEY"] = previous


def pdf_text(pdf: bytes) -> str:
    """Every page's text of a PDF, as a reader extracts it (pdfium)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wire(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def example(name: str, keys: dict, *, reference: str, fecha: date, punto_venta: int) -> dict:
    """One of the docs' example requests, made sendable today: fecha, numero 0, the reference."""
    body = json.loads((FIXTURES / "tf" / f"{name}.json").read_text())
    body.update(keys)
    body["comprobante"].update(
        fecha=wire(fecha), numero=0, external_reference=reference, punto_venta=str(punto_venta)
    )
    return body


def factura_b(keys: dict, *, reference: str, fecha: date, punto_venta: int, precio: str = "100", **overrides) -> dict:
    """A small FACTURA B to a consumidor final: 100 + 21 % IVA = 121."""
    body = {
        **keys,
        "cliente": {
            "documento_tipo": "DNI",
            "documento_nro": "12345678",
            "razon_social": "Consumidor Final",
            "domicilio": "Av. Siempre Viva 742",
            "provincia": "1",
            "envia_por_mail": "N",
            "condicion_pago": "201",
            "condicion_iva": "CF",
        },
        "comprobante": {
            "fecha": wire(fecha),
            "tipo": "FACTURA B",
            "operacion": "V",
            "punto_venta": punto_venta,
            "numero": 0,
            "moneda": "PES",
            "cotizacion": 1,
            "vencimiento": wire(fecha),
            "rubro": "Ventas",
            "rubro_grupo_contable": "Ventas",
            "external_reference": reference,
            "detalle": [
                {
                    "cantidad": "1",
                    "producto": {
                        "descripcion": "Producto de prueba",
                        "unidad_bulto": "1",
                        "lista_precios": "Lista",
                        "codigo": "P1",
                        "precio_unitario_sin_iva": precio,
                        "alicuota": "21",
                    },
                }
            ],
            "total": str(round(float(precio) * 1.21, 2)),
        },
    }
    body["comprobante"].update(overrides)
    return copy.deepcopy(body)


@dataclass
class Hook:
    headers: dict
    body: dict
    raw: bytes = b""  # the body bytes as received (what a signature covers)


@dataclass
class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 that records every hook it receives."""

    token: str = "token-de-prueba-123"
    fail_first: int = 0  # answer 500 to the first N requests
    hooks: list[Hook] = field(default_factory=list)

    def __post_init__(self):
        receiver = self
        self._lock = threading.Lock()
        self._seen = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                with receiver._lock:
                    receiver._seen += 1
                    failing = receiver._seen <= receiver.fail_first
                    receiver.hooks.append(Hook(dict(self.headers), json.loads(raw), raw))
                status = 500 if failing else (200 if self.headers.get("TF-WebhookToken") == receiver.token else 403)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def for_reference(self, reference: str) -> list[Hook]:
        with self._lock:
            return [h for h in self.hooks if h.body.get("external_reference") == reference]

    def wait_for(self, reference: str, evento: str, timeout: float = 10.0, count: int = 1) -> list[Hook]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [h for h in self.for_reference(reference) if h.body["evento"] == evento]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(
            f"no {evento!r} hook for {reference!r} within {timeout}s; got {[h.body for h in self.for_reference(reference)]}"
        )


RENDER_PROCESSES = {"ENCOLA_RENDER_PROCESSES": "2"}  # the product's default: PDFs in render processes


class EncolaProcess:
    """``encola serve`` (or another command) as a real process on a free port; stopped by ``stop``."""

    def __init__(self, database_url: str, *, extra_env: dict | None = None, args: tuple = ("serve",)):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "ENCOLA_DATABASE_URL": database_url,
            "ENCOLA_SECRET_KEY": SECRET_KEY,
            "ENCOLA_WEBHOOK_ALLOW_PRIVATE": "1",
            "ENCOLA_WEBHOOK_RETRY_SCHEDULE": "1s,1s,1s",
            "ENCOLA_LOG_LEVEL": "WARNING",
            # Each server would spawn its two render processes (~1 s of CPU) at start, hundreds of
            # times over the suite; the documents and mail tests ask for them (RENDER_PROCESSES).
            "ENCOLA_RENDER_PROCESSES": "0",
            **(extra_env or {}),
        }
        self.args = args
        self.process: subprocess.Popen | None = None

    def cli(self, *args: str) -> str:
        done = subprocess.run([*ENCOLA, *args], env=self.env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise AssertionError(f"encola {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def provision(self, cuit: str, punto_venta: int, webhook: str | None, *, condicion: str = "RI", token: str | None = None, conceptos: str = "P") -> dict:
        args = ["pdv", "create", "--cuit", cuit, "--punto-venta", str(punto_venta), "--condicion-iva", condicion,
                "--razon-social", f"Empresa {cuit}", "--conceptos", conceptos]
        if webhook:
            args += ["--webhook", webhook]
        if token:
            args += ["--webhook-token", token]
        return json.loads(self.cli(*args))

    def start(self) -> "EncolaProcess":
        if self.args[0] == "worker":
            return self._start_worker()
        self.process = subprocess.Popen(
            [*ENCOLA, *self.args, "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"encola exited: {self.process.stderr.read().decode()}")
            try:
                if HTTP.get(self.base + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("encola did not start within 30 s")

    def _start_worker(self) -> "EncolaProcess":
        """A worker, returned once its /readyz (on an ops port of its own) says its loops are
        ticking: under load, a worker only slept for was still importing when the first
        invoices (and their instant deadlines) arrived."""
        args = list(self.args)
        if "--ops-port" in args:
            ops_port = int(args[args.index("--ops-port") + 1])
        else:
            ops_port = free_port()
            args += ["--ops-port", str(ops_port)]
        self.process = subprocess.Popen(
            [*ENCOLA, *args], env=self.env, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"encola worker exited: {self.process.stderr.read().decode()}")
            try:
                if HTTP.get(f"http://127.0.0.1:{ops_port}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("encola worker was not ready within 30 s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def post(self, path: str, body, *, raw: bytes | None = None, headers: dict | None = None) -> httpx.Response:
        content = raw if raw is not None else json.dumps(body).encode("utf-8")
        return HTTP.post(
            f"{self.base}/app/api/v2/{path}",
            content=content,
            headers={"Content-Type": "application/json", **(headers or {})},
            timeout=30,
        )


class SimulatorProcess:
    """``encola afip-sim`` as a real process with a durable ledger."""

    def __init__(self, ledger: Path, latency_ms: int = 0):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ledger = ledger
        self.latency_ms = latency_ms
        self.process: subprocess.Popen | None = None

    def start(self) -> "SimulatorProcess":
        self.process = subprocess.Popen(
            [*ENCOLA, "afip-sim", "--host", "127.0.0.1", "--port", str(self.port),
             "--latency-ms", str(self.latency_ms), "--ledger", str(self.ledger)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"afip-sim exited: {self.process.stderr.read().decode()}")
            try:
                HTTP.get(self.base + "/_sim/faults", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("afip-sim did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def faults(self, **values) -> dict:
        return HTTP.post(self.base + "/_sim/faults", json=values, timeout=10).json()

    def comprobantes(self) -> list[dict]:
        return HTTP.get(self.base + "/_sim/comprobantes", timeout=10).json()


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{message} not reached within {timeout}s")
