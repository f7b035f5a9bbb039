"""AFIP code tables the simulator answers with and validates against (README §7)."""

from __future__ import annotations

from decimal import Decimal

# (id, description, fch_desde)
TIPOS_CBTE = [
    (1, "Factura A", "20100917"), (2, "Nota de Débito A", "20100917"), (3, "Nota de Crédito A", "20100917"),
    (4, "Recibos A", "20100917"), (5, "Notas de Venta al contado A", "20100917"),
    (6, "Factura B", "20100917"), (7, "Nota de Débito B", "20100917"), (8, "Nota de Crédito B", "20100917"),
    (9, "Recibos B", "20100917"), (10, "Notas de Venta al contado B", "20100917"),
    (11, "Factura C", "20110330"), (12, "Nota de Débito C", "20110330"), (13, "Nota de Crédito C", "20110330"),
    (15, "Recibo C", "20110330"), (49, "Comprobante de Compra de Bienes Usados a Consumidor Final", "20130401"),
    (51, "Factura A con leyenda Operación sujeta a retención", "20150522"),
    (52, "Nota de Débito A con leyenda Operación sujeta a retención", "20150522"),
    (53, "Nota de Crédito A con leyenda Operación sujeta a retención", "20150522"),
    (54, "Recibo A con leyenda Operación sujeta a retención", "20150522"),
    (201, "Factura de Crédito electrónica MiPyMEs (FCE) A", "20181226"),
    (202, "Nota de Débito electrónica MiPyMEs (FCE) A", "20181226"),
    (203, "Nota de Crédito electrónica MiPyMEs (FCE) A", "20181226"),
    (206, "Factura de Crédito electrónica MiPyMEs (FCE) B", "20181226"),
    (207, "Nota de Débito electrónica MiPyMEs (FCE) B", "20181226"),
    (208, "Nota de Crédito electrónica MiPyMEs (FCE) B", "20181226"),
    (211, "Factura de Crédito electrónica MiPyMEs (FCE) C", "20181226"),
    (212, "Nota de Débito electrónica MiPyMEs (FCE) C", "20181226"),
    (213, "Nota de Crédito electrónica MiPyMEs (FCE) C", "20181226"),
]
CLASS_A = {1, 2, 3, 4, 5, 34, 39, 60, 63, 201, 202, 203}
CLASS_B = {6, 7, 8, 9, 10, 35, 40, 61, 64, 206, 207, 208}
CLASS_C = {11, 12, 13, 15, 211, 212, 213}
CLASS_ALEY = {51, 52, 53, 54}
CLASS_49 = {49}
FCE = {201, 202, 203, 206, 207, 208, 211, 212, 213}
VALID_CBTE_TIPOS = CLASS_A | CLASS_B | CLASS_C | CLASS_ALEY | CLASS_49
NOTES = {2, 3, 7, 8, 52, 53}  # debit/credit notes: some IVA checks do not apply


def cbte_class(cbte_tipo: int) -> str:
    """"A", "B", "C", "ALEY" or "49"."""
    if cbte_tipo in CLASS_A:
        return "A"
    if cbte_tipo in CLASS_B:
        return "B"
    if cbte_tipo in CLASS_C:
        return "C"
    if cbte_tipo in CLASS_ALEY:
        return "ALEY"
    return "49"


TIPOS_DOC = [
    (80, "CUIT"), (86, "CUIL"), (87, "CDI"), (89, "LE"), (90, "LC"), (91, "CI Extranjera"), (92, "en trámite"),
    (93, "Acta Nacimiento"), (94, "Pasaporte"), (95, "CI Bs. As. RNP"), (96, "DNI"), (99, "Doc. (Otro)"),
    (30, "Certificado de Migración"), (88, "Usado por Anses para Padrón"),
] + [(n, f"CI Provincial {n}") for n in range(0, 25)]
VALID_DOC_TIPOS = {d for d, _ in TIPOS_DOC}

TIPOS_IVA = [
    ("3", "0%", Decimal("0")), ("4", "10.5%", Decimal("0.105")), ("5", "21%", Decimal("0.21")),
    ("6", "27%", Decimal("0.27")), ("8", "5%", Decimal("0.05")), ("9", "2.5%", Decimal("0.025")),
]
IVA_RATES = {int(i): r for i, _, r in TIPOS_IVA}

TIPOS_CONCEPTO = [(1, "Producto"), (2, "Servicios"), (3, "Productos y Servicios")]

TIPOS_TRIBUTO = [
    (1, "Impuestos nacionales"), (2, "Impuestos provinciales"), (3, "Impuestos municipales"),
    (4, "Impuestos Internos"), (5, "IIBB"), (6, "Percepción de IVA"), (7, "Percepción de IIBB"),
    (8, "Percepciones por Impuestos Municipales"), (9, "Otras Percepciones"),
    (13, "Percepción de IVA a no Categorizado"), (99, "Otro"),
]
VALID_TRIBUTOS = {t for t, _ in TIPOS_TRIBUTO}

MONEDAS = [
    ("PES", "Pesos Argentinos"), ("DOL", "Dólar Estadounidense"), ("002", "Dólar Libre EEUU"),
    ("060", "Euro"), ("012", "Real"), ("021", "Libra Esterlina"), ("019", "Yens"), ("018", "Dólar Canadiense"),
    ("009", "Franco Suizo"), ("033", "Peso Chileno"), ("011", "Pesos Uruguayos"), ("029", "Guaraníes"),
    ("064", "Yuan (Rep. Pop. China)"),
]
VALID_MONEDAS = {m for m, _ in MONEDAS}

# id, description, classes it may be used with (README §7.6)
CONDICIONES_IVA = [
    (1, "IVA Responsable Inscripto", ("A", "ALEY", "C")),
    (4, "IVA Sujeto Exento", ("B", "C")),
    (5, "Consumidor Final", ("B", "C", "49")),
    (6, "Responsable Monotributo", ("A", "ALEY", "C")),
    (7, "Sujeto No Categorizado", ("B", "C")),
    (8, "Proveedor del Exterior", ("B", "C")),
    (9, "Cliente del Exterior", ("B", "C")),
    (10, "IVA Liberado – Ley N° 19.640", ("B", "C")),
    (13, "Monotributista Social", ("A", "ALEY", "C")),
    (15, "IVA No Alcanzado", ("B", "C")),
    (16, "Monotributo Trabajador Independiente Promovido", ("A", "ALEY", "C")),
]
CONDICION_CLASSES = {i: set(classes) for i, _, classes in CONDICIONES_IVA}
