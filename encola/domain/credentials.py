"""API credentials: generated with ``secrets``, stored as SHA-256, compared in constant time.

The tokens are 256-bit random strings, so a fast hash is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class Credentials:
    usertoken: str
    apikey: str
    apitoken: str

    def as_json(self) -> dict:
        return {"usertoken": self.usertoken, "apikey": self.apikey, "apitoken": self.apitoken}


def generate() -> Credentials:
    # apikey is numeric, as in TusFacturas; it is the lookup key, not a secret on its own.
    apikey = str(secrets.randbelow(9 * 10**9) + 10**9)
    return Credentials(secrets.token_hex(32), apikey, secrets.token_hex(32))


def generate_webhook_token() -> str:
    return secrets.token_urlsafe(24)


def generate_webhook_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)
