"""The outbox with two kinds: mail events are claimed, limited, failed and redelivered apart from hooks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from encola.store.rows import Attempt
from encola.store.store import NewEvent
from store_helpers import make_pdv

LEASE = 60.0


@pytest.fixture
def seller(store):
    return make_pdv(store, "https://hooks.example.com/tf")


def write(store, seller, kind: str, count: int = 1) -> None:
    with store.writing() as connection:
        store.add_events(connection, [(seller.pdv.id, NewEvent("emitido", f"{kind}-{i}", kind=kind), None) for i in range(count)])


def test_each_kind_is_claimed_on_its_own(store, seller):
    write(store, seller, "hook")
    write(store, seller, "mail")
    [mail] = store.claim_due_events(10, LEASE, kind="mail")
    assert (mail.kind, mail.external_reference) == ("mail", "mail-0")
    [hook] = store.claim_due_events(10, LEASE)
    assert (hook.kind, hook.external_reference) == ("hook", "hook-0")
    assert store.claim_due_events(10, LEASE, kind="mail") == [] and store.claim_due_events(10, LEASE) == []


def test_mail_leases_never_count_against_a_point_of_sales_hooks(store, seller):
    write(store, seller, "mail", 6)
    write(store, seller, "hook", 6)
    assert len(store.claim_due_events(10, LEASE, per_endpoint=4, kind="mail")) == 4  # the SMTP server's limit
    assert len(store.claim_due_events(10, LEASE, per_endpoint=4)) == 4  # the point of sale's, untouched by mail
    assert store.claim_due_events(10, LEASE, per_endpoint=4, kind="mail") == []


def test_the_mail_endpoint_is_the_server_not_the_point_of_sale(store, seller):
    other = make_pdv(store, "https://hooks.example.com/other", punto_venta=11)
    write(store, seller, "mail", 3)
    write(store, other, "mail", 3)
    assert len(store.claim_due_events(10, LEASE, per_endpoint=4, kind="mail")) == 4  # over both points of sale


def test_a_failing_mail_never_marks_the_webhook_failing_nor_disables_it(store, clock, seller):
    write(store, seller, "mail")
    [mail] = store.claim_due_events(10, LEASE, kind="mail")
    store.record_attempts([Attempt(mail, "smtp://127.0.0.1:25", None, "no se pudo conectar", 3, False, None)],
                          disable_after=1.0)
    pdv = store.all_pdvs()[0]
    assert pdv.webhook_failing_since is None and pdv.webhook_disabled_at is None
    [event] = store.events()
    assert event.state == "failed" and store.attempts_of(event.hook_id)[0]["url"] == "smtp://127.0.0.1:25"


def test_redelivery_is_per_kind(store, clock, seller):
    write(store, seller, "mail")
    write(store, seller, "hook")
    for kind in ("mail", "hook"):
        [event] = store.claim_due_events(10, LEASE, kind=kind)
        store.record_attempts([Attempt(event, "x", None, "fallo", 1, False, None)])
    since = clock.now() - timedelta(hours=1)
    assert store.redeliver_events(since, kind="mail") == 1
    assert {e.kind: e.state for e in store.events()} == {"mail": "pending", "hook": "failed"}
    assert store.redeliver_events(since) == 1
