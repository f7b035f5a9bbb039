"""The ``encola`` command: serve, worker, afip-sim, pdv, workspace, migrate, demo.

Every command that touches the database creates or migrates it first (``ENCOLA_DATABASE_URL``,
default ``sqlite:///encola.db``).
"""

from __future__ import annotations

import dataclasses
import json
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
@click.option("--log-format", default="text", envvar="ENCOLA_LOG_FORMAT", show_envvar=True,
              type=click.Choice(["text", "json"], case_sensitive=False), help="json: one JSON object per line.")
def main(log_level: str, log_format: str) -> None:
    """encola: a self-hosted, TusFacturas-compatible queued invoicing server for AFIP/ARCA."""
    from encola.ops.logs import configure

    configure(log_level, log_format.lower())


@main.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema (a progress bar per migration on a terminal)."""
    from encola.ops.migrating import pending_migrations, progress_bar

    settings = _settings()
    pending = pending_migrations(settings.database_url)
    with progress_bar(pending):
        open_store(settings)
    click.echo(f"database up to date ({pending} migrations applied)" if pending else "database up to date")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-engine", is_flag=True, help="API (and dispatcher) only; emission runs in `encola worker`s.")
def serve(host: str, port: int, no_engine: bool) -> None:
    """Run the API, the emission engine and the webhook dispatcher in one process."""
    from encola.api.app import create_app
    from encola.ops import serving
    from encola.ops.gc_freeze import freeze_startup_objects
    from encola.runtime import build_services

    settings = _settings()
    if settings.public_url is None:  # the documents' links name the address the server listens on
        settings = dataclasses.replace(settings, public_url=listening_url(host, port))
    store = open_store(settings)
    app = create_app(build_services(store, settings, with_engine=not no_engine))
    # X-Forwarded-For names the client (for the per-address limits) only from the proxies listed.
    proxies = settings.forwarded_allow_ips
    freeze_startup_objects()
    # SIGTERM: stop gracefully within ENCOLA_SHUTDOWN_GRACE and exit 0 (encola/ops/serving.py).
    serving.serve(app, host, port, settings.shutdown_grace, access_log=False, log_level="warning",
                  proxy_headers=bool(proxies), forwarded_allow_ips=proxies)


@main.command()
@click.option("--ops-host", default="127.0.0.1", show_default=True, help="Address of --ops-port.")
@click.option("--ops-port", default=None, type=int, help="Serve /healthz, /readyz and /metrics on this port "
              "(default: ENCOLA_OPS_PORT, else none).")
def worker(ops_host: str, ops_port: int | None) -> None:
    """Run the emission engine and the webhook dispatcher, without the API."""
    import asyncio

    from encola.ops.gc_freeze import freeze_startup_objects
    from encola.runtime import build_services, run_worker

    settings = _settings()
    store = open_store(settings)
    services = build_services(store, settings, with_engine=True)
    ops_port = ops_port if ops_port is not None else settings.ops_port
    if ops_port is not None:
        from encola.ops.http import ops_app
        from encola.ops.serving import ops_server

        services.background.append(ops_server(ops_app(store, ["engine", "dispatcher"], settings.metrics_token), ops_host, ops_port))
    freeze_startup_objects()
    asyncio.run(run_worker(services))


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
@click.option("--lenient-wsaa", is_flag=True,
              help="Trust any certificate with a CUIT and issue a new ticket on every login (the old, kinder WSAA).")
def afip_sim(host: str, port: int, latency_ms: int, latency_p99_ms: int, concurrency_mode: str, drop_ratio: float,
             ledger: str | None, lenient_wsaa: bool) -> None:
    """Run the AFIP simulator (WSAA + WSFEv1 over SOAP, plus /_sim control endpoints).

    \b
    Its WSAA is as strict as AFIP's: it trusts only certificates it signed itself (its CA is
    kept beside --ledger, or in memory without one) and refuses a second login while a ticket
    of that certificate is valid (coe.alreadyAuthenticated). Getting a certificate, as AFIP's
    WSASS gives one for homologación:
      encola cert new --cuit 20123456786 --razon-social "ACME SA" --simulator http://127.0.0.1:8900
    or, with a CSR of your own:
      curl --data-binary @acme.csr http://127.0.0.1:8900/_sim/wsass > acme.crt
    encola itself needs nothing: `encola pdv create` without --cert pointed at the simulator
    (ENCOLA_AFIP_URL) gets a certificate signed by it. See docs/going-live.md.

    \b
    As AFIP, it authorizes only on points of sale registered for the CUIT (10005/11002
    otherwise); `encola pdv create` registers its own. Any other (type CAE or CAEA):
      curl -d '{"cuit": 20123456786, "punto_venta": 3, "emision_tipo": "CAE"}' http://127.0.0.1:8900/_sim/puntos_venta"""
    from encola.afip_sim.server import serve as serve_simulator

    serve_simulator(host, port, latency_ms=latency_ms, ledger_path=ledger, concurrency_mode=concurrency_mode,
                    latency_p99_ms=latency_p99_ms, drop_ratio=drop_ratio, strict_wsaa=not lenient_wsaa)


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
    # A certificate given is checked before anything is stored: a wrong one changes nothing.
    certificate = _read_certificate(cuit, cert_file, key_file) if cert_file or key_file else None
    from encola.pdv_at_afip import before_provisioning, after_provisioning

    afip_note = before_provisioning(settings, cuit, punto_venta)  # the simulator's registry (exits if unreachable)
    store = open_store(settings)
    try:
        done = provision(store, spec, workspace_cuit=workspace_cuit)
    except CuitOwnedElsewhere as exc:
        raise click.ClickException(str(exc)) from None
    if certificate is not None:
        click.echo(_store_certificate(store, cuit, certificate), err=True)
    else:
        from encola.certificates.simulator import provide_for_cuit

        if note := provide_for_cuit(store, settings, cuit):  # a simulator signs one: no step for the user
            click.echo(note, err=True)
    click.echo(json.dumps({**done.credentials.as_json(), "webhook_token": done.webhook_token, "webhook_secret": done.webhook_secret}))
    after_provisioning(afip_note, store, settings, cuit, punto_venta)  # AFIP's check, or the simulator's note


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


