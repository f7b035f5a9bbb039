"""What most acceptance tests start beside encola: a webhook receiver and `encola afip-sim`, each a
real server on 127.0.0.1, stopped after the test. A module that needs them otherwise (a receiver
that fails its first answers, a slow simulator, one per module) defines its own fixture of the
same name, which wins."""

from __future__ import annotations

import pytest

from support import SimulatorProcess, WebhookReceiver


@pytest.fixture
def receiver():
    hooks = WebhookReceiver()
    yield hooks
    hooks.stop()


@pytest.fixture
def simulator(tmp_path):
    sim = SimulatorProcess(tmp_path / "ledger.db").start()
    yield sim
    sim.stop()
