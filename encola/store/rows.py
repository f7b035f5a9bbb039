"""The rows the store hands out: frozen dataclasses built ``from_row``, never SQLAlchemy objects."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime

from encola import jsontext


def _from_mapping(cls, mapping, **computed):
    """A frozen row dataclass from a result row: same-named columns, plus computed fields."""
    return cls(**{f.name: computed[f.name] if f.name in computed else mapping[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Pdv:
    id: int
    workspace_id: int
    cuit: str
    punto_venta: int
    razon_social: str
    condicion_iva: str
    conceptos: str
    webhook_url: str | None
    webhook_token: str
    apikey: str
    usertoken_hash: str
    apitoken_hash: str
    activo: bool
    workspace_activo: bool
    cupo_mensual: int | None
    webhook_secret: str | None
    webhook_secret_previous: str | None
    webhook_secret_previous_until: datetime | None
    webhook_failing_since: datetime | None
    webhook_disabled_at: datetime | None
    webhook_disabled_reason: str | None
    # The issuer data documents print (the logo stays in the database: see Store.issuer_logo).
    domicilio: str | None = None
    iibb: str | None = None
    inicio_actividades: date | None = None
    mail_reply_to: str | None = None
    issuer_id: int | None = None

    @classmethod
    def from_row(cls, row, open_secret) -> "Pdv":
        """``open_secret`` unseals the sealed columns (the store's SecretBox.open)."""
        mapping = row._mapping
        return _from_mapping(
            cls,
            mapping,
            activo=bool(row.activo),
            workspace_activo=bool(row.workspace_activo),
            webhook_token=open_secret(mapping["webhook_token"]),
            webhook_secret=open_secret(mapping["webhook_secret"]) if mapping["webhook_secret"] else None,
            webhook_secret_previous=(
                open_secret(mapping["webhook_secret_previous"]) if mapping["webhook_secret_previous"] else None
            ),
        )


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    pdv_id: int
    cuit: str
    punto_venta: int
    cbte_tipo: int
    tipo: str
    external_reference: str
    request_hash: str
    fecha: date
    vencimiento: date | None
    state: str
    attempts: int
    next_attempt_at: datetime
    numero: int | None
    cae: str | None
    cae_vencimiento: date | None
    afip_qr: str | None
    afip_codigo_barras: str | None
    errors: list
    total: str
    afip: dict
    view: dict | None
    response: dict | None
    created_at: datetime
    updated_at: datetime
    # The buyer's e-mail: the addresses asked for (comma-separated), and once the SMTP server
    # accepted the message, when and for whom.
    mail_to: str | None = None
    mail_sent_at: datetime | None = None
    mail_sent_to: str | None = None
    # Instant requests and abonos (see schema.invoices); every query selects these columns.
    instant: str | None = None
    abono: str | None = None  # JSON text
    recurrencia: int = 0
    abono_siguiente: date | None = None

    @classmethod
    def from_row(cls, row) -> "InvoiceRow":
        # The engine selects without the (large) view and response; they stay None then.
        mapping = row._mapping
        decoded = {name: jsontext.loads(mapping[name]) if name in mapping else None for name in ("errors", "afip", "view", "response")}
        mail = {name: mapping.get(name) for name in ("mail_to", "mail_sent_at", "mail_sent_to")}
        return _from_mapping(cls, mapping, **decoded, **mail)


@dataclass(frozen=True)
class HookEvent:
    id: int
    hook_id: str
    pdv_id: int
    recurso: str
    evento: str
    external_reference: str
    msg: list
    creado: datetime
    state: str
    attempts: int
    schedule_start: int = 0
    last_error: str | None = None
    kind: str = "hook"  # hook | mail: which sender delivers it
    invoice_id: int | None = None
    mail_reply_to: str | None = None  # the point of sale's Reply-To for the buyer's mail, as claimed
    # The point of sale's webhook settings, as claimed (None / empty outside a claim).
    webhook_url: str | None = None
    webhook_token: str = ""
    webhook_secret: str | None = None
    webhook_secret_previous: str | None = None
    webhook_secret_previous_until: datetime | None = None
    webhook_failing_since: datetime | None = None
    webhook_disabled_at: datetime | None = None
    webhook_disabled_reason: str | None = None

    @classmethod
    def from_row(cls, row, open_secret=lambda sealed: sealed) -> "HookEvent":
        """``open_secret`` unseals the point of sale's token and secrets, when the row carries them."""
        mapping = row._mapping

        def opened(name: str) -> str | None:
            sealed = mapping.get(name)
            return open_secret(sealed) if sealed else None

        return _from_mapping(
            cls,
            mapping,
            msg=jsontext.loads(mapping["msg"]),
            schedule_start=mapping.get("schedule_start") or 0,
            last_error=mapping.get("last_error"),
            kind=mapping.get("kind") or "hook",
            invoice_id=mapping.get("invoice_id"),
            mail_reply_to=mapping.get("mail_reply_to"),
            webhook_url=mapping.get("webhook_url"),
            webhook_token=opened("webhook_token") or "",
            webhook_secret=opened("webhook_secret"),
            webhook_secret_previous=opened("webhook_secret_previous"),
            **{
                name: mapping.get(name)
                for name in (
                    "webhook_secret_previous_until",
                    "webhook_failing_since",
                    "webhook_disabled_at",
                    "webhook_disabled_reason",
                )
            },
        )


@dataclass(frozen=True)
class Attempt:
    """The outcome of one delivery attempt, as the dispatcher hands it to the store.

    ``skipped``: no request was made (the endpoint is disabled); the event fails without counting
    an attempt. ``disable``: the answer disables the endpoint at once (410 Gone), for this reason.
    """

    event: HookEvent
    url: str
    status_code: int | None
    error: str | None
    duration_ms: int
    delivered: bool
    next_attempt_at: datetime | None
    skipped: bool = False
    disable: str | None = None
    recipients: str | None = None  # a mail: the addresses the SMTP server accepted, comma-separated


@dataclass(frozen=True)
class NewEvent:
    """An outbox event to write in the same transaction as the state change it reports."""

    evento: str
    external_reference: str
    msg: tuple[str, ...] = ()
    recurso: str = "facturacion"
    kind: str = "hook"  # hook | mail


@dataclass(frozen=True)
class NewInvoice:
    pdv_id: int
    cuit: str
    punto_venta: int
    cbte_tipo: int
    tipo: str
    external_reference: str
    request_hash: str
    fecha: date
    vencimiento: date | None
    total: str
    afip: dict
    view: dict
    response: dict
    mail_to: str | None = None  # the buyer's addresses when cliente.envia_por_mail is "S"
    instant: str | None = None  # "waiting": an instant request (nuevo) waits for its result
    abono: str | None = None  # JSON: the abono this invoice starts (see schema.invoices)
    recurrencia: int = 0
    abono_siguiente: date | None = None


@dataclass(frozen=True)
class EnqueueResult:
    """Either the new invoice's id, or the live invoice that already holds the reference."""

    invoice_id: int | None = None
    existing: InvoiceRow | None = None


@dataclass(frozen=True)
class Page:
    total: int
    rows: list[InvoiceRow]


class ReferenceInUse(Exception):
    """Another live invoice of the PDV holds the external_reference (the partial unique index)."""


class QuotaExceeded(Exception):
    def __init__(self, used: int, cupo: int):
        super().__init__(f"{used} of {cupo}")
        self.used, self.cupo = used, cupo