def _read_certificate(cuit, cert_file, key_file):
    """The pair checked against the CUIT (encola/afip/certs.py); exits with the reason otherwise."""
    from encola.certificates.cli import checked

    if not (cert_file and key_file):
        raise click.UsageError("--cert and --key go together")
    return checked(cuit, cert_file.read(), key_file.read())


def _store_certificate(store, cuit, certificate) -> str:
    """Keep a checked pair sealed; a line saying which certificate it is and when it ends."""
    from encola.certificates.cli import describe, store_checked

    return describe(store_checked(store, cuit, certificate))


@pdv.command("cert")
@click.option("--cuit", required=True)
@click.option("--cert", "cert_file", type=click.File("r"), required=True, help="AFIP certificate (PEM).")
@click.option("--key", "key_file", type=click.File("r"), required=True, help="Its private key (PEM).")
def pdv_cert(cuit, cert_file, key_file) -> None:
    """Set the AFIP certificate and key of a CUIT (all its points of sale)."""
    certificate = _read_certificate(cuit, cert_file, key_file)
    click.echo(_store_certificate(open_store(_settings()), cuit, certificate))
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
from encola.ops.commands import register as register_ops_commands  # noqa: E402

register_ops_commands(main, hooks)  # status, invoices list/show, hooks retry
pdv.add_command(rotate_webhook_secret)

from encola.console.cli import operator  # noqa: E402

main.add_command(operator)  # encola operator create/password/list (the console's accounts)

from encola.certificates.cli import afip as afip_commands, cert  # noqa: E402

main.add_command(cert)  # encola cert new
main.add_command(afip_commands)  # encola afip check


if __name__ == "__main__":  # pragma: no cover
    main()
