"""Retry policy for transient AFIP failures: pure arithmetic over the attempt count."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

MAX_ATTEMPTS = 100  # TF: "Que hayan intentado emitirse menos de 100 veces"
BASE_SECONDS = 2.0
CAP_SECONDS = 300.0


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential from 2 s, capped at 5 min, with ±20 % jitter so lanes do not retry in step."""
    delay = min(CAP_SECONDS, BASE_SECONDS * (2 ** min(max(0, attempts - 1), 16)))
    return delay * (rng or random).uniform(0.8, 1.2)


def next_attempt_at(now: datetime, attempts: int, minimum_seconds: float = 0.0) -> datetime:
    return now + timedelta(seconds=max(minimum_seconds, backoff_seconds(attempts)))


def exhausted(attempts: int) -> bool:
    return attempts >= MAX_ATTEMPTS
