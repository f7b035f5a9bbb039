"""Time, injectable. "Today" is always the date in Argentina (America/Argentina/Buenos_Aires).

Datetimes handed to the store are naive UTC; the wire shows Argentina local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

ARGENTINA = ZoneInfo("America/Argentina/Buenos_Aires")


class Clock:
    def now(self) -> datetime:
        """Naive UTC now, the form the store keeps."""
        return datetime.now(timezone.utc).replace(tzinfo=None)

    def today(self) -> date:
        return to_argentina(self.now()).date()


@dataclass
class FixedClock(Clock):
    """A clock for tests: stands still until moved."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def to_argentina(utc_naive: datetime) -> datetime:
    return utc_naive.replace(tzinfo=timezone.utc).astimezone(ARGENTINA)
