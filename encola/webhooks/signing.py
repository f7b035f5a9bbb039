"""Standard Webhooks signatures (https://www.standardwebhooks.com), and rotating the secret.

Each point of sale has a signing secret, ``whsec_`` and base64 of 32 random bytes. A hook
carries ``webhook-id`` (its stable ``hook_id``), ``webhook-timestamp`` (Unix seconds when this
attempt was sent) and ``webhook-signature``: ``v1,`` and base64 of
HMAC-SHA256(secret bytes, ``"{id}.{timestamp}.{body}"``) over the exact body bytes sent. While a
rotated-out secret is still in its grace period, the header carries one ``v1,`` signature per
valid secret, separated by spaces, so receivers that still hold the old secret keep verifying.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from functools import lru_cache

from encola.domain import credentials
from encola.store.rows import HookEvent
from encola.store.store import Store

PREFIX = "whsec_"


@lru_cache(maxsize=1024)
def secret_key(secret: str) -> bytes:
    """The HMAC key a ``whsec_…`` secret names."""
    encoded = secret[len(PREFIX):] if secret.startswith(PREFIX) else secret
    return base64.b64decode(encoded + "==")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of ``body`` as sent with this id and timestamp."""
    digest = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def valid_secrets(event: HookEvent, now: datetime) -> list[str]:
    """The point of sale's secrets a hook is signed with now: the current one, and the
    previous one while its grace period lasts."""
    secrets = [event.webhook_secret] if event.webhook_secret else []
    until = event.webhook_secret_previous_until
    if event.webhook_secret_previous and until is not None and until > now:
        secrets.append(event.webhook_secret_previous)
    return secrets


def signature_headers(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt (no signature when there is no secret)."""
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp)}
    if secrets:
        headers["webhook-signature"] = " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)
    return headers


def rotate_secret(store: Store, pdv_id: int, grace_seconds: float) -> str:
    """Give a point of sale a new signing secret; the current one stays valid for ``grace_seconds``.

    Returns the new secret (shown once: it is stored sealed). A grace of 0 ends the old secret now.
    """
    secret = credentials.generate_webhook_secret()
    now = store.clock.now()
    with store.writing() as connection:
        current = store.webhook_secret_of(connection, pdv_id)
        store.update_pdv(
            connection,
            pdv_id,
            webhook_secret=secret,
            webhook_secret_previous=current if grace_seconds > 0 else None,
            webhook_secret_previous_until=now + timedelta(seconds=grace_seconds) if current and grace_seconds > 0 else None,
        )
    return secret
