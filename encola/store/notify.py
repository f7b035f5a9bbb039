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
INVOICES = "encola_invoices"  # an invoice became due: the engine should look
HOOKS = "encola_hooks"  # an outbox event was written: the dispatcher should look


def notify(connection: Connection, channel: str) -> None:
    """Queue a notification in the caller's transaction (PostgreSQL only; a no-op elsewhere)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel})


async def listen(url: str, callbacks: dict[str, Callable[[], None]], stop: asyncio.Event) -> None:
    """Call ``callbacks[channel]()`` on every notification until ``stop``; reconnects on failure."""
    import psycopg

    url = url.replace("postgresql+psycopg://", "postgresql://")
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
                for channel in callbacks:
                    await connection.execute(f"LISTEN {channel}")
                while not stop.is_set():
                    async for message in connection.notifies(timeout=1.0):
                        callbacks[message.channel]()
        except Exception as exc:  # a restarted server or a network blip: listen again shortly
            log.warning("LISTEN connection failed (%s); retrying", exc, extra={"action": "listen"})
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                pass
