"""Wake-ups across processes on PostgreSQL: NOTIFY in the writing transaction, LISTEN in workers.

A notification is delivered when its transaction commits, so a worker never wakes for work it
cannot see yet. Polling stays as the safety net (a lost connection, SQLite).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from sqlalchemy import Connection, text

log = logging.getLogger("encola.notify")
CHANNEL = "encola"  # work was written: an invoice became due, or an outbox event is pending
_NOTIFY = text(f"NOTIFY {CHANNEL}")


def notify(connection: Connection) -> None:
    """Queue a notification in the caller's transaction (PostgreSQL only; a no-op elsewhere).

    One channel for the engine and the dispatcher alike: a spurious wake-up costs one indexed
    query, while a second NOTIFY per transaction would cost a round trip on every intake.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(_NOTIFY)


async def listen(url: str, callbacks: list[Callable[[], None]], stop: asyncio.Event) -> None:
    """Call every callback on each notification until ``stop``; reconnects on failure."""
    import psycopg

    url = url.replace("postgresql+psycopg://", "postgresql://")
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
                await connection.execute(f"LISTEN {CHANNEL}")
                while not stop.is_set():
                    async for _ in connection.notifies(timeout=1.0):
                        for callback in callbacks:
                            callback()
        except Exception as exc:  # a restarted server or a network blip: listen again shortly
            log.warning("LISTEN connection failed (%s); retrying", exc, extra={"action": "listen"})
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                pass
