"""The simulator's ledger survives kill -9."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from encola.afip import AfipClient, AfipEndpoints, AfipTimeouts, AlicIva, CaeDetail, Credentials
from encola.certificates.simulator import obtain_blocking
from support import HTTP
from sim_process import SimProcess

pytestmark = pytest.mark.anyio
CUIT = 20123456786


def detail(n: int) -> CaeDetail:
    return CaeDetail(concepto=1, doc_tipo=80, doc_nro=30000000007, cbte_desde=n, cbte_hasta=n,
                     cbte_fch=datetime.now(timezone(timedelta(hours=-3))).date(), imp_total=Decimal("121"),
                     imp_neto=Decimal("100"), imp_iva=Decimal("21"), iva=(AlicIva(5, Decimal("100"), Decimal("21")),),
                     condicion_iva_receptor_id=1)


async def test_numbers_tickets_and_comprobantes_survive_kill_9(tmp_path):
    ledger = str(tmp_path / "afip-sim.sqlite")
    sim = SimProcess(ledger_path=ledger)
    cert = obtain_blocking(sim.base_url, CUIT, "ACME SA")  # its CA, kept beside the ledger, survives too
    sim.register_points_of_sale(CUIT, [7])  # the registry survives the kill -9 too
    try:
        async with httpx.AsyncClient() as http:
            afip = AfipClient(http, AfipEndpoints.for_simulator(sim.base_url), Credentials(*cert), CUIT,
                              timeouts=AfipTimeouts(connect=2, wsaa_read=5, wsfe_read=5))
            first = await afip.request_cae(7, 1, [detail(1), detail(2)])
            assert first.resultado == "A"
            sim.kill9()
            sim = SimProcess(ledger_path=ledger, port=sim.port)
            assert await afip.last_authorized(7, 1) == 2  # same cached ticket still accepted
            assert (await afip.consult(7, 1, 2)).cae == first.details[1].cae
            assert (await afip.request_cae(7, 1, [detail(3)])).resultado == "A"
            assert len(HTTP.get(sim.base_url + "/_sim/comprobantes").json()) == 3
    finally:
        sim.stop()
