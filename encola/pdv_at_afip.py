"""A point of sale where encola emits: registered at the simulator, checked at AFIP.

AFIP authorizes only on points of sale the CUIT registered at ARCA ("ABM de puntos de
venta"), and so does the simulator. `encola pdv create` calls `register_at_simulator`
before it stores anything when CAEs come from a simulator (the embedded one or
ENCOLA_AFIP_URL), so what worked before keeps working with no extra step; against
homologación or producción it calls `check_at_afip` afterwards, which asks
FEParamGetPtosVenta when the CUIT has a certificate, and otherwise says what to do at ARCA.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from encola.settings import Settings

SIMULATOR_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
ARCA_STEPS = (
    "At ARCA (Clave Fiscal), service \"Administracion de puntos de venta y domicilios\" -> \"A/B/M de puntos de "
    "venta\": add point of sale {pv} with the system \"RECE para aplicativo y web services\" (Responsable "
    "Inscripto) or \"Factura Electronica - Monotributo - Web Services\" (monotributo)."
)


class RegistrationFailed(Exception):
    """The simulator could not be told about the point of sale (the message says what to do)."""


@dataclass(frozen=True)
class AfipCheck:
    """What AFIP said about a point of sale: `ok` False only when AFIP answered that it cannot be used."""

    ok: bool
    message: str


def register_at_simulator(settings: Settings, cuit: str, punto_venta: int) -> str:
    """Register a CAE point of sale at the simulator unless it is registered already; a line to show."""
    if settings.afip_mode == "embedded":
        return _register_embedded(settings.afip_sim_ledger, int(cuit), punto_venta)
    return _register_remote(settings.afip_url or "", int(cuit), punto_venta)


def _register_embedded(ledger_path: str, cuit: int, punto_venta: int) -> str:
    import sqlite3

    from encola.afip_sim.ledger import Ledger

    try:
        ledger = Ledger(ledger_path)  # the file the embedded simulator of `encola serve` reads
    except sqlite3.Error as exc:
        raise RegistrationFailed(
            f"the embedded AFIP simulator's ledger {ledger_path} cannot be opened ({exc}); "
            "fix ENCOLA_AFIP_SIM_LEDGER and run this command again"
        ) from None
    try:
        found = ledger.point_of_sale(cuit, punto_venta)
        if found is None:
            ledger.register_point_of_sale(cuit, punto_venta, "CAE")
            return f"point of sale {punto_venta} registered at the embedded AFIP simulator ({ledger_path})"
        return f"point of sale {punto_venta} already registered at the embedded AFIP simulator as {found.emision_tipo}"
    finally:
        ledger.close()


def _register_remote(base_url: str, cuit: int, punto_venta: int) -> str:
    url = base_url.rstrip("/") + "/_sim/puntos_venta"
    try:
        listed = httpx.get(url, params={"cuit": str(cuit)}, timeout=SIMULATOR_TIMEOUT)
        listed.raise_for_status()
        found = next((p for p in listed.json() if p.get("punto_venta") == punto_venta), None)
        if found is not None:
            return f"point of sale {punto_venta} already registered at the AFIP simulator as {found['emision_tipo']}"
        answer = httpx.post(url, json={"cuit": cuit, "punto_venta": punto_venta, "emision_tipo": "CAE"},
                            timeout=SIMULATOR_TIMEOUT)
        answer.raise_for_status()
    except (httpx.HTTPError, ValueError) as exc:
        raise RegistrationFailed(
            f"the AFIP simulator at {base_url} could not register point of sale {punto_venta} ({exc}); "
            "start `encola afip-sim` there (or unset ENCOLA_AFIP_URL) and run this command again"
        ) from None
    return f"point of sale {punto_venta} registered at the AFIP simulator {base_url}"


def check_at_afip(store, settings: Settings, cuit: str, punto_venta: int) -> AfipCheck:
    """Ask AFIP (FEParamGetPtosVenta) whether the point of sale can authorize CAEs."""
    if store.credentials_of(cuit) is None:
        return AfipCheck(True, (
            f"point of sale {punto_venta} not checked at AFIP ({settings.afip_mode}): CUIT {cuit} has no certificate "
            f"yet (`encola pdv cert`). Make sure it exists: " + ARCA_STEPS.format(pv=punto_venta)
        ))
    return asyncio.run(_ask_afip(store, settings, cuit, punto_venta))


async def _ask_afip(store, settings: Settings, cuit: str, punto_venta: int) -> AfipCheck:
    from encola.afip.errors import AfipError
    from encola.runtime import build_engine

    access = build_engine(store, settings).afip
    try:
        listed = await (await access.client(cuit)).puntos_venta()
    except AfipError as exc:
        return AfipCheck(True, f"point of sale {punto_venta} not checked: AFIP ({settings.afip_mode}) did not answer ({exc})")
    finally:
        await access.aclose()
    return judge(listed, cuit, punto_venta, settings.afip_mode)


def judge(listed, cuit: str, punto_venta: int, env: str) -> AfipCheck:
    """AFIP's list of points of sale (PuntoVenta rows) against the one encola will emit on."""
    found = next((p for p in listed if p.nro == punto_venta), None)
    where = f"AFIP ({env}) for CUIT {cuit}"
    if found is None:
        known = ", ".join(str(p.nro) for p in listed) or "none"
        return AfipCheck(False, f"point of sale {punto_venta} is not registered at {where} (registered: {known}). "
                                + ARCA_STEPS.format(pv=punto_venta))
    # EmisionTipo reads "CAE - Ri Iva", "CAEA - ...": the mode is the first word.
    mode = found.emision_tipo.split(" ", 1)[0].strip().upper()
    if mode != "CAE":
        return AfipCheck(False, f"point of sale {punto_venta} is registered at {where} as {found.emision_tipo!r}, "
                                "not for CAE web services: use another point of sale or register one as RECE at ARCA")
    if found.bloqueado or found.fch_baja is not None:
        state = "blocked" if found.bloqueado else f"dado de baja on {found.fch_baja:%d/%m/%Y}"
        return AfipCheck(False, f"point of sale {punto_venta} is {state} at {where}: AFIP will refuse its invoices (10005)")
    return AfipCheck(True, f"point of sale {punto_venta} found at {where} ({found.emision_tipo})")


def before_provisioning(settings: Settings, cuit: str, punto_venta: int) -> str | None:
    """`pdv create`, before it stores anything: the simulator's registration (a note), None for AFIP."""
    import click

    if not settings.simulated:
        return None
    try:
        return register_at_simulator(settings, cuit, punto_venta)
    except RegistrationFailed as exc:
        raise click.ClickException(str(exc)) from None


def after_provisioning(note: str | None, store, settings: Settings, cuit: str, punto_venta: int) -> None:
    """`pdv create`, once stored: the note or AFIP's check on stderr (stdout is the keys' JSON);
    exit 1 when AFIP answers that the point of sale cannot authorize CAEs."""
    import click

    if note is not None:
        click.echo(note, err=True)
        return
    checked = check_at_afip(store, settings, cuit, punto_venta)
    click.echo(checked.message, err=True)
    if not checked.ok:
        raise SystemExit(1)
