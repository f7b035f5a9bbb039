"""Serving HTTP with a graceful stop that exits 0.

uvicorn's own ``run`` stops gracefully on SIGTERM but then re-raises the signal, so the process
ends killed by it (status 143) — a failed exit to systemd and container runtimes. Here the signal
only starts the stop: uvicorn stops accepting connections, lets requests in flight finish for up
to the grace period, and runs the app's shutdown (the engine's lanes and the dispatcher's
deliveries finish or are handed back, within the same grace), and the process returns normally.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import uvicorn

from encola.ops import health

log = logging.getLogger("encola.ops")


class GracefulServer(uvicorn.Server):
    """A uvicorn server whose signals are handled by the caller, never re-raised."""

    def __init__(self, config: uvicorn.Config, *, own_signals: bool):
        super().__init__(config)
        self.own_signals = own_signals

    @contextlib.contextmanager
    def capture_signals(self):
        if not self.own_signals:
            yield  # the worker's loop handles SIGTERM and stops this server itself
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def stop(self) -> None:
        if not self.should_exit:
            log.info("stopping: no new connections; work in flight finishes or is handed back", extra={"action": "shutdown"})
        health.stopping()
        self.force_exit = self.should_exit  # a second signal: stop now
        self.should_exit = True


def serve(app, host: str, port: int, grace: float, **options) -> None:
    """Run ``app`` until SIGTERM or SIGINT, then stop gracefully within ``grace`` seconds."""
    config = uvicorn.Config(app, host=host, port=port, timeout_graceful_shutdown=grace, log_config=None, **options)
    asyncio.run(GracefulServer(config, own_signals=True).serve())


def ops_server(app, host: str, port: int):
    """A background runner (see Services.background) serving ``app`` until the stop event is set."""

    async def run(stop: asyncio.Event) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_config=None, log_level="warning", lifespan="off")
        server = GracefulServer(config, own_signals=False)

        async def stop_when_asked() -> None:
            await stop.wait()
            health.stopping()
            server.should_exit = True

        watcher = asyncio.create_task(stop_when_asked())
        try:
            await server.serve()
        finally:
            watcher.cancel()

    return run
