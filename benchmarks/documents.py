"""Documents benchmark: PDF renders per second on one core (encola/documents). No server needed.

    .venv/bin/python benchmarks/documents.py [--seconds 2]

Invoices are ``encola/documents/sample.py``'s, made by encola's own domain code (validation, the
stored AFIP template and consulta view, the RG 4892 QR URL), as the store would hand them out (the
render processes rehearse on the same one when they start). Rows:

- ``a4_5_items``: the A4 of a 5-item FACTURA A, each render a different invoice (so its QR is
  encoded afresh): what rendering on demand costs the first time an invoice is asked for.
- ``a4_5_items_again``: the same invoice rendered again (its QR cached by URL in the process).
- ``a4_130_items``: the A4 of a 130-item FACTURA A (several pages), a different invoice each time.
- ``ticket_5_items``: the 80 mm ticket of a 5-item FACTURA A, a different invoice each time.
- ``*_kib``: the size of each document, i.e. what storing it instead would cost per invoice.

``measure()`` returns these as a dict, for ``benchmarks/run.py`` to add to its table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from encola.documents import render_a4, render_ticket  # noqa: E402
from encola.documents.canvas import qr_image  # noqa: E402
from encola.documents.sample import SAMPLE_ISSUER as SNAPSHOT  # noqa: E402
from encola.documents.sample import sample_invoice as invoice  # noqa: E402
from encola.store.rows import InvoiceRow  # noqa: E402


def _rate(render, rows: list[InvoiceRow], seconds: float, *, fresh_qr: bool) -> float:
    """Renders per CPU second of this process over about ``seconds`` of it, cycling through ``rows``.

    CPU time, not wall time: the rate of one core, whatever else the machine is running.
    """
    render(rows[0], SNAPSHOT, simulated=False)  # imports and first-use costs out of the way
    done, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        if fresh_qr:
            qr_image.cache_clear()
        render(rows[done % len(rows)], SNAPSHOT, simulated=False)
        done += 1
    return done / (time.process_time() - start)


def measure(seconds: float = 2.0) -> dict:
    five = [invoice(5, n) for n in range(1, 41)]
    many = [invoice(130, n) for n in range(1, 6)]
    return {
        "a4_5_items_per_s": round(_rate(render_a4, five, seconds, fresh_qr=True), 1),
        "a4_5_items_again_per_s": round(_rate(render_a4, five[:1], seconds, fresh_qr=False), 1),
        "a4_130_items_per_s": round(_rate(render_a4, many, seconds, fresh_qr=True), 1),
        "ticket_5_items_per_s": round(_rate(render_ticket, five, seconds, fresh_qr=True), 1),
        "a4_5_items_kib": round(len(render_a4(five[0], SNAPSHOT, simulated=False)) / 1024, 1),
        "a4_130_items_kib": round(len(render_a4(many[0], SNAPSHOT, simulated=False)) / 1024, 1),
        "ticket_5_items_kib": round(len(render_ticket(five[0], SNAPSHOT, simulated=False)) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per row (default 2)")
    results = measure(parser.parse_args().seconds)
    width = max(map(len, results))
    print("documents (one core)")
    for name, value in results.items():
        print(f"  {name:<{width}}  {value:>8}")


if __name__ == "__main__":
    main()
