"""One settings object, built once from ``ENCOLA_*`` variables and passed down.

Every variable, its default and its meaning is listed in ``docs/configuration.md``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from encola.mail.config import SmtpServer

DEFAULT_RETRY_SCHEDULE = (300.0, 1800.0, 10800.0, 21600.0, 43200.0)  # 5 m, 30 m, 3 h, 6 h, 12 h
# The buyer's mail: the first retries within a minute, then growing (30s,1m,5m,15m,1h,3h,6h,12h,24h).
DEFAULT_MAIL_RETRY_SCHEDULE = (30.0, 60.0, 300.0, 900.0, 3600.0, 10800.0, 21600.0, 43200.0, 86400.0)
DEFAULT_MAIL_FROM = "encola <facturas@localhost>"
MAX_INSTANT_DEADLINE = 90.0  # TusFacturas: an instant answer may take up to 1 min 30 s
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_RATE_RE = re.compile(r"^\s*(\d{1,9})\s*(?:/|per)\s*(\d{1,6})?\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)
_OFF = ("0", "off", "none", "no")


class SettingsError(ValueError):
    pass


def parse_duration(text: str) -> float:
    """Seconds from ``"1s"``, ``"5m"``, ``"3h"``, ``"250ms"`` or a bare number of seconds."""
    match = _DURATION_RE.match(text)
    if not match:
        raise SettingsError(f"not a duration: {text!r} (use e.g. 500ms, 5s, 5m, 3h)")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class Rate:
    """A rate limit: at most ``count`` requests per ``per`` ``unit`` (``2000/second``, ``20/5 minutes``)."""

    count: int
    per: int
    unit: str  # second | minute | hour | day

    def __str__(self) -> str:
        return f"{self.count}/{self.per} {self.unit}s" if self.per != 1 else f"{self.count}/{self.unit}"


def parse_rate(text: str) -> Rate | None:
    """A rate from ``"2000/second"``, ``"20/minute"``, ``"100/5 minutes"``; None for ``0`` or ``off``."""
    if text.strip().lower() in _OFF:
        return None
    match = _RATE_RE.match(text)
    if not match or int(match.group(1)) < 1 or (match.group(2) is not None and int(match.group(2)) < 1):
        raise SettingsError(f"not a rate: {text!r} (use e.g. 2000/second, 20/minute, 100/5 minutes, or off)")
    return Rate(int(match.group(1)), int(match.group(2) or 1), match.group(3).lower())


def parse_schedule(text: str, name: str = "ENCOLA_WEBHOOK_RETRY_SCHEDULE") -> tuple[float, ...]:
    """A retry schedule, e.g. ``"5m,30m,3h,6h,12h"`` or ``"1s,1s,2s,2s,3s"``."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise SettingsError(f"{name} is empty")
    return tuple(parse_duration(p) for p in parts)


def _int(env, name: str, minimum: int) -> int:
    try:
        value = int(env[name])
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {env[name]!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}")
    return value


def _ratio(env, name: str) -> float:
    try:
        value = float(env[name])
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise SettingsError(f"{name} must be a number from 0 to 1")
    return value


