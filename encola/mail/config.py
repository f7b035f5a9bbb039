"""The SMTP server and the sender address, from ``ENCOLA_SMTP_URL`` and ``ENCOLA_MAIL_FROM``.

``smtp://host[:25]`` (no TLS: a relay on a trusted network, a local sink), ``smtp+starttls://user:pass
@host[:587]`` (STARTTLS required) and ``smtps://user:pass@host[:465]`` (TLS from the first byte).
User and password are percent-decoded (``%40`` for an ``@`` in a user name). The password is
never shown: ``SmtpServer`` leaves it out of its ``repr`` and ``display`` (what logs and
``hook_attempts.url`` hold).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import getaddresses, parseaddr
from urllib.parse import unquote, urlsplit

SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}


class MailSettingsError(ValueError):
    """A mail setting that cannot be used (a SettingsError for the caller)."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str  # plain | starttls | tls
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def display(self) -> str:
        """``smtp://host:port`` as logs and attempts show it: never the user's password."""
        scheme = {"plain": "smtp", "starttls": "smtp+starttls", "tls": "smtps"}[self.security]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"


def parse_smtp_url(text: str) -> SmtpServer:
    """An ``ENCOLA_SMTP_URL``; raises MailSettingsError (naming no password) when it is not usable."""
    url = text.strip()
    problem = "use smtp://host:port, smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465"
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise MailSettingsError(f"ENCOLA_SMTP_URL is not a URL ({problem})") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise MailSettingsError(f"ENCOLA_SMTP_URL scheme {scheme or '(none)'!r} is not supported ({problem})")
    if not host or (parts.path not in ("", "/")) or parts.query or parts.fragment:
        raise MailSettingsError(f"ENCOLA_SMTP_URL needs a host and nothing after it ({problem})")
    if not host.isascii() or any(c.isspace() or c in "\\/?#@" for c in host):
        raise MailSettingsError("ENCOLA_SMTP_URL has a host that is not usable")
    security, default_port = SCHEMES[scheme]
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    for value in (username, password):
        if value is not None and any(c in value for c in "\r\n\0"):
            raise MailSettingsError("ENCOLA_SMTP_URL has a user or password with a line break")
    if password and not username:
        raise MailSettingsError("ENCOLA_SMTP_URL has a password without a user")
    if port == 0:
        raise MailSettingsError("ENCOLA_SMTP_URL port must be between 1 and 65535")
    return SmtpServer(host, port or default_port, security, username or None, password)


def parse_mail_from(text: str) -> str:
    """``ENCOLA_MAIL_FROM``: ``facturas@example.com`` or ``Mi Empresa <facturas@example.com>``,
    as a From header (the name encoded as needed)."""
    from encola.domain.validation import email_addresses

    value = text.strip()
    name, address = parseaddr(value) if not any(c in value for c in "\r\n\0") else ("", "")
    if len(getaddresses([value])) != 1:
        address = ""  # more than one address
    if not address or email_addresses(address) is None:
        raise MailSettingsError(
            f"ENCOLA_MAIL_FROM must be an address such as facturas@example.com or 'Mi Empresa <facturas@example.com>', not {text!r}"
        )
    try:
        return str(Address(display_name=name, addr_spec=address))
    except (ValueError, IndexError):
        raise MailSettingsError(f"ENCOLA_MAIL_FROM is not usable: {text!r}") from None


def envelope_address(mail_from: str) -> str:
    """The bare address of a From header (the SMTP envelope's MAIL FROM)."""
    return parseaddr(mail_from)[1]

