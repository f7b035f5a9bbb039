"""The console's actions over HTTP, and the Puntos de venta page that holds most of their forms.

Every action is a POST behind login and CSRF (``Console.route``); its rules and audit entry are in
``encola/console/operations.py``. The answer is a page saying what happened (200), why not (400)
or that the target is not the operator's (404, as for an id that does not exist).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from encola.console.operations import Actions, NotFound, Refused
from encola.console.sessions import current_operator
from encola.domain.tables import TIPOS_BY_CBTE
from encola.store.audit import Actor

NAV = [("Puntos de venta", "/console/puntos-de-venta")]
_FORM_LIMITS = dict(max_files=2, max_fields=20, max_part_size=256 * 1024)


def actor_of(request: Request) -> Actor:
    operator = current_operator(request)
    return Actor(operator.id, operator.email, operator.workspace_ids)


def _number(text: str) -> int | None:
    """A path id: ASCII digits only, a sane length."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def routes(console) -> None:
    actions = Actions(console.store, console.clock, allow_private_webhooks=console.settings.webhook_allow_private)
    prefix = "/console"

    async def perform(request: Request, work, back: str) -> Response:
        """Run an action in a thread and answer with its outcome page."""
        try:
            done = await run_in_threadpool(work, actor_of(request))
        except NotFound:
            return console.not_found(request)
        except Refused as refused:
            return console.render(request, "actions_resultado.html", 400, titulo="No se pudo", mensajes=refused.messages,
                                  volver=back, credenciales=None, fallo=True)
        return console.render(request, "actions_resultado.html", titulo="Hecho", mensajes=[done.message], volver=back,
                              credenciales=done.shown_once, fallo=False)

    async def form_of(request: Request) -> dict:
        form = await request.form(**_FORM_LIMITS)
        return {key: value for key, value in form.items()}

    def on_invoice(method):
        async def endpoint(request: Request) -> Response:
            invoice_id = _number(request.path_params["invoice_id"])
            if invoice_id is None:
                return console.not_found(request)
            form = await form_of(request)
            back = f"{prefix}/comprobantes/{invoice_id}"
            return await perform(request, lambda actor: method(actor, invoice_id, form), back)

        endpoint.__name__ = method.__name__
        return endpoint

    def on_pdv(method):
        async def endpoint(request: Request) -> Response:
            pdv_id = _number(request.path_params["pdv_id"])
            if pdv_id is None:
                return console.not_found(request)
            form = await form_of(request)
            return await perform(request, lambda actor: method(actor, pdv_id, form), f"{prefix}/puntos-de-venta")

        endpoint.__name__ = method.__name__
        return endpoint

    def reenviar(actor, invoice_id, form):
        return actions.reenviar(actor, invoice_id)

    def cambiar_fecha(actor, invoice_id, form):
        return actions.cambiar_fecha(actor, invoice_id, _text(form.get("fecha")), _text(form.get("vencimiento")))

    def eliminar(actor, invoice_id, form):
        return actions.eliminar(actor, invoice_id)

    def cambiar_webhook(actor, pdv_id, form):
        return actions.change_webhook(actor, pdv_id, _text(form.get("url")), _text(form.get("token")))

    def hook_de_prueba(actor, pdv_id, form):
        return actions.test_hook(actor, pdv_id)

    def reenviar_fallidos(actor, pdv_id, form):
        return actions.redeliver_failed(actor, pdv_id, _text(form.get("tipo")) or "", _text(form.get("desde")))

    def pausar_carril(actor, pdv_id, form):
        return actions.set_lane_paused(actor, pdv_id, _text(form.get("cbte_tipo")), True)

    def reanudar_carril(actor, pdv_id, form):
        return actions.set_lane_paused(actor, pdv_id, _text(form.get("cbte_tipo")), False)

    def rotar_credenciales(actor, pdv_id, form):
        return actions.rotate_credentials(actor, pdv_id)

    async def reenviar_envio(request: Request) -> Response:
        hook_id = request.path_params["hook_id"]
        form = await form_of(request)
        invoice = (_text(form.get("comprobante")) or "").strip()
        back = f"{prefix}/comprobantes/{invoice}" if _number(invoice) is not None else f"{prefix}/comprobantes"
        return await perform(request, lambda actor: actions.redeliver(actor, hook_id), back)

    async def subir_certificado(request: Request) -> Response:
        cuit = request.path_params["cuit"]
        form = await form_of(request)
        cert, key = await _upload(form.get("certificado")), await _upload(form.get("clave"))
        return await perform(request, lambda actor: actions.upload_certificate(actor, cuit, cert, key),
                             f"{prefix}/puntos-de-venta")

    async def puntos_de_venta(request: Request) -> Response:
        operator = current_operator(request)
        pdvs = await run_in_threadpool(console.store.pdvs_in_scope, operator.workspace_ids)
        lanes = await run_in_threadpool(console.store.lanes_in_scope, operator.workspace_ids)
        certificates = await run_in_threadpool(console.store.certificates_of, sorted({pdv.cuit for pdv in pdvs}))
        from encola.console.afip_status import certificate_state

        now = console.clock.now()
        by_pdv: dict[tuple[str, int], list] = {}
        for lane in lanes:
            by_pdv.setdefault((lane.cuit, lane.punto_venta), []).append(lane)
        return console.render(
            request, "actions_puntos_de_venta.html", pdvs=pdvs, carriles=by_pdv, tipos=TIPOS_BY_CBTE,
            certificados={cuit: certificate_state(cuit, pem, now) for cuit, pem in certificates},
        )

    console.route("/puntos-de-venta", puntos_de_venta)
    for path, method in (
        ("/comprobantes/{invoice_id}/reenviar", reenviar),
        ("/comprobantes/{invoice_id}/cambiar-fecha", cambiar_fecha),
        ("/comprobantes/{invoice_id}/eliminar", eliminar),
    ):
        console.route(path, on_invoice(method), methods=("POST",))
    for path, method in (
        ("/puntos-de-venta/{pdv_id}/webhook", cambiar_webhook),
        ("/puntos-de-venta/{pdv_id}/webhook/prueba", hook_de_prueba),
        ("/puntos-de-venta/{pdv_id}/reenviar-fallidos", reenviar_fallidos),
        ("/puntos-de-venta/{pdv_id}/carriles/pausar", pausar_carril),
        ("/puntos-de-venta/{pdv_id}/carriles/reanudar", reanudar_carril),
        ("/puntos-de-venta/{pdv_id}/credenciales", rotar_credenciales),
    ):
        console.route(path, on_pdv(method), methods=("POST",))
    console.route("/envios/{hook_id}/reenviar", reenviar_envio, methods=("POST",))
    console.route("/cuits/{cuit}/certificado", subir_certificado, methods=("POST",))


def _text(value) -> str | None:
    """A form field as text; an uploaded file where text was expected counts as absent."""
    return value if isinstance(value, str) else None


async def _upload(value) -> bytes:
    """An uploaded file's bytes (a pasted PEM in a text field works too)."""
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8", "replace")
    return await value.read()
