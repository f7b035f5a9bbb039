"""The render pool (encola/documents/pool.py): real spawned processes, shared per process, replaced
after a death; the one-thread mode for the smallest machines."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from encola.documents import pool as render_pool
from encola.settings import Settings, SettingsError


@pytest.fixture
def pool():
    """A pool of one render process, closed after the test."""
    made = render_pool.RenderPool(1)
    made.open()
    yield made
    made.close()


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


def _spin(seconds: float) -> float:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return seconds


def _fail(text: str) -> None:
    raise ValueError(text)


def _unpicklable():
    return lambda: None


def test_a_failing_call_raises_its_own_exception_and_the_process_goes_on(pool):
    pid = asyncio.run(pool.run(_pid))
    with pytest.raises(ValueError, match="mal dato"):
        asyncio.run(pool.run(_fail, "mal dato"))
    with pytest.raises(RuntimeError, match="pickle"):
        asyncio.run(pool.run(_unpicklable))
    assert asyncio.run(pool.run(_pid)) == pid  # the same process: nothing was replaced


def test_a_call_cancelled_mid_render_never_answers_the_next_one(pool):
    """Its answer would still come: the process is replaced, and the next call gets its own."""

    async def scenario():
        first = await pool.run(_pid)
        slow = asyncio.ensure_future(pool.run(_spin, 0.5))
        await asyncio.sleep(0.1)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        return first, await pool.run(_double, 4), await pool.run(_pid)

    first, doubled, second = asyncio.run(scenario())
    assert doubled == 8
    assert second != first


def test_calls_beyond_the_processes_wait_their_turn_and_a_cancelled_wait_takes_nothing(pool):
    async def scenario():
        busy = asyncio.ensure_future(pool.run(_spin, 0.3))
        await asyncio.sleep(0.05)
        waiting = asyncio.ensure_future(pool.run(_double, 1))
        await asyncio.sleep(0.05)
        waiting.cancel()
        results = await asyncio.gather(busy, *(pool.run(_double, n) for n in range(5)))
        return waiting.cancelled(), results

    cancelled, results = asyncio.run(scenario())
    assert cancelled
    assert results == [0.3, 0, 2, 4, 6, 8]


def test_calls_from_two_event_loops_at_once_share_the_processes(pool):
    """The API's loop and another (a worker's mail sender, a test) may call at the same time."""
    results: dict[str, list] = {}

    def calls(name: str, base: int) -> None:
        async def many():
            return await asyncio.gather(*(pool.run(_double, base + n) for n in range(20)))

        results[name] = asyncio.run(many())

    threads = [threading.Thread(target=calls, args=(name, base)) for name, base in (("a", 0), ("b", 100))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == {"a": [2 * n for n in range(20)], "b": [2 * (100 + n) for n in range(20)]}


def test_closing_the_pool_fails_the_calls_still_waiting(pool):
    async def scenario():
        busy = asyncio.ensure_future(pool.run(_spin, 0.5))
        waiting = asyncio.ensure_future(pool.run(_double, 1))
        await asyncio.sleep(0.1)
        pool.close()
        return await asyncio.gather(busy, waiting, return_exceptions=True)

    busy, waiting = asyncio.run(scenario())
    assert isinstance(busy, render_pool.RenderProcessDied)
    assert isinstance(waiting, render_pool.RenderProcessDied)


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
    processes = [worker.process for worker in pool._workers]
    pool.close()
    assert pool.running  # one user left
    assert all(process.is_alive() for process in processes)
    pool.close()
    assert not pool.running
    for process in processes:
        process.join(10)
        assert not process.is_alive()


def test_the_setting():
    assert Settings.from_env({}).render_processes == 2
    assert Settings.from_env({"ENCOLA_RENDER_PROCESSES": "0"}).render_processes == 0
    with pytest.raises(SettingsError):
        Settings.from_env({"ENCOLA_RENDER_PROCESSES": "-1"})


async def _gather(pool, function, count: int) -> set:
    return set(await asyncio.gather(*(pool.run(function) for _ in range(count))))


def test_render_processes_end_when_their_parent_is_killed_even_while_they_start(tmp_path):
    """A parent killed before its render processes finished importing (a server stopped at once)
    must not leave them behind: they used to wait for the wrong parent forever."""
    import subprocess
    import sys
    import time

    marker = f"encola-pool-test-{os.getpid()}-{time.monotonic_ns()}"
    script = "import os, time\nfrom encola.documents import pool\npool.RenderPool(2).open()\ntime.sleep(0.2)\nos._exit(0)\n"
    subprocess.run([sys.executable, "-c", script], env={**os.environ, "ENCOLA_POOL_TEST": marker}, timeout=60, check=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not _processes_marked(marker):
            return
        time.sleep(0.2)
    raise AssertionError(f"render processes outlived their parent: {_processes_marked(marker)}")


def _processes_marked(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as environ:
                    if f"ENCOLA_POOL_TEST={marker}".encode() in environ.read().split(b"\0"):
                        found.append(int(entry))
            except OSError:
                continue
    return found


def _qr_codes_cached() -> int:
    from encola.documents.canvas import qr_image

    return qr_image.cache_info().currsize


def test_a_render_process_has_rendered_the_sample_before_its_first_real_document():
    # The rehearsal (sample.rehearse) is submitted when the pool starts; one process takes tasks
    # in order, so by the time it answers this call it has drawn the sample and encoded its QR.
    pool = render_pool.RenderPool(1)
    pool.open()
    try:
        assert asyncio.run(pool.run(_qr_codes_cached)) >= 1
    finally:
        pool.close()


def _niceness() -> int:
    return os.nice(0)


def test_render_processes_run_below_the_process_that_started_them():
    pool = render_pool.RenderPool(1)
    pool.open()
    try:
        expected = min(os.nice(0) + render_pool.RENDER_NICENESS, 19)
        assert asyncio.run(pool.run(_niceness)) == expected
    finally:
        pool.close()


_WARMED: list = []


def _warm_with(value: str) -> None:
    _WARMED.append(value)


def _warmed() -> tuple[int, list]:
    _spin(0.2)  # held long enough for the other call to take the other process
    return os.getpid(), list(_WARMED)


def test_every_process_runs_its_users_warm_ups_before_its_first_call_replacements_too():
    pool = render_pool.RenderPool(2)
    pool.open((_warm_with, ("base de datos",)))

    async def each_process():
        return dict(await asyncio.gather(pool.run(_warmed), pool.run(_warmed)))

    try:
        first = asyncio.run(each_process())
        assert len(first) == 2 and all(warmed == ["base de datos"] for warmed in first.values())
        with pytest.raises(render_pool.RenderProcessDied):
            asyncio.run(pool.run(_die))
        after = asyncio.run(each_process())
        assert len(after) == 2 and set(after) != set(first)  # one of them is the replacement
        assert all(warmed == ["base de datos"] for warmed in after.values())
    finally:
        pool.close()
