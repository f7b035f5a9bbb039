"""The console as a Starlette app, mounted by encola/api/app.py at ``/console``.

``Console`` holds what pages need (store, settings, clock, the API's services), the Jinja2
templates and the routes. Every route is added through ``Console.route``, which requires a logged-in
operator (a GET without one is sent to the login page, anything else gets 401) and refuses an unsafe
method without the session's CSRF token (403). Pages come from modules that each expose
``routes(console) -> None`` and may expose ``NAV``, a list of (label, path) for the menu; the
modules listed in ``PAGE_MODULES`` that exist are loaded, so a new page module needs no edit here.
"""

from __future__ import annotations

import importlib
import logging
from datetime import datetime
from pathlib import Path
from typing import Awaitable, Callable
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from encola.clock import to_argentina
from encola.console import sessions
from encola.console.sessions import UNSAFE_METHODS, csrf_field, current_operator

log = logging.getLogger("encola.console")
PREFIX = "/console"
HERE = Path(__file__).resolve().parent
# Page modules, in menu order; a module that does not exist (yet) is skipped.
PAGE_MODULES = ("encola.console.pages", "encola.console.actions", "encola.console.afip_status", "encola.console.audit")
# No inline script or style anywhere: the console's own files only.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

Endpoint = Callable[[Request], Awaitable[Response]]


class Console:
    def __init__(self, services):
        self.services = services
        self.store = services.store
        self.settings = services.settings
        self.clock = services.clock
        self.throttle = sessions.LoginThrottle(self.settings.rate_limit_storage)
        self.nav: list[tuple[str, str]] = []
        self._routes: list = []
        self.env = Environment(
            loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]),
            trim_blocks=True, lstrip_blocks=True,
        )
        self.env.globals.update(csrf_field=csrf_field, prefix=PREFIX, nav=self.nav, simulated=self.settings.simulated)
        self.env.filters.update(hora=_hora, fecha=_fecha, q=lambda value: quote(str(value), safe=""))
        for name in PAGE_MODULES:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as missing:
                if missing.name != name:
                    raise
                continue
            self.nav.extend(getattr(module, "NAV", []))
            module.routes(self)

    # --- for page modules -------------------------------------------------------------------

    def route(self, path: str, endpoint: Endpoint, *, methods: tuple[str, ...] = ("GET",), public: bool = False) -> None:
        """Add ``PREFIX + path``: behind login and CSRF unless ``public`` (the login page only)."""
        async def guarded(request: Request) -> Response:
            try:
                response = None if public else await self._admit(request)
                if response is None:
                    response = await endpoint(request)
            except HTTPException as exc:
                response = await self._http_error(request, exc)
            except Exception as exc:  # answered here: re-raised, the server would log it twice
                response = await self._crash(request, exc)
            response.headers.update(SECURITY_HEADERS)
            return response

        self._routes.append(Route(path, guarded, methods=list(methods), name=endpoint.__name__))

    def render(self, request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
        """A template with ``request`` and ``operator`` in its context."""
        page = self.env.get_template(template).render(
            request=request, operator=getattr(request.state, "operator", None), **context
        )
        return HTMLResponse(page, status_code=status_code)

    async def pdv_ids(self, request: Request) -> list[int]:
        """The points of sale the operator sees (looked up once per request)."""
        return [pdv["id"] for pdv in await self.pdvs(request)]

    async def pdvs(self, request: Request) -> list[dict]:
        operator = current_operator(request)
        if operator._pdvs is None:
            operator._pdvs = await run_in_threadpool(self.store.pdvs_seen, operator.workspace_ids)
        return operator._pdvs

    def not_found(self, request: Request) -> HTMLResponse:
        return self.render(request, "error.html", 404, titulo="No encontrado",
                           mensaje="No existe o no pertenece a sus espacios de trabajo.")

    # --- the app -------------------------------------------------------------------------

    def app(self) -> Starlette:
        routes = [*self._routes, Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")]
        return Starlette(routes=routes, exception_handlers={HTTPException: self._http_error})

    async def _admit(self, request: Request) -> Response | None:
        token = request.cookies.get(sessions.COOKIE)
        session = await run_in_threadpool(self.store.session, sessions.token_hash(token)) if token else None
        if session is None:
            if request.method in UNSAFE_METHODS:
                return self.render(request, "error.html", 401, titulo="Sesión vencida",
                                   mensaje="Inicie sesión de nuevo.")
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{PREFIX}/login?next={quote(target, safe='')}", status_code=303)
        request.state.operator = sessions.operator_of(session)
        if request.method in UNSAFE_METHODS and not sessions.csrf_valid(session.csrf_token, await sessions.presented_csrf(request)):
            log.warning("console request refused: missing or wrong CSRF token", extra={"action": "console_csrf_refused"})
            return self.render(request, "error.html", 403, titulo="Solicitud rechazada",
                               mensaje="Falta el token de seguridad del formulario (CSRF). Recargue la página e intente de nuevo.")
        return None

    async def _http_error(self, request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return self.render(request, "error.html", 404, titulo="No encontrado", mensaje="Esa página no existe.")
        if exc.status_code == 405:
            return self.render(request, "error.html", 405, titulo="Método no permitido", mensaje="")
        return self.render(request, "error.html", exc.status_code, titulo="Error", mensaje=str(exc.detail))

    async def _crash(self, request: Request, exc: Exception) -> Response:
        log.error("console error on %s", request.url.path, exc_info=exc, extra={"action": "console_error"})
        return self.render(request, "error.html", 503, titulo="No disponible",
                           mensaje="No pudimos completar la operación. Intente de nuevo en unos segundos.")


def _hora(value: datetime | None) -> str:
    """A UTC timestamp as Argentina's local time."""
    return to_argentina(value).strftime("%d/%m/%Y %H:%M:%S") if value else "—"


def _fecha(value) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"
