"""Webhook signing and redelivery as operators and clients see them: a real `encola serve`, the real
CLI, real receivers on 127.0.0.1, signatures checked with the `standardwebhooks` library."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from encola.clock import Clock
from support import EncolaProcess, WebhookReceiver, factura_b, wait_until, wire

CUIT = "30712345674"
FUTURE = Clock().today() + timedelta(days=30)


@pytest.fixture(scope="module")
def receivers(backend):
    made = {name: WebhookReceiver() for name in ("a", "b", "c")}
    yield made
    for receiver in made.values():
        receiver.stop()


@pytest.fixture(scope="module")
def server(database_url, receivers):
    # Two attempts a second apart, then the event is failed: what a redelivery is for.
    process = EncolaProcess(database_url, extra_env={"ENCOLA_WEBHOOK_RETRY_SCHEDULE": "1s"})
    process.keys = {name: process.provision(CUIT, pv, receivers[name].url, token=receivers[name].token)
                    for name, pv in (("a", 10), ("b", 11), ("c", 12))}
    process.start()
    yield process
    process.stop()


def keys(server, name: str) -> dict:
    return {k: server.keys[name][k] for k in ("usertoken", "apikey", "apitoken")}


def test_hook(server, receiver, name: str):
    answer = server.post("webhooks/test", keys(server, name)).json()
    assert answer["error"] == "N", answer
    return wait_until(lambda: next((h for h in receiver.hooks if h.body.get("hook_id") == answer["hook_id"]), None),
                      timeout=10, message="the test hook")


test_hook.__test__ = False  # a helper, not a test


def test_pdv_create_shows_the_secret_the_hooks_are_signed_with(server, receivers):
    secret = server.keys["a"]["webhook_secret"]
    assert secret.startswith("whsec_")
    hook = test_hook(server, receivers["a"], "a")
    assert Webhook(secret).verify(hook.raw, hook.headers) == hook.body
    assert hook.headers["webhook-id"] == hook.body["hook_id"]
    assert hook.headers["TF-WebhookToken"] == receivers["a"].token
    assert hook.headers["User-Agent"] == "TusFacturasAPP-webhook/1.0"
    with pytest.raises(WebhookVerificationError):
        Webhook(server.keys["b"]["webhook_secret"]).verify(hook.raw, hook.headers)


def test_administrar_m_rotates_the_secret_and_both_verify_meanwhile(server, receivers):
    old = server.keys["b"]["webhook_secret"]
    answer = server.post("puntos_venta/administrar", {**keys(server, "b"), "operacion": "M", "webhook_secret_rotar": "S"}).json()
    assert answer["error"] == "N", answer
    new = answer["webhook_secret"]
    assert new.startswith("whsec_") and new != old
    hook = test_hook(server, receivers["b"], "b")
    assert Webhook(new).verify(hook.raw, hook.headers) == hook.body
    assert Webhook(old).verify(hook.raw, hook.headers) == hook.body


def test_the_cli_rotates_a_secret_and_prints_it_once(server, receivers):
    printed = json.loads(server.cli("pdv", "rotate-webhook-secret", "--cuit", CUIT, "--punto-venta", "12", "--grace", "0"))
    assert printed["webhook_secret"].startswith("whsec_")
    hook = test_hook(server, receivers["c"], "c")
    assert Webhook(printed["webhook_secret"]).verify(hook.raw, hook.headers) == hook.body
    with pytest.raises(WebhookVerificationError):
        Webhook(server.keys["c"]["webhook_secret"]).verify(hook.raw, hook.headers)


def test_consulta_avanzada_tells_whether_hooks_go_out(server):
    answer = server.post("facturacion/consulta_avanzada",
                         {**keys(server, "a"), "busqueda_tipo": "EXT_REF", "comprobante": {"external_reference": "nada"}}).json()
    assert answer["webhook"] == {"estado": "activo", "deshabilitado_desde": None, "motivo": None, "fallando_desde": None}


def send_failing(server, receiver, name: str, reference: str) -> None:
    receiver.fail_first = len(receiver.hooks) + 2  # both attempts fail
    punto_venta = {"a": 10, "b": 11, "c": 12}[name]
    body = factura_b(keys(server, name), reference=reference, fecha=FUTURE, punto_venta=punto_venta)
    assert server.post("facturacion/nuevo_encola", body).json()["error"] == "N"
    receiver.wait_for(reference, "encolado", count=2)


def test_reenviar_sends_the_callers_failed_hooks_again_and_no_one_elses(server, receivers):
    send_failing(server, receivers["a"], "a", "lost-a")
    send_failing(server, receivers["b"], "b", "lost-b")
    # Once the second attempt is recorded the hook is failed, and the redelivery finds it.
    answer = wait_until(lambda: (lambda a: a if a.get("reenviados") else None)(
        server.post("webhooks/reenviar", {**keys(server, "a"), "desde": wire(Clock().today())}).json()), timeout=10)
    assert answer == {"error": "N", "errores": [], "reenviados": 1}
    third = receivers["a"].wait_for("lost-a", "encolado", count=3)[-1]
    assert third.body["intento"] == 3
    assert Webhook(server.keys["a"]["webhook_secret"]).verify(third.raw, third.headers) == third.body
    assert len(receivers["b"].for_reference("lost-b")) == 2  # B's failed hook stays failed


def test_reenviar_needs_desde(server):
    answer = server.post("webhooks/reenviar", {**keys(server, "a")}).json()
    assert answer["error"] == "S"
    assert answer["errores"] == ["El campo desde debe tener el formato dd/mm/aaaa."]


def test_the_cli_redelivers_one_point_of_sales_failed_hooks(server, receivers):
    send_failing(server, receivers["c"], "c", "lost-c")
    since = Clock().today().isoformat()
    printed = wait_until(lambda: (lambda p: p if p["reenviados"] else None)(
        json.loads(server.cli("hooks", "redeliver", "--since", since, "--cuit", CUIT, "--pdv", "12"))), timeout=10)
    assert printed == {"reenviados": 1}
    receivers["c"].wait_for("lost-c", "encolado", count=3)
    assert len(receivers["b"].for_reference("lost-b")) == 2
