"""The invoice model: what a valid ``nuevo_encola`` request means, with its values typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from encola.domain.tables import TipoComprobante


@dataclass(frozen=True)
class Issuer:
    """What validation needs to know of the point of sale the credentials resolved to."""

    cuit: str
    punto_venta: int
    condicion_iva: str  # RI, M or E
    conceptos: str  # P, S or PS


@dataclass(frozen=True)
class Cliente:
    documento_tipo: str
    documento_nro: str
    razon_social: str
    domicilio: str
    provincia: int
    envia_por_mail: str
    condicion_pago: int
    condicion_iva: str
    condicion_iva_operacion: str
    email: str = ""
    condicion_pago_otra: str = ""
    codigo: str = ""
    rg5329: str = "N"
    nombre_fantasia: str = ""


@dataclass(frozen=True)
class Item:
    cantidad: Decimal
    descripcion: str
    precio_unitario: Decimal  # without IVA for A/B/M, final for C; 3 decimals
    alicuota: Decimal  # 27, 21, 10.5, 5, 2.5, 0, -1 (exento) or -2 (no gravado)
    bonificacion_porcentaje: Decimal = Decimal("0")
    impuestos_internos_alicuota: Decimal = Decimal("0")
    unidad_bulto: int = 1
    unidad_medida: int = 7
    lista_precios: str = ""
    codigo: str = ""
    leyenda: str = ""
    afecta_stock: str = "N"
    actualiza_precio: str = "N"
    rg5329: str = "N"


@dataclass(frozen=True)
class Tributo:
    tipo: int
    regimen: int
    base_imponible: Decimal
    alicuota: Decimal
    total: Decimal


@dataclass(frozen=True)
class Asociado:
    tipo: TipoComprobante
    punto_venta: int
    numero: int
    fecha: date | None
    cuit: str


@dataclass(frozen=True)
class Periodo:
    desde: date
    hasta: date


@dataclass(frozen=True)
class Opcional:
    id: str
    valor: str


@dataclass(frozen=True)
class Invoice:
    tipo: TipoComprobante
    fecha: date
    vencimiento: date
    punto_venta: int
    moneda: str
    cotizacion: Decimal
    idioma: int
    concepto: int  # AFIP Concepto: 1 products, 2 services, 3 both
    rubro: str
    rubro_grupo_contable: str
    cliente: Cliente
    items: tuple[Item, ...]
    total: Decimal  # as sent, 2 decimals
    external_reference: str
    periodo_facturado: Periodo | None = None
    bonificacion: Decimal = Decimal("0")
    tributos: tuple[Tributo, ...] = ()
    impuestos_internos: Decimal | None = None
    impuestos_internos_base: Decimal | None = None
    impuestos_internos_alicuota: Decimal | None = None
    asociados: tuple[Asociado, ...] = ()
    periodo_asociado: Periodo | None = None
    rg_regimen: str = ""
    opcionales: tuple[Opcional, ...] = ()
    paga_misma_moneda: str = ""
    tags: tuple[str, ...] = ()
    leyenda_gral: str = ""
    comentario: str = ""
    extra: dict = field(default_factory=dict)  # abono and pagos, kept for the consultas only
