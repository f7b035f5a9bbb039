"""Render processes: PDFs made beside the event loop, one pool per process for downloads and mail.

A render holds the GIL for milliseconds at a time. In a thread, it made every other request of the
event loop wait for it, and renders queued one behind the other: sixteen first downloads at once
waited for each other's renders (p99 ≈ 290 ms). In processes of their own, renders run on every
core while the event loop keeps answering.

The processes are spawned (this process runs threads, so no fork) when the first user opens the
pool — at the API's start and the mail sender's first attempt — and import what they need right
away, so no download or mail waits for a process to start. ``ENCOLA_RENDER_PROCESSES`` sets how
many (default 2); ``0`` renders in one thread of this process instead, for the smallest machines.
A process that dies (killed, out of memory) breaks the pool: the call in flight fails and the next
one gets a new pool.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable


# Render processes run below their API process (Linux schedules a process and the children it
# spawned as one group, so this orders them within it): a burst of first downloads takes what CPU
# is left, and the API process's own requests — intake, health checks, cached downloads, the
# hand-off of each render — are not queued behind whole renders.
RENDER_NICENESS = 5


class RenderProcessDied(Exception):
    """The render process of a call ended before answering (the pool is replaced for the next)."""


class RenderPool:
    """Processes (or one thread) that run render functions; opened and closed by its users."""

    def __init__(self, processes: int):
        self.processes = processes
        self._executor: Executor | None = None
        self._users = 0
        self._lock = threading.Lock()

    def open(self) -> None:
        """One more user; the first starts the processes (in the background) and warms them."""
        with self._lock:
            self._users += 1
            if self._executor is None:
                self._executor = self._start()

    def close(self) -> None:
        """One user fewer; the last stops the processes, without waiting for a render in flight."""
        with self._lock:
            self._users = max(self._users - 1, 0)
            if self._users == 0 and self._executor is not None:
                executor, self._executor = self._executor, None
                _stop(executor)

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in a render process (both picklable); its result."""
        with self._lock:
            if self._executor is None:  # used without open(), or replaced after a death
                self._executor = self._start()
            executor = self._executor
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, function, *args)
        except BrokenProcessPool:
            with self._lock:
                if self._executor is executor:
                    self._executor = None
            _stop(executor)
            raise RenderProcessDied("el proceso que genera el PDF terminó inesperadamente") from None

    def _start(self) -> Executor:
        if self.processes <= 0:
            # One thread: renders are CPU under the GIL, so more would only interleave them.
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix="encola-render")
        executor = ProcessPoolExecutor(
            max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"),
            initializer=_initialize, initargs=(os.getpid(),),
        )
        for _ in range(self.processes):  # start every process now, not with the first renders
            executor.submit(_warm)
        return executor


_pools: dict[int, RenderPool] = {}
_pools_lock = threading.Lock()


def shared(processes: int) -> RenderPool:
    """This process's pool of that size: the API's downloads and the mail sender of one `encola
    serve` render in the same processes rather than starting two sets."""
    with _pools_lock:
        pool = _pools.get(processes)
        if pool is None:
            pool = _pools[processes] = RenderPool(processes)
        return pool


def _stop(executor: Executor) -> None:
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:  # a render in flight is not waited for
        process.terminate()


def _initialize(parent: int) -> None:
    """In each render process, first thing: a lower priority, and an end with its parent."""
    os.nice(RENDER_NICENESS)
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """In each render process: end when ``parent`` (the process that started it) ends, however it
    ends (killed too). Linux: the kernel's parent-death signal; elsewhere, a thread that watches.

    The parent's pid is handed over rather than read here: a spawned process takes most of a
    second to import before this runs, and a parent killed meanwhile (a test's server stopped at
    once) has already left it to init — reading the pid then would watch the wrong parent forever
    (hundreds of orphans, 70 MB each, were found that way)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before the signal was asked for
        os._exit(0)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="encola-render-parent").start()


def _warm() -> None:
    """Import the renderers and their libraries and render a sample once (``sample.rehearse``), so
    the first real render pays only for itself."""
    import encola.mail.message  # noqa: F401
    from encola.documents.sample import rehearse
    from encola.ops.gc_freeze import freeze_startup_objects

    rehearse()
    freeze_startup_objects()
