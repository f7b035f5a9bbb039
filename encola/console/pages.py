"""The console's own pages: login and logout, Cola (the queue), Comprobantes (search), Comprobante."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from encola.console import passwords, sessions
from encola.console.filters import STATE_LABELS, parse_search
from encola.console.queue_cache import QueueCache
from encola.domain.tables import TIPOS_BY_CBTE

NAV = [("Cola", "/console/"), ("Comprobantes", "/console/comprobantes")]


def routes(console) -> None:
    prefix = "/console"
    queue = QueueCache(console.store.queue_summary)

    async def login_form(request: Request) -> Response:
        token = request.cookies.get(sessions.LOGIN_CSRF_COOKIE) or sessions.new_token()
        request.state.login_csrf = token
        response = console.render(request, "login.html", siguiente=_safe_next(request.query_params.get("next")), error=None)
        sessions.set_cookie(response, request, console.settings.public_url, sessions.LOGIN_CSRF_COOKIE, token, 3600)
        return response

    async def login(request: Request) -> Response:
        form = await request.form()
        email = str(form.get("email") or "").strip().lower()[:255]
        password = str(form.get("password") or "")[:1024]
        following = _safe_next(str(form.get("next") or ""))
        expected = request.cookies.get(sessions.LOGIN_CSRF_COOKIE) or ""
        request.state.login_csrf = expected or sessions.new_token()
        if not sessions.csrf_valid(expected, form.get(sessions.CSRF_FIELD) if isinstance(form.get(sessions.CSRF_FIELD), str) else None):
            response = console.render(request, "login.html", 403, siguiente=following,
                                      error="El formulario venció. Intente de nuevo.")
            sessions.set_cookie(response, request, console.settings.public_url, sessions.LOGIN_CSRF_COOKIE, request.state.login_csrf, 3600)
            return response
        wait = await run_in_threadpool(console.throttle.locked, request, email)
        if wait is not None:
            response = console.render(request, "login.html", 429, siguiente=following,
                                      error=f"Demasiados intentos fallidos. Espere {wait} segundos.")
            response.headers["Retry-After"] = str(wait)
            return response
        operator = await run_in_threadpool(console.store.operator_by_email, email) if email else None
        ok = await run_in_threadpool(passwords.verify, operator.password_hash if operator else None, password)
        if not ok or operator is None or not operator.activo:
            await run_in_threadpool(console.throttle.failed, request, email)
            return console.render(request, "login.html", 401, siguiente=following, error="E-mail o contraseña incorrectos.")
        token, csrf = sessions.new_token(), sessions.new_token()
        expires = console.clock.now() + sessions.SESSION_LIFETIME
        await run_in_threadpool(console.store.start_session, sessions.token_hash(token), operator.id, csrf, expires)
        response = RedirectResponse(following or prefix + "/", status_code=303)
        sessions.set_cookie(response, request, console.settings.public_url, sessions.COOKIE, token,
                            int(sessions.SESSION_LIFETIME.total_seconds()))
        sessions.clear_cookie(response, request, console.settings.public_url, sessions.LOGIN_CSRF_COOKIE)
        return response

    async def logout(request: Request) -> Response:
        token = request.cookies.get(sessions.COOKIE, "")
        await run_in_threadpool(console.store.end_session, sessions.token_hash(token))
        response = RedirectResponse(prefix + "/login", status_code=303)
        sessions.clear_cookie(response, request, console.settings.public_url, sessions.COOKIE)
        return response

    async def cola(request: Request) -> Response:
        return console.render(request, "cola.html", **await _queue(request))

    async def cola_tabla(request: Request) -> Response:
        return console.render(request, "cola_tabla.html", **await _queue(request))

    async def _queue(request: Request) -> dict:
        pdvs = await console.pdvs(request)
        today = console.clock.today()
        lanes = await run_in_threadpool(queue.summary, [pdv["id"] for pdv in pdvs], today)
        by_id = {pdv["id"]: pdv for pdv in pdvs}
        return {"lanes": lanes, "pdvs": by_id, "tipos": TIPOS_BY_CBTE, "hoy": today,
                "ahora": console.clock.now(), "actualizado": datetime.now()}

    async def comprobantes(request: Request) -> Response:
        parsed = parse_search(request.query_params)
        pdvs = await console.pdvs(request)
        if parsed.filters.pdv_id is not None and parsed.filters.pdv_id not in {pdv["id"] for pdv in pdvs}:
            parsed.problems.append("Punto de venta desconocido: se muestran todos.")
            parsed = parsed.__class__(parsed.filters.__class__(**{**parsed.filters.__dict__, "pdv_id": None}),
                                      parsed.before, parsed.limit, parsed.problems)
        page = await run_in_threadpool(
            console.store.search_invoices, [pdv["id"] for pdv in pdvs], parsed.filters,
            before=parsed.before, limit=parsed.limit,
        )
        query = {key: value for key, value in request.query_params.items() if key != "antes" and value}
        next_url = f"{prefix}/comprobantes?{urlencode({**query, 'antes': page.next_before})}" if page.next_before else None
        first_url = f"{prefix}/comprobantes?{urlencode(query)}" if parsed.before else None
        template = "comprobantes_filas.html" if request.query_params.get("fragmento") == "1" else "comprobantes.html"
        return console.render(
            request, template, page=page, pdvs={pdv["id"]: pdv for pdv in pdvs}, filtros=parsed.filters,
            problemas=parsed.problems, estados=STATE_LABELS, tipos=TIPOS_BY_CBTE, por_pagina=parsed.limit,
            siguiente=next_url, primera=first_url, params=request.query_params,
        )

    async def comprobante(request: Request) -> Response:
        raw_id = request.path_params["invoice_id"]
        if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 12):
            return console.not_found(request)
        pdv_ids = await console.pdv_ids(request)
        row = await run_in_threadpool(console.store.console_invoice, pdv_ids, int(raw_id))
        if row is None:
            return console.not_found(request)
        deliveries = await run_in_threadpool(console.store.deliveries_of_invoice, row.id)
        attempts_of = getattr(console.store, "afip_attempts_for_invoice", None)
        afip_attempts = await run_in_threadpool(attempts_of, row.id) if attempts_of else None
        links = console.services.documents.links_of(row) if row.state == "emitted" else None
        pdv = next(pdv for pdv in await console.pdvs(request) if pdv["id"] == row.pdv_id)
        return console.render(
            request, "comprobante.html", row=row, pdv=pdv, estados=STATE_LABELS, entregas=deliveries,
            intentos=afip_attempts, links=links, solicitud=json.dumps(row.view, ensure_ascii=False, indent=2),
            respuesta=json.dumps(row.response, ensure_ascii=False, indent=2),
        )

    console.route("/login", login_form, public=True)
    console.route("/login", login, methods=("POST",), public=True)
    console.route("/logout", logout, methods=("POST",))
    console.route("/", cola)
    console.route("/cola/tabla", cola_tabla)
    console.route("/comprobantes", comprobantes)
    console.route("/comprobantes/{invoice_id}", comprobante)


def _safe_next(value: str | None) -> str:
    """Only a path inside the console: never an open redirect elsewhere."""
    if value and value.startswith("/console/") and not value.startswith("//") and "\\" not in value and "\n" not in value:
        return value
    return ""
