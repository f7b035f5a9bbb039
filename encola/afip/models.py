"""Typed values exchanged with WSFEv1: requests we send and answers we get.

AFIP's wire names (`ImpTotal`, `CbteFch`) appear only in `wsfe_xml`; here they
are snake_case. Money is `Decimal`; dates are `datetime.date`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Union

from encola.afip.errors import AfipMessage

ZERO = Decimal("0")


# ---------------------------------------------------------------- request side


@dataclass(frozen=True)
class AlicIva:
    """One VAT rate line: AFIP rate id (3, 4, 5, 6, 8, 9), taxable base, tax."""

    id: int
    base_imp: Decimal
    importe: Decimal


@dataclass(frozen=True)
class Tributo:
    """One other-tax line (`Tributo`); `desc` is required when id is 99."""

    id: int
    base_imp: Decimal
    alic: Decimal
    importe: Decimal
    desc: str | None = None


@dataclass(frozen=True)
class CbteAsoc:
    """An associated comprobante (credit and debit notes)."""

    tipo: int
    pto_vta: int
    nro: int
    cuit: str | None = None
    cbte_fch: date | None = None


@dataclass(frozen=True)
class PeriodoAsoc:
    """An associated period, instead of `CbtesAsoc`, for credit/debit notes."""

    fch_desde: date
    fch_hasta: date


@dataclass(frozen=True)
class Opcional:
    """An optional RG-specific datum (`Opcional{Id, Valor}`)."""

    id: str
    valor: str


@dataclass(frozen=True)
class Comprador:
    """One of several buyers (RG 4109): document and share of the comprobante, in percent."""

    doc_tipo: int
    doc_nro: int
    porcentaje: Decimal


@dataclass(frozen=True)
class Actividad:
    """An activity of the issuer (RG 5259), from FEParamGetActividades."""

    id: int


@dataclass(frozen=True)
class CaeDetail:
    """One `FECAEDetRequest`: a comprobante to authorize."""

    concepto: int
    doc_tipo: int
    doc_nro: int
    cbte_desde: int
    cbte_hasta: int
    cbte_fch: date
    imp_total: Decimal
    imp_tot_conc: Decimal = ZERO
    imp_neto: Decimal = ZERO
    imp_op_ex: Decimal = ZERO
    imp_trib: Decimal = ZERO
    imp_iva: Decimal = ZERO
    fch_serv_desde: date | None = None
    fch_serv_hasta: date | None = None
    fch_vto_pago: date | None = None
    mon_id: str = "PES"
    mon_cotiz: Decimal = Decimal("1")
    can_mis_mon_ext: str | None = None
    condicion_iva_receptor_id: int | None = None
    cbtes_asoc: tuple[CbteAsoc, ...] = ()
    tributos: tuple[Tributo, ...] = ()
    iva: tuple[AlicIva, ...] = ()
    opcionales: tuple[Opcional, ...] = ()
    periodo_asoc: PeriodoAsoc | None = None
    compradores: tuple[Comprador, ...] = ()
    actividades: tuple[Actividad, ...] = ()

    @property
    def numero(self) -> int:
        return self.cbte_desde


# ----------------------------------------------------------------- answer side


@dataclass(frozen=True)
class Accepted:
    """AFIP authorized this detail: it has a CAE."""

    cbte_desde: int
    cbte_hasta: int
    cbte_fch: date | None
    cae: str
    cae_fch_vto: date
    observaciones: tuple[AfipMessage, ...] = ()

    @property
    def numero(self) -> int:
        return self.cbte_desde


@dataclass(frozen=True)
class Rejected:
    """AFIP refused this detail. `observaciones` are the detail's own `Obs`; when it has
    none, `errors` holds the call-level `Errors` that rejected it (e.g. 10016). Verbatim."""

    cbte_desde: int
    cbte_hasta: int
    cbte_fch: date | None
    errors: tuple[AfipMessage, ...] = ()
    observaciones: tuple[AfipMessage, ...] = ()

    @property
    def numero(self) -> int:
        return self.cbte_desde

    @property
    def codes(self) -> tuple[int, ...]:
        return tuple(m.code for m in self.errors + self.observaciones)

    @property
    def is_sequence_error(self) -> bool:
        """10016 as a call-level error: the number/date is not the next one."""
        return any(m.code == 10016 for m in self.errors)


DetailResult = Union[Accepted, Rejected]


@dataclass(frozen=True)
class CaeResult:
    """The answer to one FECAESolicitar: one result per detail, in order."""

    cuit: int
    pto_vta: int
    cbte_tipo: int
    resultado: str  # "A", "R" or "P"
    fch_proceso: datetime | None
    details: tuple[DetailResult, ...]
    errors: tuple[AfipMessage, ...] = ()
    events: tuple[AfipMessage, ...] = ()

    @property
    def accepted(self) -> tuple[Accepted, ...]:
        return tuple(d for d in self.details if isinstance(d, Accepted))

    @property
    def rejected(self) -> tuple[Rejected, ...]:
        return tuple(d for d in self.details if isinstance(d, Rejected))


@dataclass(frozen=True)
class StoredComprobante:
    """What AFIP holds for one comprobante (FECompConsultar `ResultGet`)."""

    cbte_tipo: int
    pto_vta: int
    concepto: int
    doc_tipo: int
    doc_nro: int
    cbte_desde: int
    cbte_hasta: int
    cbte_fch: date | None
    imp_total: Decimal
    imp_tot_conc: Decimal
    imp_neto: Decimal
    imp_op_ex: Decimal
    imp_trib: Decimal
    imp_iva: Decimal
    fch_serv_desde: date | None
    fch_serv_hasta: date | None
    fch_vto_pago: date | None
    mon_id: str | None
    mon_cotiz: Decimal | None
    condicion_iva_receptor_id: int | None
    resultado: str | None
    cod_autorizacion: str | None
    emision_tipo: str | None
    fch_vto: date | None
    fch_proceso: datetime | None
    cbtes_asoc: tuple[CbteAsoc, ...] = ()
    tributos: tuple[Tributo, ...] = ()
    iva: tuple[AlicIva, ...] = ()
    opcionales: tuple[Opcional, ...] = ()
    observaciones: tuple[AfipMessage, ...] = ()
    can_mis_mon_ext: str | None = None
    compradores: tuple[Comprador, ...] = ()
    periodo_asoc: PeriodoAsoc | None = None
    actividades: tuple[Actividad, ...] = ()

    @property
    def numero(self) -> int:
        return self.cbte_desde

    @property
    def cae(self) -> str | None:
        return self.cod_autorizacion if self.emision_tipo in (None, "CAE") else None


@dataclass(frozen=True)
class ServerStatus:
    """FEDummy: each of AFIP's servers reports "OK" when healthy."""

    app_server: str
    db_server: str
    auth_server: str

    @property
    def ok(self) -> bool:
        return (self.app_server, self.db_server, self.auth_server) == ("OK", "OK", "OK")


@dataclass(frozen=True)
class ParamItem:
    """One row of a FEParamGet* code table; `fch_hasta` None means still valid."""

    id: str
    desc: str
    fch_desde: date | None = None
    fch_hasta: date | None = None


@dataclass(frozen=True)
class Cotizacion:
    """FEParamGetCotizacion: AFIP's exchange rate for a currency on a date."""

    mon_id: str
    mon_cotiz: Decimal
    fch_cotiz: date | None


@dataclass(frozen=True)
class CondicionIvaReceptor:
    """One row of FEParamGetCondicionIvaReceptor."""

    id: int
    desc: str
    cmp_clase: str


@dataclass(frozen=True)
class PuntoVenta:
    """One row of FEParamGetPtosVenta."""

    nro: int
    emision_tipo: str
    bloqueado: bool
    fch_baja: date | None = None


@dataclass(frozen=True)
class Ticket:
    """A WSAA access ticket (TA): pass `token` and `sign` verbatim to WSFEv1."""

    token: str
    sign: str
    expiration_time: datetime
    generation_time: datetime | None = None

    def valid_at(self, moment: datetime, margin_seconds: float = 0.0) -> bool:
        return (self.expiration_time - moment).total_seconds() > margin_seconds
