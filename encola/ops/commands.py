"""The machine operator's commands: ``encola status``, ``encola invoices list|show``,
``encola hooks retry``.

They read the database directly (whoever runs them can read the database anyway), so they are
for the machine's operator; ``--workspace CUIT`` narrows any of them to the workspace owning that
CUIT. Tables for people, ``--json`` for scripts; long commands show a progress bar on a terminal.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime

import click

from encola.ops import queries

STATES = ("queued", "processing", "emitted", "error", "deleted", "discarded")
REQUEUE_CHUNK = 500


def _store():
    from encola.cli import _settings, open_store  # here, not at import: encola.cli imports this module

    return open_store(_settings())


def _scope(store, workspace: str | None) -> list[str] | None:
    if workspace is None:
        return None
    found = queries.workspace_cuits(store, workspace.strip())
    if found is None:
        raise click.ClickException(f"no workspace holds CUIT {workspace}")
    return found


def _wire_date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise click.BadParameter("use dd/mm/aaaa", param_hint=name) from None


def _emit_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=_plain))


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _console(stderr: bool = False):
    from rich.console import Console  # here: `encola serve` and `worker` need not import rich

    return Console(soft_wrap=False, stderr=stderr)


def Table(*args, **kwargs):  # noqa: N802 — reads as rich's class at the call sites
    from rich.table import Table as RichTable

    return RichTable(*args, **kwargs)


workspace_option = click.option("--workspace", default=None, metavar="CUIT", help="Only the workspace that owns this CUIT.")
json_option = click.option("--json", "as_json", is_flag=True, help="One JSON document instead of tables.")


@click.command("status")
@workspace_option
@json_option
def status(workspace: str | None, as_json: bool) -> None:
    """The queue (by state, due now, oldest due) and what encola knows of AFIP."""
    store = _store()
    only = _scope(store, workspace)
    snapshot = queries.queue_snapshot(store) if only is None else None
    summary = {
        "queue": queries.queue_counts(store, only),
        "afip": queries.afip_summary(store, only),
    }
    if snapshot is not None:  # the whole queue: due now, its head's wait, the outbox
        summary["queue"]["due"] = snapshot.by_state["due"]
        summary["oldest_due_seconds"] = round(snapshot.oldest_due_seconds, 1)
        summary["outbox"] = {f"{kind}_{state}": count for (kind, state), count in sorted(snapshot.outbox.items())}
    if as_json:
        _emit_json(summary)
        return
    console = _console()
    queue = Table(title="Cola")
    for name in summary["queue"]:
        queue.add_column(name, justify="right")
    queue.add_row(*(str(count) for count in summary["queue"].values()))
    console.print(queue)
    if snapshot is not None:
        console.print(f"Más antiguo vencido esperando: {summary['oldest_due_seconds']} s")
        console.print("Salidas pendientes/fallidas: " + (", ".join(f"{k}={v}" for k, v in summary["outbox"].items()) or "ninguna"))
    afip = Table(title="AFIP")
    for column in ("ámbito", "fallando desde", "último error", "último llamado"):
        afip.add_column(column)
    for row in summary["afip"]["health"]:
        afip.add_row(row["scope"], row["failing_since"] or "-", (row["last_error"] or "-")[:80], row["checked_at"] or "-")
    console.print(afip)
    tickets = Table(title="Tickets WSAA")
    for column in ("CUIT", "servicio", "vence"):
        tickets.add_column(column)
    for row in summary["afip"]["tickets"]:
        tickets.add_row(row["cuit"], row["service"], row["expires_at"])
    console.print(tickets)
    missing = [cuit for cuit, has in summary["afip"]["certificates"].items() if not has]
    console.print(f"Carriles tomados: {len(summary['afip']['lanes_held'])}; CUITs sin certificado: {', '.join(missing) or 'ninguno'}")


@click.group("invoices")
def invoices() -> None:
    """Find invoices and see what happened to them."""


@invoices.command("list")
@workspace_option
@click.option("--punto-venta", type=int, default=None)
@click.option("--state", "states", multiple=True, type=click.Choice(STATES), help="Repeatable.")
@click.option("--tipo", default=None, help='e.g. "FACTURA B".')
@click.option("--desde", default=None, metavar="DD/MM/AAAA", help="fecha from (inclusive).")
@click.option("--hasta", default=None, metavar="DD/MM/AAAA", help="fecha to (inclusive).")
@click.option("--reference", default=None, help="external_reference, exactly.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--before-id", default=None, type=int, help="Page: invoices older than this id.")
@json_option
def invoices_list(workspace, punto_venta, states, tipo, desde, hasta, reference, limit, before_id, as_json) -> None:
    """Invoices, newest first."""
    store = _store()
    wanted = queries.InvoiceFilter(
        only_cuits=_scope(store, workspace), punto_venta=punto_venta, states=tuple(states), tipo=tipo,
        desde=_wire_date(desde, "--desde"), hasta=_wire_date(hasta, "--hasta"), reference=reference,
    )
    rows = queries.list_invoices(store, wanted, limit, before_id)
    if as_json:
        _emit_json(rows)
        return
    table = Table(title=f"Comprobantes ({len(rows)})")
    for column in ("id", "CUIT", "PV", "tipo", "número", "fecha", "estado", "external_reference", "total", "CAE"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row["id"]), row["cuit"], str(row["punto_venta"]), row["tipo"], str(row["numero"] or "-"),
                      row["fecha"].strftime("%d/%m/%Y"), row["state"], row["external_reference"], row["total"], row["cae"] or "-")
    _console().print(table)


@invoices.command("show")
@click.argument("invoice_id", type=int)
@workspace_option
@json_option
def invoices_show(invoice_id: int, workspace: str | None, as_json: bool) -> None:
    """One invoice: its request, AFIP's result, every hook and mail with its attempts."""
    store = _store()
    detail = queries.invoice_detail(store, invoice_id, _scope(store, workspace))
    if detail is None:
        raise click.ClickException(f"no invoice {invoice_id}" + (f" in the workspace of {workspace}" if workspace else ""))
    if as_json:
        _emit_json(detail)
        return
    console = _console()
    facts = Table(title=f"Comprobante {invoice_id}", show_header=False)
    facts.add_column()
    facts.add_column()
    for key in queries.SHOWN_INVOICE_COLUMNS:
        facts.add_row(key, _plain(detail[key]) if detail[key] is not None else "-")
    for key in ("errors", "observaciones"):
        facts.add_row(key, json.dumps(detail[key], ensure_ascii=False) if detail[key] else "-")
    console.print(facts)
    events = Table(title="Hooks y mails")
    for column in ("hook_id", "tipo", "evento", "estado", "intentos (código, ms)"):
        events.add_column(column)
    for event in detail["events"]:
        tried = "; ".join(f"{a['intento']}: {a['status_code'] or a['error']} {a['duration_ms']}ms" for a in event["attempts"])
        events.add_row(event["hook_id"], event["kind"], event["evento"], event["state"], tried or "-")
    console.print(events)
    console.print_json(json.dumps(detail["request"], ensure_ascii=False))


