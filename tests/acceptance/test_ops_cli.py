"""The operator's commands against a real database filled by a real server: status, invoices
list/show and hooks retry, each narrowed by --workspace to one workspace's CUITs."""

from __future__ import annotations

import json
import subprocess

import pytest

from encola.clock import Clock
from encola.ops import queries
from support import ENCOLA, open_store_of_processes, EncolaProcess, SimulatorProcess, WebhookReceiver, factura_b, wait_until

TODAY = Clock().today()
CUIT_A, CUIT_B = "30712345671", "20123456786"


@pytest.fixture
def receivers():
    made = {CUIT_A: WebhookReceiver(fail_first=10**6), CUIT_B: WebhookReceiver(fail_first=10**6)}
    yield made
    for receiver in made.values():
        receiver.stop()


def run(process: EncolaProcess, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*ENCOLA, *args], env=process.env, capture_output=True, text=True, timeout=60)


def as_json(process: EncolaProcess, *args: str):
    done = run(process, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_operator_commands_show_and_act_on_one_workspace_only(backend, databases, tmp_path, receivers):
    simulator = SimulatorProcess(tmp_path / "ledger.db").start()
    server = EncolaProcess(databases.new(backend), extra_env={"ENCOLA_AFIP_URL": simulator.base})
    keys = {cuit: server.provision(cuit, 1, receivers[cuit].url, token=receivers[cuit].token) for cuit in (CUIT_A, CUIT_B)}
    server.start()
    try:
        for cuit, count in ((CUIT_A, 3), (CUIT_B, 2)):
            for i in range(count):
                answer = server.post("facturacion/nuevo_encola", factura_b(keys[cuit], reference=f"{cuit}-{i}", fecha=TODAY, punto_venta=1))
                assert answer.json()["error"] == "N", answer.text
        # Every hook fails (4 attempts, 1 s apart): they end failed.
        store = open_store_of_processes(server.env["ENCOLA_DATABASE_URL"])
        wait_until(lambda: queries.queue_snapshot(store).outbox.get(("hook", "failed"), 0) == 10, timeout=60,
                   message="every hook failed for good")

        mine = as_json(server, "invoices", "list", "--workspace", CUIT_A)
        assert sorted(row["external_reference"] for row in mine) == [f"{CUIT_A}-{i}" for i in range(3)]
        assert {row["state"] for row in mine} == {"emitted"}
        theirs = as_json(server, "invoices", "list", "--workspace", CUIT_B)
        assert {row["cuit"] for row in theirs} == {CUIT_B} and len(theirs) == 2
        assert [row["external_reference"] for row in as_json(server, "invoices", "list", "--reference", f"{CUIT_A}-1")] == [f"{CUIT_A}-1"]
        wire_today = TODAY.strftime("%d/%m/%Y")
        assert len(as_json(server, "invoices", "list", "--desde", wire_today, "--hasta", wire_today, "--state", "emitted")) == 5
        page = as_json(server, "invoices", "list", "--limit", "2")
        assert len(page) == 2 and len(as_json(server, "invoices", "list", "--before-id", str(page[-1]["id"]))) == 3

        shown = as_json(server, "invoices", "show", str(mine[0]["id"]), "--workspace", CUIT_A)
        assert shown["cae"] and shown["external_reference"] == mine[0]["external_reference"] and shown["request"]
        assert {event["evento"] for event in shown["events"]} == {"encolado", "emitido"}
        assert all(len(event["attempts"]) == 4 and event["state"] == "failed" for event in shown["events"])
        assert all(attempt["status_code"] == 500 for event in shown["events"] for attempt in event["attempts"])
        refused = run(server, "invoices", "show", str(theirs[0]["id"]), "--workspace", CUIT_A)
        assert refused.returncode != 0 and "no invoice" in refused.stderr  # another workspace's invoice stays unseen
        assert run(server, "invoices", "show", str(theirs[0]["id"])).returncode == 0  # the machine operator sees all

        assert as_json(server, "status", "--workspace", CUIT_A)["queue"] == {"queued": 0, "processing": 0, "error": 0}
        table = run(server, "status")
        assert table.returncode == 0 and "Cola" in table.stdout

        assert as_json(server, "hooks", "retry", "--workspace", CUIT_A, "--dry-run") == {"encontrados": 6, "reencolados": 0, "dry_run": True}
        receivers[CUIT_A].fail_first = receivers[CUIT_B].fail_first = 0  # both endpoints work again
        assert as_json(server, "hooks", "retry", "--workspace", CUIT_A) == {"encontrados": 6, "reencolados": 6, "dry_run": False}
        for i in range(3):
            receivers[CUIT_A].wait_for(f"{CUIT_A}-{i}", "emitido", count=5, timeout=30)  # 4 failed + the retried one
        status = as_json(server, "status")
        assert status["outbox"] == {"hook_failed": 4}  # B's hooks were not touched
        assert len(receivers[CUIT_B].hooks) == 2 * 2 * 4
    finally:
        server.stop()
        simulator.stop()


def test_bad_filters_are_refused_with_a_clear_message(databases):
    process = EncolaProcess(databases.new("sqlite"))
    bad_date = run(process, "invoices", "list", "--desde", "31/02/2026")
    assert bad_date.returncode == 2 and "dd/mm/aaaa" in bad_date.stderr
    unknown = run(process, "invoices", "list", "--workspace", "20999999995")
    assert unknown.returncode == 1 and "no workspace holds CUIT 20999999995" in unknown.stderr
    assert run(process, "hooks", "retry", "--since", "ayer").returncode == 2


def test_migrate_says_how_many_migrations_it_applied(databases):
    process = EncolaProcess(databases.new("sqlite"))
    first = run(process, "migrate")
    assert first.returncode == 0 and "migrations applied" in first.stdout
    again = run(process, "migrate")
    assert again.returncode == 0 and again.stdout.strip() == "database up to date"
