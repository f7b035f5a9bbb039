"""Wiring: the services a process runs (API, engine, dispatcher), built from the settings."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import httpx

from encola.afip import AfipEndpoints, AfipTimeouts, AiohttpTransport
from encola.api.app import Services
from encola.certificates.expiry import watcher as certificate_watcher
from encola.clock import Clock
from encola.engine.afip_access import AfipAccess
from encola.engine.engine import Engine
from encola.engine.lane import LaneConfig
from encola.settings import Settings
from encola.store import notify
from encola.store.lanes import LaneStore
from encola.store.store import Store

EMBEDDED_SIM_BASE = "http://afip-sim.internal"
SIMULATED_WARNING = (
    "CAEs are simulated: not valid for tax purposes. AFIP is %s; set ENCOLA_AFIP_ENV=homologacion "
    "or produccion (with each CUIT's certificate) to emit for real"
)
MAIL_OFF = (
    "Mail to buyers is off (ENCOLA_SMTP_URL is not set): invoices are accepted and emitted as usual, "
    "nothing is mailed, and consultas answer envio_x_mail \"N\""
)
log = logging.getLogger("encola.runtime")


LISTENING_POLL_SECONDS = 2.0  # with LISTEN/NOTIFY, polling is only the safety net
# AFIP connections per worker, shared by its lanes (each keeps at most two calls in flight).
# With 100 lanes on the simulator, 64 emitted about as fast as 128 and a little faster than 32.
AFIP_CONNECTIONS = 64


def open_store(settings: Settings) -> Store:
    """The migrated database with its secret key checked and clear secrets sealed.

    Raises SecretKeyError when the key is not the one the database was written with.
    """
    from encola import secretbox
    from encola.store.db import make_engine, migrate
    from encola.store.secrets_at_rest import prepare

    engine = make_engine(settings.database_url)
    migrate(engine)
    store = Store(engine, Clock(), secretbox.load(secret_key_environ(settings)))
    prepare(store)
    return store


def secret_key_environ(settings: Settings) -> dict:
    """The environment, with the embedded default's key file beside its SQLite database."""
    env = dict(os.environ)
    if not env.get("ENCOLA_SECRET_KEY") and not env.get("ENCOLA_SECRET_KEY_FILE"):
        database = settings.database_url
        if database.startswith("sqlite:///") and database != "sqlite:///:memory:":
            env["ENCOLA_SECRET_KEY_FILE"] = str(Path(database[len("sqlite:///"):]).parent / "encola-secret.key")
    return env


def build_services(store: Store, settings: Settings, *, with_engine: bool) -> Services:
    if settings.simulated:
        where = "the embedded simulator" if settings.afip_mode == "embedded" else f"a simulator at {settings.afip_url}"
        log.warning(SIMULATED_WARNING, where, extra={"action": "simulated_afip"})
    if settings.smtp is None:
        log.warning(MAIL_OFF, extra={"action": "mail_off"})
    else:
        log.info("Mail to buyers through %s, from %s", settings.smtp.display, settings.mail_from, extra={"action": "mail_on"})
    services = Services(store, settings, store.clock)
    services.background.append(certificate_watcher(store, store.clock))  # expiring certificates, daily
    if with_engine:
        engine = build_engine(store, settings, services)
        engine.on_results = services.dispatcher.wake
        engine.on_results = services.on_results  # hooks to send, and instant requests to answer
        services.engine = engine
        services.background.append(engine.run)
    # numeración and estado_servicios ask AFIP from the API process too (a worker's access unused).
    services.use_afip(services.engine.afip if services.engine is not None else build_engine(store, settings, services).afip)
    if store.engine.dialect.name == "postgresql":
        services.dispatcher.poll_seconds = LISTENING_POLL_SECONDS
        callbacks = [services.dispatcher.wake]
        callbacks.append(services.instant.wake)  # an instant request's result, written by a worker
        if services.engine is not None:
            services.engine.poll_seconds = LISTENING_POLL_SECONDS
            callbacks.append(services.engine.wake)
        url = store.engine.url.render_as_string(hide_password=False)
        services.background.append(lambda stop: notify.listen(url, callbacks, stop))
    return services


def build_engine(store: Store, settings: Settings, services: Services | None = None) -> Engine:
    timeouts = AfipTimeouts(connect=min(10.0, settings.afip_timeout), wsfe_read=settings.afip_timeout)
    mode = settings.afip_mode
    if mode == "simulator":
        http = AiohttpTransport(max_connections=AFIP_CONNECTIONS)
        endpoints, simulated = AfipEndpoints.for_simulator(settings.afip_url), True
    elif mode == "embedded":
        from encola.afip_sim.server import create_app as create_simulator

        simulator = create_simulator(
            ledger_path=settings.afip_sim_ledger, latency_ms=settings.afip_sim_latency_ms,
            concurrency_mode=settings.afip_sim_concurrency, latency_p99_ms=settings.afip_sim_latency_p99_ms,
            drop_ratio=settings.afip_sim_drop_ratio,
        )
        if services is not None:
            services.sim_app = simulator
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator), base_url=EMBEDDED_SIM_BASE)
        endpoints, simulated = AfipEndpoints.for_simulator(EMBEDDED_SIM_BASE), True
    else:
        http = AiohttpTransport(max_connections=AFIP_CONNECTIONS)
        endpoints = AfipEndpoints.homologacion() if mode == "homologacion" else AfipEndpoints.produccion()
        simulated = False
    lanes = LaneStore(
        store, lease_seconds=settings.lane_lease_seconds, afip_env=settings.afip_env_name, mail=settings.smtp is not None
    )
    access = AfipAccess(lanes, http, endpoints, simulated=simulated, timeouts=timeouts)
    config = LaneConfig(batch_size=settings.afip_batch_size, unknown_grace_seconds=settings.afip_timeout + 5)
    engine = Engine(lanes, access, store.clock, config=config, max_lanes=settings.max_lanes)
    engine.shutdown_grace = settings.shutdown_grace
    return engine


async def run_worker(services: Services) -> None:
    """Run the background services (engine, dispatcher) until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runners = [*services.background, services.dispatcher.run]
    await asyncio.gather(*(run(stop) for run in runners))
