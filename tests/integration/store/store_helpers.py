"""Points of sale, invoices and small HTTP servers for the store's integration tests."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from encola.api.intake import Intake
from encola.api.provisioning import PdvSpec, provision
from encola.store.store import Pdv, Store
from support import factura_b

CUIT = "30712345671"
PUNTO_VENTA = 10
TOKEN = "token-de-prueba-123"  # support.WebhookReceiver's default


@dataclass
class Seller:
    pdv: Pdv
    keys: dict
    intake: Intake

    def submit(self, reference: str, **overrides) -> dict:
        clock = self.intake.clock
        request = factura_b(self.keys, reference=reference, fecha=clock.today(), punto_venta=self.pdv.punto_venta, **overrides)
        return asyncio.run(self.intake.submit(self.pdv, request))


def make_pdv(store: Store, webhook_url: str | None = "http://127.0.0.1:9/hook", *, punto_venta: int = PUNTO_VENTA, token: str = TOKEN) -> Seller:
    """Provision a point of sale through the public API and return it with its keys."""
    made = provision(
        store,
        PdvSpec(cuit=CUIT, punto_venta=punto_venta, condicion_iva="RI", razon_social="Empresa de Prueba SA",
                webhook_url=webhook_url, webhook_token=token),
    )
    pdv = store.pdv_by_apikey(made.credentials.apikey)
    return Seller(pdv, made.credentials.as_json(), Intake(store, store.clock))


@dataclass
class TinyServer:
    """A real HTTP server on 127.0.0.1 whose answer is a function of the request count.

    ``answer(n)`` returns (status, headers, delay in seconds) for the n-th request (from 1);
    every answer carries ``answer_body``.
    """

    answer: Callable[[int], tuple[int, dict, float]]
    answer_body: bytes = b""
    paths: list[str] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def __post_init__(self):
        server = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    server.paths.append(self.path)
                    server.bodies.append(body)
                    count = len(server.paths)
                status, headers, delay = server.answer(count)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in {"Content-Length": str(len(server.answer_body)), **headers}.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(server.answer_body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as it should

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
