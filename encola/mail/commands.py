"""``encola mail redeliver``: the buyers' mails that failed, queued again (registered by encola/cli.py)."""

from __future__ import annotations

import json

import click


@click.group()
def mail() -> None:
    """The buyers' e-mails (cliente.envia_por_mail)."""


@mail.command("redeliver")
@click.option("--since", required=True, help="dd/mm/aaaa (midnight, Argentina) or an ISO 8601 date-time.")
@click.option("--cuit", default=None, help="Only this CUIT's points of sale.")
@click.option("--pdv", "--punto-venta", "punto_venta", type=int, default=None, help="Only this point of sale (with --cuit).")
def redeliver(since: str, cuit: str | None, punto_venta: int | None) -> None:
    """Queue again the mails that failed since a moment (their retry schedule spent).

    Each keeps its Message-ID; the schedule starts over. A running server or worker with
    ENCOLA_SMTP_URL sends them. Prints {"reenviados": n}.
    """
    from encola.webhooks.commands import _find_pdv, _store
    from encola.webhooks.redelivery import parse_since

    moment = parse_since(since)
    if moment is None:
        raise click.BadParameter("use dd/mm/aaaa or an ISO 8601 date-time", param_hint="--since")
    if punto_venta is not None and cuit is None:
        raise click.UsageError("--pdv needs --cuit")
    store = _store()
    if cuit is None:
        count = store.redeliver_events(moment, kind="mail")
    elif punto_venta is not None:
        count = store.redeliver_events(moment, _find_pdv(store, cuit, punto_venta).id, kind="mail")
    else:
        targets = [item.id for item in store.all_pdvs() if item.cuit == cuit]
        if not targets:
            raise click.ClickException(f"no points of sale for CUIT {cuit}")
        count = sum(store.redeliver_events(moment, pdv_id, kind="mail") for pdv_id in targets)
    click.echo(json.dumps({"reenviados": count}))
