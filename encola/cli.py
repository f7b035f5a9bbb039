"""The ``encola`` command: serve, worker, afip-sim, pdv, workspace, migrate, demo.

Every command that touches the database creates or migrates it first (``ENCOLA_DATABASE_URL``,
default ``sqlite:///encola.db``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys

import click

from encola.settings import Settings, SettingsError, listening_url
from encola.store.store import Store


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


def open_store(settings: Settings) -> Store:
    """The migrated database, with its secret key checked (see encola/secretbox.py)."""
    from encola.runtime import open_store as open_checked
    from encola.secretbox import SecretKeyError

    try:
        return open_checked(settings)
    except SecretKeyError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.option("--log-level", default="INFO", envvar="ENCOLA_LOG_LEVEL", show_envvar=True)
def main(log_level: str) -> None:
    """encola: a self-hosted, TusFacturas-compatible queued invoicing server for AFIP/ARCA."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per AFIP call and hook is noise
    logging.getLogger("alembic").setLevel(logging.WARNING)


@main.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema."""
    open_store(_settings())
    click.echo("database up to date")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-engine", is_flag=True, help="API (and dispatcher) only; emission runs in `encola worker`s.")
def serve(host: str, port: int, no_engine: bool) -> None:
    """Run the API, the emission engine and the webhook dispatcher in one process."""
    import uvicorn

    from encola.api.app import create_app
    from encola.runtime import build_services

    settings = _settings()
    if settings.public_url is None:  # the documents' links name the address the server listens on
        settings = dataclasses.replace(settings, public_url=listening_url(host, port))
    store = open_store(settings)
    app = create_app(build_services(store, settings, with_engine=not no_engine))
    # X-Forwarded-For names the client (for the per-address limits) only from the proxies listed.
    proxies = settings.forwarded_allow_ips
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning",
                proxy_headers=bool(proxies), forwarded_allow_ips=proxies)


@main.command()
def worker() -> None:
    """Run the emission engine and the webhook dispatcher, without the API."""
    import asyncio

    from encola.runtime import build_services, run_worker

    settings = _settings()
    store = open_store(settings)
    asyncio.run(run_worker(build_services(store, settings, with_engine=True)))


@main.command("afip-sim")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8900, show_default=True, type=int)
@click.option("--latency-ms", default=0, show_default=True, type=int, help="Delay every answer (the median with --latency-p99-ms).")
@click.option("--latency-p99-ms", default=0, show_default=True, type=click.IntRange(0, 600_000),
              help="With a value above --latency-ms: log-normal latency with that 99th percentile.")
@click.option("--concurrency", "concurrency_mode", default="busy", show_default=True,
              type=click.Choice(["inorder", "reorder", "busy"]),
              help="Concurrent FECAESolicitar of one lane: refused with 502 (busy), processed in any order (reorder), or in arrival order (inorder).")
@click.option("--drop-ratio", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Drop this fraction of FECAESolicitar answers after processing them.")
@click.option("--ledger", default=None, type=click.Path(dir_okay=False), help="SQLite file for a durable ledger.")
def afip_sim(host: str, port: int, latency_ms: int, latency_p99_ms: int, concurrency_mode: str, drop_ratio: float,
             ledger: str | None) -> None:
    """Run the AFIP simulator (WSAA + WSFEv1 over SOAP, plus /_sim control endpoints)."""
    from encola.afip_sim.server import serve as serve_simulator

    serve_simulator(host, port, latency_ms=latency_ms, ledger_path=ledger, concurrency_mode=concurrency_mode,
                    latency_p99_ms=latency_p99_ms, drop_ratio=drop_ratio)


@main.group()
def pdv() -> None:
    """Points of sale."""


def _issuer_options(command):
    """The issuer data flags of ``pdv create`` and ``pdv update`` (what documents print)."""
    for option in reversed(
        [
            click.option("--domicilio", default=None, help="Domicilio fiscal, printed on the documents."),
            click.option("--iibb", default=None, help='Ingresos Brutos number, or "Exento".'),
            click.option("--inicio-actividades", default=None, metavar="DD/MM/AAAA", help="Fecha de inicio de actividades."),
            click.option("--logo", default=None, metavar="FILE", help="PNG or JPEG shown on the A4 (at most 512 KiB)."),
            click.option("--mail-reply-to", default=None, metavar="ADDR", help="Reply-To of the buyer's e-mails."),
        ]
    ):
        command = option(command)
    return command


def _issuer_values(domicilio, iibb, inicio_actividades, logo, mail_reply_to, *, clearing: bool) -> dict:
    """The flags given, as pdvs columns, checked (exits 2 with the TFC codes when wrong).

    With ``clearing``, an empty value removes the datum (``--domicilio ""``)."""
    from encola.api.provisioning import issuer_errors
    from encola.domain.errors import err
    from encola.domain.fields import wire_date

    values: dict = {}
    errors = []
    for column, value in (("domicilio", domicilio), ("iibb", iibb), ("mail_reply_to", mail_reply_to)):
        if value is not None and (value.strip() or clearing):
            values[column] = value.strip() or None
    if inicio_actividades is not None and (inicio_actividades.strip() or clearing):
        if not inicio_actividades.strip():
            values["inicio_actividades"] = None
        elif (day := wire_date(inicio_actividades)) is None:
            errors.append(err("TFC-5015"))
        else:
            values["inicio_actividades"] = day
    if logo is not None and (logo or clearing):
        if not logo:
            values["logo"] = None
        else:
            try:
                with open(logo, "rb") as file:
                    values["logo"] = file.read(600 * 1024)
            except OSError as exc:
                raise click.BadParameter(f"cannot read {logo}: {exc.strerror}", param_hint="--logo") from None
    errors += issuer_errors(**{k: v for k, v in values.items() if v is not None})
    _exit_on(errors)
    return values


def _exit_on(errors) -> None:
    if errors:
        for error in errors:
            click.echo(f"{error.code}: {error.text}", err=True)
        sys.exit(2)


@pdv.command("create")
@click.option("--cuit", required=True)
@click.option("--punto-venta", required=True, type=int)
@click.option("--condicion-iva", required=True, type=click.Choice(["RI", "M", "E"]))
@click.option("--razon-social", required=True)
@click.option("--webhook", default=None, help="URL that receives the hooks.")
@click.option("--webhook-token", default=None, help="Sent as TF-WebhookToken on every hook (generated if not given).")
@click.option("--conceptos", default="P", show_default=True, type=click.Choice(["P", "S", "PS"]))
@click.option("--cert", "cert_file", type=click.File("r"), default=None, help="AFIP certificate (PEM) of the CUIT.")
@click.option("--key", "key_file", type=click.File("r"), default=None, help="Its private key (PEM).")
@click.option(
    "--workspace",
    "workspace_cuit",
    default=None,
    help="A CUIT whose workspace a new CUIT joins (default: a new workspace of its own).",
)
@_issuer_options
def pdv_create(cuit, punto_venta, condicion_iva, razon_social, webhook, webhook_token, conceptos, cert_file, key_file,
               workspace_cuit, domicilio, iibb, inicio_actividades, logo, mail_reply_to) -> None:
    """Create the workspace, CUIT and point of sale if needed; print its keys as one JSON object.

    Keys are stored hashed and the webhook signing secret sealed: both are shown only here.
    Running it again for an existing point of sale issues fresh API keys (and changes the
    issuer data given; the rest stays).
    """
    from encola.api.provisioning import CuitOwnedElsewhere, PdvSpec, check_spec, provision

    settings = _settings()
    issuer = _issuer_values(domicilio, iibb, inicio_actividades, logo, mail_reply_to, clearing=False)
    spec = PdvSpec(cuit, punto_venta, condicion_iva, razon_social, conceptos, webhook, webhook_token, **issuer)
    _exit_on(check_spec(spec, settings.webhook_allow_private))
    store = open_store(settings)
    try:
        done = provision(store, spec, workspace_cuit=workspace_cuit)
    except CuitOwnedElsewhere as exc:
        raise click.ClickException(str(exc)) from None
    if cert_file or key_file:
        _save_certificate(store, cuit, cert_file, key_file)
    click.echo(json.dumps({**done.credentials.as_json(), "webhook_token": done.webhook_token, "webhook_secret": done.webhook_secret}))


@pdv.command("update")
@click.option("--cuit", required=True)
@click.option("--punto-venta", required=True, type=int)
@click.option("--razon-social", default=None)
@click.option("--condicion-iva", default=None, type=click.Choice(["RI", "M", "E"]))
@click.option("--webhook", default=None, help='URL that receives the hooks ("" removes it).')
@click.option("--webhook-token", default=None, help="Sent as TF-WebhookToken on every hook.")
@_issuer_options
def pdv_update(cuit, punto_venta, razon_social, condicion_iva, webhook, webhook_token, domicilio, iibb,
               inicio_actividades, logo, mail_reply_to) -> None:
    """Change a point of sale's settings; only the flags given change ("" removes an issuer datum).

    Issuer data (razón social, condición IVA, domicilio, IIBB, inicio de actividades, logo)
    changes the documents of invoices emitted from now on; earlier ones keep what they showed.
    """
    from encola.api.provisioning import modify, valid_webhook_token, webhook_errors
    from encola.domain.errors import err

    settings = _settings()
    values = _issuer_values(domicilio, iibb, inicio_actividades, logo, mail_reply_to, clearing=True)
    errors = []
    if razon_social is not None:
        if razon_social.strip() and len(razon_social) <= 255:
            values["razon_social"] = razon_social.strip()
        else:
            errors.append(err("TFC-5009"))
    if condicion_iva is not None:
        values["condicion_iva"] = condicion_iva
    if webhook is not None:
        errors += webhook_errors(webhook.strip() or None, settings.webhook_allow_private)
        values["webhook_url"] = webhook.strip() or None
    if webhook_token is not None:
        if valid_webhook_token(webhook_token):
            values["webhook_token"] = webhook_token
        else:
            errors.append(err("TFC-5010"))
    _exit_on(errors)
    store = open_store(settings)
    with store.reading() as connection:
        found = store.pdv(connection, cuit=cuit, punto_venta=punto_venta)
    if found is None:
        raise click.ClickException(f"no point of sale {punto_venta} of CUIT {cuit}")
    if values:
        modify(store, found, values)
    click.echo("ok")


def _save_certificate(store, cuit, cert_file, key_file) -> None:
    from encola.afip import load_certificate, load_private_key

    if not (cert_file and key_file):
        raise click.UsageError("--cert and --key go together")
    cert_pem, key_pem = cert_file.read(), key_file.read()
    try:
        load_certificate(cert_pem.encode())
        load_private_key(key_pem.encode())
    except Exception as exc:  # whatever the parser says, the user needs to see it
        raise click.ClickException(f"certificate or key not readable: {exc}") from None
    if not store.save_credentials(cuit, cert_pem, key_pem, only_if_missing=False):
        raise click.ClickException(f"no workspace holds CUIT {cuit}: create one of its points of sale first")


@pdv.command("cert")
@click.option("--cuit", required=True)
@click.option("--cert", "cert_file", type=click.File("r"), required=True, help="AFIP certificate (PEM).")
@click.option("--key", "key_file", type=click.File("r"), required=True, help="Its private key (PEM).")
def pdv_cert(cuit, cert_file, key_file) -> None:
    """Set the AFIP certificate and key of a CUIT (all its points of sale)."""
    _save_certificate(open_store(_settings()), cuit, cert_file, key_file)
    click.echo("ok")


@pdv.command("list")
def pdv_list() -> None:
    """List points of sale (never their keys)."""
    for item in open_store(_settings()).all_pdvs():
        click.echo(
            json.dumps(
                {
                    "cuit": item.cuit,
                    "punto_venta": item.punto_venta,
                    "razon_social": item.razon_social,
                    "condicion_iva": item.condicion_iva,
                    "conceptos": item.conceptos,
                    "webhook": item.webhook_url,
                    "apikey": item.apikey,
                    "activo": item.activo,
                    "domicilio": item.domicilio,
                    "iibb": item.iibb,
                    "inicio_actividades": item.inicio_actividades.strftime("%d/%m/%Y") if item.inicio_actividades else None,
                    "mail_reply_to": item.mail_reply_to,
                },
                ensure_ascii=False,
            )
        )


@pdv.command("test-webhook")
@click.option("--cuit", required=True)
@click.option("--punto-venta", required=True, type=int)
def pdv_test_webhook(cuit: str, punto_venta: int) -> None:
    """Queue a ``test`` hook to the point of sale's URL (a running server delivers it)."""
    from encola.store.store import NewEvent

    store = open_store(_settings())
    with store.reading() as connection:
        found = store.pdv(connection, cuit=cuit, punto_venta=punto_venta)
    if found is None or not found.webhook_url:
        raise click.ClickException("no such point of sale, or it has no webhook URL")
    click.echo(store.record_event(found.id, NewEvent("test", "", recurso="test")))


