"""Operator commands for hooks: ``encola hooks redeliver`` and ``encola pdv rotate-webhook-secret``.

Registered on the ``encola`` command by encola/cli.py.
"""

from __future__ import annotations

import json

import click

from encola.settings import SettingsError, parse_duration


def _store():
    from encola.cli import _settings, open_store  # here, not at import: encola.cli imports this module

    return open_store(_settings())


def _find_pdv(store, cuit: str, punto_venta: int):
    with store.reading() as connection:
        found = store.pdv(connection, cuit=cuit, punto_venta=punto_venta)
    if found is None:
        raise click.ClickException(f"no point of sale {punto_venta} for CUIT {cuit}")
    return found


@click.group()
def hooks() -> None:
    """Webhook deliveries."""


@hooks.command("redeliver")
@click.option("--since", required=True, help="dd/mm/aaaa (midnight, Argentina) or an ISO 8601 date-time.")
@click.option("--cuit", default=None, help="Only this CUIT's points of sale.")
@click.option("--pdv", "--punto-venta", "punto_venta", type=int, default=None, help="Only this point of sale (with --cuit).")
def redeliver(since: str, cuit: str | None, punto_venta: int | None) -> None:
    """Queue again the hooks that failed since a moment (same hook_id, schedule from its start).

    Hooks skipped while an endpoint was disabled go again too, and the endpoints concerned are
    enabled. A running server or worker delivers them. Prints {"reenviados": n}.
    """
    redeliver_kind(since, cuit, punto_venta, kind="hook")


def redeliver_kind(since: str, cuit: str | None, punto_venta: int | None, *, kind: str) -> None:
    """Queue again the failed events of one kind since a moment, for everyone, a CUIT or one
    point of sale; print {"reenviados": n}. Serves ``hooks redeliver`` and ``mail redeliver``."""
    from encola.webhooks.redelivery import parse_since

    moment = parse_since(since)
    if moment is None:
        raise click.BadParameter("use dd/mm/aaaa or an ISO 8601 date-time", param_hint="--since")
    if punto_venta is not None and cuit is None:
        raise click.UsageError("--pdv needs --cuit")
    store = _store()
    if cuit is None:
        count = store.redeliver_events(moment, kind=kind)
    elif punto_venta is not None:
        count = store.redeliver_events(moment, _find_pdv(store, cuit, punto_venta).id, kind=kind)
    else:
        targets = [item.id for item in store.all_pdvs() if item.cuit == cuit]
        if not targets:
            raise click.ClickException(f"no points of sale for CUIT {cuit}")
        count = sum(store.redeliver_events(moment, pdv_id, kind=kind) for pdv_id in targets)
    click.echo(json.dumps({"reenviados": count}))


@click.command("rotate-webhook-secret")
@click.option("--cuit", required=True)
@click.option("--punto-venta", required=True, type=int)
@click.option("--grace", default="24h", show_default=True, help="How long the old secret keeps signing (0: not at all).")
def rotate_webhook_secret(cuit: str, punto_venta: int, grace: str) -> None:
    """Give a point of sale a new webhook signing secret, printed once as JSON."""
    from encola.webhooks.signing import rotate_secret

    try:
        grace_seconds = parse_duration(grace)
    except SettingsError as exc:
        raise click.BadParameter(str(exc), param_hint="--grace") from None
    store = _store()
    secret = rotate_secret(store, _find_pdv(store, cuit, punto_venta).id, grace_seconds)
    click.echo(json.dumps({"cuit": cuit, "punto_venta": punto_venta, "webhook_secret": secret}))
