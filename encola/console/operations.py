"""The console's actions, apart from HTTP: each takes the operator (an ``Actor``) and the form's
text, applies the same rules as the API or the CLI, and records who did what in the audit log.

A target outside the operator's workspaces is ``NotFound`` (the same answer as an id that does
not exist, so nothing is learnt about other tenants). Input or a rule that refuses is
``Refused``, with Spanish messages; nothing is changed then, the audit log included. Where the
change is the store's own statement, its audit entry is written in the same transaction; where a
shared routine opens its own (hooks redelivered since a date, a certificate saved), the entry
follows it at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timezone

from encola.api import queue_ops
from encola.api.provisioning import valid_webhook_token, webhook_errors
from encola.clock import Clock, to_argentina
from encola.domain import credentials, fields as f
from encola.domain.errors import Error
from encola.domain.tables import TIPOS_BY_CBTE
from encola.store.audit import Actor
from encola.store.rows import InvoiceRow, NewEvent, Pdv, ReferenceInUse
from encola.store.store import Store

MAX_PEM_BYTES = 64 * 1024  # a certificate chain or an RSA key is a few KiB
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")  # what a browser's date input sends


class NotFound(Exception):
    """No such target within the operator's workspaces."""


class Refused(Exception):
    """The input or the rules refuse the action; ``messages`` say why, in Spanish."""

    def __init__(self, *messages: str):
        super().__init__("; ".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True)
class Done:
    """What happened, for the page: a Spanish sentence, and anything shown only this once."""

    message: str
    shown_once: dict | None = None


def _texts(errors: list[Error]) -> list[str]:
    return [f"{error.code}: {error.text}" for error in errors]


def parse_day(value: str | None) -> date | None:
    """dd/mm/aaaa (the wire's form) or aaaa-mm-dd (a browser's date input); None otherwise."""
    text = (value or "").strip()
    if (day := f.wire_date(text)) is not None:
        return day
    match = _ISO_DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _invoice_target(row: InvoiceRow) -> str:
    return f"invoice {row.id}"


