"""The queue summary, recomputed at most every couple of seconds per set of points of sale.

The Cola page refreshes every 5 s in every open tab; the summary (one read of the backlog's
covering index, see encola/store/console_queries.py) is shared by every request for the same
points of sale: a fresh entry is answered at once, a stale one is answered too while one thread
recomputes it, and only the very first request for a set waits for the query. The key is the exact
tuple of point-of-sale ids, so an operator only ever gets the summary of the points of sale they see.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from datetime import date
from typing import Callable

FRESH_SECONDS = 2.0
MAX_ENTRIES = 256


class QueueCache:
    def __init__(self, compute: Callable[[list[int], date], list], fresh_seconds: float = FRESH_SECONDS):
        self._compute = compute
        self._fresh = fresh_seconds
        self._entries: OrderedDict[tuple, tuple[float, list]] = OrderedDict()
        self._refreshing: set[tuple] = set()
        self._lock = threading.Lock()

    def summary(self, pdv_ids: list[int], today: date) -> list:
        """Called from a worker thread (run_in_threadpool): may run the query itself."""
        key = (tuple(sorted(pdv_ids)), today)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                if now - entry[0] < self._fresh or key in self._refreshing:
                    return entry[1]
                self._refreshing.add(key)
        if entry is not None:
            threading.Thread(target=self._refresh, args=(key,), daemon=True, name="console-queue").start()
            return entry[1]
        return self._refresh(key)

    def _refresh(self, key: tuple) -> list:
        try:
            lanes = self._compute(list(key[0]), key[1])
            with self._lock:
                self._entries[key] = (time.monotonic(), lanes)
                self._entries.move_to_end(key)
                while len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
            return lanes
        finally:
            with self._lock:
                self._refreshing.discard(key)
