"""The queue dashboard: one server-rendered page, counts per point of sale and the latest hooks.

For operators only (see encola/api/operator.py). Counting per state reads every invoice row, so
the page's data is kept for SUMMARY_SECONDS and shared by every open tab, which reloads itself
every REFRESH_SECONDS.
"""

from __future__ import annotations

import threading
import time
from html import escape

from encola.clock import to_argentina
from encola.domain.fields import format_datetime
from encola.store.store import Store

STATES = ("queued", "processing", "emitted", "error", "deleted")
SUMMARY_SECONDS = 10.0
REFRESH_SECONDS = 30

SIMULATED_BANNER = (
    '<p style="background:#b00020;color:#fff;padding:.8rem 1rem;font-weight:bold">'
    "CAEs are simulated: not valid for tax purposes. This encola emits against an AFIP simulator "
    "(neither ENCOLA_AFIP_ENV nor a real AFIP is configured).</p>"
)


class Dashboard:
    """The page, rendered at most once per SUMMARY_SECONDS whatever the number of viewers."""

    def __init__(self, store: Store, *, simulated: bool):
        self.store = store
        self.simulated = simulated
        self._lock = threading.Lock()
        self._page: tuple[str, float] | None = None

    def render(self) -> str:
        with self._lock:  # one count at a time; the others wait for it and share it
            if self._page is None or self._page[1] <= time.monotonic():
                self._page = (render_dashboard(self.store, simulated=self.simulated), time.monotonic() + SUMMARY_SECONDS)
            return self._page[0]


def render_dashboard(store: Store, *, simulated: bool = False) -> str:
    counts: dict[tuple[str, int], dict[str, int]] = {}
    for row in store.queue_summary():
        counts.setdefault((row["cuit"], row["punto_venta"]), {})[row["state"]] = row["count"]
    queue_rows = "".join(
        f"<tr><td>{escape(cuit)}</td><td>{pv:05d}</td>"
        + "".join(f"<td>{by_state.get(s, 0)}</td>" for s in STATES)
        + "</tr>"
        for (cuit, pv), by_state in counts.items()
    )
    hook_rows = "".join(
        f"<tr><td>{format_datetime(to_argentina(e.creado))}</td><td>{escape(e.evento)}</td>"
        f"<td>{escape(e.external_reference)}</td><td>{escape(e.state)}</td><td>{e.attempts}</td>"
        f"<td>{escape('; '.join(e.msg))[:300]}</td></tr>"
        for e in store.events(limit=50)
    )
    header = "".join(f"<th>{s}</th>" for s in STATES)
    banner = SIMULATED_BANNER if simulated else ""
    return f"""<!doctype html>
<html lang="es"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{REFRESH_SECONDS}">
<title>encola — cola de comprobantes</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse;margin-bottom:2rem}}
td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}th{{background:#f4f4f4}}</style></head>
<body><h1>encola</h1>{banner}
<h2>Cola por punto de venta</h2>
<p>Counts as of {format_datetime(to_argentina(store.clock.now()))}, refreshed every {int(SUMMARY_SECONDS)} s at most.</p>
<table><tr><th>CUIT</th><th>PDV</th>{header}</tr>{queue_rows}</table>
<h2>Últimos hooks</h2>
<table><tr><th>creado</th><th>evento</th><th>external_reference</th><th>estado</th><th>intentos</th><th>msg</th></tr>{hook_rows}</table>
<p><a href="/docs">API (OpenAPI)</a></p>
</body></html>"""