@click.command("retry")
@workspace_option
@click.option("--punto-venta", type=int, default=None)
@click.option("--kind", default="hook", show_default=True, type=click.Choice(["hook", "mail"]))
@click.option("--since", default=None, metavar="DD/MM/AAAA", help="Only events created since this day (Argentina).")
@click.option("--dry-run", is_flag=True, help="Count, change nothing.")
@json_option
def hooks_retry(workspace, punto_venta, kind, since, dry_run, as_json) -> None:
    """Queue failed hooks (or mails) again: same hook_id, retry schedule from its start.

    A running server or worker delivers them. Prints how many were queued."""
    from encola.webhooks.redelivery import parse_since

    store = _store()
    moment = None
    if since is not None and (moment := parse_since(since)) is None:
        raise click.BadParameter("use dd/mm/aaaa or an ISO 8601 date-time", param_hint="--since")
    found = queries.failed_events(store, _scope(store, workspace), punto_venta, kind, moment)
    queued = 0
    if not dry_run and found:
        from rich.progress import Progress

        with Progress(console=_console(stderr=True), disable=as_json or not sys.stderr.isatty(), transient=True) as bar:
            task = bar.add_task(f"reencolando {kind}s", total=len(found))
            for start in range(0, len(found), REQUEUE_CHUNK):
                chunk = found[start:start + REQUEUE_CHUNK]
                queued += queries.requeue_events(store, chunk, kind)
                bar.advance(task, len(chunk))
    result = {"encontrados": len(found), "reencolados": queued, "dry_run": dry_run}
    if as_json:
        _emit_json(result)
    else:
        click.echo(f"{len(found)} {kind}s fallidos; {queued} reencolados" + (" (dry run)" if dry_run else ""))


def register(main: click.Group, hooks: click.Group) -> None:
    main.add_command(status)
    main.add_command(invoices)
    hooks.add_command(hooks_retry)
