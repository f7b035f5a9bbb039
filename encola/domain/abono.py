"""Abonos: a comprobante sent with ``abono`` "S" repeats every ``abono_frecuencia`` months until
``abono_hasta`` (mm/aaaa). Pure date arithmetic and the copy of a stored invoice for the next one.

Recurrence *k* (0 is the one sent) is dated ``desde`` + k × frecuencia months, on the same day of
the month (the last day when that month is shorter), so a series anchored on the 31st stays at
the end of each month rather than drifting. Its vencimiento and periodo facturado move by the
same months. The prices stay as sent: encola keeps no price lists, so ``abono_actualiza_precios``
is recorded but changes nothing.
"""

from __future__ import annotations

import calendar
import copy
import json
from dataclasses import dataclass
from datetime import date, datetime

from encola.domain.fields import format_date


@dataclass(frozen=True)
class Abono:
    frecuencia: int  # months between comprobantes, ≥ 1
    hasta: date  # the first day of the last month a comprobante may be dated in
    actualiza_precios: str  # "S" | "N", as sent
    desde: date  # the fecha of recurrence 0

    def to_json(self) -> str:
        return json.dumps(
            {
                "frecuencia": self.frecuencia,
                "hasta": self.hasta.strftime("%m/%Y"),
                "actualiza_precios": self.actualiza_precios,
                "desde": self.desde.isoformat(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> "Abono":
        data = json.loads(text)
        month, year = (int(part) for part in data["hasta"].split("/"))
        return cls(data["frecuencia"], date(year, month, 1), data["actualiza_precios"], date.fromisoformat(data["desde"]))

    def fecha(self, recurrencia: int) -> date:
        return add_months(self.desde, recurrencia * self.frecuencia)

    def siguiente(self, recurrencia: int) -> date | None:
        """The date of the recurrence after ``recurrencia``, or None when the abono ends before it."""
        following = self.fecha(recurrencia + 1)
        return following if (following.year, following.month) <= (self.hasta.year, self.hasta.month) else None


def parse_hasta(text: str) -> date | None:
    """``abono_hasta`` (mm/aaaa, at most 7 characters) as the first day of that month, else None."""
    text = text.strip()
    if len(text) != 7 or text[2] != "/" or not (text[:2] + text[3:]).isascii() or not (text[:2] + text[3:]).isdigit():
        return None
    month, year = int(text[:2]), int(text[3:])
    if not 1 <= month <= 12 or year < 2000:
        return None
    return date(year, month, 1)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, on the same day or the month's last when it is shorter."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_recurrence(abono: Abono, previous: int, *, vencimiento: date | None, afip: dict, view: dict) -> dict:
    """What recurrence ``previous + 1`` changes from recurrence ``previous``: its fecha (anchored
    on ``desde``), vencimiento and periodo facturado (one frecuencia later), AFIP template and
    consulta view."""
    months = abono.frecuencia
    fecha = abono.fecha(previous + 1)
    template = copy.deepcopy(afip)
    for name in ("FchServDesde", "FchServHasta"):
        if template.get(name):
            moved = add_months(datetime.strptime(template[name], "%Y%m%d").date(), months)
            template[name] = moved.strftime("%Y%m%d")
    shown = copy.deepcopy(view)
    comprobante = shown["comprobante"]
    comprobante["fecha"] = format_date(fecha)
    for name in ("periodo_facturado_desde", "periodo_facturado_hasta"):
        if comprobante.get(name):
            day, month, year = (int(part) for part in comprobante[name].split("/"))
            comprobante[name] = format_date(add_months(date(year, month, day), months))
    return {
        "fecha": fecha,
        "vencimiento": add_months(vencimiento, months) if vencimiento else None,
        "afip": template,
        "view": shown,
        "abono_siguiente": abono.siguiente(previous + 1),
    }
