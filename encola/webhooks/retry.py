"""When to try a delivery again: the retry schedules of hooks and mail, and ``Retry-After``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime


def next_retry_at(now: datetime, attempts_done: int, schedule: tuple[float, ...]) -> datetime | None:
    """When to try again after ``attempts_done`` failed attempts; None when the schedule is spent."""
    if attempts_done - 1 >= len(schedule):
        return None
    return now + timedelta(seconds=schedule[attempts_done - 1])


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date); None if unusable."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value[:12])  # bounded by the caller; a longer number would only overflow
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now.replace(tzinfo=timezone.utc)).total_seconds())
