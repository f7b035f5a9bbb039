"""Secrets at rest: AFIP private keys, webhook tokens and signing secrets, encrypted in the database.

Values are Fernet tokens (AES-128-CBC + HMAC-SHA256, from ``cryptography``) behind a ``enc1:``
prefix, so a value written before encryption existed is recognised and re-encrypted on start.
The key comes from ``ENCOLA_SECRET_KEY`` (one or more comma-separated Fernet keys: the first
encrypts, all decrypt, which is how a key is rotated) or from a key file
(``ENCOLA_SECRET_KEY_FILE``, default ``encola-secret.key``), generated on first run with a loud
warning to back it up. The database keeps a check value, so a process started with another key
refuses to run instead of writing secrets nobody can read back.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger("encola.secrets")
PREFIX = "enc1:"
DEFAULT_KEY_FILE = "encola-secret.key"
_CHECK_PLAINTEXT = "encola secret key check"


class SecretKeyError(ValueError):
    """The secret key is missing, malformed, or not the one the database was written with."""


class SecretBox:
    def __init__(self, keys: list[bytes]):
        if not keys:
            raise SecretKeyError("no secret key")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except ValueError as exc:
            raise SecretKeyError(f"ENCOLA_SECRET_KEY is not a Fernet key ({exc})") from None

    @classmethod
    def ephemeral(cls) -> "SecretBox":
        """A box whose key dies with the process: for tests and in-memory tools only."""
        return cls([Fernet.generate_key()])

    def seal(self, plaintext: str) -> str:
        return PREFIX + self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, stored: str) -> str:
        """The plaintext of a sealed value; a value stored before encryption is returned as is."""
        if not is_sealed(stored):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError("a stored secret does not open with the configured ENCOLA_SECRET_KEY") from None

    def check_value(self) -> str:
        return self.seal(_CHECK_PLAINTEXT)

    def matches(self, check_value: str) -> bool:
        try:
            return self.open(check_value) == _CHECK_PLAINTEXT
        except SecretKeyError:
            return False


def is_sealed(stored: str | None) -> bool:
    return stored is not None and stored.startswith(PREFIX)


def load(environ: dict[str, str] | None = None) -> SecretBox:
    """The box from ``ENCOLA_SECRET_KEY``, else from the key file (created when missing)."""
    env = os.environ if environ is None else environ
    if env.get("ENCOLA_SECRET_KEY"):
        return SecretBox([part.strip().encode() for part in env["ENCOLA_SECRET_KEY"].split(",") if part.strip()])
    path = Path(env.get("ENCOLA_SECRET_KEY_FILE") or DEFAULT_KEY_FILE)
    if not path.exists():
        _create_key_file(path)
    keys = [line.strip().encode() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return SecretBox(keys)


def _create_key_file(path: Path) -> None:
    key = Fernet.generate_key().decode()
    # Created with owner-only permissions from the start, not chmod-ed after the key is written.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# encola's secret key: encrypts AFIP private keys and webhook secrets. BACK IT UP.\n")
        handle.write(key + "\n")
    log.warning(
        "generated a new secret key in %s: it encrypts the AFIP private keys and webhook secrets in "
        "the database. BACK IT UP: without it they cannot be read. Set ENCOLA_SECRET_KEY or "
        "ENCOLA_SECRET_KEY_FILE to choose it yourself.",
        path.resolve(),
        extra={"action": "secret_key_generated"},
    )
