"""Liveness and readiness.

``/healthz`` says only that the process answers. ``/readyz`` says whether it can do its job: the
database answers, its schema is at this build's newest migration, and the loops this process runs
(the engine's, the dispatcher's) have ticked recently. Each loop calls :func:`beat` once per turn;
a loop stuck on a hung database stops beating and the process stops being ready.
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass, field

from sqlalchemy import text

# A loop polls at least every few seconds (0.25 s engine, 0.5 s dispatcher, 2 s with LISTEN);
# 30 s without a turn means it is stuck, not idle.
STALE_AFTER_SECONDS = 30.0
DATABASE_TIMEOUT_SECONDS = 3.0

_beats: dict[str, float] = {}
_stopping = False


def beat(loop: str) -> None:
    """The loop named ``loop`` (engine, dispatcher) finished a turn."""
    _beats[loop] = time.monotonic()


def stopping() -> None:
    """The process was asked to stop: it is no longer ready (load balancers send elsewhere)."""
    global _stopping
    _stopping = True


def reset() -> None:
    """Forget beats and the stopping flag (a new run of services in the same process)."""
    global _stopping
    _beats.clear()
    _stopping = False


def loop_age(loop: str) -> float | None:
    """Seconds since the loop's last turn; None if it never turned."""
    last = _beats.get(loop)
    return None if last is None else time.monotonic() - last


@functools.cache
def newest_migration() -> str:
    """The head revision this build ships (read once; the scripts do not change while running)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from encola.store.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def database_revision(engine) -> str | None:
    """The revision the database says it is at (one indexed single-row read)."""
    with engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


@dataclass
class Readiness:
    ready: bool
    checks: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"status": "ready" if self.ready else "not ready", "checks": self.checks}


async def readiness(engine, loops: list[str]) -> Readiness:
    """Check the database, the schema and every loop in ``loops``; never raises."""
    checks: dict = {}
    try:
        revision = await asyncio.wait_for(asyncio.to_thread(database_revision, engine), DATABASE_TIMEOUT_SECONDS)
        checks["database"] = {"ok": True}
        head = newest_migration()
        checks["migrations"] = {"ok": revision == head, "database": revision, "expected": head}
    except Exception as exc:  # unreachable, timed out, no alembic_version table: all mean "not ready"
        checks["database"] = {"ok": False, "error": type(exc).__name__}
        checks["migrations"] = {"ok": False}
    for loop in loops:
        age = loop_age(loop)
        ok = age is not None and age < STALE_AFTER_SECONDS
        checks[loop] = {"ok": ok, "last_tick_seconds_ago": None if age is None else round(age, 3)}
    if _stopping:
        checks["shutdown"] = {"ok": False, "error": "stopping"}
    return Readiness(all(check["ok"] for check in checks.values()), checks)