class Actions:
    def __init__(self, store: Store, clock: Clock, *, allow_private_webhooks: bool = False):
        self.store = store
        self.clock = clock
        self.allow_private_webhooks = allow_private_webhooks

    # --- one invoice: the API's rules (encola/api/queue_ops.py) ------------------------------

    def reenviar(self, actor: Actor, invoice_id: int) -> Done:
        """Queue an errored invoice again (reenviar_encolado's rule)."""
        def act(connection, row):
            problem = queue_ops.requeue_invoice(self.store, self.clock, connection, row.pdv_id, row)
            return _texts([problem]) if problem else []

        row = self._on_invoice(actor, invoice_id, "reenviar", act, {})
        return Done(f"El comprobante {row.id} volvió a la cola.")

    def cambiar_fecha(self, actor: Actor, invoice_id: int, fecha_text: str | None, vencimiento_text: str | None) -> Done:
        """Give a queued or errored invoice a new date (cambiar_fecha_encolado's rules)."""
        fecha = parse_day(fecha_text)
        if fecha is None:
            raise Refused("La fecha debe tener el formato dd/mm/aaaa.")
        vencimiento = None
        if (vencimiento_text or "").strip():
            vencimiento = parse_day(vencimiento_text)
            if vencimiento is None:
                raise Refused("El vencimiento debe tener el formato dd/mm/aaaa.")

        def act(connection, row):
            return _texts(queue_ops.redate_invoice(self.store, self.clock, connection, row.pdv_id, row, fecha, vencimiento))

        details = {"fecha": f.format_date(fecha), "vencimiento": f.format_date(vencimiento) if vencimiento else None}
        row = self._on_invoice(actor, invoice_id, "cambiar_fecha", act, details)
        return Done(f"El comprobante {row.id} se emitirá el {f.format_date(fecha)}.")

    def eliminar(self, actor: Actor, invoice_id: int) -> Done:
        """Delete a queued or errored invoice (eliminar_encolado's rule; an abono stops too)."""
        def act(connection, row):
            if row.external_reference:  # first, as the API does: it waits for a recurrence being made
                self.store.stop_abono(connection, row.pdv_id, row.external_reference)
            if queue_ops.delete_invoice(self.store, connection, row.pdv_id, row):
                return []
            return ["El comprobante no se puede eliminar: sólo se eliminan los que están en cola o con error."]

        row = self._on_invoice(actor, invoice_id, "eliminar", act, {})
        return Done(f"El comprobante {row.id} fue eliminado.")

    def _on_invoice(self, actor: Actor, invoice_id: int, action: str, act, details: dict) -> InvoiceRow:
        """Run ``act(connection, row)`` on the operator's invoice in one transaction with its audit
        entry; ``act`` returns refusal messages (then everything is rolled back)."""
        try:
            with self.store.writing() as connection:
                found = self.store.invoice_in_scope(connection, invoice_id, actor.workspace_ids)
                if found is None:
                    raise NotFound()
                row, workspace_id = found
                problems = act(connection, row)
                if problems:
                    raise Refused(*problems)
                self.store.record_audit(
                    connection, actor, workspace_id, action, _invoice_target(row),
                    {"external_reference": row.external_reference, "estado_anterior": row.state, **details},
                )
        except ReferenceInUse:
            raise Refused(
                "Otro comprobante vigente usa el mismo external_reference: este no puede volver a la cola."
            ) from None
        return row

    # --- deliveries -------------------------------------------------------------------------

    def redeliver(self, actor: Actor, hook_id: str) -> Done:
        """Send one hook or mail again: same hook_id, its schedule from the start."""
        if not (hook_id and len(hook_id) <= 36 and hook_id.isascii()):
            raise NotFound()
        with self.store.writing() as connection:
            found = self.store.event_in_scope(connection, hook_id, actor.workspace_ids)
            if found is None:
                raise NotFound()
            event, workspace_id = found
            if not self.store.redeliver_event(connection, event):
                raise Refused("El envío se está intentando en este momento; pruebe de nuevo en unos segundos.")
            self.store.record_audit(
                connection, actor, workspace_id, "reenviar_" + event.kind, f"{event.kind} {event.hook_id}",
                {"hook_id": event.hook_id, "evento": event.evento, "estado_anterior": event.state,
                 "invoice_id": event.invoice_id},
            )
        what = "El mail" if event.kind == "mail" else "El hook"
        return Done(f"{what} {event.hook_id} se enviara de nuevo.")

    def redeliver_failed(self, actor: Actor, pdv_id: int, kind: str, since_text: str | None) -> Done:
        """Queue again a point of sale's failed hooks (or mails) since a moment, as
        ``encola hooks redeliver`` and ``webhooks/reenviar`` do."""
        from encola.webhooks.redelivery import parse_since

        if kind not in ("hook", "mail"):
            raise Refused("El tipo de envío debe ser hook o mail.")
        since = parse_since(since_text)
        if since is None:
            raise Refused("«Desde» debe ser una fecha dd/mm/aaaa o una fecha y hora ISO 8601.")
        pdv = self._pdv(actor, pdv_id)
        count = self.store.redeliver_events(since, pdv.id, kind=kind)
        self._audit(actor, pdv.workspace_id, f"reenviar_{kind}s_fallidos", _pdv_target(pdv),
                    {"desde": (since_text or "").strip(), "reenviados": count})
        return Done(f"{count} envíos fallidos volvieron a la cola.")

    def test_hook(self, actor: Actor, pdv_id: int) -> Done:
        """Queue a ``test`` hook to the point of sale's URL (as ``webhooks/test`` does)."""
        with self.store.writing() as connection:
            pdv = self._pdv_in(connection, actor, pdv_id)
            if not pdv.webhook_url:
                raise Refused("El punto de venta no tiene dirección de webhook.")
            hook_id = self.store.add_event(connection, pdv.id, NewEvent("test", "", recurso="test"))
            self.store.record_audit(connection, actor, pdv.workspace_id, "hook_test", _pdv_target(pdv), {"hook_id": hook_id})
        return Done(f"Hook de prueba {hook_id} en camino a {pdv.webhook_url}.")

    def change_webhook(self, actor: Actor, pdv_id: int, url_text: str | None, token_text: str | None) -> Done:
        """Set the point of sale's webhook URL ("" removes it) and, when given, its token; the
        same checks as ``pdv update`` and ``administrar``. A new URL enables hooks again."""
        url = (url_text or "").strip() or None
        token = token_text or ""
        problems = _texts(webhook_errors(url, self.allow_private_webhooks))
        if token and not valid_webhook_token(token):
            problems.append("El token del webhook debe tener entre 8 y 255 caracteres visibles, sin espacios al principio ni al final.")
        if problems:
            raise Refused(*problems)
        values = {"webhook_url": url, **({"webhook_token": token} if token else {})}
        with self.store.writing() as connection:
            pdv = self._pdv_in(connection, actor, pdv_id)
            self.store.update_pdv(connection, pdv.id, **values)
            # The token is a secret: the log says it changed, never what to.
            self.store.record_audit(connection, actor, pdv.workspace_id, "cambiar_webhook", _pdv_target(pdv),
                                    {"url_anterior": pdv.webhook_url, "url": url, "token_cambiado": bool(token)})
        return Done("Webhook actualizado." if url else "El punto de venta ya no tiene webhook.")

    # --- lanes, certificates, credentials ----------------------------------------------------

    def set_lane_paused(self, actor: Actor, pdv_id: int, cbte_tipo_text: str | None, paused: bool) -> Done:
        """Pause or resume the lane (CUIT, punto de venta, tipo de comprobante)."""
        try:
            cbte_tipo = int((cbte_tipo_text or "").strip())
        except ValueError:
            cbte_tipo = None
        if cbte_tipo not in TIPOS_BY_CBTE:
            raise Refused("El tipo de comprobante no es uno de AFIP.")
        with self.store.writing() as connection:
            pdv = self._pdv_in(connection, actor, pdv_id)
            changed = self.store.set_lane_paused(connection, pdv.cuit, pdv.punto_venta, cbte_tipo, paused)
            lane = f"{pdv.cuit}/{pdv.punto_venta:05d}/{cbte_tipo:03d}"
            if changed:
                self.store.record_audit(connection, actor, pdv.workspace_id, "pausar_carril" if paused else "reanudar_carril",
                                        f"lane {lane}", {"tipo": TIPOS_BY_CBTE[cbte_tipo].name})
        state = "pausado" if paused else "activo"
        return Done(f"Carril {lane} {state}." if changed else f"El carril {lane} ya estaba {state}.")

    def upload_certificate(self, actor: Actor, cuit: str, cert_pem: bytes | str, key_pem: bytes | str) -> Done:
        """Check a CUIT's new certificate and key and keep them (the key sealed), as ``pdv cert``."""
        from encola.afip.certs import CertificateProblem, check_certificate

        cuit = (cuit or "").strip()
        with self.store.reading() as connection:
            owner = self.store.owner_of(connection, cuit) if cuit.isdigit() and len(cuit) == 11 else None
        if owner is None or not actor.may_see(owner):
            raise NotFound()
        cert_text, key_text = _pem_text(cert_pem, "certificado"), _pem_text(key_pem, "clave privada")
        try:
            info = check_certificate(cert_text, key_text, cuit, now=self.clock.now().replace(tzinfo=timezone.utc))
        except CertificateProblem as problem:
            raise Refused(f"Certificado rechazado: {in_spanish(str(problem))}") from None
        if not self.store.save_credentials(cuit, cert_text, key_text, only_if_missing=False):
            raise NotFound()
        vence = to_argentina(info.not_after.replace(tzinfo=None)).date()  # its last day in Argentina, as every date shown
        self._audit(actor, owner, "subir_certificado", f"cuit {cuit}",
                    {"vence": f.format_date(vence), "serie": str(info.serial_number), "emisor": info.issuer})
        return Done(f"Certificado del CUIT {cuit} guardado; vence el {f.format_date(vence)}.")

    def rotate_credentials(self, actor: Actor, pdv_id: int) -> Done:
        """New usertoken and apitoken for the point of sale (the apikey stays); shown once. The old
        ones stop working at once in this process, within a second in the others (the PDV cache)."""
        keys = credentials.generate()
        with self.store.writing() as connection:
            pdv = self._pdv_in(connection, actor, pdv_id)
            self.store.update_pdv(connection, pdv.id, usertoken_hash=credentials.hash_token(keys.usertoken),
                                  apitoken_hash=credentials.hash_token(keys.apitoken))
            self.store.record_audit(connection, actor, pdv.workspace_id, "rotar_credenciales", _pdv_target(pdv),
                                    {"apikey": pdv.apikey})
        shown = credentials.Credentials(keys.usertoken, pdv.apikey, keys.apitoken).as_json()
        return Done("Credenciales nuevas: cópielas ahora, no se vuelven a mostrar.", shown_once=shown)

    # --- helpers ------------------------------------------------------------------------------

    def _pdv(self, actor: Actor, pdv_id: int) -> Pdv:
        with self.store.reading() as connection:
            return self._pdv_in(connection, actor, pdv_id)

    def _pdv_in(self, connection, actor: Actor, pdv_id: int) -> Pdv:
        pdv = self.store.pdv_in_scope(connection, pdv_id, actor.workspace_ids)
        if pdv is None:
            raise NotFound()
        return pdv

    def _audit(self, actor: Actor, workspace_id: int, action: str, target: str, details: dict) -> None:
        with self.store.writing() as connection:
            self.store.record_audit(connection, actor, workspace_id, action, target, details)


