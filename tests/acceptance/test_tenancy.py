"""Tenancy: a workspace owns its CUITs; only the operator (the CLI) puts a CUIT in a workspace.

The attack this reproduces (issue 8): with any point of sale's keys, ``puntos_venta/administrar``
A created a point of sale on another workspace's CUIT, and invoices sent through it were emitted
under that CUIT with its AFIP certificate. Real ``encola`` processes, both databases.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from sqlalchemy import select

from encola.clock import Clock
from encola.store.schema import cuits, pdvs
from support import ENCOLA, EncolaProcess, WebhookReceiver, factura_b, open_store_of_processes

pytestmark = pytest.mark.postgres

VICTIM_CUIT = "30711111119"
ATTACKER_CUIT = "20222222223"
UNKNOWN_CUIT = "27333333334"
TODAY = Clock().today()  # Argentina's date, as the server's: UTC's is a day ahead from 21:00


@pytest.fixture(scope="module")
def receiver():
    made = WebhookReceiver()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def server(database_url, receiver):
    process = EncolaProcess(database_url)
    process.victim = process.provision(VICTIM_CUIT, 10, receiver.url, token=receiver.token)
    process.attacker = process.provision(ATTACKER_CUIT, 1, receiver.url, token=receiver.token)
    process.start()
    yield process
    process.stop()


def alta(server, keys: dict, cuit: str, punto_venta: int) -> dict:
    body = {**keys, "operacion": "A", "cuit": cuit, "punto_venta": punto_venta, "iva_condicion": "RI",
            "razon_social": "Quien Sea SA"}
    answer = server.post("puntos_venta/administrar", body)
    assert answer.status_code == 200
    return answer.json()


def pdv_count(database_url: str, cuit: str) -> int:
    store = open_store_of_processes(database_url)
    with store.reading() as connection:
        return len(connection.execute(select(pdvs.c.id).where(pdvs.c.cuit == cuit)).all())


def test_a_pdv_on_another_workspaces_cuit_is_refused_and_nothing_is_created(server, database_url):
    before = pdv_count(database_url, VICTIM_CUIT)
    answer = alta(server, server.attacker, VICTIM_CUIT, 77)
    assert answer["error"] == "S"
    assert [d["code"] for d in answer["error_details"]] == ["TFC-5012"]
    assert "usertoken" not in answer and "apikey" not in answer
    assert pdv_count(database_url, VICTIM_CUIT) == before


def test_the_refusal_tells_nothing_about_whether_the_cuit_or_its_pdv_exists(server):
    existing_pdv = alta(server, server.attacker, VICTIM_CUIT, 10)  # the victim's own PDV 10
    new_pdv = alta(server, server.attacker, VICTIM_CUIT, 55)
    unknown = alta(server, server.attacker, UNKNOWN_CUIT, 10)
    texts = [a["errores"][0].replace(VICTIM_CUIT, "C").replace(UNKNOWN_CUIT, "C") for a in (existing_pdv, new_pdv, unknown)]
    assert len(set(texts)) == 1
    assert {a["error_details"][0]["code"] for a in (existing_pdv, new_pdv, unknown)} == {"TFC-5012"}


def test_the_attack_cannot_emit_under_the_victims_cuit(server, receiver):
    """The whole attack end to end: the alta is refused, so no keys exist to send the invoice with."""
    answer = alta(server, server.attacker, VICTIM_CUIT, 88)
    assert answer["error"] == "S"
    # The attacker's own keys emit under the attacker's CUIT only.
    body = factura_b(server.attacker, reference="atk-1", fecha=TODAY, punto_venta=88)
    refused = server.post("facturacion/nuevo_encola", body).json()
    assert refused["error"] == "S"  # PDV 88 is not the attacker's point of sale
    own = server.post("facturacion/nuevo_encola", factura_b(server.attacker, reference="atk-2", fecha=TODAY, punto_venta=1)).json()
    assert own["error"] == "N"
    hook = receiver.wait_for("atk-2", "emitido", timeout=30)[0]
    consulta = server.post(
        "facturacion/consulta_avanzada",
        {**server.attacker, "busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": "atk-2"}},
    ).json()
    assert hook.body["evento"] == "emitido"
    assert VICTIM_CUIT not in json.dumps(consulta)


def test_a_workspace_adds_pdvs_on_its_own_cuit(server):
    created = alta(server, server.victim, VICTIM_CUIT, 20)
    assert created["error"] == "N", created
    assert created["webhook_secret"].startswith("whsec_")
    again = alta(server, server.victim, VICTIM_CUIT, 20)
    assert [d["code"] for d in again["error_details"]] == ["TFC-5004"]


def test_only_the_cli_puts_a_cuit_in_a_workspace(server, database_url):
    # The operator adds a second CUIT to the victim's workspace; then the victim's keys may use it.
    second = "30744444447"
    made = json.loads(server.cli("pdv", "create", "--cuit", second, "--punto-venta", "1", "--condicion-iva", "RI",
                                 "--razon-social", "Segunda SA", "--workspace", VICTIM_CUIT))
    assert made["webhook_secret"].startswith("whsec_")
    assert alta(server, server.victim, second, 2)["error"] == "N"
    assert [d["code"] for d in alta(server, server.attacker, second, 3)["error_details"]] == ["TFC-5012"]
    # A CUIT that belongs to one workspace cannot be moved to another.
    moved = subprocess.run(
        [*ENCOLA, "pdv", "create", "--cuit", second, "--punto-venta", "9", "--condicion-iva", "RI",
         "--razon-social", "X", "--workspace", ATTACKER_CUIT],
        env=server.env, capture_output=True, text=True, timeout=60,
    )
    assert moved.returncode != 0 and "belongs to another workspace" in moved.stderr
    store = open_store_of_processes(database_url)
    with store.reading() as connection:
        owners = dict(connection.execute(select(cuits.c.cuit, cuits.c.workspace_id)).all())
    assert owners[second] == owners[VICTIM_CUIT] != owners[ATTACKER_CUIT]


def test_a_certificate_is_kept_once_per_cuit_and_only_for_an_owned_cuit(server, tmp_path):
    from encola.afip import generate_test_certificate

    cert_pem, key_pem = generate_test_certificate(int(UNKNOWN_CUIT), "sin duenio")
    (tmp_path / "c.pem").write_bytes(cert_pem)
    (tmp_path / "k.pem").write_bytes(key_pem)
    refused = subprocess.run(
        [*ENCOLA, "pdv", "cert", "--cuit", UNKNOWN_CUIT, "--cert", str(tmp_path / "c.pem"), "--key", str(tmp_path / "k.pem")],
        env=server.env, capture_output=True, text=True, timeout=60,
    )
    assert refused.returncode != 0 and "no workspace holds CUIT" in refused.stderr
