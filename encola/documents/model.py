"""The invoice as a document: everything a layout prints, computed once from the stored row.

:func:`build` reads an emitted :class:`~encola.store.rows.InvoiceRow` — ``afip`` (the
``FECAEDetRequest`` AFIP authorized: totals, IVA by rate, tributos, asociados, moneda) and
``view`` (the invoice in TF's consulta shape: cliente and detalle) — and the issuer's
snapshot, and returns a frozen :class:`Document`. Layouts only lay it out: no arithmetic, no
code tables, no ``None`` checks there. Amounts are ``Decimal``; the totals are AFIP's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from encola.documents import labels
from encola.documents.canvas import HOMOLOGACION_MARK, HOMOLOGACION_NOTE, SIMULATOR_MARK, SIMULATOR_NOTE
from encola.documents.issuer import IssuerSnapshot
from encola.documents.text import day
from encola.domain import tables as t
from encola.store.rows import InvoiceRow

ZERO = Decimal("0")
HUNDRED = Decimal("100")
CENT = Decimal("0.01")
ARGENTINA = ZoneInfo("America/Argentina/Buenos_Aires")
# AFIP Tributo ids that Ley 27.743 counts as "otros impuestos nacionales indirectos".
NATIONAL_INDIRECT_TRIBUTOS = {1, 4}


class NotEmitted(ValueError):
    """Only an emitted invoice (numbered, with its CAE and QR) has a document."""


AFIP_ENVS = ("simulador", "homologacion", "produccion")


@dataclass(frozen=True)
class Mark:
    """What a document of a CAE without fiscal validity says, on every page."""

    text: str  # the watermark and band: "SIN VALIDEZ FISCAL — SIMULADOR"
    note: str  # one sentence on where the CAE came from
    authority: str  # the footer's word where a valid one says "ARCA"
    status: str  # the footer's line where a valid one says "Comprobante Autorizado"


MARKS = {
    "simulador": Mark(SIMULATOR_MARK, SIMULATOR_NOTE, "SIMULADOR", "Comprobante NO autorizado por ARCA"),
    "homologacion": Mark(HOMOLOGACION_MARK, HOMOLOGACION_NOTE, "HOMOLOGACIÓN", "Comprobante de prueba, NO válido"),
}


def afip_env_of(simulated: bool, afip_env: str | None) -> str:
    """``afip_env`` when given (simulador | homologacion | produccion), else what ``simulated`` says."""
    if afip_env is None:
        return "simulador" if simulated else "produccion"
    if afip_env not in AFIP_ENVS:
        raise ValueError(f"afip_env must be one of {AFIP_ENVS}, not {afip_env!r}")
    return afip_env


@dataclass(frozen=True)
class Line:
    codigo: str
    descripcion: str
    leyenda: str
    cantidad: Decimal
    unidad: str
    precio_unitario: Decimal  # as printed: IVA included on B (the buyer does not see it apart)
    bonificacion_porcentaje: Decimal
    alicuota: str  # "21%", "Exento", "No grav."; "" on C
    subtotal: Decimal  # as printed: IVA included on B
    subtotal_con_iva: Decimal | None  # A and M only


@dataclass(frozen=True)
class Amount:
    label: str
    value: Decimal


@dataclass(frozen=True)
class Tributo:
    descripcion: str
    base: Decimal
    alicuota: Decimal
    importe: Decimal


@dataclass(frozen=True)
class Asociado:
    tipo: str
    numero: str  # 00002-00000349
    fecha: date | None
    cuit: str

    def describe(self) -> str:
        fecha = f" del {day(self.fecha)}" if self.fecha else ""
        return f"{self.tipo} {self.numero}{fecha} (CUIT {self.cuit})"


@dataclass(frozen=True)
class Buyer:
    razon_social: str
    documento_tipo: str  # "" when the buyer is not identified
    documento_nro: str
    condicion_iva: str
    domicilio: str
    condicion_venta: str


@dataclass(frozen=True)
class Document:
    letter: str
    codigo: str  # "01": AFIP's CbteTipo, at least two digits
    tipo: str  # the TF name, "FACTURA A"
    title: str  # "FACTURA", "NOTA DE CRÉDITO"
    punto_venta: str  # "00010"
    numero: str  # "00000001"
    fecha: date
    issuer: IssuerSnapshot
    issuer_condicion: str
    buyer: Buyer
    concepto: str
    periodo: tuple[date, date] | None  # services only
    vencimiento_pago: date | None  # services only
    asociados: tuple[Asociado, ...]
    periodo_asociado: tuple[date, date] | None
    moneda: str  # AFIP MonId
    moneda_nombre: str
    cotizacion: Decimal
    lines: tuple[Line, ...]
    discriminates_iva: bool  # A and M: IVA by rate apart, prices without IVA
    shows_alicuota: bool  # A, B and M: each line's rate
    totals: tuple[Amount, ...]  # in order, before the total
    tributos: tuple[Tributo, ...]
    total: Decimal
    transparencia: tuple[Amount, ...]  # Ley 27.743, B and C to consumidores finales; else empty
    leyendas: tuple[str, ...]
    cae: str
    cae_vencimiento: date | None
    qr_url: str
    mark: Mark | None  # None: a CAE of AFIP's production service
    created: datetime  # fixed by the invoice, so the same invoice gives the same bytes

    @property
    def comprobante_nro(self) -> str:
        return f"{self.punto_venta}-{self.numero}"

    @property
    def simulated(self) -> bool:
        """Whether the CAE has no fiscal validity (simulator or homologación): every page says so."""
        return self.mark is not None

    @property
    def foreign_currency(self) -> bool:
        return self.moneda != "PES"


def build(row: InvoiceRow, issuer: IssuerSnapshot, *, simulated: bool = False, afip_env: str | None = None) -> Document:
    if row.state != "emitted" or not row.cae or row.numero is None or not row.afip_qr or not row.view:
        raise NotEmitted(f"invoice {row.id} is {row.state}: only an emitted invoice has a document")
    afip, view = row.afip, row.view
    comprobante, cliente = view["comprobante"], view["cliente"]
    tipo = t.TIPOS_BY_CBTE.get(row.cbte_tipo) or t.tipo_comprobante(row.tipo)
    letter = tipo.letter if tipo else row.tipo.split()[-1]
    services = int(afip.get("Concepto", 1)) != 1
    lines = tuple(_line(item, letter) for item in comprobante.get("detalle", ()))
    tributos = tuple(
        Tributo(tr.get("Desc") or "Tributo", _dec(tr["BaseImp"]), _dec(tr["Alic"]), _dec(tr["Importe"]))
        for tr in afip.get("Tributos", ())
    )
    total = _dec(afip["ImpTotal"])
    return Document(
        letter=letter,
        codigo=f"{row.cbte_tipo:02d}",
        tipo=row.tipo,
        title=labels.tipo_title(row.tipo, letter),
        punto_venta=f"{row.punto_venta:05d}",
        numero=f"{row.numero:08d}",
        fecha=row.fecha,
        issuer=issuer,
        issuer_condicion=labels.CONDICIONES_IVA.get(issuer.condicion_iva, issuer.condicion_iva),
        buyer=_buyer(cliente),
        concepto=labels.CONCEPTOS.get(int(afip.get("Concepto", 1)), ""),
        periodo=_period(afip.get("FchServDesde"), afip.get("FchServHasta")) if services else None,
        vencimiento_pago=row.vencimiento if services else None,
        asociados=tuple(_asociado(a) for a in afip.get("CbtesAsoc", ())),
        periodo_asociado=_period(
            (afip.get("PeriodoAsoc") or {}).get("FchDesde"), (afip.get("PeriodoAsoc") or {}).get("FchHasta")
        ),
        moneda=afip.get("MonId", "PES"),
        moneda_nombre=labels.MONEDAS.get(comprobante.get("moneda") or afip.get("MonId"), afip.get("MonId", "")),
        cotizacion=_dec(afip.get("MonCotiz", "1")),
        lines=lines,
        discriminates_iva=letter in ("A", "M"),
        shows_alicuota=letter in ("A", "B", "M"),
        totals=_totals(afip, comprobante, letter, lines, tributos, total),
        tributos=tributos,
        total=total,
        transparencia=_transparencia(afip, cliente, letter, tributos),
        leyendas=_leyendas(comprobante, letter),
        cae=row.cae,
        cae_vencimiento=row.cae_vencimiento,
        qr_url=row.afip_qr,
        mark=MARKS.get(afip_env_of(simulated, afip_env)),
        created=datetime.combine(row.fecha, time(0), tzinfo=ARGENTINA),
    )


def _dec(value: object) -> Decimal:
    try:
        return Decimal(str(value).strip() or "0")
    except InvalidOperation:
        return ZERO


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _afip_date(value: object) -> date | None:
    text = str(value or "")
    if len(text) != 8 or not text.isdigit():
        return None
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def _period(desde: object, hasta: object) -> tuple[date, date] | None:
    start, end = _afip_date(desde), _afip_date(hasta)
    return (start, end) if start and end else None


def _line(item: dict, letter: str) -> Line:
    producto = item.get("producto", {})
    cantidad = _dec(item.get("cantidad"))
    precio = _dec(producto.get("precio_unitario"))
    subtotal = _dec(producto.get("precio_total"))
    rate = _dec(producto.get("alicuota"))
    factor = 1 + max(rate, ZERO) / HUNDRED
    con_iva = None
    if letter == "B":
        precio, subtotal = _money(precio * factor), _money(subtotal * factor)
    elif letter in ("A", "M"):
        con_iva = _money(subtotal * factor)
    return Line(
        codigo=str(producto.get("codigo") or ""),
        descripcion=str(producto.get("descripcion") or "").strip(),
        leyenda=str(item.get("leyenda") or "").strip(),
        cantidad=cantidad,
        unidad=labels.UNIDADES.get(_int(producto.get("unidad_medida")), ""),
        precio_unitario=precio,
        bonificacion_porcentaje=_dec(item.get("bonificacion_porcentaje")),
        alicuota="" if letter == "C" else labels.alicuota(rate),
        subtotal=subtotal,
        subtotal_con_iva=con_iva,
    )


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _buyer(cliente: dict) -> Buyer:
    documento_tipo = str(cliente.get("documento_tipo") or "").strip()
    documento_nro = str(cliente.get("documento_nro") or "").strip()
    if documento_tipo == "OTRO" or documento_nro.strip("0") == "":
        documento_tipo, documento_nro = "", ""
    domicilio = str(cliente.get("domicilio") or "").strip()
    provincia = labels.provincia(cliente.get("provincia"))
    if provincia and provincia.upper() not in domicilio.upper():
        domicilio = f"{domicilio} - {provincia}" if domicilio else provincia
    condicion = str(cliente.get("condicion_iva") or "")
    return Buyer(
        razon_social=str(cliente.get("razon_social") or "").strip(),
        documento_tipo=documento_tipo,
        documento_nro=documento_nro,
        condicion_iva=labels.CONDICIONES_IVA.get(condicion, condicion),
        domicilio=domicilio,
        condicion_venta=labels.CONDICIONES_VENTA.get(_int(cliente.get("condicion_pago")), ""),
    )


def _asociado(asociado: dict) -> Asociado:
    tipo = t.TIPOS_BY_CBTE.get(_int(asociado.get("Tipo")))
    return Asociado(
        tipo=tipo.name if tipo else str(asociado.get("Tipo")),
        numero=f"{_int(asociado.get('PtoVta')) or 0:05d}-{_int(asociado.get('Nro')) or 0:08d}",
        fecha=_afip_date(asociado.get("CbteFch")),
        cuit=str(asociado.get("Cuit") or ""),
    )


def _totals(afip, comprobante, letter, lines, tributos, total) -> tuple[Amount, ...]:
    """The lines above the total: AFIP's split for A and M; a subtotal for B and C."""
    amounts: list[Amount] = []
    bonificacion = _dec(comprobante.get("bonificacion"))
    imp_trib = sum((tr.importe for tr in tributos), ZERO)
    if letter in ("A", "M"):
        if bonificacion:
            amounts += [
                Amount("Subtotal", sum((line.subtotal for line in lines), ZERO)),
                Amount("Bonificación", -bonificacion),
            ]
        amounts.append(Amount("Importe Neto Gravado", _dec(afip.get("ImpNeto"))))
        for group in sorted(afip.get("Iva", ()), key=lambda g: labels.IVA_RATES.get(g["Id"], ZERO), reverse=True):
            rate = labels.IVA_RATES.get(group["Id"], ZERO)
            amounts.append(Amount(f"IVA {labels.rate(rate)}", _dec(group["Importe"])))
        for label, key in (("Importe Exento", "ImpOpEx"), ("Importe No Gravado", "ImpTotConc")):
            if _dec(afip.get(key)):
                amounts.append(Amount(label, _dec(afip.get(key))))
    else:
        before_tributos = total - imp_trib
        if bonificacion:
            printed = sum((line.subtotal for line in lines), ZERO)
            amounts += [Amount("Subtotal", printed), Amount("Bonificación", before_tributos - printed)]
        amounts.append(Amount("Subtotal" if not bonificacion else "Subtotal con bonificación", before_tributos))
    amounts.append(Amount("Importe Otros Tributos", imp_trib))
    return tuple(amounts)


def _transparencia(afip, cliente, letter, tributos) -> tuple[Amount, ...]:
    """Ley 27.743 (RG 5614): what a consumidor final paid in national taxes, on B and C."""
    if letter not in ("B", "C") or cliente.get("condicion_iva") != "CF":
        return ()
    iva = _dec(afip.get("ImpIVA")) if letter == "B" else ZERO
    others = sum((tr.importe for tr, raw in zip(tributos, afip.get("Tributos", ())) if raw.get("Id") in NATIONAL_INDIRECT_TRIBUTOS), ZERO)
    return (Amount("IVA Contenido", iva), Amount("Otros Impuestos Nacionales Indirectos", others))


def _leyendas(comprobante: dict, letter: str) -> tuple[str, ...]:
    leyendas = []
    if letter == "M":
        leyendas.append(labels.LEYENDA_M)
    general = str(comprobante.get("leyenda_gral") or "").strip()
    if general:
        leyendas.append(general)
    return tuple(leyendas)
