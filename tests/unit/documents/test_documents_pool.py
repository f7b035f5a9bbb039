"""The render pool (encola/documents/pool.py): real spawned processes, shared per process, replaced
after a death; the one-thread mode for the smallest machines."""

from __future__ import annotations

import asyncio
import os

import pytest

from encola.documents import pool as render_pool
from encola.settings import Settings, SettingsError


def _pid() -> int:
    return os.getpid()


def _die() -> None:
    os._exit(3)


def _double(value: int) -> int:
    return value * 2


def test_renders_in_other_processes_and_one_pool_is_shared_per_size():
    pool = render_pool.shared(2)
    assert render_pool.shared(2) is pool
    pool.open()
    try:
        pids = asyncio.run(_gather(pool, _pid, 8))
        assert os.getpid() not in pids
        assert asyncio.run(pool.run(_double, 21)) == 42
    finally:
        pool.close()


def test_a_dead_process_fails_its_call_and_the_next_call_gets_a_new_pool():
    pool = render_pool.RenderPool(1)
    pool.open()
    try:
        with pytest.raises(render_pool.RenderProcessDied):
            asyncio.run(pool.run(_die))
        assert asyncio.run(pool.run(_double, 5)) == 10
    finally:
        pool.close()


def test_zero_processes_renders_in_one_thread_of_this_process():
    pool = render_pool.RenderPool(0)
    pool.open()
    try:
        assert asyncio.run(_gather(pool, _pid, 4)) == {os.getpid()}
    finally:
        pool.close()


def test_the_last_user_closing_stops_the_processes():
    pool = render_pool.RenderPool(1)
    pool.open()
    pool.open()
    asyncio.run(pool.run(_double, 1))
    pool.close()
    assert pool._executor is not None  # one user left
    pool.close()
    assert pool._executor is None


def test_the_setting():
    assert Settings.from_env({}).render_processes == 2
    assert Settings.from_env({"ENCOLA_RENDER_PROCESSES": "0"}).render_processes == 0
    with pytest.raises(SettingsError):
        Settings.from_env({"ENCOLA_RENDER_PROCESSES": "-1"})


async def _gather(pool, function, count: int) -> set:
    return set(await asyncio.gather(*(pool.run(function) for _ in range(count))))
