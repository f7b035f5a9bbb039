"""Render processes: PDFs made beside the event loop, one pool per process for downloads and mail.

A render holds the GIL for milliseconds at a time. In a thread, it made every other request of the
event loop wait for it, and renders queued one behind the other: sixteen first downloads at once
waited for each other's renders (p99 ≈ 290 ms). In processes of their own, renders run on every
core while the event loop keeps answering.

Each process is spawned (this process runs threads, so no fork) with a socket pair, and a call is
one request and one answer on its socket, sent and read by the calling event loop itself. The
standard library's ``ProcessPoolExecutor`` moved every call through two threads of its own in
this process (a manager and a queue feeder) and back through the loop's self-pipe: 0.78 ms of
this process's CPU per call, against 0.22–0.29 ms here (16 calls in flight on 2 processes,
measured), and that CPU is taken from the renders on a small machine. A call holds its process
until the answer is read; calls beyond the number of processes wait their turn, from whichever
event loop they come (the API's, the mail sender's, a test's).

The processes start when the first user opens the pool — at the API's start and the mail
sender's first attempt — and import what they need right away, so no download or mail waits for
a process to start. ``ENCOLA_RENDER_PROCESSES`` sets how many (default 2); ``0`` renders in one
thread of this process instead, for the smallest machines. A process that dies (killed, out of
memory) fails the call it was running and is replaced; so is one whose call was cancelled before
its answer came (its answer would otherwise be read as the next call's).
"""

from __future__ import annotations

import asyncio
import collections
import multiprocessing
import os
import pickle
import signal
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

# Render processes run below their API process (Linux schedules a process and the children it
# spawned as one group, so this orders them within it): a burst of first downloads takes what CPU
# is left, and the API process's own requests — intake, health checks, cached downloads, the
# hand-off of each render — are not queued behind whole renders.
RENDER_NICENESS = 5

_FRAME = struct.Struct("!Q")  # every message: its length, then its pickle
_READ = 1 << 16


class RenderProcessDied(Exception):
    """The render process of a call ended before answering (it is replaced for the next call)."""


