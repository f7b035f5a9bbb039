"""Prometheus metrics: what each process counts, and what is read from the store at scrape time.

Counted in the process (summed over processes through ``PROMETHEUS_MULTIPROC_DIR`` when several
run on one host; see docs/operations.md): HTTP requests by endpoint and outcome, intake latency,
AFIP calls by method and outcome with their latency, FECAESolicitar batch sizes, delivery outcomes
per kind, lane lease takeovers. Read from the store when scraped (the same answer from any
process, so never multiplied by the number of processes): invoices by state, the age of the
oldest due invoice, outbox events pending and failed.

Labels are bounded on purpose: endpoints are the fixed route names (anything else is "other"),
AFIP methods a fixed list, outcomes a handful of words. No invoice ids, CUITs or points of sale:
each would make a series per customer, and the store is where per-customer questions go.
"""

from __future__ import annotations

import os
import threading
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily

disable_created_metrics()  # a `_created` series beside every counter doubles the scrape for nothing we use

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SCRAPE_CACHE_SECONDS = 2.0  # several scrapers (or a fast one) cost the store one read per window

HTTP_REQUESTS = Counter(
    "encola_http_requests", "HTTP requests answered, by endpoint and outcome (ok, error: a TF error envelope, "
    "http_4xx, http_5xx)", ["endpoint", "outcome"],
)
INTAKE_SECONDS = Histogram(
    "encola_intake_seconds", "Time to answer an intake request (nuevo_encola, lotes_encola, nuevo)", ["endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 60),
)
AFIP_CALLS = Counter(
    "encola_afip_calls", "Calls to AFIP (or the simulator) by method and outcome (answered, fault, "
    "unavailable, not_sent, unknown)", ["method", "outcome"],
)
AFIP_SECONDS = Histogram(
    "encola_afip_call_seconds", "Round trip of one AFIP call, by method", ["method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
BATCH_SIZE = Histogram(
    "encola_afip_batch_size", "Comprobantes per FECAESolicitar",
    buckets=(1, 2, 5, 10, 25, 50, 100, 150, 200, 250, 500, 1000),
)
DELIVERIES = Counter(
    "encola_deliveries", "Delivery attempts of outbox events by kind (hook, mail) and outcome (delivered, retry, "
    "failed: the last attempt failed)", ["kind", "outcome"],
)
LEASE_TAKEOVERS = Counter(
    "encola_lane_lease_takeovers", "Lanes this worker was working on when another worker took them over "
    "(its lease lapsed: a stall or a network partition)",
)


def delivery_outcome(kind: str, delivered: bool, retry_at) -> None:
    DELIVERIES.labels(kind, "delivered" if delivered else ("retry" if retry_at is not None else "failed")).inc()


class StoreCollector:
    """Gauges read from the store at scrape time, through indexes only (see encola/ops/queries.py).

    The result is kept SCRAPE_CACHE_SECONDS, so a scrape costs the database a few index reads at
    most that often, however many scrapers there are."""

    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        self._cached: tuple[float, list] | None = None

    def describe(self):
        return []  # not collected at registration: the database may not be reachable yet

    def collect(self):
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > SCRAPE_CACHE_SECONDS:
                self._cached = (time.monotonic(), self._read())
            return list(self._cached[1])

    def _read(self) -> list:
        from encola.ops import queries

        snapshot = queries.queue_snapshot(self.store)
        invoices = GaugeMetricFamily("encola_invoices", "Invoices in the queue by state (queued: waiting for "
                                     "their date or their turn; due: queued and due now; processing: at AFIP or "
                                     "its outcome unknown; error: rejected, waiting for reenviar)", labels=["state"])
        for state, count in snapshot.by_state.items():
            invoices.add_metric([state], count)
        oldest = GaugeMetricFamily("encola_oldest_due_invoice_age_seconds", "Seconds since the invoice at the head "
                                   "of the due queue became due (0 when nothing is due)")
        oldest.add_metric([], snapshot.oldest_due_seconds)
        outbox = GaugeMetricFamily("encola_outbox_events", "Outbox events (hooks, mail) pending delivery or failed "
                                   "for good", labels=["kind", "state"])
        for (kind, state), count in snapshot.outbox.items():
            outbox.add_metric([kind, state], count)
        return [invoices, oldest, outbox]


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Exposition:
    """The text a scrape gets: this process's (or every process's) counters, then the store's gauges."""

    def __init__(self, store):
        self.store_registry = CollectorRegistry(auto_describe=True)
        self.store_registry.register(StoreCollector(store))
        self.process_registry = None
        if multiprocess_dir():
            from prometheus_client import multiprocess

            self.process_registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.process_registry)

    def render(self) -> bytes:
        """Blocking (reads files and the database): call it in a worker thread."""
        from prometheus_client import REGISTRY

        return generate_latest(self.process_registry or REGISTRY) + generate_latest(self.store_registry)
