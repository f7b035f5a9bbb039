"""``facturacion/numeracion`` (``19-…``) and ``estado_servicios/alertas`` (``21-…``).

Both ask AFIP only with a short bound, so an AFIP that hangs never holds a request: numeración
falls back to encola's own record of the lane, and the alert is built from what encola's recent
calls to AFIP said (engine/afip_health.py), refreshed by a bounded FEDummy when that is stale.
"""

from __future__ import annotations

import asyncio
import logging
import time

from encola.afip import AfipError
from encola.api.envelope import error_envelope
from encola.certificates.expiry import novedad as certificate_novedad
from encola.clock import Clock, to_argentina
from encola.domain import fields as f
from encola.domain import tables as t
from encola.domain.errors import Error, err
from encola.engine.afip_access import AfipAccess, MissingCertificate
from encola.engine.afip_health import DUMMY_SCOPE, HealthRecorder
from encola.store.store import Pdv, Store

log = logging.getLogger("encola.servicios")
NUMERACION_TIMEOUT = 3.0  # seconds AFIP may take for FECompUltimoAutorizado before encola's record answers
PROBE_TIMEOUT = 2.0  # FEDummy's bound: estado_servicios never waits on AFIP longer
FRESH_SECONDS = 30.0  # an "OK" recorded this recently needs no new FEDummy
RETRY_PROBE_SECONDS = 5.0  # while alerting, FEDummy again at most this often (per process and CUIT)
ALERT = (
    "{cuando} hs.  Los servicios de facturacion de AFIP estan presentando errores. Los comprobantes "
    "instantaneos pueden no emitirse mientras dure el problema; los enviados a la cola de procesamiento "
    "se emitiran automaticamente en cuanto AFIP vuelva a responder. | "
)


class Servicios:
    def __init__(self, store: Store, clock: Clock, afip: AfipAccess | None, health: HealthRecorder):
        self.store = store
        self.clock = clock
        self.afip = afip
        self.health = health
        self._probed: dict[str, float] = {}

    # --- numeración ------------------------------------------------------------------------------

    async def numeracion(self, pdv: Pdv, body: dict) -> dict:
        criteria = body.get("comprobante")
        if not isinstance(criteria, dict):
            return _refusal(err("TFC-1013", bloque="comprobante"))
        name = f.text(criteria.get("tipo")) or ""
        tipo = t.tipo_comprobante(name)
        if tipo is None or tipo.cbte_tipo is None:
            return _refusal(err("TFC-2003", tipo=_echo(name) or "vacio"))
        operacion = (f.text(criteria.get("operacion")) or "V").strip().upper()
        if operacion != "V":
            return _refusal(err("TFC-2005"))
        raw = criteria.get("punto_venta")
        punto_venta = pdv.punto_venta if f.absent(raw) else f.integer(raw)
        if punto_venta is None or punto_venta > 99999:
            return _refusal(err("TFC-2035"))
        if punto_venta != pdv.punto_venta:  # a point of sale never numbers another's
            return _refusal(err("TFC-2007", enviado=punto_venta, esperado=pdv.punto_venta))
        numero = await self._last_from_afip(pdv, tipo.cbte_tipo)
        if numero is None:
            numero = await asyncio.to_thread(self.store.last_known_numero, pdv.cuit, pdv.punto_venta, tipo.cbte_tipo, pdv.id)
        return {
            "error": "N",
            "errores": [""],
            "rta": "OK",
            "comprobante": {"tipo": tipo.name, "operacion": "V", "punto_venta": pdv.punto_venta, "numero": numero},
        }

    async def _last_from_afip(self, pdv: Pdv, cbte_tipo: int) -> int | None:
        if self.afip is None:
            return None
        try:
            async with asyncio.timeout(NUMERACION_TIMEOUT):
                client = await self.afip.client(pdv.cuit)
                return await client.last_authorized(pdv.punto_venta, cbte_tipo)
        except (AfipError, MissingCertificate, TimeoutError) as exc:
            log.info("numeracion from encola's record: AFIP did not answer (%s)", exc, extra={"action": "numeracion"})
            return None

    # --- estado de los servicios -----------------------------------------------------------------

    async def alertas(self, pdv: Pdv, body: dict) -> dict:
        scopes = [pdv.cuit, DUMMY_SCOPE]
        health = await asyncio.to_thread(self.store.afip_health_of, scopes)
        if self._should_probe(pdv.cuit, health):
            await self._probe(pdv.cuit)
            health = await asyncio.to_thread(self.store.afip_health_of, scopes)
        failing = [since for since, _ in health.values() if since is not None]
        # A certificate ending within 30 days is news; one that has ended stops facturación.
        novedades, expired = await asyncio.to_thread(certificate_novedad, self.store, pdv.cuit, self.clock.now())
        if failing:
            cuando = to_argentina(min(failing)).strftime("%d/%m/%Y %H:%M")
            return {"error": "S", "errores": [], "facturacion": ALERT.format(cuando=cuando), "novedades": novedades, "rta": "ERROR"}
        if expired:
            return {"error": "S", "errores": [], "facturacion": novedades, "novedades": novedades, "rta": "ERROR"}
        return {"error": "N", "errores": [""], "rta": "OK", "facturacion": "OK", "novedades": novedades}

    def _should_probe(self, cuit: str, health: dict) -> bool:
        if self.afip is None:
            return False
        now = self.clock.now()
        dummy = health.get(DUMMY_SCOPE)
        failing = any(since is not None for since, _ in health.values())
        if not failing:
            return dummy is None or (now - dummy[1]).total_seconds() > FRESH_SECONDS
        # Alerting: ask again (bounded, not on every request) whether AFIP is back.
        return time.monotonic() - self._probed.get(cuit, 0.0) >= RETRY_PROBE_SECONDS

    async def _probe(self, cuit: str) -> None:
        """FEDummy within PROBE_TIMEOUT: its answer is the "afip" scope; the exchange itself counts
        for the CUIT (its client's calls are observed)."""
        self._probed[cuit] = time.monotonic()
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                client = await self.afip.client(cuit)
                status = await client.dummy()
        except TimeoutError:
            await self.health.record_now(DUMMY_SCOPE, False, f"FEDummy no respondio en {PROBE_TIMEOUT:g} s")
            await self.health.record_now(cuit, False, f"AFIP no respondio en {PROBE_TIMEOUT:g} s")
            return
        except (AfipError, MissingCertificate) as exc:
            await self.health.record_now(DUMMY_SCOPE, False, str(exc))
            return
        servers = {"AppServer": status.app_server, "DbServer": status.db_server, "AuthServer": status.auth_server}
        down = [name for name, value in servers.items() if (value or "").upper() != "OK"]
        await self.health.record_now(DUMMY_SCOPE, not down, ", ".join(f"{n}: {servers[n]}" for n in down) or None)


def _refusal(error: Error) -> dict:
    return {**error_envelope([error], None), "rta": "ERROR"}


def _echo(value: str) -> str:
    return value if len(value) <= 64 else value[:64] + "..."
