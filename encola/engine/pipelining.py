"""Whether a lane may keep one batch ahead at AFIP, learned from how AFIP answers.

Pipelining (batch N+1 sent while N is at AFIP) lets a lane run at AFIP's latency rather than at
latency plus encola's own work — when AFIP serves concurrent calls of a lane in arrival order.
AFIP does not promise that: it may refuse the second call with 502 "Transaccion Activa" (busy)
or process the two in either order (then N+1 gets 10016). Both are harmless — nothing is counted
against an invoice, no number is consumed — but each is a wasted call. So, per lane:

- on by default (the probe);
- off as soon as the lane sees busy or reordered answers to its pipelined batches;
- on again after ``REPROBE_SECONDS`` (5 min), doubling on each consecutive conflict up to
  ``MAX_REPROBE_SECONDS`` (1 h); a pipelined batch accepted in full clears the count.

The state lives in the worker's memory: a restart probes once more, which costs one call.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Hashable

log = logging.getLogger("encola.engine")
REPROBE_SECONDS = 300.0
MAX_REPROBE_SECONDS = 3600.0


class PipelinePolicy:
    def __init__(self, *, reprobe_seconds: float = REPROBE_SECONDS, max_reprobe_seconds: float = MAX_REPROBE_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic):
        self.reprobe_seconds = reprobe_seconds
        self.max_reprobe_seconds = max_reprobe_seconds
        self.monotonic = monotonic
        self._off_until: dict[Hashable, float] = {}
        self._conflicts: dict[Hashable, int] = {}
        # Invoices sent behind a batch AFIP refused or did not accept in full (they could only get
        # 10016): if their answer is lost, releasing them later is no strike against them.
        self._doomed: set[int] = set()

    def allowed(self, lane: Hashable) -> bool:
        until = self._off_until.get(lane)
        if until is None:
            return True
        if self.monotonic() >= until:
            del self._off_until[lane]  # re-probe
            return True
        return False

    def conflict(self, lane: Hashable, kind: str) -> None:
        """The peer answered a pipelined batch as busy or out of order: one batch at a time for a while."""
        count = self._conflicts.get(lane, 0) + 1
        self._conflicts[lane] = count
        pause = min(self.max_reprobe_seconds, self.reprobe_seconds * 2 ** (count - 1))
        self._off_until[lane] = self.monotonic() + pause
        log.info("lane %s: AFIP answered a pipelined batch %s; one batch at a time for %.0fs", lane, kind, pause,
                 extra={"action": "pipelining_off", "lane": str(lane)})

    def worked(self, lane: Hashable) -> None:
        """A pipelined batch was accepted in full: the peer serves this lane in order."""
        self._conflicts.pop(lane, None)

    def doom(self, invoice_ids) -> None:
        self._doomed.update(invoice_ids)

    def take_doomed(self, invoice_id: int) -> bool:
        """Whether the invoice was sent behind a failed batch (forgotten once asked)."""
        if invoice_id in self._doomed:
            self._doomed.discard(invoice_id)
            return True
        return False

    def forget(self, invoice_ids) -> None:
        self._doomed.difference_update(invoice_ids)
