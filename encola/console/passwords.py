"""Operator passwords: argon2id hashes (argon2-cffi's defaults), and the one-time passwords the CLI prints."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
# Verified when the e-mail is unknown, so an unknown address takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


def new_password() -> str:
    """A random password (~128 bits) for a new operator, shown once by the CLI."""
    return secrets.token_urlsafe(16)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; always does the work of one verification."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
