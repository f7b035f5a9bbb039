"""A faithful WSAA + WSFEv1 simulator speaking AFIP's SOAP at AFIP's paths.

`create_app(...)` for in-process use (httpx.ASGITransport); `serve(host, port, ...)`
to run it as a server. See docs/afip.md.
"""

from encola.afip_sim.app import create_app
from encola.afip_sim.faults import FaultState

__all__ = ["FaultState", "create_app"]
