"""AFIP's health as estado_servicios reads it: a failure recorded for one CUIT alerts that CUIT's
points of sale only; the next success clears it; FEDummy's scope alerts everyone."""

from __future__ import annotations

import dataclasses

import pytest

from encola.api.servicios import Servicios
from encola.engine.afip_health import DUMMY_SCOPE, HealthRecorder
from store_helpers import make_pdv


def servicios(store) -> Servicios:
    return Servicios(store, store.clock, None, HealthRecorder(store))  # no AFIP: never probes


@pytest.mark.anyio
async def test_a_cuits_failures_alert_its_points_of_sale_only_until_a_call_succeeds(store):
    seller = make_pdv(store)
    stranger = dataclasses.replace(seller.pdv, cuit="20111111112")
    store.record_afip_health(seller.pdv.cuit, False, "HTTP 503")
    alert = await servicios(store).alertas(seller.pdv, {})
    assert alert["error"] == "S" and alert["rta"] == "ERROR" and alert["facturacion"].startswith("10/03/2025 12:00 hs.")
    assert "503" not in alert["facturacion"]  # AFIP's own error texts stay in the log
    assert (await servicios(store).alertas(stranger, {}))["facturacion"] == "OK"
    store.clock.advance(minutes=3)
    store.record_afip_health(seller.pdv.cuit, False, "timeout")
    assert (await servicios(store).alertas(seller.pdv, {}))["facturacion"].startswith("10/03/2025 12:00 hs.")  # since the first
    store.record_afip_health(seller.pdv.cuit, True)
    assert (await servicios(store).alertas(seller.pdv, {})) == {
        "error": "N", "errores": [""], "rta": "OK", "facturacion": "OK", "novedades": "",
    }


@pytest.mark.anyio
async def test_fedummy_saying_a_server_is_down_alerts_every_cuit(store):
    seller = make_pdv(store)
    store.record_afip_health(DUMMY_SCOPE, False, "DbServer: ERROR")
    assert (await servicios(store).alertas(seller.pdv, {}))["error"] == "S"
    store.record_afip_health(DUMMY_SCOPE, True)
    assert (await servicios(store).alertas(seller.pdv, {}))["error"] == "N"
