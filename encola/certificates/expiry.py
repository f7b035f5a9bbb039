"""Certificates about to expire: warned about 30 days ahead (EXPIRY_WARNING_DAYS), in the log
when a process starts and once a day after, and in ``estado_servicios/alertas`` for the CUIT.

An AFIP certificate lasts two years and nothing else reminds anyone: past its end WSAA answers
cms.cert.expired and every invoice of the CUIT waits.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select

from encola.afip.certs import EXPIRY_WARNING_DAYS, load_certificate
from encola.clock import to_argentina
from encola.store.schema import cuits

log = logging.getLogger("encola.certificates")
CHECK_EVERY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Expiry:
    cuit: str
    not_after: datetime  # aware, UTC

    def days_left(self, now: datetime) -> int:
        return (self.not_after - now).days

    def notice(self, now: datetime) -> str:
        """A line for people, in Spanish like the rest of estado_servicios."""
        day = to_argentina(self.not_after.replace(tzinfo=None)).strftime("%d/%m/%Y")
        if self.not_after <= now:
            return (f"El certificado de AFIP del CUIT {self.cuit} vencio el {day}: AFIP no autoriza comprobantes "
                    "hasta cargar uno nuevo (encola cert new, encola pdv cert).")
        return (f"El certificado de AFIP del CUIT {self.cuit} vence el {day} (en {self.days_left(now)} dias): "
                "renovarlo antes (encola cert new, encola pdv cert).")


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)  # the store's clock is naive UTC


def expiring(store, now: datetime, cuit: str | None = None) -> list[Expiry]:
    """Certificates (of every CUIT, or of one) that end within EXPIRY_WARNING_DAYS, or have ended."""
    now = _aware(now)
    query = select(cuits.c.cuit, cuits.c.cert_pem).where(cuits.c.cert_pem.is_not(None))
    if cuit is not None:
        query = query.where(cuits.c.cuit == cuit)
    with store.reading() as connection:
        rows = connection.execute(query).all()
    found = []
    for row in rows:
        try:
            not_after = load_certificate(row.cert_pem).not_valid_after_utc
        except ValueError:
            continue  # unreadable: pdv cert refuses those; nothing to date
        if (not_after - now).days < EXPIRY_WARNING_DAYS:
            found.append(Expiry(row.cuit, not_after))
    return found


def log_expiring(store, now: datetime) -> list[Expiry]:
    found = expiring(store, now)
    for item in found:
        log.warning("%s", item.notice(_aware(now)), extra={"action": "certificate_expiring", "cuit": item.cuit})
    return found


def watcher(store, clock):
    """A background runner: the log lines at start, then once a day, until `stop` is set."""

    async def watch(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(log_expiring, store, clock.now())
            except Exception:  # a database hiccup must not end the process's other work
                log.exception("could not check the certificates' expiry", extra={"action": "certificate_expiring"})
            try:
                await asyncio.wait_for(stop.wait(), CHECK_EVERY_SECONDS)
            except TimeoutError:
                pass

    return watch


def novedad(store, cuit: str, now: datetime) -> tuple[str, bool]:
    """estado_servicios' ``novedades`` for a CUIT ("dd/mm/aaaa | text", TF's form, or ""), and
    whether its certificate has already ended."""
    now = _aware(now)
    found = expiring(store, now, cuit)
    if not found:
        return "", False
    today = to_argentina(now.replace(tzinfo=None) - now.utcoffset()).strftime("%d/%m/%Y")
    return f"{today} | {found[0].notice(now)}", found[0].not_after <= now