def _pdv_target(pdv: Pdv) -> str:
    return f"pdv {pdv.cuit}/{pdv.punto_venta:05d}"


# check_certificate's reasons (encola/afip/certs.py), as the console's Spanish says them; any other
# reason is shown as it comes.
_CERTIFICATE_REASONS = [
    (re.compile(r"the certificate is not a readable PEM certificate (.*)"), "el certificado no es un certificado PEM legible {0}"),
    (re.compile(r"the private key is not readable: it is not RSA"), "la clave privada no se puede leer: no es RSA"),
    (re.compile(r"the private key is not readable: .*"), "la clave privada no se puede leer: no es una clave PEM sin contraseña"),
    (re.compile(r"the certificate does not belong to this private key.*"),
     "el certificado no corresponde a esta clave privada: fue emitido para otra (use la clave con la que firmó el CSR que presentó a ARCA)"),
    (re.compile(r"the certificate's subject has no serialNumber (.*)"), "el sujeto del certificado no tiene serialNumber {0}"),
    (re.compile(r"the certificate is for CUIT (\d+), not (\d+)"), "el certificado es del CUIT {0}, no del {1}"),
    (re.compile(r"the certificate expired on (.*)"), "el certificado venció el {0}"),
    (re.compile(r"the certificate is valid only from (.*)"), "el certificado es válido recién desde el {0}"),
]


def in_spanish(reason: str) -> str:
    for pattern, spanish in _CERTIFICATE_REASONS:
        match = pattern.fullmatch(reason)
        if match:
            return spanish.format(*match.groups())
    return reason


def _pem_text(value: bytes | str, name: str) -> str:
    data = value.encode("utf-8", "replace") if isinstance(value, str) else (value or b"")
    if not data.strip():
        raise Refused(f"Falta el archivo del {name}.")
    if len(data) > MAX_PEM_BYTES:
        raise Refused(f"El archivo del {name} supera los {MAX_PEM_BYTES // 1024} KiB.")
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise Refused(f"El archivo del {name} no es un PEM (texto ASCII).") from None
