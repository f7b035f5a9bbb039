"""TusFacturas reference tables and their AFIP codes.

The TF column is what clients send (``10-tablas-de-referencia.md``); the AFIP column is what
WSFEv1 expects (``reference/afip/README.md`` §7). Kept as plain data so the domain, the
engine's mapping to ``FECAEDetRequest`` and the simulator share one source.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum


class Kind(str, Enum):
    FACTURA = "factura"
    NOTA_DEBITO = "nota_debito"
    NOTA_CREDITO = "nota_credito"
    RECIBO = "recibo"


@dataclass(frozen=True)
class TipoComprobante:
    name: str  # the TF wire name, e.g. "FACTURA A"
    cbte_tipo: int | None  # AFIP CbteTipo; None when AFIP has no WSFEv1 code for it
    letter: str  # A, B, C, M or E ("" for non-fiscal types)
    kind: Kind
    fce: bool = False
    queueable: bool = True  # False: refused by nuevo_encola (E, non-fiscal)

    @property
    def needs_asociados(self) -> bool:
        """NC and ND must reference comprobantes or a period (AFIP RG 4540)."""
        return self.kind in (Kind.NOTA_CREDITO, Kind.NOTA_DEBITO)

    @property
    def discriminates_iva(self) -> bool:
        """A and M show IVA apart; B includes it for the buyer but AFIP still gets the split."""
        return self.letter in ("A", "B", "M")


def _t(name, code, letter, kind, fce=False, queueable=True):
    return TipoComprobante(name, code, letter, kind, fce, queueable)


_F, _D, _C, _R = Kind.FACTURA, Kind.NOTA_DEBITO, Kind.NOTA_CREDITO, Kind.RECIBO

TIPOS_COMPROBANTE: dict[str, TipoComprobante] = {
    t.name: t
    for t in (
        _t("FACTURA A", 1, "A", _F),
        _t("NOTA DE DEBITO A", 2, "A", _D),
        _t("NOTA DE CREDITO A", 3, "A", _C),
        _t("RECIBO A", 4, "A", _R),
        _t("FACTURA B", 6, "B", _F),
        _t("NOTA DE DEBITO B", 7, "B", _D),
        _t("NOTA DE CREDITO B", 8, "B", _C),
        _t("RECIBO B", 9, "B", _R),
        _t("FACTURA C", 11, "C", _F),
        _t("NOTA DE DEBITO C", 12, "C", _D),
        _t("NOTA DE CREDITO C", 13, "C", _C),
        _t("RECIBO C", 15, "C", _R),
        _t("FACTURA M", 51, "M", _F),
        _t("NOTA DE DEBITO M", 52, "M", _D),
        _t("NOTA DE CREDITO M", 53, "M", _C),
        _t("FACTURA E", 19, "E", _F, queueable=False),
        _t("NOTA DE DEBITO E", 20, "E", _D, queueable=False),
        _t("NOTA DE CREDITO E", 21, "E", _C, queueable=False),
        _t("FACTURA NO VALIDA EN AFIP", None, "", _F, queueable=False),
        _t("NOTA DE CREDITO NO VALIDA EN AFIP", None, "", _C, queueable=False),
        _t("FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) A", 201, "A", _F, fce=True),
        _t("NOTA DE DEBITO ELECTRONICA MiPyME (FCE) A", 202, "A", _D, fce=True),
        _t("NOTA DE CREDITO ELECTRONICA MiPyME (FCE) A", 203, "A", _C, fce=True),
        _t("FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) B", 206, "B", _F, fce=True),
        _t("NOTA DE DEBITO ELECTRONICA MiPyME (FCE) B", 207, "B", _D, fce=True),
        _t("NOTA DE CREDITO ELECTRONICA MiPyME (FCE) B", 208, "B", _C, fce=True),
        _t("FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) C", 211, "C", _F, fce=True),
        _t("NOTA DE DEBITO ELECTRONICA MiPyME (FCE) C", 212, "C", _D, fce=True),
        _t("NOTA DE CREDITO ELECTRONICA MiPyME (FCE) C", 213, "C", _C, fce=True),
    )
}
# Clients write the MiPyME names in any case; look them up case-insensitively.
_TIPOS_BY_UPPER = {name.upper(): t for name, t in TIPOS_COMPROBANTE.items()}
TIPOS_BY_CBTE = {t.cbte_tipo: t for t in TIPOS_COMPROBANTE.values() if t.cbte_tipo}


def tipo_comprobante(name: str) -> TipoComprobante | None:
    return _TIPOS_BY_UPPER.get(" ".join(name.split()).upper())


# documento_tipo → AFIP DocTipo
DOCUMENTO_TIPOS: dict[str, int] = {
    "CUIT": 80,
    "CUIL": 86,
    "CDI": 87,
    "PASAPORTE": 94,
    "DNI": 96,
    "OTRO": 99,
}

# cliente.condicion_iva (and condicion_iva_operacion) → AFIP CondicionIVAReceptorId (RG 5616)
CONDICIONES_IVA: dict[str, int] = {
    "RI": 1,
    "E": 4,
    "CF": 5,
    "M": 6,
    "CDEX": 9,
    "IVNA": 15,
}

# Which letters each receptor condition may receive (AFIP §7.6; M is the old name of A-leyenda).
LETRAS_POR_CONDICION: dict[str, frozenset[str]] = {
    "RI": frozenset("AMC"),
    "M": frozenset("AMC"),
    "E": frozenset("BC"),
    "CF": frozenset("BC"),
    "CDEX": frozenset("BC"),
    "IVNA": frozenset("BC"),
}

# Which letters an emitter of each condition issues: RI issues A/B/M, monotributo and exento issue C.
LETRAS_POR_EMISOR: dict[str, frozenset[str]] = {
    "RI": frozenset("ABM"),
    "M": frozenset("C"),
    "E": frozenset("C"),
}

# producto.alicuota → AFIP AlicIva Id. -1 (exento) and -2 (no gravado) carry no IVA entry.
ALICUOTAS_IVA: dict[Decimal, int] = {
    Decimal("0"): 3,
    Decimal("10.5"): 4,
    Decimal("21"): 5,
    Decimal("27"): 6,
    Decimal("5"): 8,
    Decimal("2.5"): 9,
}
ALICUOTA_EXENTO = Decimal("-1")
ALICUOTA_NO_GRAVADO = Decimal("-2")

PROVINCIAS: dict[int, str] = {
    1: "CIUDAD AUTONOMA DE BUENOS AIRES", 2: "BUENOS AIRES", 3: "CATAMARCA", 4: "CHACO",
    5: "CHUBUT", 6: "CORDOBA", 7: "CORRIENTES", 8: "ENTRE RIOS", 9: "FORMOSA", 10: "JUJUY",
    11: "LA PAMPA", 12: "LA RIOJA", 13: "MENDOZA", 14: "MISIONES", 15: "NEUQUEN",
    16: "RIO NEGRO", 17: "SALTA", 18: "SAN JUAN", 19: "SAN LUIS", 20: "SANTA CRUZ",
    21: "SANTA FE", 22: "SANTIAGO DEL ESTERO", 23: "TIERRA DEL FUEGO", 24: "TUCUMAN",
    25: "Otro", 26: "-",
}

# condicion_pago → days until the payment is due (used to default `vencimiento`)
CONDICIONES_VENTA: dict[int, int] = {
    213: 5, 206: 10, 207: 15, 209: 20, 202: 30, 208: 45, 203: 60, 204: 90,
    201: 0, 205: 0, 210: 0, 211: 0, 212: 0, 214: 0, 215: 0, 216: 0, 217: 0,
}
CONDICION_VENTA_OTRA = 214

# moneda as sent → AFIP MonId. TF's codes are AFIP's own.
MONEDAS: dict[str, str] = {
    "PES": "PES", "DOL": "DOL", "004": "004", "003": "003", "011": "011", "012": "012",
    "023": "023", "033": "033", "032": "032", "031": "031", "060": "060", "036": "036",
    "035": "035", "010": "010",
}

IDIOMAS = {1, 2}

UNIDADES_MEDIDA = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 20, 25, 27, 29, 30, 31, 32, 33,
    34, 35, 41, 47, 48, 49, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 66, 67, 68, 95, 96, 97, 98,
}

# tributos.tipo → AFIP Tributo Id
TRIBUTO_TIPOS: dict[int, int] = {6: 6, 7: 7, 1: 1}
TRIBUTO_REGIMENES: dict[int, int] = {  # regimen → the tributo tipo it belongs to
    1: 6, 2: 6, 3: 6,
    **{r: 7 for r in range(4, 29)},
    31: 1, 32: 1, 33: 1, 34: 1,
}
TRIBUTO_TIPO_DESCRIPCION = {
    6: "Percepcion de IVA",
    7: "Percepcion de IIBB",
    1: "Percepcion de Impuestos Nacionales",
}

# Conceptos a PDV invoices: P products (AFIP Concepto 1), S services (2), PS both (3).
CONCEPTOS = {"P": 1, "S": 2, "PS": 3}

MAX_ITEMS = 130
MAX_TAGS = 50
MAX_TRIBUTOS = 7
MAX_EXTERNAL_REFERENCE = 255
