"""The queue dashboard: one server-rendered page, counts per point of sale and the latest hooks."""

from __future__ import annotations

from html import escape

from encola.clock import to_argentina
from encola.domain.fields import format_datetime
from encola.store.store import Store

STATES = ("queued", "processing", "emitted", "error", "deleted")


def render_dashboard(store: Store) -> str:
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
    return f"""<!doctype html>
<html lang="es"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>encola — cola de comprobantes</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse;margin-bottom:2rem}}
td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}th{{background:#f4f4f4}}</style></head>
<body><h1>encola</h1>
<h2>Cola por punto de venta</h2>
<table><tr><th>CUIT</th><th>PDV</th>{header}</tr>{queue_rows}</table>
<h2>Últimos hooks</h2>
<table><tr><th>creado</th><th>evento</th><th>external_reference</th><th>estado</th><th>intentos</th><th>msg</th></tr>{hook_rows}</table>
<p><a href="/docs">API (OpenAPI)</a></p>
</body></html>"""
