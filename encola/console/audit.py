"""Auditoría: the audit log of the operator's workspaces, newest first, paged by id, filterable
by workspace (one the operator sees; any other shows nothing)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from encola.console.sessions import current_operator
from encola.store.audit import AUDIT_PAGE

NAV = [("Auditoría", "/console/auditoria")]
ACTION_LABELS = {
    "reenviar": "Reenviar comprobante",
    "cambiar_fecha": "Cambiar fecha",
    "eliminar": "Eliminar comprobante",
    "reenviar_hook": "Reenviar hook",
    "reenviar_mail": "Reenviar e-mail",
    "reenviar_hooks_fallidos": "Reenviar hooks fallidos",
    "reenviar_mails_fallidos": "Reenviar e-mails fallidos",
    "hook_test": "Hook de prueba",
    "cambiar_webhook": "Cambiar webhook",
    "pausar_carril": "Pausar carril",
    "reanudar_carril": "Reanudar carril",
    "subir_certificado": "Subir certificado",
    "rotar_credenciales": "Rotar credenciales de API",
}


def _number(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def routes(console) -> None:
    async def auditoria(request: Request) -> Response:
        operator = current_operator(request)
        workspace_id = _number(request.query_params.get("espacio"))
        before = _number(request.query_params.get("antes"))
        entries = await run_in_threadpool(
            lambda: console.store.audit_entries(operator.workspace_ids, workspace_id=workspace_id, before_id=before)
        )
        spaces = await run_in_threadpool(console.store.workspaces_seen, operator.workspace_ids)
        query = {"espacio": workspace_id} if workspace_id is not None else {}
        following = None
        if len(entries) == AUDIT_PAGE:
            following = f"/console/auditoria?{urlencode({**query, 'antes': entries[-1].id})}"
        return console.render(
            request, "audit.html", entradas=entries, espacios={space.id: space for space in spaces},
            espacio=workspace_id, acciones=ACTION_LABELS, siguiente=following,
        )

    console.route("/auditoria", auditoria)
