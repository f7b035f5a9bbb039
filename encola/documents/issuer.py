"""The issuer as it was when an invoice was emitted: what its documents print about the seller."""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass
from datetime import date

CONDICIONES = ("RI", "M", "E")


@dataclass(frozen=True)
class IssuerSnapshot:
    """Frozen at emission and stored with the invoice, so a later change of address or logo
    never rewrites an old document. Optional fields that are None are left out of documents."""

    razon_social: str
    cuit: str
    condicion_iva: str  # "RI" | "M" | "E" (encola's codes; documents print the Spanish words)
    domicilio: str | None = None
    iibb: str | None = None  # the Ingresos Brutos number, or "Exento"
    inicio_actividades: date | None = None
    logo: bytes | None = None  # PNG or JPEG, shown on the A4

    def to_json(self) -> dict:
        """JSON-safe: the date as ISO ``aaaa-mm-dd``, the logo as standard Base64."""
        data = asdict(self)
        data["inicio_actividades"] = self.inicio_actividades.isoformat() if self.inicio_actividades else None
        data["logo"] = base64.b64encode(self.logo).decode("ascii") if self.logo else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> "IssuerSnapshot":
        inicio = data.get("inicio_actividades")
        logo = data.get("logo")
        return cls(
            razon_social=data["razon_social"],
            cuit=str(data["cuit"]),
            condicion_iva=data["condicion_iva"],
            domicilio=data.get("domicilio") or None,
            iibb=data.get("iibb") or None,
            inicio_actividades=date.fromisoformat(inicio) if inicio else None,
            logo=base64.b64decode(logo) if logo else None,
        )
