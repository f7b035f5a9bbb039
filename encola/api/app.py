"""The HTTP app: TusFacturas-compatible endpoints under ``/app/api/v2/``.

Every endpoint reads the raw body itself (no framework validation, so no framework 422s) and
answers with HTTP 200 and a TF envelope. Intake (nuevo_encola, lotes_encola), the hot path, runs
on the event loop and awaits the group commit; the other endpoints do their database work in a
worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Awaitable, Callable

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from encola.api import consultas, operator, queue_ops
from encola.api.admin import administrar
from encola.api.auth import authenticate, authenticate_on_loop
from encola.api.body import BodyError, read_json_object
from encola.api.envelope import error_envelope, json_response
from encola.api.instant import InstantEmission
from encola.api.intake import Intake
from encola.api.limits import AbuseLimits
from encola.api.servicios import Servicios
from encola.clock import Clock
from encola.console.app import Console
from encola.documents.http import Documents
from encola.documents.links import PATH as DOCUMENTS_PATH
from encola.domain.errors import Error, err
from encola.engine.afip_health import HealthRecorder
from encola.ops import health as ops_health
from encola.ops.http import RequestMetrics, ops_routes
from encola.settings import Settings
from encola.store.store import NewEvent, Pdv, Store
from encola.webhooks import redelivery
from encola.webhooks.dispatcher import Dispatcher

log = logging.getLogger("encola.api")
PREFIX = "/app/api/v2"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"  # `encola serve` passes the address it listens on
BAD_CREDENTIALS = "TFC-1005"  # what counts as a failed authentication for the address's throttle
_OPENAPI_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}

Work = Callable[[Pdv, dict], dict]
AsyncWork = Callable[[Pdv, dict], Awaitable[dict]]


class Services:
    """What the endpoints need, built once per process."""

    def __init__(self, store: Store, settings: Settings, clock: Clock):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.intake = Intake(store, clock)
        self.dispatcher = Dispatcher(store, settings, clock)
        self.limits = AbuseLimits(settings)
        self.engine = None  # set when this process also emits
        self.sim_app = None  # the embedded AFIP simulator, when there is one
        self.documents = Documents(store, settings.public_url or DEFAULT_PUBLIC_URL, settings.document_cache_bytes,
                                   settings.render_processes)
        # Instant emission and the AFIP queries (facturacion/nuevo, numeracion, estado_servicios).
        # ``afip``, the AFIP access numeración and the FEDummy probe use, is set by the runtime.
        self.afip = None
        self.health = HealthRecorder(store)
        self.instant = InstantEmission(
            store, clock, self.intake, deadline=settings.instant_deadline, wake=self.wake_engine,
            links=self.documents.links_of,
        )
        self.servicios = Servicios(store, clock, None, self.health)
        self.background: list[Callable[[asyncio.Event], Awaitable[None]]] = []

    def wake_engine(self) -> None:
        if self.engine is not None:
            self.engine.wake()

    def on_results(self) -> None:
        """The engine wrote results: hooks to send, instant requests to answer."""
        self.dispatcher.wake()
        self.instant.wake()

    def use_afip(self, access) -> None:
        """The AFIP access of this process: its calls feed estado_servicios; the queries use it."""
        access.observe = self.health.observe
        self.afip = access
        self.servicios.afip = access

    def wake(self) -> None:
        """Something was written: let the engine and the dispatcher look now."""
        self.dispatcher.wake()
        if self.engine is not None:
            self.engine.wake()


def create_app(services: Services, *, run_dispatcher: bool = True) -> "IntakeFirst":
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        stop = asyncio.Event()
        ops_health.reset()
        runners = list(services.background)
        if run_dispatcher:
            runners.append(services.dispatcher.run)
        tasks = [asyncio.create_task(run(stop)) for run in runners]
        services.documents.open()
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            services.documents.close()

    app = FastAPI(
        title="encola",
        version="0.1.0",
        summary="Self-hosted, TusFacturas-compatible queued electronic invoicing for AFIP/ARCA.",
        lifespan=lifespan,
        # encola sets up no OpenTelemetry; spare every request FastAPI's check for a provider.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = services
    _install_error_handlers(app)
    settings, limits = services.settings, services.limits
    if services.sim_app is not None and settings.afip_sim_controls:
        # The embedded simulator's controls (e.g. GET /afip-sim/_sim/comprobantes), for operators
        # only. The engine does not need the mount: it reaches the simulator in process.
        app.mount("/afip-sim", operator.OperatorOnly(services.sim_app, settings.admin_token, limits))

    async def admitted_body(request: Request) -> dict | Response:
        """The body, once the address's and the apikey's limits let the request in."""
        if limits.before_body and (refused := await limits.admit_address(request.scope)) is not None:
            return refused
        try:
            body = await read_json_object(request, settings.max_body_bytes, settings.body_read_timeout)
        except BodyError as bad:
            return json_response(error_envelope([bad.error], ""))
        refused = await limits.admit_credential(_raw_apikey(body))
        return body if refused is None else refused

    async def endpoint(request: Request, work: Work, *, wakes: bool = True) -> Response:
        body = await admitted_body(request)
        if isinstance(body, Response):
            return body
        answer, changed, failed = await run_in_threadpool(_authenticated, services.store, work, body)
        if failed:
            await limits.failed_authentication(request.scope)
        if changed and wakes:
            services.wake()
        return json_response(answer)

    async def intake_endpoint(request: Request, work: AsyncWork) -> Response:
        """Intake stays on the event loop (see Intake.submit): the hot path, without thread hops."""
        body = await admitted_body(request)
        if isinstance(body, Response):
            return body
        pdv = await authenticate_on_loop(services.store, body)
        if isinstance(pdv, Error):
            if pdv.code == BAD_CREDENTIALS:
                await limits.failed_authentication(request.scope)
            return json_response(error_envelope([pdv], _raw_reference(body)))
        answer = await work(pdv, body)
        services.wake()
        return json_response(answer)

    intake_routes: dict[str, Callable[[Request], Awaitable[Response]]] = {}

    def route(path: str, work: Work | AsyncWork, summary: str, *, wakes: bool = True, on_loop: bool = False) -> None:
        async def handler(request: Request) -> Response:
            # Caught here, not by FastAPI's handler for Exception: Starlette's ServerErrorMiddleware
            # re-raises after answering, so the server would log a second traceback and drop the
            # keep-alive connection under the client's next request.
            try:
                if on_loop:
                    return await intake_endpoint(request, work)
                return await endpoint(request, work, wakes=wakes)
            except Exception as exc:
                return _unexpected_error(request, exc)

        if on_loop:
            intake_routes[PREFIX + path] = handler

        handler.__name__ = path.replace("/", "_")
        app.add_api_route(
            PREFIX + path, handler, methods=["POST"], summary=summary, openapi_extra=_OPENAPI_BODY
        )

    store, clock = services.store, services.clock
    route("/facturacion/nuevo_encola", services.intake.submit, "Encolar un comprobante", on_loop=True)
    route(
        "/facturacion/lotes_encola",
        services.intake.submit_lote,
        "Encolar un lote de hasta 100 comprobantes",
        on_loop=True,
    )
    route("/facturacion/nuevo", services.instant.submit, "Emitir un comprobante al instante (CAE en la respuesta)", on_loop=True)
    route("/facturacion/numeracion", services.servicios.numeracion, "Ultimo numero autorizado de un tipo de comprobante", on_loop=True)
    route("/estado_servicios/alertas", services.servicios.alertas, "Estado de los servicios de AFIP", on_loop=True)
    route("/facturacion/eliminar_encolado", lambda p, b: queue_ops.eliminar(store, p, b), "Eliminar un comprobante encolado")
    route(
        "/facturacion/cambiar_fecha_encolado",
        lambda p, b: queue_ops.cambiar_fecha(store, clock, p, b),
        "Cambiar la fecha de un comprobante encolado",
    )
    route(
        "/facturacion/reenviar_encolado",
        lambda p, b: queue_ops.reenviar(store, clock, p, b),
        "Reenviar a procesar un comprobante con error",
    )
    route(
        "/facturacion/consulta_avanzada",
        lambda p, b: consultas.consulta_avanzada(store, p, b, links=services.documents.links_of),
        "Consulta avanzada (F, TN, EXT_REF, EXT_REF_LIST)",
        wakes=False,
    )
    route(
        "/facturacion/consulta",
        lambda p, b: consultas.consulta(store, p, b, links=services.documents.links_of),
        "Consulta simple",
        wakes=False,
    )
    route(
        "/puntos_venta/administrar",
        lambda p, b: administrar(store, services.settings, p, b),
        "Alta o modificacion de un punto de venta",
    )
    route("/webhooks/test", lambda p, b: send_test_hook(store, p), "Enviar un hook de prueba (evento test)")
    route("/webhooks/reenviar", lambda p, b: redelivery.reenviar(store, p, b), "Reenviar los hooks fallidos desde una fecha")

    services.documents.install(app)  # GET /comprobantes/…: the PDFs and the buyer's page, no credentials
    # The operators' console (encola/console, docs/console.md) replaced the token dashboard at "/".
    app.mount("/console", Console(services).app())

    @app.get("/", include_in_schema=False)
    @app.get("/console", include_in_schema=False)
    async def to_console() -> Response:
        return RedirectResponse("/console/", status_code=303)

    @app.get("/health", include_in_schema=False)
    async def health() -> Response:
        return json_response({"status": "ok"})

    # /healthz, /readyz, /metrics (encola/ops, docs/operations.md); every request counted.
    loops = (["dispatcher"] if run_dispatcher else []) + (["engine"] if services.engine is not None else [])
    app.router.routes.extend(ops_routes(store, loops, settings.metrics_token))
    return RequestMetrics(IntakeFirst(app, intake_routes, services.documents))


DOCUMENTS = DOCUMENTS_PATH + "/"  # /comprobantes/{id}/{token}/…


class IntakeFirst:
    """The ASGI app: intake POSTs and document downloads go straight to their handlers, everything
    else to FastAPI.

    FastAPI's routing and middleware cost about 60 µs a request (measured in-process), a tenth
    of what the rest of an intake costs; the intake routes stay registered in FastAPI too, for
    OpenAPI and for any other method on their paths. A document download paid more through
    FastAPI (its middleware, routing past every route, dependency solving): about a third of the
    API process's CPU per first download (``benchmarks/run.py --profile``).
    """

    def __init__(self, app: FastAPI, routes: dict[str, Callable[[Request], Awaitable[Response]]], documents=None):
        self.app = app
        self.routes = routes
        self.documents = documents
        self.state = app.state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            method, path = scope["method"], scope.get("path", "")
            if method == "POST":
                handler = self.routes.get(path)
                if handler is not None:
                    await (await handler(Request(scope, receive)))(scope, receive, send)
                    return
            elif self.documents is not None and method in ("GET", "HEAD") and path.startswith(DOCUMENTS):
                await (await self.documents.serve(path[len(DOCUMENTS):]))(scope, receive, send)
                return
        await self._fastapi(scope, receive, send)

    async def _fastapi(self, scope, receive, send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception:
            # ServerErrorMiddleware re-raises what it has already answered (503, through
            # _unexpected_error, which logged it); raised further, the server would log it
            # again and close the connection. Anything else (lifespan, websockets) goes on.
            if scope["type"] != "http":
                raise


def _authenticated(store: Store, work: Work, body: dict) -> tuple[dict, bool, bool]:
    """Resolve the credentials and do the work, in one trip to the worker thread.

    Answers (envelope, whether anything changed, whether the credentials were wrong)."""
    pdv = authenticate(store, body)
    if isinstance(pdv, Error):
        return error_envelope([pdv], _raw_reference(body)), False, pdv.code == BAD_CREDENTIALS
    return work(pdv, body), True, False


def send_test_hook(store: Store, pdv: Pdv) -> dict:
    """The ``test`` event, to check a point of sale's webhook URL."""
    if not pdv.webhook_url:
        return error_envelope([err("TFC-1012")], None)
    hook_id = store.record_event(pdv.id, NewEvent("test", "", recurso="test"))
    return {"error": "N", "errores": [], "hook_id": hook_id}


def _raw_apikey(body: dict) -> str:
    apikey = body.get("apikey")
    return str(apikey).strip() if isinstance(apikey, (str, int)) and not isinstance(apikey, bool) else ""


def _raw_reference(body: dict) -> str:
    comprobante = body.get("comprobante")
    if isinstance(comprobante, dict) and isinstance(comprobante.get("external_reference"), (str, int)):
        return str(comprobante["external_reference"])
    return ""


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            return json_response(error_envelope([err("TFC-1011", ruta=request.url.path)], ""), 405)
        if exc.status_code == 404:
            return json_response(error_envelope([err("TFC-1010", ruta=request.url.path)], ""), 404)
        return json_response(error_envelope([err("TFC-1014")], ""), exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        return _unexpected_error(request, exc)


def _unexpected_error(request: Request, exc: Exception) -> Response:
    # Not the client's mistake: our bug or an unavailable database. Say so in the envelope.
    log.error("unexpected error on %s", request.url.path, exc_info=exc, extra={"action": "http_error"})
    return json_response(error_envelope([err("TFC-1014")], ""), 503)
