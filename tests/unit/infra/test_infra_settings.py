"""Settings: durations, the webhook retry schedule, and every ``ENCOLA_*`` variable."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from encola.settings import DEFAULT_RETRY_SCHEDULE, Settings, SettingsError, parse_duration, parse_schedule


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("1s", 1.0),
        ("5m", 300.0),
        ("3h", 10800.0),
        ("1.5m", 90.0),
        ("7", 7.0),
        ("0.5", 0.5),
        (" 2 h ", 7200.0),
    ],
)
def test_a_duration_is_read_in_seconds_with_an_optional_unit(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "5min", "10M", "-1s", "1e3", "1,5s", ".5s", "5 m s", "nan"])
def test_anything_else_is_not_a_duration(text):
    with pytest.raises(SettingsError, match="not a duration"):
        parse_duration(text)


def test_the_documented_retry_schedule_reads_as_five_delays():
    assert parse_schedule("5m,30m,3h,6h,12h") == (300.0, 1800.0, 10800.0, 21600.0, 43200.0)


def test_the_default_retry_schedule_is_the_one_tusfacturas_documents():
    assert DEFAULT_RETRY_SCHEDULE == parse_schedule("5m,30m,3h,6h,12h")


def test_a_schedule_tolerates_spaces_and_empty_items():
    assert parse_schedule(" 1s , 2s,,3s ") == (1.0, 2.0, 3.0)


@pytest.mark.parametrize("text", ["", " ", ",", " , , "])
def test_an_empty_schedule_is_refused(text):
    with pytest.raises(SettingsError, match="ENCOLA_WEBHOOK_RETRY_SCHEDULE is empty"):
        parse_schedule(text)


def test_a_schedule_with_a_bad_delay_is_refused():
    with pytest.raises(SettingsError, match="not a duration: 'pronto'"):
        parse_schedule("5m,pronto")


def test_an_empty_environment_gives_the_defaults():
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.database_url == "sqlite:///encola.db"
    assert settings.webhook_retry_schedule == DEFAULT_RETRY_SCHEDULE
    assert settings.webhook_first_timeout == 20.0  # TF: "Envío ... 20 segundos"
    assert settings.webhook_retry_timeout == 5.0  # TF: each retry waits 5 seconds
    assert settings.webhook_allow_private is False
    assert settings.webhook_user_agent == "TusFacturasAPP-webhook/1.0"
    assert settings.afip_mode == "embedded"


def test_empty_values_count_as_unset():
    names = [
        "ENCOLA_DATABASE_URL", "ENCOLA_WEBHOOK_RETRY_SCHEDULE", "ENCOLA_WEBHOOK_TIMEOUT",
        "ENCOLA_WEBHOOK_RETRY_TIMEOUT", "ENCOLA_WEBHOOK_ALLOW_PRIVATE", "ENCOLA_WEBHOOK_USER_AGENT",
        "ENCOLA_WEBHOOK_CONCURRENCY", "ENCOLA_MAX_BODY_BYTES", "ENCOLA_AFIP_URL", "ENCOLA_AFIP_ENV",
        "ENCOLA_AFIP_TIMEOUT", "ENCOLA_AFIP_BATCH_SIZE", "ENCOLA_AFIP_SIM_LEDGER",
        "ENCOLA_AFIP_SIM_LATENCY_MS", "ENCOLA_LANE_LEASE", "ENCOLA_MAX_LANES",
    ]
    assert Settings.from_env({name: "" for name in names}) == Settings()


def test_every_variable_is_read_into_its_setting():
    settings = Settings.from_env(
        {
            "ENCOLA_DATABASE_URL": "postgresql://u:p@db/encola",
            "ENCOLA_WEBHOOK_RETRY_SCHEDULE": "1s,2s,3s",
            "ENCOLA_WEBHOOK_TIMEOUT": "10s",
            "ENCOLA_WEBHOOK_RETRY_TIMEOUT": "1500ms",
            "ENCOLA_WEBHOOK_ALLOW_PRIVATE": "1",
            "ENCOLA_WEBHOOK_USER_AGENT": "Otro/2.0",
            "ENCOLA_WEBHOOK_CONCURRENCY": "8",
            "ENCOLA_MAX_BODY_BYTES": "1024",
            "ENCOLA_AFIP_URL": "http://127.0.0.1:8081/",
            "ENCOLA_AFIP_TIMEOUT": "1m",
            "ENCOLA_AFIP_BATCH_SIZE": "50",
            "ENCOLA_AFIP_SIM_LEDGER": "/tmp/ledger.db",
            "ENCOLA_AFIP_SIM_LATENCY_MS": "25",
            "ENCOLA_LANE_LEASE": "3s",
            "ENCOLA_MAX_LANES": "4",
            "UNRELATED": "ignored",
        }
    )
    assert settings.database_url == "postgresql://u:p@db/encola"
    assert settings.webhook_retry_schedule == (1.0, 2.0, 3.0)
    assert settings.webhook_first_timeout == 10.0
    assert settings.webhook_retry_timeout == 1.5
    assert settings.webhook_allow_private is True
    assert settings.webhook_user_agent == "Otro/2.0"
    assert settings.webhook_concurrency == 8
    assert settings.max_body_bytes == 1024
    assert settings.afip_url == "http://127.0.0.1:8081"  # the trailing slash is dropped
    assert settings.afip_timeout == 60.0
    assert settings.afip_batch_size == 50
    assert settings.afip_sim_ledger == "/tmp/ledger.db"
    assert settings.afip_sim_latency_ms == 25
    assert settings.lane_lease_seconds == 3.0
    assert settings.max_lanes == 4
    assert settings.afip_mode == "simulator"


@pytest.mark.parametrize("env", ["homologacion", "produccion"])
def test_the_afip_environment_names_the_mode_when_no_simulator_url_is_set(env):
    settings = Settings.from_env({"ENCOLA_AFIP_ENV": env})
    assert settings.afip_env == env
    assert settings.afip_mode == env


def test_a_simulator_url_wins_over_the_afip_environment():
    settings = Settings.from_env({"ENCOLA_AFIP_ENV": "produccion", "ENCOLA_AFIP_URL": "http://sim"})
    assert settings.afip_mode == "simulator"


@pytest.mark.parametrize("env", ["prod", "Produccion", "homologación", "testing"])
def test_an_unknown_afip_environment_is_refused(env):
    with pytest.raises(SettingsError, match="ENCOLA_AFIP_ENV must be homologacion or produccion"):
        Settings.from_env({"ENCOLA_AFIP_ENV": env})


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "si", "s", "on", " On "])
def test_allow_private_is_on_for_the_usual_yes_words(value):
    assert Settings.from_env({"ENCOLA_WEBHOOK_ALLOW_PRIVATE": value}).webhook_allow_private is True


@pytest.mark.parametrize("value", ["0", "false", "no", "off", "n", "", "2"])
def test_allow_private_stays_off_for_anything_else(value):
    assert Settings.from_env({"ENCOLA_WEBHOOK_ALLOW_PRIVATE": value}).webhook_allow_private is False


@pytest.mark.parametrize(
    "name",
    ["ENCOLA_WEBHOOK_RETRY_SCHEDULE", "ENCOLA_WEBHOOK_TIMEOUT", "ENCOLA_WEBHOOK_RETRY_TIMEOUT", "ENCOLA_AFIP_TIMEOUT", "ENCOLA_LANE_LEASE"],
)
def test_a_bad_duration_in_any_duration_variable_is_a_settings_error(name):
    with pytest.raises(SettingsError):
        Settings.from_env({name: "cinco minutos"})


def test_an_empty_schedule_variable_is_a_settings_error():
    with pytest.raises(SettingsError):
        Settings.from_env({"ENCOLA_WEBHOOK_RETRY_SCHEDULE": " , "})


@pytest.mark.parametrize(
    "name",
    ["ENCOLA_WEBHOOK_CONCURRENCY", "ENCOLA_MAX_BODY_BYTES", "ENCOLA_AFIP_BATCH_SIZE", "ENCOLA_AFIP_SIM_LATENCY_MS", "ENCOLA_MAX_LANES"],
)
def test_a_non_numeric_integer_variable_is_a_settings_error(name):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: "muchos"})


def test_a_webhook_concurrency_of_zero_is_refused():
    with pytest.raises(SettingsError):
        Settings.from_env({"ENCOLA_WEBHOOK_CONCURRENCY": "0"})


def test_a_zero_webhook_timeout_is_refused():
    with pytest.raises(SettingsError):
        Settings.from_env({"ENCOLA_WEBHOOK_TIMEOUT": "0s"})


def test_the_environment_is_read_from_os_environ_when_none_is_given(monkeypatch):
    monkeypatch.setenv("ENCOLA_MAX_LANES", "7")
    assert Settings.from_env().max_lanes == 7


# --- docs/configuration.md lists every variable with its real default -------------------------

ROOT = Path(__file__).resolve().parents[3]
FIELDS = {
    "ENCOLA_DATABASE_URL": ("database_url", str),
    "ENCOLA_MAX_BODY_BYTES": ("max_body_bytes", int),
    "ENCOLA_WEBHOOK_RETRY_SCHEDULE": ("webhook_retry_schedule", parse_schedule),
    "ENCOLA_WEBHOOK_TIMEOUT": ("webhook_first_timeout", parse_duration),
    "ENCOLA_WEBHOOK_RETRY_TIMEOUT": ("webhook_retry_timeout", parse_duration),
    "ENCOLA_WEBHOOK_USER_AGENT": ("webhook_user_agent", str),
    "ENCOLA_WEBHOOK_CONCURRENCY": ("webhook_concurrency", int),
    "ENCOLA_AFIP_TIMEOUT": ("afip_timeout", parse_duration),
    "ENCOLA_AFIP_BATCH_SIZE": ("afip_batch_size", int),
    "ENCOLA_AFIP_SIM_LEDGER": ("afip_sim_ledger", str),
    "ENCOLA_AFIP_SIM_LATENCY_MS": ("afip_sim_latency_ms", int),
    "ENCOLA_LANE_LEASE": ("lane_lease_seconds", parse_duration),
    "ENCOLA_MAX_LANES": ("max_lanes", int),
}


def documented_defaults() -> dict[str, str]:
    rows = re.findall(r"^\| `(ENCOLA_[A-Z_]+)` \| ([^|]*) \|", (ROOT / "docs" / "configuration.md").read_text(), re.M)
    return {name: default.strip().strip("`") for name, default in rows}


def test_every_variable_settings_reads_is_documented():
    from encola import settings as settings_module

    source = inspect.getsource(Settings.from_env) + inspect.getsource(settings_module._mail_values)
    read = set(re.findall(r'"(ENCOLA_[A-Z_]+)"', source))
    documented = set(documented_defaults())
    assert read - documented == set()
    # ENCOLA_LOG_LEVEL is read by the CLI's --log-level; the secret key by encola/secretbox.py only,
    # so that it never sits in the Settings object that is passed everywhere.
    assert documented - read == {"ENCOLA_LOG_LEVEL", "ENCOLA_SECRET_KEY", "ENCOLA_SECRET_KEY_FILE"}
    from encola import secretbox

    assert {"ENCOLA_SECRET_KEY", "ENCOLA_SECRET_KEY_FILE"} <= set(re.findall(r'"(ENCOLA_[A-Z_]+)"', inspect.getsource(secretbox)))


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_the_documented_default_is_the_real_default(name):
    field_name, parse = FIELDS[name]
    assert parse(documented_defaults()[name]) == getattr(Settings(), field_name)
