"""The operations endpoints (``/healthz``, ``/readyz``, ``/metrics``) and the request metrics.

Both ``encola serve`` (inside the API app) and ``encola worker --ops-port`` (alone) serve them.
``/metrics`` is open unless ``ENCOLA_METRICS_TOKEN`` is set; then it wants ``Authorization:
Bearer <token>``, compared in constant time.
"""

from __future__ import annotations

import hmac
import time

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from encola.ops import health, metrics

INTAKE_ENDPOINTS = frozenset({"facturacion/nuevo_encola", "facturacion/lotes_encola", "facturacion/nuevo"})
API_PREFIX = "/app/api/v2/"
# First path segments outside the TF API that get a label of their own; the rest count as "other".
PAGES = frozenset({"", "healthz", "readyz", "health", "metrics", "comprobantes", "console", "afip-sim", "docs",
                   "openapi.json", "static"})
ERROR_ENVELOPE = b'"error":"S"'


def ops_routes(store, loops: list[str], metrics_token: str | None) -> list[Route]:
    """The three endpoints; ``loops`` are the loops whose ticking readiness requires."""
    exposition = metrics.Exposition(store)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})

    async def readyz(_request: Request) -> Response:
        answer = await health.readiness(store.engine, loops)
        return JSONResponse(answer.as_json(), status_code=200 if answer.ready else 503, headers={"Cache-Control": "no-store"})

    async def scrape(request: Request) -> Response:
        if metrics_token is not None and not _bearer_matches(request, metrics_token):
            return JSONResponse({"error": "S", "errores": ["Falta el token de métricas o no es válido"]}, status_code=401,
                                headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        try:
            body = await run_in_threadpool(exposition.render)
        except Exception:  # the store's gauges need the database; say so rather than 500
            return JSONResponse({"error": "S", "errores": ["Base de datos no disponible"]}, status_code=503)
        return Response(body, media_type=metrics.CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", scrape, methods=["GET"]),
    ]


def ops_app(store, loops: list[str], metrics_token: str | None) -> Starlette:
    """The endpoints alone, for a worker (which has no API)."""
    return Starlette(routes=ops_routes(store, loops, metrics_token))


def _bearer_matches(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def endpoint_label(path: str) -> str:
    """A bounded label for a request path: the TF route, or a page's first segment, or "other"."""
    if path.startswith(API_PREFIX):
        route = path[len(API_PREFIX):]
        return route if route in API_ROUTES else "other"
    first = path.lstrip("/").split("/", 1)[0]
    if first not in PAGES:
        return "other"
    return first or "/"


API_ROUTES = frozenset({
    *INTAKE_ENDPOINTS, "facturacion/numeracion", "estado_servicios/alertas", "facturacion/eliminar_encolado",
    "facturacion/cambiar_fecha_encolado", "facturacion/reenviar_encolado", "facturacion/consulta_avanzada",
    "facturacion/consulta", "puntos_venta/administrar", "webhooks/test", "webhooks/reenviar",
})


class RequestMetrics:
    """ASGI wrapper counting every HTTP request by endpoint and outcome, and timing intake.

    The outcome of a TF answer is in its body (HTTP 200 either way): a first chunk holding
    ``"error":"S"`` is an error envelope. Costs a few microseconds a request (see benchmarks)."""

    def __init__(self, app):
        self.app = app
        self.state = getattr(app, "state", None)

    def __getattr__(self, name):  # the wrapped app's attributes (routes, app) stay reachable
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        seen = {"status": 500, "error": False, "first": True}

        async def observed_send(message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            elif message["type"] == "http.response.body" and seen["first"]:
                seen["first"] = False
                seen["error"] = ERROR_ENVELOPE in message.get("body", b"")[:256]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            path = scope.get("path", "")
            endpoint = _KNOWN_PATHS.get(path) or endpoint_label(path)
            status = seen["status"]
            if status >= 500:
                outcome = "http_5xx"
            elif status >= 400:
                outcome = "http_4xx"
            else:
                outcome = "error" if seen["error"] else "ok"
            counter = _counters.get((endpoint, outcome))
            if counter is None:  # labels() takes a lock and builds a key: once per series, not per request
                counter = _counters[(endpoint, outcome)] = metrics.HTTP_REQUESTS.labels(endpoint, outcome)
            counter.inc()
            if endpoint in INTAKE_ENDPOINTS:
                histogram = _histograms.get(endpoint) or _histograms.setdefault(endpoint, metrics.INTAKE_SECONDS.labels(endpoint))
                histogram.observe(time.perf_counter() - started)


_KNOWN_PATHS = {API_PREFIX + route: route for route in API_ROUTES}
_counters: dict[tuple[str, str], object] = {}  # bounded: labels are bounded
_histograms: dict[str, object] = {}
