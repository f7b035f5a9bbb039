"""The AFIP-like emission phase of benchmarks/run.py: the simulator as AFIP may behave.

For each of the simulator's `busy` (a second concurrent FECAESolicitar of a lane refused with
502 Transaccion Activa) and `reorder` (concurrent calls of a lane processed in any order) modes,
with a heavy-tailed latency (log-normal, p50 300 ms, p99 3,000 ms) and 1 % of FECAESolicitar
answers dropped after processing, a worker empties the queue of one lane and of 100 points of
sale. Then the database is compared with the simulator's ledger:

- lost: an invoice emitted in the database whose (point of sale, number, CAE) AFIP does not hold,
  or queued invoices left unemitted;
- doubled: a comprobante in AFIP's ledger (made during the scenario) that no emitted invoice holds;
- attempts: invoices with an attempt counted (none may have one: nothing here is their fault).

The full run queues 500 invoices per point of sale (two batches each), so the 100-lane row is
a rate: with one batch per lane it measured the slowest of a hundred heavy-tailed answers.

Targets (issue 11): one lane ≥ 80 % of batch ÷ p50 latency (250 / 0.3 s = 833/s → 667/s),
100 points of sale ≥ 1,000/s, 0 lost or doubled, 0 invoices with an attempt.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import httpx
from sqlalchemy import text

MODES = ("busy", "reorder")
P50_MS, P99_MS, DROP = 300, 3000, 0.01
QUICK = {"1 lane": (1, 1000), "100 PDVs": (100, 10)}
FULL = {"1 lane": (1, 5000), "100 PDVs": (100, 500)}
TARGETS = {"1 lane": 0.8 * 250 / (P50_MS / 1000), "100 PDVs": 1000.0}


def set_mode(sim_base: str, mode: str, p99_ms: int, drop: float) -> None:
    httpx.post(f"{sim_base}/_sim/concurrency", json={"mode": mode, "latency_p99_ms": p99_ms, "drop_ratio": drop},
               timeout=10).raise_for_status()


def ledger(sim_base: str) -> list[dict]:
    return httpx.get(f"{sim_base}/_sim/comprobantes", timeout=120).json()


def run(bench, bases: list[str], sim, quick: bool, post_lotes) -> dict:
    """``bench`` is run.py's BackendRun (its store, clear, lote_bodies, start_worker…);
    ``post_lotes(bodies)`` sends lotes_encola bodies as run.py does."""
    sizes = QUICK if quick else FULL
    out: dict = {}
    try:
        for mode in MODES:
            set_mode(sim.base, mode, P99_MS, DROP)
            for name, (pdv_count, per_pdv) in sizes.items():
                out[f"{name}, {mode}"] = scenario(bench, sim, mode, name, pdv_count, per_pdv, post_lotes)
    finally:
        set_mode(sim.base, "busy", 0, 0.0)  # the simulator's defaults for the phases after this one
    return out


def r(value, digits=1):
    return None if value is None else round(value, digits)


def rows(bench, statement: str) -> list:
    with bench.store.reading() as connection:
        return connection.execute(text(statement)).all()


def scenario(bench, sim, mode, name, pdv_count, per_pdv, post_lotes) -> dict:
    bench.clear()
    before = len(ledger(sim.base))
    tag = f"af{mode[0]}{pdv_count}-"
    post_lotes(bench.lote_bodies(tag, per_pdv, pdv_count))
    queued = bench.scalar("SELECT count(*) FROM invoices WHERE state = 'queued'")
    bench.wait_hooks_drained(120)
    out = {"mode": mode, "points_of_sale": pdv_count, "queued": queued, "p50_ms": P50_MS, "p99_ms": P99_MS,
           "drop_ratio": DROP, "target_per_s": round(TARGETS[name])}
    busy_before = httpx.get(f"{sim.base}/_sim/concurrency", timeout=10).json()["busy_refusals"]
    worker = bench.h.start_worker(bench.b, sim, "worker1")
    spy = bench.h.profile(worker, f"{bench.b.name}-afip-{name.replace(' ', '')}-{mode}", 12)
    try:
        t0 = worker.wait_log("engine started")
        # Lost answers are reconciled after ENCOLA's grace for requests still travelling (35 s).
        deadline = time.monotonic() + max(120, queued / 10)
        count, first, last = bench.emitted()
        while count < queued and time.monotonic() < deadline:
            time.sleep(0.2)
            count, first, last = bench.emitted()
    finally:
        bench.h.stop(worker)
        if spy:  # py-spy ends with the worker and writes its profile
            spy.wait(timeout=60)

    def epoch(moment) -> float:  # SQLite's raw rows hold the text, PostgreSQL's a datetime
        moment = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment))
        return moment.replace(tzinfo=timezone.utc).timestamp()
    out["emitted"] = count
    if count and last is not None:
        span = epoch(last) - t0
        out |= {"seconds": r(span, 2), "per_s": r(count / span), "first_emitted_s": r(epoch(first) - t0, 2)}
        # The bulk rate, without the tail a lost answer adds (its lane waits out the grace):
        # the time by which 99 % of the invoices were emitted.
        times = sorted(epoch(row[0]) for row in rows(bench, "SELECT emitted_at FROM invoices WHERE state = 'emitted'"))
        p99 = times[max(0, int(len(times) * 0.99) - 1)] - t0
        out |= {"seconds_to_99pct": r(p99, 2), "per_s_to_99pct": r(len(times) * 0.99 / p99) if p99 > 0 else None}
    out["busy_refusals"] = httpx.get(f"{sim.base}/_sim/concurrency", timeout=10).json()["busy_refusals"] - busy_before
    out |= compare(bench, ledger(sim.base)[before:], queued)
    return out


def compare(bench, made: list[dict], queued: int) -> dict:
    """The database against what AFIP's ledger gained during the scenario."""
    emitted = {(row[0], row[1], row[2]) for row in rows(
        bench, "SELECT punto_venta, numero, cae FROM invoices WHERE state = 'emitted'")}
    at_afip = [(c["pto_vta"], c["numero"], c["cae"]) for c in made]
    return {
        "lost": len(emitted - set(at_afip)) + (queued - len(emitted)),
        "doubled": len(set(at_afip) - emitted) + (len(at_afip) - len(set(at_afip))),
        "with_attempts": bench.scalar("SELECT count(*) FROM invoices WHERE attempts > 0"),
    }


