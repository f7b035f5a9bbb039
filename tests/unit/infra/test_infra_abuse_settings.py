"""Abuse limits and operator surfaces, pure parts: rate settings, the operator token's header,
the 429 answer, and the limits' counting (in memory)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from encola.api.limits import AbuseLimits, describe
from encola.api.operator import is_operator, presented_token
from encola.settings import Rate, Settings, SettingsError, parse_duration, parse_rate

UNITS = ("second", "minute", "hour", "day")
TOKENS = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=16, max_size=64)


# --- rates ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("2000/second", Rate(2000, 1, "second")),
        ("20/minute", Rate(20, 1, "minute")),
        ("100/5 minutes", Rate(100, 5, "minute")),
        (" 3 per 2 hours ", Rate(3, 2, "hour")),
        ("1/Day", Rate(1, 1, "day")),
    ],
)
def test_a_rate_is_read_as_count_per_window(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["0", "off", "OFF", " none "])
def test_zero_or_off_switches_a_limit_off(text):
    assert parse_rate(text) is None


@pytest.mark.parametrize("text", ["", "fast", "10", "10/week", "0/second", "10/0 seconds", "-1/second", "1.5/second", "10/s"])
def test_anything_else_is_not_a_rate(text):
    with pytest.raises(SettingsError, match="not a rate"):
        parse_rate(text)


@given(st.integers(1, 10**9 - 1), st.integers(1, 999_999), st.sampled_from(UNITS))
def test_a_rate_written_out_reads_back_as_itself(count, per, unit):
    rate = Rate(count, per, unit)
    assert parse_rate(str(rate)) == rate


@given(st.text(max_size=40))
def test_the_rate_parser_answers_a_rate_none_or_a_settings_error_for_any_text(text):
    try:
        rate = parse_rate(text)
    except SettingsError:
        return
    assert rate is None or (rate.count >= 1 and rate.per >= 1 and rate.unit in UNITS)


def test_the_limits_and_operator_variables_are_read():
    settings = Settings.from_env({
        "ENCOLA_RATE_LIMIT_PER_CREDENTIAL": "10/second",
        "ENCOLA_RATE_LIMIT_PER_ADDRESS": "off",
        "ENCOLA_AUTH_FAILURES_PER_ADDRESS": "5/10 minutes",
        "ENCOLA_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379",
        "ENCOLA_BODY_READ_TIMEOUT": "5s",
        "ENCOLA_FORWARDED_ALLOW_IPS": "10.0.0.1",
        "ENCOLA_ADMIN_TOKEN": "a" * 32,
        "ENCOLA_AFIP_SIM_CONTROLS": "1",
    })
    assert settings.rate_limit_per_credential == Rate(10, 1, "second")
    assert settings.rate_limit_per_address is None
    assert settings.auth_failures_per_address == Rate(5, 10, "minute")
    assert settings.rate_limit_storage == "redis://127.0.0.1:6379"
    assert settings.body_read_timeout == 5.0
    assert settings.forwarded_allow_ips == "10.0.0.1"
    assert settings.admin_token == "a" * 32
    assert settings.afip_sim_controls is True
    assert Settings.from_env({"ENCOLA_BODY_READ_TIMEOUT": "off"}).body_read_timeout is None


def test_the_operator_surfaces_are_closed_by_default():
    settings = Settings.from_env({})
    assert settings.admin_token is None and settings.afip_sim_controls is False
    assert settings.simulated is True
    assert Settings.from_env({"ENCOLA_AFIP_ENV": "produccion"}).simulated is False


@pytest.mark.parametrize("token", ["short", "x" * 15, "ñ" * 20, "tab\tinside-the-token"])
def test_a_weak_or_unprintable_admin_token_is_refused(token):
    with pytest.raises(SettingsError, match="ENCOLA_ADMIN_TOKEN"):
        Settings.from_env({"ENCOLA_ADMIN_TOKEN": token})


ROOT = Path(__file__).resolve().parents[3]


def test_the_documented_defaults_are_the_real_ones():
    rows = dict(re.findall(r"^\| `(ENCOLA_[A-Z_]+)` \| ([^|]*) \|", (ROOT / "docs" / "configuration.md").read_text(), re.M))
    documented = {name: value.strip().strip("`") for name, value in rows.items()}
    defaults = Settings()
    assert parse_rate(documented["ENCOLA_RATE_LIMIT_PER_CREDENTIAL"]) == defaults.rate_limit_per_credential
    assert parse_rate(documented["ENCOLA_RATE_LIMIT_PER_ADDRESS"]) == defaults.rate_limit_per_address
    assert parse_rate(documented["ENCOLA_AUTH_FAILURES_PER_ADDRESS"]) == defaults.auth_failures_per_address
    assert documented["ENCOLA_RATE_LIMIT_STORAGE"] == defaults.rate_limit_storage
    assert parse_duration(documented["ENCOLA_BODY_READ_TIMEOUT"]) == defaults.body_read_timeout


# --- the operator token --------------------------------------------------------------------------

def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@given(TOKENS, st.text(alphabet=st.characters(blacklist_characters=":", blacklist_categories=("Cs",)), max_size=20))
def test_the_token_is_read_from_bearer_and_from_basic_whatever_the_user_name(token, user):
    assert presented_token(f"Bearer {token}") == token
    assert presented_token(basic(user, token)) == token
    assert is_operator(f"bearer  {token} ", token)
    assert is_operator(basic(user, token), token)


@given(TOKENS, TOKENS)
def test_another_token_is_never_the_operator(token, other):
    if other != token:
        assert not is_operator(f"Bearer {other}", token)
        assert not is_operator(basic("admin", other), token)


@given(st.one_of(st.none(), st.text(max_size=80)))
def test_any_header_at_all_is_read_without_raising_and_never_opens_a_closed_surface(header):
    presented = presented_token(header)
    assert presented is None or isinstance(presented, str)
    assert not is_operator(header, None)
    assert not is_operator(header, "")


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Basic", "Basic !!!notbase64", "Basic " + base64.b64encode(b"no-colon").decode(),
     "Basic " + base64.b64encode(b"user:").decode(), "Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "Token abc"],
)
def test_malformed_headers_present_no_token(header):
    assert presented_token(header) is None


# --- counting ------------------------------------------------------------------------------------

SCOPE = {"type": "http", "client": ("192.0.2.7", 5555)}


def test_an_apikey_over_its_rate_gets_tf_429_with_retry_after():
    limits = AbuseLimits(Settings(rate_limit_per_credential=Rate(3, 1, "minute")))

    async def run():
        return [await limits.admit_credential("123") for _ in range(4)] + [await limits.admit_credential("456")]

    answers = asyncio.run(run())
    assert answers[:3] == [None] * 3 and answers[4] is None
    refused = answers[3]
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    body = json.loads(refused.body)
    assert body["error"] == "S" and body["error_details"][0]["code"] == "TFC-1018"
    assert "(3 por minuto)" in body["errores"][0]


def test_an_address_is_locked_out_after_its_failed_authentications_only():
    limits = AbuseLimits(Settings(auth_failures_per_address=Rate(2, 1, "minute")))
    other = {"type": "http", "client": ("192.0.2.8", 1)}

    async def run():
        before = await limits.admit_address(SCOPE)
        await limits.failed_authentication(SCOPE)
        between = await limits.admit_address(SCOPE)
        await limits.failed_authentication(SCOPE)
        return before, between, await limits.admit_address(SCOPE), await limits.admit_address(other)

    before, between, after, elsewhere = asyncio.run(run())
    assert before is None and between is None and elsewhere is None
    assert after.status_code == 429 and json.loads(after.body)["error_details"][0]["code"] == "TFC-1019"


def test_limits_switched_off_admit_everything():
    limits = AbuseLimits(Settings(rate_limit_per_credential=None, rate_limit_per_address=None, auth_failures_per_address=None))

    async def run():
        for _ in range(100):
            await limits.failed_authentication(SCOPE)
        return await limits.admit_address(SCOPE), await limits.admit_credential("1")

    assert asyncio.run(run()) == (None, None)
    assert limits.before_body is False


def test_an_unreachable_shared_storage_lets_requests_through():
    limits = AbuseLimits(Settings(rate_limit_storage="redis://127.0.0.1:1", rate_limit_per_address=Rate(1, 1, "minute")))

    async def run():
        return [await limits.admit_address(SCOPE) for _ in range(3)]

    assert asyncio.run(run()) == [None] * 3


@pytest.mark.parametrize(("rate", "text"), [(Rate(5000, 1, "second"), "5000 por segundo"), (Rate(20, 5, "minute"), "20 cada 5 minutos")])
def test_the_limit_is_named_in_spanish(rate, text):
    assert describe(rate) == text
