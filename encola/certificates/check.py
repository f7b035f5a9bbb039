"""``encola afip check``: ask AFIP, step by step, whether a CUIT is ready to emit, and say what
to fix for each step that is not.

Steps: FEDummy; the stored certificate; a WSAA ticket (the stored one while valid, so a check
never costs a coe.alreadyAuthenticated); FECompTotXRequest; FEParamGetPtosVenta against the
points of sale encola has for the CUIT; FECompUltimoAutorizado per comprobante type each of them
emits.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field

from encola.afip import AfipError, check_certificate
from encola.afip.certs import CertificateProblem
from encola.afip.wsaa import WSFE_SERVICE, now_argentina
from encola.domain.tables import TIPOS_BY_CBTE

# The comprobante types a point of sale emits, by its condición IVA (FCE left out: few use it).
CBTE_TIPOS = {"RI": (1, 2, 3, 6, 7, 8), "M": (11, 12, 13), "E": (11, 12, 13)}
STEP_TIMEOUT = 60.0


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def good(self, step: str, text: str) -> None:
        self.lines.append(f"  OK    {step:<20} {text}")

    def bad(self, step: str, text: str) -> None:
        self.ok = False
        self.lines.append(f"  FAIL  {step:<20} {text}")

    def note(self, text: str) -> None:
        self.lines.append(f"        {'':<20} {text}")


def _where(settings) -> str:
    mode = settings.afip_mode
    if mode == "simulator":
        return f"the simulator at {settings.afip_url}"
    if mode == "embedded":
        return "the embedded simulator"
    return f"AFIP {mode}"


async def run_check(store, settings, cuit: str, environment: str | None) -> Report:
    from encola.runtime import build_engine

    if environment is not None:
        settings = dataclasses.replace(settings, afip_env=environment, afip_url=None)
    report = Report([f"encola afip check: CUIT {cuit} against {_where(settings)}"])
    access = build_engine(store, settings).afip
    try:
        await _steps(report, store, access, cuit, settings.afip_mode == "homologacion")
    finally:
        await access.aclose()
    report.lines.append("result: OK" if report.ok else "result: FAILED (see the FAIL lines)")
    return report


async def _steps(report: Report, store, access, cuit: str, homologacion: bool) -> None:
    from encola.engine.afip_access import MissingCertificate

    pdvs = [p for p in await asyncio.to_thread(store.all_pdvs) if p.cuit == cuit]
    try:
        client = await asyncio.wait_for(access.client(cuit), STEP_TIMEOUT)
    except MissingCertificate:
        report.bad("certificate", f"no certificate for CUIT {cuit}: `encola cert new`, then `encola pdv cert` "
                                  "(docs/going-live.md)")
        return
    except (AfipError, OSError, TimeoutError) as exc:
        report.bad("certificate", f"could not get one from the simulator: {exc}")
        return
    await _dummy(report, client)
    _certificate(report, store, cuit)
    if not await _login(report, access, client, cuit):
        return
    await _step(report, "FECompTotXRequest", client.max_records_per_request(),
                lambda n: f"{n} comprobantes per FECAESolicitar")
    registered = await _points_of_sale(report, client, pdvs, homologacion)
    await _last_numbers(report, client, pdvs, registered)


async def _step(report: Report, name: str, call, describe) -> object | None:
    try:
        value = await asyncio.wait_for(call, STEP_TIMEOUT)
    except (AfipError, TimeoutError) as exc:
        report.bad(name, _error(exc))
        return None
    report.good(name, describe(value))
    return value


def _error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {STEP_TIMEOUT:.0f} s"
    text = str(exc) or type(exc).__name__
    for message in getattr(exc, "errors", ()):
        text += f" [{message.code}: {message.msg}]"
    return text


async def _dummy(report: Report, client) -> None:
    try:
        status = await asyncio.wait_for(client.dummy(), STEP_TIMEOUT)
    except (AfipError, TimeoutError) as exc:
        report.bad("FEDummy", _error(exc))
        return
    text = f"AppServer {status.app_server}, DbServer {status.db_server}, AuthServer {status.auth_server}"
    (report.good if status.ok else report.bad)("FEDummy", text)


def _certificate(report: Report, store, cuit: str) -> None:
    stored = store.credentials_of(cuit)
    if stored is None:
        return
    try:
        info = check_certificate(stored[0], stored[1], cuit)
    except CertificateProblem as exc:
        report.bad("certificate", f"{exc}: `encola pdv cert` with a good one")
        return
    days = info.days_left()
    text = f"{info.subject}, issued by {info.issuer}, valid until {info.not_after:%Y-%m-%d} ({days} days)"
    report.good("certificate", text)
    if info.expiring():
        report.note(f"WARNING: it expires in {days} days: renew it (docs/going-live.md, Renewing the certificate)")


async def _login(report: Report, access, client, cuit: str) -> bool:
    before = await access.cache.get(cuit, WSFE_SERVICE)
    try:
        ticket = await asyncio.wait_for(client.wsaa.ticket(int(cuit), WSFE_SERVICE), STEP_TIMEOUT)
    except (AfipError, TimeoutError) as exc:
        report.bad("WSAA login", _error(exc))
        hint = _wsaa_hint(getattr(exc, "faultcode", ""))
        if hint:
            report.note(hint)
        return False
    how = "reused the stored ticket" if before is not None and before.token == ticket.token else "new ticket"
    until = ticket.expiration_time.astimezone(now_argentina().tzinfo)
    report.good("WSAA login", f"{how}, valid until {until:%Y-%m-%d %H:%M} (Argentina)")
    return True


def _wsaa_hint(faultcode: str) -> str:
    return {
        "cms.cert.untrusted": "AFIP's CA did not issue this certificate for this environment: a homologación "
                              "certificate (WSASS) works only in homologación, a producción one only in producción",
        "cms.cert.expired": "the certificate expired: `encola cert new` and ask ARCA for a new one",
        "coe.notAuthorized": "the certificate is not authorized for wsfe: WSASS > \"Crear autorización a servicio\" "
                             "(homologación) or a relation for \"Facturación Electrónica\" (producción)",
        "coe.alreadyAuthenticated": "WSAA holds a ticket for this certificate that encola does not have (another "
                                    "system uses the same certificate?): wait, or use a certificate of encola's own",
    }.get(faultcode, "")


async def _points_of_sale(report: Report, client, pdvs, homologacion: bool) -> set[int] | None:
    try:
        found = await asyncio.wait_for(client.puntos_venta(), STEP_TIMEOUT)
    except (AfipError, TimeoutError) as exc:
        errors = getattr(exc, "errors", ())
        if errors and all(message.code == 602 for message in errors):  # "Sin Resultados": none registered
            found = ()
        else:
            report.bad("puntos de venta", _error(exc))
            return None
    usable = {p.nro for p in found if not p.bloqueado and p.fch_baja is None}
    listed = ", ".join(
        f"{p.nro} ({p.emision_tipo}{', bloqueado' if p.bloqueado else ''}{', baja' if p.fch_baja else ''})" for p in found
    ) or "none"
    missing = sorted(p.punto_venta for p in pdvs if p.punto_venta not in usable)
    if missing and homologacion and not found:
        # Homologación commonly lists no point of sale at all and takes any number: not a failure.
        report.good("puntos de venta", "AFIP homologación lists none (it takes any number there)")
        return None
    if missing:
        report.bad("puntos de venta", f"AFIP: {listed}; encola's {', '.join(map(str, missing))} not usable at AFIP")
        report.note('register them at ARCA: "Administración de puntos de venta y domicilios" > A/B/M de puntos de venta, '
                    'type "RECE para aplicativo y web services"')
    else:
        report.good("puntos de venta", f"AFIP: {listed}" + (f"; encola: {', '.join(str(p.punto_venta) for p in pdvs)}" if pdvs else ""))
    return usable


async def _last_numbers(report: Report, client, pdvs, registered: set[int] | None) -> None:
    if not pdvs:
        report.note("encola has no point of sale of this CUIT: `encola pdv create` (no last numbers to show)")
        return
    for pdv in pdvs:
        if registered is not None and pdv.punto_venta not in registered:
            continue
        numbers = []
        for cbte_tipo in CBTE_TIPOS.get(pdv.condicion_iva, ()):
            try:
                last = await asyncio.wait_for(client.last_authorized(pdv.punto_venta, cbte_tipo), STEP_TIMEOUT)
            except (AfipError, TimeoutError) as exc:
                report.bad(f"last numbers PV {pdv.punto_venta}", f"{TIPOS_BY_CBTE[cbte_tipo].name}: {_error(exc)}")
                break
            numbers.append(f"{TIPOS_BY_CBTE[cbte_tipo].name} {last}")
        else:
            report.good(f"last numbers PV {pdv.punto_venta}", "; ".join(numbers))
