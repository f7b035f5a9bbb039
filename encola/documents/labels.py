"""The words a document prints for the codes an invoice stores (TF's ``10-tablas-de-referencia``)."""

from __future__ import annotations

from decimal import Decimal

from encola.documents.text import rate
from encola.domain import tables as t

CONDICIONES_IVA = {
    "RI": "IVA Responsable Inscripto",
    "M": "Responsable Monotributo",
    "E": "IVA Sujeto Exento",
    "CF": "Consumidor Final",
    "CDEX": "Cliente del Exterior",
    "IVNA": "IVA No Alcanzado",
}

CONDICIONES_VENTA = {
    213: "5 días", 206: "10 días", 207: "15 días", 209: "20 días", 202: "30 días",
    208: "45 días", 203: "60 días", 204: "90 días", 201: "Contado", 205: "Cuenta corriente",
    210: "Transferencia bancaria", 211: "Tarjeta de crédito", 212: "Tarjeta de débito",
    214: "Otra", 215: "Otros medios de pago electrónico",
}

MONEDAS = {
    "PES": "Pesos argentinos", "DOL": "Dólares estadounidenses", "004": "Liras italianas",
    "003": "Francos franceses", "011": "Pesos uruguayos", "012": "Reales", "023": "Bolívares",
    "033": "Pesos chilenos", "032": "Pesos colombianos", "031": "Pesos bolivianos", "060": "Euros",
    "036": "Sucres", "035": "Nuevos soles peruanos", "010": "Pesos mexicanos",
}

UNIDADES = {
    1: "kg", 2: "m", 3: "m2", 4: "m3", 5: "l", 6: "1000 kWh", 7: "unidades", 8: "pares",
    9: "docenas", 10: "quilates", 11: "millares", 14: "g", 15: "mm", 16: "mm3", 17: "km",
    18: "hl", 20: "cm", 25: "jgo. naipes", 27: "cm3", 29: "t", 30: "dam3", 31: "hm3", 32: "km3",
    33: "µg", 34: "ng", 35: "pg", 41: "mg", 47: "ml", 48: "curie", 49: "mCi", 50: "µCi",
    51: "uiacthor", 52: "muiacthor", 53: "kg base", 54: "gruesa", 61: "kg bruto", 62: "uiactant",
    63: "muiactant", 64: "uiactig", 65: "muiactig", 66: "kg activo", 67: "g activo", 68: "g base",
    95: "anulación", 96: "packs", 97: "seña", 98: "otras",
}

CONCEPTOS = {1: "Productos", 2: "Servicios", 3: "Productos y Servicios"}

# AFIP's AlicIva Id → rate.
IVA_RATES = {code: rate for rate, code in t.ALICUOTAS_IVA.items()}
EXENTO = t.ALICUOTA_EXENTO
NO_GRAVADO = t.ALICUOTA_NO_GRAVADO

_ACCENTED = {"CREDITO": "CRÉDITO", "DEBITO": "DÉBITO", "ELECTRONICA": "ELECTRÓNICA"}

# Leyenda of class M (RG 1575): the buyer must withhold.
LEYENDA_M = "OPERACIÓN SUJETA A RETENCIÓN"


def tipo_title(name: str, letter: str) -> str:
    """ "NOTA DE CREDITO A" → "NOTA DE CRÉDITO": the comprobante's name without its letter."""
    words = name.split()
    if letter and words and words[-1] == letter:
        words = words[:-1]
    return " ".join(_ACCENTED.get(word.upper(), word) for word in words)


def alicuota(value: Decimal) -> str:
    if value == EXENTO:
        return "Exento"
    if value == NO_GRAVADO:
        return "No grav."
    return rate(value)


def provincia(code: object) -> str:
    """The province's name, or "" for TF's "-" and "Otro"."""
    try:
        name = t.PROVINCIAS.get(int(code), "")
    except (TypeError, ValueError):
        return ""
    return "" if name in ("-", "Otro") else name.title().replace(" De ", " de ").replace(" Del ", " del ")