def _positive_duration(env, name: str) -> float:
    value = parse_duration(env[name])
    if value <= 0:
        raise SettingsError(f"{name} must be longer than zero")
    return value


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "si", "s", "on")


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///encola.db"
    webhook_retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    webhook_first_timeout: float = 20.0
    webhook_retry_timeout: float = 5.0
    webhook_allow_private: bool = False
    webhook_user_agent: str = "TusFacturasAPP-webhook/1.0"
    webhook_concurrency: int = 32
    webhook_endpoint_concurrency: int = 8  # deliveries in flight per point of sale
    webhook_disable_after: float | None = 24 * 3600.0  # TF: failing > 24 h disables; None never
    webhook_retry_after_max: float = 12 * 3600.0  # the longest Retry-After honoured
    webhook_secret_grace: float = 24 * 3600.0  # a rotated-out signing secret stays valid this long
    max_body_bytes: int = 16 * 1024 * 1024
    afip_url: str | None = None
    afip_env: str | None = None  # homologacion | produccion
    afip_timeout: float = 30.0  # one WSFEv1 call, connect + answer
    afip_batch_size: int = 250  # comprobantes per FECAESolicitar (AFIP homologación's limit)
    afip_sim_ledger: str = "encola-afip-sim.db"  # the in-process simulator's ledger
    afip_sim_latency_ms: int = 0
    afip_sim_latency_p99_ms: int = 0  # above the latency: log-normal with this p99 (afip_sim/concurrency.py)
    afip_sim_concurrency: str = "busy"  # inorder | reorder | busy: concurrent calls of one lane
    afip_sim_drop_ratio: float = 0.0  # fraction of FECAESolicitar answers dropped after processing
    # Instant emission (``facturacion/nuevo``): how long a request waits for AFIP's outcome before
    # answering that it is unknown (TF documents 90 s as the most an answer may take).
    instant_deadline: float = 60.0
    lane_lease_seconds: float = 15.0
    max_lanes: int = 128
    # Abuse limits (encola/api/limits.py); None switches one off.
    rate_limit_per_credential: Rate | None = Rate(5000, 1, "second")
    rate_limit_per_address: Rate | None = Rate(10000, 1, "second")
    auth_failures_per_address: Rate | None = Rate(20, 1, "minute")
    rate_limit_storage: str = "memory://"
    body_read_timeout: float | None = 30.0
    forwarded_allow_ips: str | None = None  # proxies whose X-Forwarded-For names the client
    # Operator surfaces (encola/api/operator.py): closed without a token.
    admin_token: str | None = None
    afip_sim_controls: bool = False  # mount the embedded simulator's /afip-sim/_sim/* controls
    # Documents (encola/documents/http.py): the base of the links consultas answer with; None
    # means the address ``encola serve`` listens on.
    public_url: str | None = None
    document_cache_bytes: int = 64 * 1024 * 1024  # rendered PDFs kept in memory per process
    render_processes: int = 2  # PDFs rendered beside the event loop (downloads, mail); 0: one thread
    # The buyer's mail (encola/mail, docs/mail.md); no SMTP server: no mail (envio_x_mail "N").
    smtp: "SmtpServer | None" = None
    mail_from: str = DEFAULT_MAIL_FROM
    mail_retry_schedule: tuple[float, ...] = DEFAULT_MAIL_RETRY_SCHEDULE
    mail_timeout: float = 30.0  # one message: connect, hand over, the server's answer
    mail_concurrency: int = 8  # messages in flight to the SMTP server per process (its connections)
    # Operations (encola/ops, docs/operations.md): how long a stop waits for requests, lanes and
    # deliveries in flight; the bearer token /metrics asks for (None: open).
    shutdown_grace: float = 20.0
    metrics_token: str | None = None
    log_format: str = "text"  # json: one JSON object per line (the CLI sets logging up from it)
    ops_port: int | None = None  # `encola worker`: serve /healthz, /readyz, /metrics here
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        values: dict = {}
        if env.get("ENCOLA_DATABASE_URL"):
            values["database_url"] = env["ENCOLA_DATABASE_URL"]
        if env.get("ENCOLA_WEBHOOK_RETRY_SCHEDULE"):
            values["webhook_retry_schedule"] = parse_schedule(env["ENCOLA_WEBHOOK_RETRY_SCHEDULE"])
        if env.get("ENCOLA_WEBHOOK_TIMEOUT"):
            values["webhook_first_timeout"] = _positive_duration(env, "ENCOLA_WEBHOOK_TIMEOUT")
        if env.get("ENCOLA_WEBHOOK_RETRY_TIMEOUT"):
            values["webhook_retry_timeout"] = _positive_duration(env, "ENCOLA_WEBHOOK_RETRY_TIMEOUT")
        values["webhook_allow_private"] = _flag(env.get("ENCOLA_WEBHOOK_ALLOW_PRIVATE"))
        if env.get("ENCOLA_WEBHOOK_USER_AGENT"):
            values["webhook_user_agent"] = env["ENCOLA_WEBHOOK_USER_AGENT"]
        if env.get("ENCOLA_WEBHOOK_CONCURRENCY"):
            values["webhook_concurrency"] = _int(env, "ENCOLA_WEBHOOK_CONCURRENCY", 1)
        if env.get("ENCOLA_WEBHOOK_ENDPOINT_CONCURRENCY"):
            values["webhook_endpoint_concurrency"] = _int(env, "ENCOLA_WEBHOOK_ENDPOINT_CONCURRENCY", 1)
        if env.get("ENCOLA_WEBHOOK_DISABLE_AFTER", "").strip():
            never = env["ENCOLA_WEBHOOK_DISABLE_AFTER"].strip().lower() in ("0", "off", "never", "none", "no")
            values["webhook_disable_after"] = None if never else _positive_duration(env, "ENCOLA_WEBHOOK_DISABLE_AFTER")
        if env.get("ENCOLA_WEBHOOK_RETRY_AFTER_MAX"):
            values["webhook_retry_after_max"] = _positive_duration(env, "ENCOLA_WEBHOOK_RETRY_AFTER_MAX")
        if env.get("ENCOLA_WEBHOOK_SECRET_GRACE"):
            values["webhook_secret_grace"] = parse_duration(env["ENCOLA_WEBHOOK_SECRET_GRACE"])
        if env.get("ENCOLA_MAX_BODY_BYTES"):
            values["max_body_bytes"] = _int(env, "ENCOLA_MAX_BODY_BYTES", 1024)
        if env.get("ENCOLA_AFIP_URL"):
            values["afip_url"] = env["ENCOLA_AFIP_URL"].rstrip("/")
        if env.get("ENCOLA_AFIP_ENV"):
            if env["ENCOLA_AFIP_ENV"] not in ("homologacion", "produccion"):
                raise SettingsError("ENCOLA_AFIP_ENV must be homologacion or produccion")
            values["afip_env"] = env["ENCOLA_AFIP_ENV"]
        if env.get("ENCOLA_AFIP_TIMEOUT"):
            values["afip_timeout"] = _positive_duration(env, "ENCOLA_AFIP_TIMEOUT")
        if env.get("ENCOLA_AFIP_BATCH_SIZE"):
            values["afip_batch_size"] = _int(env, "ENCOLA_AFIP_BATCH_SIZE", 1)
        if env.get("ENCOLA_AFIP_SIM_LEDGER"):
            values["afip_sim_ledger"] = env["ENCOLA_AFIP_SIM_LEDGER"]
        if env.get("ENCOLA_AFIP_SIM_LATENCY_MS"):
            values["afip_sim_latency_ms"] = _int(env, "ENCOLA_AFIP_SIM_LATENCY_MS", 0)
        if env.get("ENCOLA_AFIP_SIM_LATENCY_P99_MS"):
            values["afip_sim_latency_p99_ms"] = _int(env, "ENCOLA_AFIP_SIM_LATENCY_P99_MS", 0)
        if env.get("ENCOLA_AFIP_SIM_CONCURRENCY"):
            if env["ENCOLA_AFIP_SIM_CONCURRENCY"] not in ("inorder", "reorder", "busy"):
                raise SettingsError("ENCOLA_AFIP_SIM_CONCURRENCY must be inorder, reorder or busy")
            values["afip_sim_concurrency"] = env["ENCOLA_AFIP_SIM_CONCURRENCY"]
        if env.get("ENCOLA_AFIP_SIM_DROP_RATIO"):
            values["afip_sim_drop_ratio"] = _ratio(env, "ENCOLA_AFIP_SIM_DROP_RATIO")
        if env.get("ENCOLA_INSTANT_DEADLINE"):
            values["instant_deadline"] = _positive_duration(env, "ENCOLA_INSTANT_DEADLINE")
            if values["instant_deadline"] > MAX_INSTANT_DEADLINE:
                raise SettingsError(f"ENCOLA_INSTANT_DEADLINE must be at most {MAX_INSTANT_DEADLINE:g}s (TF's bound)")
        if env.get("ENCOLA_LANE_LEASE"):
            values["lane_lease_seconds"] = _positive_duration(env, "ENCOLA_LANE_LEASE")
        if env.get("ENCOLA_MAX_LANES"):
            values["max_lanes"] = _int(env, "ENCOLA_MAX_LANES", 1)
        for name, attribute in (
            ("ENCOLA_RATE_LIMIT_PER_CREDENTIAL", "rate_limit_per_credential"),
            ("ENCOLA_RATE_LIMIT_PER_ADDRESS", "rate_limit_per_address"),
            ("ENCOLA_AUTH_FAILURES_PER_ADDRESS", "auth_failures_per_address"),
        ):
            if env.get(name, "").strip():
                values[attribute] = parse_rate(env[name])
        if env.get("ENCOLA_RATE_LIMIT_STORAGE"):
            values["rate_limit_storage"] = env["ENCOLA_RATE_LIMIT_STORAGE"].strip()
        if env.get("ENCOLA_BODY_READ_TIMEOUT", "").strip():
            off = env["ENCOLA_BODY_READ_TIMEOUT"].strip().lower() in _OFF
            values["body_read_timeout"] = None if off else _positive_duration(env, "ENCOLA_BODY_READ_TIMEOUT")
        if env.get("ENCOLA_FORWARDED_ALLOW_IPS", "").strip():
            values["forwarded_allow_ips"] = env["ENCOLA_FORWARDED_ALLOW_IPS"].strip()
        if env.get("ENCOLA_ADMIN_TOKEN", "").strip():
            values["admin_token"] = _admin_token(env["ENCOLA_ADMIN_TOKEN"].strip())
        values["afip_sim_controls"] = _flag(env.get("ENCOLA_AFIP_SIM_CONTROLS"))
        if env.get("ENCOLA_PUBLIC_URL", "").strip():
            values["public_url"] = parse_public_url(env["ENCOLA_PUBLIC_URL"])
        if env.get("ENCOLA_RENDER_PROCESSES", "").strip():
            values["render_processes"] = _int(env, "ENCOLA_RENDER_PROCESSES", 0)
        if env.get("ENCOLA_DOCUMENT_CACHE_MB", "").strip():
            values["document_cache_bytes"] = _int(env, "ENCOLA_DOCUMENT_CACHE_MB", 0) * 1024 * 1024
        values.update(_mail_values(env))
        if env.get("ENCOLA_SHUTDOWN_GRACE", "").strip():
            values["shutdown_grace"] = _positive_duration(env, "ENCOLA_SHUTDOWN_GRACE")
        if env.get("ENCOLA_METRICS_TOKEN", "").strip():
            values["metrics_token"] = env["ENCOLA_METRICS_TOKEN"].strip()
        if env.get("ENCOLA_LOG_FORMAT", "").strip():
            values["log_format"] = env["ENCOLA_LOG_FORMAT"].strip().lower()
            if values["log_format"] not in ("text", "json"):
                raise SettingsError("ENCOLA_LOG_FORMAT must be text or json")
        if env.get("ENCOLA_OPS_PORT", "").strip():
            values["ops_port"] = _int(env, "ENCOLA_OPS_PORT", 1)
        return cls(**values)

    @property
    def afip_mode(self) -> str:
        """``simulator`` (ENCOLA_AFIP_URL), ``homologacion``/``produccion``, or ``embedded``."""
        if self.afip_url:
            return "simulator"
        return self.afip_env or "embedded"

    @property
    def afip_env_name(self) -> str:
        """Where CAEs come from, as each emitted invoice records it: simulador, homologacion or produccion."""
        return "simulador" if self.simulated else self.afip_mode

    @property
    def simulated(self) -> bool:
        """Whether CAEs come from a simulator (embedded or ENCOLA_AFIP_URL): not valid for tax purposes."""
        return self.afip_mode in ("embedded", "simulator")