def table_rows(results: dict, backends: list[str], cell, quick: bool) -> list[list[str]]:
    """The rows of run.py's table; ``cell(backend, getter)`` as build_table's."""

    def mark(ok: bool) -> str:
        return " ✓" if ok else " ✗"

    rows = []
    for mode in MODES:
        for name in FULL:
            key = f"{name}, {mode}"

            def get(d, key=key, name=name):
                e = d["afip_modes"][key]
                bulk = f", 99 % at {e['per_s_to_99pct']:,.0f}/s" if e.get("per_s_to_99pct") else ""
                judged = "" if quick else mark(e.get("per_s_to_99pct", 0) >= TARGETS[name])
                sound = e["lost"] == 0 and e["doubled"] == 0 and e["with_attempts"] == 0
                return (f"{e.get('per_s', 0):,.0f}/s ({e['emitted']:,} in {e.get('seconds', 0):.1f} s{bulk}){judged}; "
                        f"lost {e['lost']}, doubled {e['doubled']}, with attempts {e['with_attempts']}{mark(sound)}")

            rows.append([f"emission, {key} AFIP (p50 {P50_MS} / p99 {P99_MS:,} ms, 1 % dropped)",
                         *(cell(b, get) for b in backends),
                         f"≥ {TARGETS[name]:,.0f}/s; 0 lost, doubled, with attempts"])
    return rows


if __name__ == "__main__":  # pragma: no cover - a helper module of run.py
    print(json.dumps({"quick": QUICK, "full": FULL, "targets": TARGETS}))