class RenderPool:
    """Processes (or one thread) that run render functions; opened and closed by its users."""

    def __init__(self, processes: int):
        self.processes = processes
        self._users = 0
        self._lock = threading.Lock()
        self._running = False
        self._workers: set[_Worker] = set()
        self._idle: list[_Worker] = []
        self._waiting: collections.deque[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = collections.deque()
        self._thread: ThreadPoolExecutor | None = None
        self._warmups: list[tuple[Callable[..., Any], tuple]] = []

    def open(self, *warmups: tuple[Callable[..., Any], tuple]) -> None:
        """One more user; the first starts the processes (they warm up in the background).

        ``warmups``: (function, args) pairs every process started from now on runs once, after
        its rehearsal, before its first call, such as opening the database the downloads read
        (a process started earlier, for another user, runs them on its first call instead)."""
        with self._lock:
            self._users += 1
            self._warmups += [w for w in warmups if w not in self._warmups]
            self._start()

    def close(self) -> None:
        """One user fewer; the last stops the processes, without waiting for a render in flight."""
        with self._lock:
            self._users = max(self._users - 1, 0)
            if self._users > 0 or not self._running:
                return
            self._running = False
            workers, idle, self._workers, self._idle = self._workers, self._idle, set(), []
            waiting, self._waiting = self._waiting, collections.deque()
            thread, self._thread = self._thread, None
        for worker in idle:
            worker.stop()
        for worker in workers.difference(idle):
            # In a call: ending the process ends the call (RenderProcessDied), which closes the
            # socket. Closing it under the call's feet would leave the call waiting forever.
            worker.process.terminate()
        for loop, future in waiting:
            _call_in(loop, _fail, future, RenderProcessDied("el generador de PDF se detuvo"))
        if thread is not None:
            thread.shutdown(wait=False, cancel_futures=True)

    @property
    def running(self) -> bool:
        return self._running

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in a render process (both picklable); its result or its exception."""
        with self._lock:
            self._start()  # used without open(), or after the last user closed it
            thread = self._thread
        if thread is not None:
            return await asyncio.get_running_loop().run_in_executor(thread, function, *args)
        payload = pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)
        worker = await self._acquire()
        answered = False
        try:
            ok, value = await worker.call(payload)
            answered = True
        finally:
            self._release(worker, answered)
        if not ok:
            raise value
        return value

    # --- the processes ------------------------------------------------------------------------

    def _start(self) -> None:
        """Called with the lock held."""
        if self._running:
            return
        self._running = True
        if self.processes <= 0:
            # One thread: renders are CPU under the GIL, so more would only interleave them.
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encola-render")
            return
        for _ in range(self.processes):
            worker = _Worker.spawn(self._warmups)
            self._workers.add(worker)
            self._idle.append(worker)

    async def _acquire(self) -> _Worker:
        loop = asyncio.get_running_loop()
        with self._lock:
            if not self._running:  # closed since this call started it
                raise RenderProcessDied("el generador de PDF se detuvo")
            if self._idle:
                return self._idle.pop()
            future = loop.create_future()
            self._waiting.append((loop, future))
        try:
            return await future
        except asyncio.CancelledError:
            with self._lock:
                try:
                    self._waiting.remove((loop, future))
                except ValueError:
                    pass  # a process was being handed to it: _deliver passes it on
            if future.done() and not future.cancelled() and future.exception() is None:
                self._release(future.result(), True)
            raise

    def _release(self, worker: _Worker, answered: bool) -> None:
        """Hand ``worker`` to the next waiting call, or keep it idle. A worker that did not answer
        (died, or its call was cancelled mid-way) is stopped and replaced."""
        if not answered:
            worker.stop()
            with self._lock:
                if worker not in self._workers:  # the pool was closed meanwhile: nothing to replace
                    return
            replacement = _Worker.spawn(self._warmups)
            with self._lock:
                replaced = worker in self._workers
                if replaced:
                    self._workers.discard(worker)
                    self._workers.add(replacement)
            if not replaced:  # the pool was closed meanwhile
                replacement.stop()
                return
            worker = replacement
        while True:
            with self._lock:
                if worker not in self._workers:  # the pool was closed meanwhile
                    break
                if not self._waiting:
                    self._idle.append(worker)
                    return
                loop, future = self._waiting.popleft()
            # Outside the lock: in this loop's own thread, _deliver runs now and may release again.
            if _call_in(loop, self._deliver, future, worker):
                return
        worker.stop()

    def _deliver(self, future: asyncio.Future, worker: _Worker) -> None:
        """In the waiting call's event loop: give it ``worker``, or pass it on if it gave up."""
        if future.done():
            self._release(worker, True)
        else:
            future.set_result(worker)


class _Worker:
    """One render process and this end of its socket."""

    def __init__(self, process: multiprocessing.process.BaseProcess, sock: socket.socket):
        self.process = process
        self.sock = sock

    @classmethod
    def spawn(cls, warmups: list[tuple[Callable[..., Any], tuple]]) -> _Worker:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()  # a socket pair on POSIX; only its descriptors are used
        process = context.Process(
            target=_serve, args=(theirs, os.getpid(), list(warmups)), name="encola-render", daemon=True
        )
        process.start()
        theirs.close()
        sock = socket.socket(fileno=os.dup(ours.fileno()))
        ours.close()
        sock.setblocking(False)
        return cls(process, sock)

    async def call(self, payload: bytes) -> tuple[bool, Any]:
        loop = asyncio.get_running_loop()
        try:
            await loop.sock_sendall(self.sock, _FRAME.pack(len(payload)) + payload)
            answer = await _read_message(loop, self.sock)
        except OSError:
            answer = None
        if answer is None:
            raise RenderProcessDied("el proceso que genera el PDF terminó inesperadamente")
        return pickle.loads(answer)

    def stop(self) -> None:
        """End the process now (a render in flight is not waited for) and close the socket."""
        self.sock.close()
        if self.process.is_alive():
            self.process.terminate()


async def _read_message(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> bytes | None:
    """One framed message from ``sock``; None when the other end closed first."""
    data = bytearray()
    need = _FRAME.size
    while len(data) < need:
        chunk = await loop.sock_recv(sock, max(need - len(data), _READ))
        if not chunk:
            return None
        data += chunk
        if need == _FRAME.size and len(data) >= need:
            need += _FRAME.unpack_from(data)[0]
    return bytes(data[_FRAME.size:need])


def _call_in(loop: asyncio.AbstractEventLoop, callback: Callable, *args: Any) -> bool:
    """``callback(*args)`` in ``loop``'s thread: now if that is this thread, else soon. False when
    ``loop`` is closed (its caller is gone)."""
    if asyncio._get_running_loop() is loop:
        callback(*args)
        return True
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        return False
    return True


def _fail(future: asyncio.Future, error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


# --- in the render process ------------------------------------------------------------------------


def _serve(connection, parent: int, warmups: list[tuple[Callable[..., Any], tuple]]) -> None:
    """A render process's life: lower priority, an end with its parent, a rehearsal and its
    users' warm-ups, then calls."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops us
    os.nice(RENDER_NICENESS)
    _die_with_parent(parent)
    sock = socket.socket(fileno=os.dup(connection.fileno()))
    connection.close()
    _warm()
    for function, args in warmups:
        try:
            function(*args)
        except Exception:  # noqa: BLE001 — the first real call meets the problem and reports it
            pass
    while True:
        payload = _receive(sock)
        if payload is None:
            return  # the parent closed the pool
        try:
            function, args = pickle.loads(payload)
            answer = (True, function(*args))
        except BaseException as exc:  # noqa: BLE001 — every failure goes back to the caller
            answer = (False, exc)
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an answer that does not pickle
            data = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        sock.sendall(_FRAME.pack(len(data)) + data)


def _receive(sock: socket.socket) -> bytes | None:
    header = _receive_exactly(sock, _FRAME.size)
    if header is None:
        return None
    return _receive_exactly(sock, _FRAME.unpack(header)[0])


def _receive_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray(size)
    view, got = memoryview(data), 0
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            return None
        got += n
    return bytes(data)


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
    import encola.documents.stored  # noqa: F401 — and the store's modules, for first downloads
    import encola.mail.message  # noqa: F401
    from encola.documents.sample import rehearse
    from encola.ops.gc_freeze import freeze_startup_objects

    rehearse()
    freeze_startup_objects()


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
