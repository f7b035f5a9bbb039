"""``encola mail redeliver``: the buyers' mails that failed, queued again (registered by encola/cli.py)."""

from __future__ import annotations

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
    from encola.webhooks.commands import redeliver_kind

    redeliver_kind(since, cuit, punto_venta, kind="mail")
