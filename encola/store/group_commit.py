"""Group commit: many threads' small writes, done by one writer thread in one transaction.

Intake writes an invoice and its event per request. Done by each request thread in its own
transaction, the threads queue on the database's write lock (SQLite has one writer) and on the
GIL while holding it; done here, one thread takes everything waiting and commits it at once,
so the cost of a commit is shared and the lock is held by one thread only.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Callable, Generic, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    def __init__(self, write_many: Callable[[Sequence[Item]], Sequence[Result | BaseException]], max_batch: int = 128):
        """``write_many`` gets the waiting items in order and returns one result (or exception) each."""
        self._write_many = write_many
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Item, Future]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, item: Item, timeout: float = 60.0) -> Result:
        """Write ``item`` with whatever else is waiting; block until it is committed."""
        self._ensure_thread()
        future: Future = Future()
        self._queue.put((item, future))
        return future.result(timeout=timeout)

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="encola-group-commit", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                results = self._write_many([item for item, _ in batch])
            except BaseException as exc:  # the whole batch failed: every caller hears why
                results = [exc] * len(batch)
            for (_, future), result in zip(batch, results):
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