def _mail_values(env) -> dict:
    """The ``ENCOLA_SMTP_URL`` / ``ENCOLA_MAIL_*`` settings (encola/mail/config.py parses them)."""
    from encola.mail.config import MailSettingsError, parse_mail_from, parse_smtp_url

    values: dict = {}
    try:
        if env.get("ENCOLA_SMTP_URL", "").strip():
            values["smtp"] = parse_smtp_url(env["ENCOLA_SMTP_URL"])
        if env.get("ENCOLA_MAIL_FROM", "").strip():
            values["mail_from"] = parse_mail_from(env["ENCOLA_MAIL_FROM"])
    except MailSettingsError as exc:
        raise SettingsError(str(exc)) from None
    if env.get("ENCOLA_MAIL_RETRY_SCHEDULE"):
        values["mail_retry_schedule"] = parse_schedule(env["ENCOLA_MAIL_RETRY_SCHEDULE"], "ENCOLA_MAIL_RETRY_SCHEDULE")
    if env.get("ENCOLA_MAIL_TIMEOUT"):
        values["mail_timeout"] = _positive_duration(env, "ENCOLA_MAIL_TIMEOUT")
    if env.get("ENCOLA_MAIL_CONCURRENCY"):
        values["mail_concurrency"] = _int(env, "ENCOLA_MAIL_CONCURRENCY", 1)
    return values


def listening_url(host: str, port: int) -> str:
    """The default ENCOLA_PUBLIC_URL: the address ``encola serve`` listens on."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def parse_public_url(text: str) -> str:
    """``ENCOLA_PUBLIC_URL``: an absolute http(s) URL without query or fragment; no trailing slash."""
    from urllib.parse import urlsplit

    url = text.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — raises on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(f"ENCOLA_PUBLIC_URL must be an absolute http(s) URL such as https://facturas.example.com, not {text!r}")
    return url


def _admin_token(token: str) -> str:
    if len(token) < 16 or not token.isascii() or not token.isprintable():
        raise SettingsError("ENCOLA_ADMIN_TOKEN must be at least 16 printable ASCII characters "
                            "(e.g. the output of: python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return token
