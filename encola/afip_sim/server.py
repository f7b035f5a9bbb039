"""Run the simulator: `serve` (blocking, uvicorn) or `create_app` for in-process use."""

from __future__ import annotations

import asyncio

import uvicorn

from encola.afip_sim.app import TRANSPORT_KEY, create_app

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _BaseProtocol
except ImportError:  # httptools not installed
    from uvicorn.protocols.http.h11_impl import H11Protocol as _BaseProtocol  # type: ignore[assignment]

__all__ = ["create_app", "serve"]


class TransportExposingProtocol(_BaseProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol, putting the connection's transport in the ASGI scope
    so the simulator can close a connection without answering (`drop_responses`)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        inner = self.app

        async def app(scope, receive, send):  # noqa: ANN001
            scope[TRANSPORT_KEY] = transport
            await inner(scope, receive, send)

        self.app = app


def serve(host: str, port: int, latency_ms: int = 0, ledger_path: str | None = None, *, strict_wsaa: bool = True,
          **options) -> None:
    """Serve the simulator until interrupted (blocking). ``options``: more of ``create_app``'s
    keywords (``concurrency_mode``, ``latency_p99_ms``, ``drop_ratio``)."""
    app = create_app(ledger_path=ledger_path, latency_ms=latency_ms, strict_wsaa=strict_wsaa, **options)
    config = uvicorn.Config(app, host=host, port=port, http=TransportExposingProtocol, log_level="warning",
                            lifespan="off", timeout_keep_alive=30)
    uvicorn.Server(config).run()