@main.command("workspace")
@click.option("--cuit", required=True, help="Any CUIT of the workspace.")
@click.option("--cupo", type=int, default=None, help="Comprobantes per month; 0 for no limit.")
@click.option("--activo/--inactivo", default=None, help="Whether the subscription is active.")
def workspace(cuit: str, cupo: int | None, activo: bool | None) -> None:
    """Set a workspace's monthly quota and subscription state."""
    store = open_store(_settings())
    values = {}
    if cupo is not None:
        values["cupo_mensual"] = cupo or None
    if activo is not None:
        values["activo"] = activo
    with store.writing() as connection:
        workspace_id = store.workspace_of_cuit(connection, cuit)
        if workspace_id is None:
            raise click.ClickException(f"no workspace holds CUIT {cuit}")
        if values:
            store.update_workspace(connection, workspace_id, **values)
    click.echo("ok")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Start everything on SQLite, send the docs' examples and show answers and hooks live."""
    from encola.demo import run_demo

    run_demo(host, port)


from encola.mail.commands import mail  # noqa: E402
from encola.webhooks.commands import hooks, rotate_webhook_secret  # noqa: E402

main.add_command(hooks)
main.add_command(mail)
pdv.add_command(rotate_webhook_secret)

from encola.console.cli import operator  # noqa: E402

main.add_command(operator)  # encola operator create/password/list (the console's accounts)


if __name__ == "__main__":  # pragma: no cover
    main()
