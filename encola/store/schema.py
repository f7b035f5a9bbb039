"""The database schema, as SQLAlchemy Core tables (the Alembic migrations build exactly this).

The invoices table is the queue: the engine selects due rows by ``(state, fecha,
next_attempt_at)`` through an index, so a dequeue does not grow with the number of
future-dated invoices. Money is stored as text (exact decimal strings): SQLite has no
decimal type and must never round through a float.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Invoice states. "processing" means numbers are assigned and AFIP may have been called.
QUEUED, PROCESSING, EMITTED, ERROR, DELETED = "queued", "processing", "emitted", "error", "deleted"
# An instant request (``nuevo``) AFIP certainly did not emit: answered with the reason, kept for the
# record only; it is no invoice (not in consultas, not counted, its reference free).
DISCARDED = "discarded"
LIVE_STATES = (QUEUED, PROCESSING, EMITTED)
HIDDEN_STATES = (DELETED, DISCARDED)  # never shown in consultas
LIVE_REFERENCE_WHERE = "state IN ('queued', 'processing', 'emitted') AND external_reference <> ''"
INSTANT_WAITING, INSTANT_LATE = "waiting", "late"

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("nombre", String(255), nullable=False),
    Column("activo", Boolean, nullable=False, server_default=text("true")),
    # Comprobantes accepted per calendar month (Argentina); NULL means no limit.
    Column("cupo_mensual", Integer, nullable=True),
    Column("created_at", DateTime, nullable=False),
)

# A CUIT belongs to exactly one workspace; only the operator side (the CLI) puts it there. Its
# AFIP certificate and key are kept here once, the key sealed (see encola/secretbox.py).
cuits = Table(
    "cuits",
    metadata,
    Column("cuit", String(11), primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("cert_pem", Text, nullable=True),
    Column("key_pem", Text, nullable=True),  # sealed
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_cuits_workspace_id", "workspace_id"),
)

# Facts about the database itself, e.g. the check value of the secret key it was written with.
meta = Table(
    "meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Operators of the console (encola/console): an e-mail, an argon2 password hash, and the
# workspaces they see (``operator_workspaces``; ``all_workspaces`` for every one, present and to
# come). Sessions live server-side: the cookie holds a random token, this table its SHA-256 and the
# session's CSRF token.
operators = Table(
    "operators",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(255), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("all_workspaces", Boolean, nullable=False, server_default=text("false")),
    Column("activo", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime, nullable=False),
    Column("password_changed_at", DateTime, nullable=False),
)

operator_workspaces = Table(
    "operator_workspaces",
    metadata,
    Column("operator_id", Integer, ForeignKey("operators.id"), primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), primary_key=True),
)

operator_sessions = Table(
    "operator_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("operator_id", Integer, ForeignKey("operators.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index("ix_operator_sessions_operator_id", "operator_id"),
)

pdvs = Table(
    "pdvs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), nullable=False),
    Column("cuit", String(11), ForeignKey("cuits.cuit"), nullable=False),
    Column("punto_venta", Integer, nullable=False),
    Column("razon_social", String(255), nullable=False),
    Column("condicion_iva", String(4), nullable=False),
    Column("conceptos", String(2), nullable=False),
    Column("webhook_url", String(2048), nullable=True),
    Column("webhook_token", Text, nullable=False),  # sealed
    # Standard Webhooks signing secret (sealed); the previous one stays valid until the given time.
    Column("webhook_secret", Text, nullable=True),
    Column("webhook_secret_previous", Text, nullable=True),
    Column("webhook_secret_previous_until", DateTime, nullable=True),
    # TF: a URL that keeps failing for more than 24 h is ignored until it is replaced.
    Column("webhook_failing_since", DateTime, nullable=True),
    Column("webhook_disabled_at", DateTime, nullable=True),
    Column("webhook_disabled_reason", Text, nullable=True),
    Column("apikey", String(20), nullable=False, unique=True),
    Column("usertoken_hash", String(64), nullable=False),
    Column("apitoken_hash", String(64), nullable=False),
    Column("activo", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # What documents print about the seller (besides razón social, CUIT and condición IVA); the
    # version in force is ``issuer_id`` (see ``issuers``).
    Column("domicilio", Text, nullable=True),
    Column("iibb", String(64), nullable=True),  # the Ingresos Brutos number, or "Exento"
    Column("inicio_actividades", Date, nullable=True),
    Column("logo", LargeBinary, nullable=True),  # PNG or JPEG, checked on the way in
    Column("mail_reply_to", String(255), nullable=True),
    Column("issuer_id", Integer, nullable=True),
    UniqueConstraint("cuit", "punto_venta"),
)

# The issuer data of a point of sale, one row per version: a new one whenever what documents print
# about the seller changes (and one at creation). An invoice keeps the version in force when it was
# emitted (``invoices.issuer_id``), so later changes apply to later invoices only.
issuers = Table(
    "issuers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("pdv_id", Integer, ForeignKey("pdvs.id"), nullable=False),
    Column("snapshot", Text, nullable=False),  # JSON: encola.documents.IssuerSnapshot.to_json()
    Column("created_at", DateTime, nullable=False),
    Index("ix_issuers_pdv_id", "pdv_id"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Integer, primary_key=True),  # also the arrival order within a lane
    Column("pdv_id", Integer, ForeignKey("pdvs.id"), nullable=False),
    Column("cuit", String(11), nullable=False),
    Column("punto_venta", Integer, nullable=False),
    Column("cbte_tipo", Integer, nullable=False),
    Column("tipo", String(64), nullable=False),
    Column("external_reference", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("fecha", Date, nullable=False),
    Column("vencimiento", Date, nullable=True),
    Column("state", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("numero", Integer, nullable=True),
    Column("cae", String(14), nullable=True),
    Column("cae_vencimiento", Date, nullable=True),
    Column("afip_qr", Text, nullable=True),
    Column("afip_codigo_barras", String(64), nullable=True),
    Column("errors", Text, nullable=False, server_default=text("'[]'")),  # JSON list of messages
    Column("observaciones", Text, nullable=True),  # JSON list: AFIP's observations on an accepted one
    Column("total", String(20), nullable=False),
    Column("afip", Text, nullable=False),  # JSON: the FECAEDetRequest template (no number, no dates)
    Column("view", Text, nullable=False),  # JSON: the consulta shape, without status and AFIP data
    Column("doc_nro", String(20), nullable=True),  # the buyer's document number (view's, trimmed): console search
    Column("response", Text, nullable=False),  # JSON: the intake answer, replayed on a retried request
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("emitted_at", DateTime, nullable=True),
    # Instant emission (``nuevo``): "waiting" while a request waits for the answer, "late" once it
    # was answered that the outcome was unknown (then the invoice is reconciled like any other and
    # its ``error`` hook, if any, goes out); NULL for queued invoices.
    Column("instant", String(8), nullable=True),
    # Abonos: every comprobante of one keeps the abono (JSON: frecuencia, hasta, actualiza_precios,
    # desde) and its recurrence (0 the one sent, 1 the next, …); ``abono_siguiente`` is the date
    # of the next recurrence, still to be created once this one is emitted (NULL: none).
    Column("abono", Text, nullable=True),
    Column("recurrencia", Integer, nullable=False, server_default=text("0")),
    Column("abono_siguiente", Date, nullable=True),
    # Set at emission: the issuer version documents print, and where the CAE came from
    # ("simulador" | "homologacion" | "produccion"), whatever the process runs with later.
    Column("issuer_id", Integer, nullable=True),
    Column("afip_env", String(16), nullable=True),
    # The buyer's e-mail (cliente.envia_por_mail "S" with cliente.email): the addresses asked for
    # at intake, comma-separated; when the SMTP server accepted the message, and for whom.
    Column("mail_to", Text, nullable=True),
    Column("mail_sent_at", DateTime, nullable=True),
    Column("mail_sent_to", Text, nullable=True),
    Index("ix_invoices_due", "state", "fecha", "next_attempt_at"),
    Index("ix_invoices_lane", "cuit", "punto_venta", "cbte_tipo", "state", "fecha", "id"),
    Index("ix_invoices_pdv_fecha", "pdv_id", "fecha"),
    Index("ix_invoices_pdv_numero", "pdv_id", "cbte_tipo", "numero"),
    Index("ix_invoices_pdv_ext_ref", "pdv_id", "external_reference"),
    Index("ix_invoices_pdv_created", "pdv_id", "created_at"),
    # The console: the queue summary reads the live backlog (queued, processing, error) from this
    # index alone; the search keysets over id per point of sale, and per state when one is asked for.
    Index("ix_invoices_console_queue", "state", "pdv_id", "cbte_tipo", "fecha", "next_attempt_at"),
    Index("ix_invoices_console_state", "pdv_id", "state", "id"),
    Index("ix_invoices_console_pdv", "pdv_id", "id"),
    Index("ix_invoices_console_doc", "pdv_id", "doc_nro", "id"),
    # One live invoice per (PDV, external_reference, recurrence): the idempotency key. Deleted and
    # errored ones free the reference, so "delete and send it again corrected" works; an abono's
    # recurrences share its reference; an instant invoice sent without one ("") is left out.
    Index(
        "uq_invoices_live_external_reference",
        "pdv_id",
        "external_reference",
        "recurrencia",
        unique=True,
        sqlite_where=text(LIVE_REFERENCE_WHERE),
        postgresql_where=text(LIVE_REFERENCE_WHERE),
    ),
    # TF's rule for instant requests: a point of sale with invoices queued (not instant) is refused.
    Index(
        "ix_invoices_pdv_queued",
        "pdv_id",
        sqlite_where=text("state = 'queued' AND instant IS NULL"),
        postgresql_where=text("state = 'queued' AND instant IS NULL"),
    ),
    # Lanes with an instant request waiting are tried at once, whatever their back-off.
    Index(
        "ix_invoices_instant_waiting",
        "cuit",
        "punto_venta",
        "cbte_tipo",
        sqlite_where=text("state = 'queued' AND instant = 'waiting'"),
        postgresql_where=text("state = 'queued' AND instant = 'waiting'"),
    ),
    # Abonos whose next recurrence is still to be created.
    Index(
        "ix_invoices_abono_siguiente",
        "cuit",
        "punto_venta",
        "cbte_tipo",
        sqlite_where=text("abono_siguiente IS NOT NULL"),
        postgresql_where=text("abono_siguiente IS NOT NULL"),
    ),
)

# The outbox: every delivery (hooks and the buyer's mail) written in the transaction that caused it.
hook_events = Table(
    "hook_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hook_id", String(36), nullable=False, unique=True),
    # What delivers it: "hook" (the point of sale's webhook) or "mail" (the buyer's e-mail).
    Column("kind", String(8), nullable=False, server_default=text("'hook'")),
    Column("pdv_id", Integer, ForeignKey("pdvs.id"), nullable=False),
    Column("invoice_id", Integer, ForeignKey("invoices.id"), nullable=True),
    Column("recurso", String(20), nullable=False),
    Column("evento", String(20), nullable=False),
    Column("external_reference", String(255), nullable=False),
    Column("msg", Text, nullable=False),  # JSON list
    Column("creado", DateTime, nullable=False),  # UTC; sent as Argentina time
    Column("state", String(12), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    # Attempts made before the last redelivery: the retry schedule starts over from here.
    Column("schedule_start", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("locked_until", DateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", DateTime, nullable=True),
    Index("ix_hook_events_due", "state", "kind", "next_attempt_at"),
    Index("ix_hook_events_pdv", "pdv_id", "id"),
    # Leases in force per point of sale: the claim's per-endpoint limit counts them.
    Index("ix_hook_events_locked", "locked_until", "pdv_id"),
    # An invoice's hooks and mails (the console's invoice page, `encola invoices show`), and the
    # foreign key's check when invoices are deleted: without it each is a scan of every event.
    Index("ix_hook_events_invoice", "invoice_id"),
)

hook_attempts = Table(
    "hook_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", Integer, ForeignKey("hook_events.id"), nullable=False),
    Column("intento", Integer, nullable=False),
    Column("url", String(2048), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_hook_attempts_event", "event_id"),
)

# One row per lane (CUIT, PDV, CbteTipo) ever worked on. A worker holds a lane while
# ``expires_at`` is in the future; every write it makes checks ``token`` (a fencing token that
# grows on each acquisition), so a worker that lost its lease cannot write results.
lane_leases = Table(
    "lane_leases",
    metadata,
    Column("cuit", String(11), primary_key=True),
    Column("punto_venta", Integer, primary_key=True),
    Column("cbte_tipo", Integer, primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("token", Integer, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    # AFIP's last authorized number as the lane's holders last saw it, written with every result
    # under the lease. It spares a FECompUltimoAutorizado per lane run; if it is ever stale
    # (numbers used outside encola), AFIP answers 10016 and the engine asks AFIP again.
    Column("last_numero", Integer, nullable=True),
    # Paused by an operator (the console): the engine claims no paused lane; a run under way ends
    # with its batch. A lane can be paused before its first run (a row with an expired lease).
    Column("paused", Boolean, nullable=False, server_default=text("false")),
)

# What operators did from the console: who (id and e-mail, kept even if the operator goes), when
# (UTC), on which workspace, the action, its target ("invoice 12", "pdv 3", "lane …") and a JSON
# object of details (never secrets). Listed per workspace, newest first.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("operator_id", Integer, nullable=True),
    Column("operator_email", String(320), nullable=False),
    Column("workspace_id", Integer, nullable=True),
    Column("action", String(40), nullable=False),
    Column("target", String(255), nullable=False),
    Column("details", Text, nullable=False),
    Index("ix_audit_log_workspace_id_id", "workspace_id", "id"),
)

# WSAA tickets, shared by every process so a CUIT logs in once per ticket lifetime
# (AFIP refuses a new login while a ticket is valid: "ya posee un TA valido").
afip_tickets = Table(
    "afip_tickets",
    metadata,
    Column("cuit", String(11), primary_key=True),
    Column("service", String(32), primary_key=True),
    Column("token", Text, nullable=False),
    Column("sign", Text, nullable=False),
    Column("expires_at", DateTime, nullable=False),  # UTC
    Column("generated_at", DateTime, nullable=True),  # UTC
)

# What encola's recent calls to AFIP say about it, for ``estado_servicios/alertas``: one row per
# CUIT (its WSAA and WSFEv1 calls, from any process) and one, "afip", for FEDummy's answer.
# ``failing_since`` is set by a failed call and cleared by the next one that succeeds.
afip_health = Table(
    "afip_health",
    metadata,
    Column("scope", String(16), primary_key=True),
    Column("failing_since", DateTime, nullable=True),  # UTC
    Column("last_error", Text, nullable=True),
    Column("checked_at", DateTime, nullable=False),  # UTC: the last call recorded
)

# Each AFIP call that carried or looked up an invoice, one row per invoice (the console shows
# them per invoice): the lane, the call (``batch_id``: one FECAESolicitar for a whole batch),
# when and how long, the outcome (accepted, rejected, sequence, busy, unknown, not_sent, adopted,
# mismatch…) and AFIP's codes and messages as JSON. Written with the results, pruned by age.
afip_attempts = Table(
    "afip_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("invoice_id", Integer, nullable=False),
    Column("cuit", String(11), nullable=False),
    Column("punto_venta", Integer, nullable=False),
    Column("cbte_tipo", Integer, nullable=False),
    Column("numero", Integer, nullable=True),
    Column("batch_id", String(32), nullable=False),
    Column("method", String(32), nullable=False),
    Column("started_at", DateTime, nullable=False),  # UTC
    Column("duration_ms", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("messages", Text, nullable=False),  # JSON: [{"code": int, "msg": str}, …]
    Index("ix_afip_attempts_invoice_id", "invoice_id"),
    Index("ix_afip_attempts_started_at", "started_at"),
)
