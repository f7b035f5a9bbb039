"""The queue summary's cache: one query per set of points of sale every couple of seconds, a stale
answer while one thread recomputes, and never one operator's summary for another's points of sale."""

from __future__ import annotations

import threading
import time
from datetime import date

from encola.console.queue_cache import QueueCache

TODAY = date(2026, 11, 28)


class Counting:
    def __init__(self):
        self.calls: list[tuple] = []
        self.release = threading.Event()
        self.release.set()

    def __call__(self, pdv_ids, today):
        self.release.wait(5)
        self.calls.append((tuple(pdv_ids), today))
        return [f"lanes of {pdv_ids} #{len(self.calls)}"]


def test_a_fresh_summary_is_reused_and_each_set_of_points_of_sale_has_its_own():
    compute = Counting()
    cache = QueueCache(compute, fresh_seconds=60)
    assert cache.summary([2, 1], TODAY) == ["lanes of [1, 2] #1"]
    assert cache.summary([1, 2], TODAY) == ["lanes of [1, 2] #1"]
    assert cache.summary([3], TODAY) == ["lanes of [3] #2"]
    assert cache.summary([1], TODAY) == ["lanes of [1] #3"]
    assert compute.calls == [((1, 2), TODAY), ((3,), TODAY), ((1,), TODAY)]


def test_a_stale_summary_is_answered_while_one_thread_recomputes_it():
    compute = Counting()
    cache = QueueCache(compute, fresh_seconds=0.01)
    assert cache.summary([1], TODAY) == ["lanes of [1] #1"]
    time.sleep(0.02)
    compute.release.clear()  # the recomputation blocks until released
    assert cache.summary([1], TODAY) == ["lanes of [1] #1"]
    assert cache.summary([1], TODAY) == ["lanes of [1] #1"]  # no second recomputation meanwhile
    compute.release.set()
    deadline = time.monotonic() + 5
    while len(compute.calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    cache._fresh = 60
    assert cache.summary([1], TODAY) == ["lanes of [1] #2"]
    assert len(compute.calls) == 2
