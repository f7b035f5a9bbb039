"""Against a strict simulator, encola's AFIP access gets a certificate by itself: for a CUIT
without one, in place of one an older encola made itself (self-signed) or one the simulator's
CA no longer recognises; never in place of a certificate the user gave."""

from __future__ import annotations

import httpx
import pytest

from encola.afip import AfipEndpoints, generate_test_certificate, load_certificate
from encola.afip_sim.ca import SimulatorCA
from encola.afip_sim.server import create_app as create_simulator
from encola.api.provisioning import PdvSpec, provision
from encola.certificates.simulator import signed_by
from encola.engine.afip_access import AfipAccess, MissingCertificate
from encola.store.db import make_engine, migrate
from encola.store.lanes import LaneStore
from encola.store.store import Store

BASE = "http://afip-sim.test"
CUIT = "30712345671"

pytestmark = pytest.mark.anyio


@pytest.fixture
def world(database_url):
    store = Store(make_engine(database_url))
    migrate(store.engine)
    simulator = create_simulator()
    simulator.state.ledger.register_point_of_sale(int(CUIT), 10)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator), base_url=BASE)
    provision(store, PdvSpec(CUIT, 10, "RI", "Empresa", "P", None))
    access = AfipAccess(LaneStore(store, lease_seconds=30), http, AfipEndpoints.for_simulator(BASE), simulated=True)
    yield store, simulator, access
    store.engine.dispose()


def issuer_of(store) -> str:
    return load_certificate(store.credentials_of(CUIT)[0]).issuer.rfc4514_string()


async def test_a_cuit_without_a_certificate_gets_one_the_simulator_signed(world):
    store, simulator, access = world
    client = await access.client(CUIT)
    assert await client.last_authorized(10, 6) == 0  # WSAA took it
    assert simulator.state.ca.signed(load_certificate(store.credentials_of(CUIT)[0]))


@pytest.mark.parametrize("made_by", ["older encola, self-signed", "another simulator's CA"])
async def test_a_certificate_encola_made_that_the_simulator_distrusts_is_replaced(world, made_by):
    store, simulator, access = world
    if made_by.startswith("older"):
        cert, key = generate_test_certificate(int(CUIT), f"encola {CUIT}")
    else:
        cert, key = signed_by(SimulatorCA.create(), CUIT, f"encola {CUIT}")
    store.save_credentials(CUIT, cert.decode(), key.decode(), only_if_missing=False)
    client = await access.client(CUIT)
    assert await client.last_authorized(10, 6) == 0
    assert simulator.state.ca.signed(load_certificate(store.credentials_of(CUIT)[0]))


async def test_a_certificate_the_user_gave_is_kept_even_when_the_simulator_refuses_it(world):
    store, simulator, access = world
    cert, key = generate_test_certificate(int(CUIT), "Empresa")  # the user's own, self-signed
    store.save_credentials(CUIT, cert.decode(), key.decode(), only_if_missing=False)
    await access.client(CUIT)
    assert store.credentials_of(CUIT)[0] == cert.decode()


async def test_a_cuit_no_workspace_holds_has_no_certificate(world):
    _, _, access = world
    with pytest.raises(MissingCertificate):
        await access.client("20111111112")


async def test_a_certificate_stored_while_running_is_used_without_a_restart(world, monkeypatch):
    from encola.engine import afip_access

    store, simulator, access = world
    first = await access.client(CUIT)
    renewed, key = signed_by(simulator.state.ca, CUIT, "Empresa", "renovado")
    store.save_credentials(CUIT, renewed.decode(), key.decode(), only_if_missing=False)  # encola pdv cert
    assert await access.client(CUIT) is first  # looked up at most once a minute
    monkeypatch.setattr(afip_access, "CERTIFICATE_RECHECK_SECONDS", 0.0)
    second = await access.client(CUIT)
    assert second is not first and second.wsaa._credentials.cert_pem == renewed
    assert await access.client(CUIT) is second
