"""Points of sale registered per CUIT, as in ARCA's "ABM de puntos de venta".

AFIP authorizes a comprobante only on a point of sale the CUIT registered for web
services of the right kind: `FECAESolicitar` needs an active CAE ("RECE") point of
sale (10005), `FECompUltimoAutorizado` one registered in WSFEv1 at all (11002), the
CAEA operations a CAEA one. `FEParamGetPtosVenta` lists them with AFIP's shape
(recorded: `<PtoVenta><Nro>3</Nro><EmisionTipo>CAE - Ri Iva</EmisionTipo>
<Bloqueado>N</Bloqueado><FchBaja>NULL</FchBaja></PtoVenta>`).

The registry itself lives in the ledger (`Ledger.register_point_of_sale`,
`Ledger.point_of_sale`); this module holds the value, the checks and the rendering.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

# Emission modes a point of sale is registered for (ARCA's ABM offers more, e.g. fiscal
# printers, but only these two are web-service modes of WSFEv1).
EMISION_TIPOS = ("CAE", "CAEA")
# The suffix AFIP adds to EmisionTipo: the issuer's VAT regime. The recording shows
# "Ri Iva" (a Responsable Inscripto); the simulator reports every point of sale that way.
REGIMEN = "Ri Iva"

MSG_NOT_RECE = "El punto de venta informado debe estar dado de alta y ser del tipo RECE."
MSG_NOT_IN_WS = "Debe ser un punto de venta habilitado en este WS. Consultar metodo FEParamGetPtosVenta"


@dataclass(frozen=True)
class PointOfSale:
    cuit: int
    nro: int
    emision_tipo: str  # "CAE" | "CAEA"
    bloqueado: bool = False
    fch_baja: str | None = None  # yyyymmdd once dado de baja

    def active_on(self, day: date) -> bool:
        """Not blocked and not dado de baja by `day`."""
        return not self.bloqueado and not (self.fch_baja and self.fch_baja <= day.strftime("%Y%m%d"))

    def as_json(self) -> dict:
        return {"cuit": self.cuit, "punto_venta": self.nro, "emision_tipo": self.emision_tipo,
                "bloqueado": self.bloqueado, "fch_baja": self.fch_baja}


def cae_error(pos: PointOfSale | None, day: date) -> tuple[int, str] | None:
    """FECAESolicitar's header check: the point of sale must exist, be CAE and be active (10005)."""
    if pos is None or pos.emision_tipo != "CAE" or not pos.active_on(day):
        return (10005, MSG_NOT_RECE)
    return None


def ultimo_error(pos: PointOfSale | None) -> tuple[int, str] | None:
    """FECompUltimoAutorizado's check: any point of sale registered in WSFEv1, CAE or CAEA (11002).

    Blocked or dado de baja points of sale still answer: their numbering stays readable."""
    return (11002, MSG_NOT_IN_WS) if pos is None else None


def pto_venta_xml(pos: PointOfSale) -> str:
    """One `PtoVenta` of FEParamGetPtosVenta, in AFIP's element order."""
    return (
        f"<PtoVenta><Nro>{pos.nro}</Nro><EmisionTipo>{pos.emision_tipo} - {REGIMEN}</EmisionTipo>"
        f"<Bloqueado>{'S' if pos.bloqueado else 'N'}</Bloqueado><FchBaja>{pos.fch_baja or 'NULL'}</FchBaja></PtoVenta>"
    )


class RegistrationError(ValueError):
    """A `/_sim/puntos_venta` request the simulator cannot take (the message says why)."""


def parse_registration(body: object) -> PointOfSale:
    """A `POST /_sim/puntos_venta` body: {cuit, punto_venta, emision_tipo?, bloqueado?, fch_baja?}."""
    if not isinstance(body, dict):
        raise RegistrationError("expected a JSON object {cuit, punto_venta, emision_tipo}")
    cuit = _integer(body.get("cuit"), "cuit")
    if not 10**10 <= cuit < 10**11:
        raise RegistrationError("cuit must have 11 digits")
    nro = _integer(body.get("punto_venta"), "punto_venta")
    if not 1 <= nro <= 99998:
        raise RegistrationError("punto_venta must be between 1 and 99998")
    emision_tipo = body.get("emision_tipo", "CAE")
    if emision_tipo not in EMISION_TIPOS:
        raise RegistrationError(f"emision_tipo must be one of {', '.join(EMISION_TIPOS)}")
    bloqueado = body.get("bloqueado", False)
    if not isinstance(bloqueado, bool):
        raise RegistrationError("bloqueado must be true or false")
    fch_baja = body.get("fch_baja")
    if fch_baja is not None:
        if not isinstance(fch_baja, str) or not _is_yyyymmdd(fch_baja):
            raise RegistrationError("fch_baja must be a date yyyymmdd or null")
    return PointOfSale(cuit, nro, emision_tipo, bloqueado, fch_baja)


def _integer(value: object, name: str) -> int:
    # JSON numbers or digit strings (CUITs are often written as strings); never bools or floats.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 11:
        return int(value)
    raise RegistrationError(f"{name} must be an integer")


def _is_yyyymmdd(value: str) -> bool:
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        return False
    try:
        datetime.strptime(value, "%Y%m%d")
    except ValueError:
        return False
    return True
