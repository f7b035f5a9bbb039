"""ENCOLA_SMTP_URL and ENCOLA_MAIL_FROM: what is accepted, what is refused, and the password never shown."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from encola.mail.config import SmtpServer, parse_mail_from, parse_smtp_url
from encola.settings import Settings, SettingsError


@pytest.mark.parametrize(
    "url, expected",
    [
        ("smtp://127.0.0.1:2525", SmtpServer("127.0.0.1", 2525, "plain")),
        ("smtp://mail.example.com", SmtpServer("mail.example.com", 25, "plain")),
        ("smtp+starttls://user:pass@smtp.example.com:587", SmtpServer("smtp.example.com", 587, "starttls", "user", "pass")),
        ("smtp+starttls://user:pass@smtp.example.com", SmtpServer("smtp.example.com", 587, "starttls", "user", "pass")),
        ("smtps://user:pass@smtp.example.com:465", SmtpServer("smtp.example.com", 465, "tls", "user", "pass")),
        ("SMTPS://u%40example.com:p%3Aw%40rd@smtp.example.com", SmtpServer("smtp.example.com", 465, "tls", "u@example.com", "p:w@rd")),
        ("smtp://[::1]:2525/", SmtpServer("::1", 2525, "plain")),
    ],
)
def test_smtp_urls_that_work(url, expected):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["", "127.0.0.1:25", "http://mail.example.com", "smtp://", "smtp://:25", "smtp://host:99999", "smtp://host:0",
     "smtp://host/path", "smtp://host?x=1", "smtp://:secret@host", "smtp://u:p%0Aq@host", "imap://host"],
)
def test_smtp_urls_that_do_not(url):
    with pytest.raises(SettingsError):
        Settings.from_env({"ENCOLA_SMTP_URL": url or " x "})


def test_the_password_is_never_shown():
    server = parse_smtp_url("smtps://user:s3cr3t-pass@smtp.example.com")
    assert "s3cr3t" not in repr(server) and "s3cr3t" not in server.display
    assert server.display == "smtps://smtp.example.com:465"
    assert "s3cr3t" not in repr(Settings.from_env({"ENCOLA_SMTP_URL": "smtps://user:s3cr3t-pass@smtp.example.com"}))


def test_an_error_names_no_password():
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"ENCOLA_SMTP_URL": "smtps://user:s3cr3t@smtp.example.com:notaport"})
    assert "s3cr3t" not in str(raised.value)


@given(st.text(max_size=200))
def test_property_any_text_is_a_server_or_the_settings_error(text):
    try:
        settings = Settings.from_env({"ENCOLA_SMTP_URL": text})
    except SettingsError:
        return
    assert settings.smtp is None or (settings.smtp.host and 0 < settings.smtp.port < 65536)


@given(st.sampled_from(["smtp", "smtps", "smtp+starttls", "SMTP", "http", ""]), st.text(max_size=30),
       st.text(max_size=30), st.text(max_size=40), st.integers(-5, 70000))
def test_property_url_shaped_text_is_a_server_or_the_settings_error(scheme, user, password, host, port):
    text = f"{scheme}://{user}:{password}@{host}:{port}"
    try:
        server = Settings.from_env({"ENCOLA_SMTP_URL": text}).smtp
    except SettingsError:
        return
    assert server is not None and 0 < server.port < 65536 and server.host


@pytest.mark.parametrize(
    "value, expected",
    [
        ("facturas@example.com", "facturas@example.com"),
        ("Mi Empresa <facturas@example.com>", "Mi Empresa <facturas@example.com>"),
        ('"Ñandú, SA" <f@example.com>', '"Ñandú, SA" <f@example.com>'),
    ],
)
def test_mail_from(value, expected):
    assert parse_mail_from(value) == expected
    assert Settings.from_env({"ENCOLA_MAIL_FROM": value}).mail_from == expected


@pytest.mark.parametrize("value", ["facturas", "Mi Empresa <facturas>", "a@example.com, b@example.com",
                                   "Mi <a@example.com>\nBcc: x@example.com"])
def test_mail_from_refused(value):
    with pytest.raises(SettingsError):
        Settings.from_env({"ENCOLA_MAIL_FROM": value})


def test_mail_schedule_defaults_and_setting():
    assert Settings().mail_retry_schedule[:2] == (30.0, 60.0) and sum(Settings().mail_retry_schedule[:2]) < 120
    assert Settings.from_env({"ENCOLA_MAIL_RETRY_SCHEDULE": "1s,2s"}).mail_retry_schedule == (1.0, 2.0)
    with pytest.raises(SettingsError, match="ENCOLA_MAIL_RETRY_SCHEDULE"):
        Settings.from_env({"ENCOLA_MAIL_RETRY_SCHEDULE": ","})
