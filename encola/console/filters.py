"""The search form's query string → SearchFilters, with Spanish messages for what is not understood.

Pure: no I/O. A value that cannot be read is reported and left out, never guessed, and never an error page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from encola.domain.tables import TIPOS_BY_CBTE
from encola.store.console_queries import ALL_STATES, SearchFilters

STATE_LABELS = {
    "queued": "En cola",
    "processing": "Procesando",
    "emitted": "Emitido",
    "error": "Con error",
    "deleted": "Eliminado",
    "discarded": "Descartado",
}
MAX_REFERENCE = 255
_DOCUMENT = re.compile(r"[0-9A-Za-z-]{1,30}")
PAGE_SIZES = (25, 50, 100)


@dataclass(frozen=True)
class ParsedSearch:
    filters: SearchFilters
    before: int | None
    limit: int
    problems: list[str]


def parse_search(params) -> ParsedSearch:
    """Read ``estado, desde, hasta, tipo, referencia, documento, pdv, antes, por_pagina``."""
    problems: list[str] = []

    def text(name: str) -> str:
        value = params.get(name)
        return value.strip() if isinstance(value, str) else ""

    state = text("estado")
    states: tuple[str, ...] = ()
    if state:
        if state in ALL_STATES:
            states = (state,)
        else:
            problems.append("Estado desconocido: se muestran todos.")
    desde = _date(text("desde"), "Desde", problems)
    hasta = _date(text("hasta"), "Hasta", problems)
    if desde and hasta and desde > hasta:
        problems.append("«Desde» es posterior a «Hasta»: no hay comprobantes en ese rango.")
    cbte_tipo = _int(text("tipo"), "Tipo", problems)
    if cbte_tipo is not None and cbte_tipo not in TIPOS_BY_CBTE:
        problems.append("Tipo de comprobante desconocido: se muestran todos.")
        cbte_tipo = None
    reference = text("referencia")
    if len(reference) > MAX_REFERENCE:
        problems.append(f"La referencia externa tiene más de {MAX_REFERENCE} caracteres: no se usó.")
        reference = ""
    document = text("documento")
    if document and not _DOCUMENT.fullmatch(document):
        problems.append("El documento debe tener hasta 30 letras, números o guiones: no se usó.")
        document = ""
    pdv_id = _int(text("pdv"), "Punto de venta", problems)
    before = _int(text("antes"), "Página", problems)
    limit = _int(text("por_pagina"), "Por página", problems) or 50
    if limit not in PAGE_SIZES:
        limit = 50
    filters = SearchFilters(states, desde, hasta, cbte_tipo, reference or None, document or None, pdv_id)
    return ParsedSearch(filters, before, limit, problems)


def _date(value: str, label: str, problems: list[str]) -> date | None:
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            parsed = datetime.strptime(value, pattern).date()
        except ValueError:
            continue
        if 2000 <= parsed.year <= 2100:
            return parsed
    problems.append(f"«{label}» no es una fecha (dd/mm/aaaa): no se usó.")
    return None


def _int(value: str, label: str, problems: list[str]) -> int | None:
    if not value:
        return None
    if value.isascii() and value.isdigit() and len(value) <= 12 and int(value) > 0:
        return int(value)
    problems.append(f"«{label}» debe ser un número positivo: no se usó.")
    return None
