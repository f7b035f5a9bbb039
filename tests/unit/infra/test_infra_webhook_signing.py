"""Pure parts of webhook delivery: signatures, Retry-After, and the webhook settings."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from encola.domain.credentials import generate_webhook_secret
from encola.settings import Settings, SettingsError
from encola.store.rows import HookEvent
from encola.webhooks.dispatcher import retry_after_seconds
from encola.webhooks.signing import sign, signature_headers, valid_secrets

NOW = datetime(2025, 3, 10, 15, 0, 0)
ROOT = Path(__file__).resolve().parents[3]


def test_our_signature_is_the_one_the_standard_webhooks_library_computes():
    secret = generate_webhook_secret()
    body = '{"evento":"emitido","razón":"ñandú"}'.encode()
    moment = datetime(2025, 3, 10, 15, 0, 0, tzinfo=timezone.utc)
    expected = Webhook(secret).sign("msg_1", moment, body.decode())
    assert sign(secret, "msg_1", int(moment.timestamp()), body) == expected


def test_the_headers_carry_one_signature_per_valid_secret():
    first, second = generate_webhook_secret(), generate_webhook_secret()
    headers = signature_headers([first, second], "hook-1", 1741618800, b"{}")
    assert headers["webhook-id"] == "hook-1" and headers["webhook-timestamp"] == "1741618800"
    assert headers["webhook-signature"].split(" ") == [sign(first, "hook-1", 1741618800, b"{}"), sign(second, "hook-1", 1741618800, b"{}")]


def test_without_a_secret_there_is_no_signature_header():
    assert "webhook-signature" not in signature_headers([], "hook-1", 1, b"{}")


def event(**values) -> HookEvent:
    base = dict(id=1, hook_id="h", pdv_id=1, recurso="facturacion", evento="emitido", external_reference="r",
                msg=[], creado=NOW, state="pending", attempts=0)
    return HookEvent(**{**base, **values})


def test_the_previous_secret_signs_only_until_its_grace_ends():
    during = event(webhook_secret="new", webhook_secret_previous="old", webhook_secret_previous_until=NOW + timedelta(seconds=1))
    assert valid_secrets(during, NOW) == ["new", "old"]
    ended = event(webhook_secret="new", webhook_secret_previous="old", webhook_secret_previous_until=NOW)
    assert valid_secrets(ended, NOW) == ["new"]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Mon, 10 Mar 2025 16:00:00 GMT", 3600.0),
        ("Mon, 10 Mar 2025 14:00:00 GMT", 0.0),  # already past: no extra wait
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("١٢", None),  # Arabic-Indic digits are not delta-seconds
    ],
)
def test_retry_after_reads_seconds_or_an_http_date(value, seconds):
    assert retry_after_seconds(value, NOW) == seconds


def test_the_webhook_settings_are_read_from_the_environment():
    settings = Settings.from_env(
        {
            "ENCOLA_WEBHOOK_ENDPOINT_CONCURRENCY": "3",
            "ENCOLA_WEBHOOK_DISABLE_AFTER": "48h",
            "ENCOLA_WEBHOOK_RETRY_AFTER_MAX": "1h",
            "ENCOLA_WEBHOOK_SECRET_GRACE": "0",
        }
    )
    assert settings.webhook_endpoint_concurrency == 3
    assert settings.webhook_disable_after == 48 * 3600
    assert settings.webhook_retry_after_max == 3600
    assert settings.webhook_secret_grace == 0


@pytest.mark.parametrize("off", ["0", "off", "never"])
def test_the_24_hour_rule_can_be_switched_off(off):
    assert Settings.from_env({"ENCOLA_WEBHOOK_DISABLE_AFTER": off}).webhook_disable_after is None


@pytest.mark.parametrize(("name", "value"), [("ENCOLA_WEBHOOK_ENDPOINT_CONCURRENCY", "0"), ("ENCOLA_WEBHOOK_RETRY_AFTER_MAX", "0")])
def test_impossible_webhook_settings_are_refused(name, value):
    with pytest.raises(SettingsError):
        Settings.from_env({name: value})


def test_the_documented_webhook_defaults_are_the_real_ones():
    table = dict(re.findall(r"^\| `(ENCOLA_WEBHOOK_[A-Z_]+)` \| `([^`]*)` \|", (ROOT / "docs" / "configuration.md").read_text(), re.M))
    defaults = Settings()
    assert table["ENCOLA_WEBHOOK_ENDPOINT_CONCURRENCY"] == str(defaults.webhook_endpoint_concurrency)
    assert Settings.from_env({"ENCOLA_WEBHOOK_DISABLE_AFTER": table["ENCOLA_WEBHOOK_DISABLE_AFTER"]}).webhook_disable_after == defaults.webhook_disable_after
    assert Settings.from_env({"ENCOLA_WEBHOOK_RETRY_AFTER_MAX": table["ENCOLA_WEBHOOK_RETRY_AFTER_MAX"]}).webhook_retry_after_max == defaults.webhook_retry_after_max
    assert Settings.from_env({"ENCOLA_WEBHOOK_SECRET_GRACE": table["ENCOLA_WEBHOOK_SECRET_GRACE"]}).webhook_secret_grace == defaults.webhook_secret_grace
