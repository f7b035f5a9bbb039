"""Estado de AFIP: recent calls per service (outcomes, latencies), AFIP's health as encola's calls
saw it, the WSAA tickets per CUIT and the certificates, those within 30 days of expiry
highlighted. Only the operator's CUITs (AFIP's own FEDummy row is everybody's).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from encola.afip.certs import EXPIRY_WARNING_DAYS, cuit_of, load_certificate
from encola.clock import to_argentina
from encola.console.sessions import current_operator
from encola.store.afip_status import AttemptSample

NAV = [("AFIP", "/console/afip")]
WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}


@dataclass(frozen=True)
class ServiceSummary:
    """One AFIP method over the window: calls (a batch is one call), invoice outcomes, latency."""

    method: str
    calls: int
    outcomes: list[tuple[str, int]]  # per invoice carried, most frequent first
    p50_ms: int
    p95_ms: int
    max_ms: int
    last_at: datetime


@dataclass(frozen=True)
class CertificateState:
    cuit: str
    not_after: datetime | None  # UTC, naive
    days_left: int | None
    problem: str | None  # no certificate, unreadable, or for another CUIT

    @property
    def vence(self) -> date | None:
        """The last day it is valid, in Argentina (every date the console shows is Argentina's)."""
        return to_argentina(self.not_after).date() if self.not_after else None

    @property
    def expiring(self) -> bool:
        return self.days_left is not None and self.days_left < EXPIRY_WARNING_DAYS


def _percentile(sorted_values: list[int], fraction: float) -> int:
    """Nearest-rank percentile of an ascending list."""
    index = max(0, min(len(sorted_values) - 1, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def summarize(samples: list[AttemptSample]) -> list[ServiceSummary]:
    """Per method: a call is one (batch_id, method); its duration is counted once, its invoices'
    outcomes each."""
    by_method: dict[str, dict] = {}
    for sample in samples:
        entry = by_method.setdefault(sample.method, {"calls": {}, "outcomes": Counter(), "last": sample.started_at})
        entry["calls"].setdefault(sample.batch_id, sample.duration_ms)
        entry["outcomes"][sample.outcome] += 1
        entry["last"] = max(entry["last"], sample.started_at)
    summaries = []
    for method, entry in sorted(by_method.items()):
        durations = sorted(entry["calls"].values())
        summaries.append(ServiceSummary(
            method, len(durations), entry["outcomes"].most_common(), _percentile(durations, 0.5),
            _percentile(durations, 0.95), durations[-1], entry["last"],
        ))
    return summaries


def certificate_state(cuit: str, cert_pem: str | None, now: datetime) -> CertificateState:
    """What the page says of a CUIT's certificate (``now``: naive UTC)."""
    if not cert_pem:
        return CertificateState(cuit, None, None, "sin certificado")
    try:
        cert = load_certificate(cert_pem)
    except (ValueError, TypeError):
        return CertificateState(cuit, None, None, "el certificado guardado no se puede leer")
    not_after = cert.not_valid_after_utc.replace(tzinfo=None)
    found = cuit_of(cert)
    problem = None if found is None or str(found) == cuit else f"es del CUIT {found}"
    return CertificateState(cuit, not_after, (not_after - now).days, problem)


def routes(console) -> None:
    async def page(request: Request) -> Response:
        return console.render(request, "afip_status.html", **await _status(request))

    async def fragment(request: Request) -> Response:
        return console.render(request, "afip_status_tabla.html", **await _status(request))

    async def _status(request: Request) -> dict:
        operator = current_operator(request)
        window = request.query_params.get("ventana", "1h")
        if window not in WINDOWS:
            window = "1h"
        now = console.clock.now()
        store = console.store
        cuit_list = await run_in_threadpool(store.cuits_in_scope, operator.workspace_ids)
        scope = None if operator.workspace_ids is None else cuit_list
        samples = await run_in_threadpool(store.recent_afip_attempts, now - WINDOWS[window], scope)
        health = await run_in_threadpool(store.afip_health_states, scope)
        tickets = await run_in_threadpool(store.ticket_states, scope)
        certificates = await run_in_threadpool(store.certificates_of, scope)
        return {
            "ventana": window, "ventanas": list(WINDOWS), "servicios": summarize(samples), "salud": health,
            "tickets": tickets, "ahora": now, "aviso_dias": EXPIRY_WARNING_DAYS,
            "certificados": [certificate_state(cuit, pem, now) for cuit, pem in certificates],
            "actualizado": datetime.now(timezone.utc).replace(tzinfo=None),
        }

    console.route("/afip", page)
    console.route("/afip/tabla", fragment)
