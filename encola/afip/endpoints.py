"""Where WSAA and WSFEv1 live, per environment."""

from __future__ import annotations

from dataclasses import dataclass

WSAA_PATH = "/ws/services/LoginCms"
WSFE_PATH = "/wsfev1/service.asmx"


@dataclass(frozen=True)
class AfipEndpoints:
    """The two URLs a client needs: WSAA loginCms and the WSFEv1 service."""

    wsaa: str
    wsfe: str

    @classmethod
    def homologacion(cls) -> AfipEndpoints:
        """AFIP's testing environment (needs a homologación certificate)."""
        return cls(
            wsaa="https://wsaahomo.afip.gov.ar/ws/services/LoginCms",
            wsfe="https://wswhomo.afip.gov.ar/wsfev1/service.asmx",
        )

    @classmethod
    def produccion(cls) -> AfipEndpoints:
        """AFIP's production environment."""
        return cls(
            wsaa="https://wsaa.afip.gov.ar/ws/services/LoginCms",
            wsfe="https://servicios1.afip.gov.ar/wsfev1/service.asmx",
        )

    @classmethod
    def for_simulator(cls, base_url: str) -> AfipEndpoints:
        """An `encola.afip_sim` server at `base_url` (same paths as AFIP)."""
        base = base_url.rstrip("/")
        return cls(wsaa=base + WSAA_PATH, wsfe=base + WSFE_PATH)
