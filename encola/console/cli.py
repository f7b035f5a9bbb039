"""``encola operator``: console accounts (create, list, new password)."""

from __future__ import annotations

import click

from encola.console.passwords import hash_password, new_password
from encola.store.operators import OperatorExists


@click.group()
def operator() -> None:
    """Operators of the web console (/console)."""


def _email(value: str) -> str:
    value = value.strip().lower()
    if "@" not in value or len(value) > 255 or any(c.isspace() for c in value):
        raise click.BadParameter("an e-mail address, at most 255 characters")
    return value


@operator.command("create")
@click.option("--email", required=True, help="The operator's e-mail: the login name.")
@click.option("--workspace", "cuits", multiple=True, metavar="CUIT",
              help="Any CUIT of a workspace the operator sees (repeatable).")
@click.option("--all", "all_workspaces", is_flag=True, help="Sees every workspace, present and future.")
def create(email: str, cuits: tuple[str, ...], all_workspaces: bool) -> None:
    """Create an operator and print its password, once (it is stored only as an argon2 hash)."""
    from encola.cli import _settings, open_store

    email = _email(email)
    if not cuits and not all_workspaces:
        raise click.UsageError("give --workspace CUIT (repeatable) or --all")
    store = open_store(_settings())
    owners = store.workspace_ids_of_cuits(list(cuits))
    unknown = [cuit for cuit, owner in owners.items() if owner is None]
    if unknown:
        raise click.ClickException(f"no workspace holds CUIT {', '.join(unknown)}")
    password = new_password()
    try:
        store.create_operator(email, hash_password(password), workspace_ids=list(owners.values()), all_workspaces=all_workspaces)
    except OperatorExists:
        raise click.ClickException(f"an operator {email} exists; `encola operator password --email {email}` gives it a new password") from None
    click.echo(f"operator {email} created; password (shown only now): {password}")


@operator.command("password")
@click.option("--email", required=True)
def password(email: str) -> None:
    """Give an operator a new password (printed once); its open sessions end."""
    from encola.cli import _settings, open_store

    email = _email(email)
    secret = new_password()
    if not open_store(_settings()).set_operator_password(email, hash_password(secret)):
        raise click.ClickException(f"no operator {email}")
    click.echo(f"new password for {email} (shown only now): {secret}")


@operator.command("list")
def list_operators() -> None:
    """Every operator and the CUITs of the workspaces it sees."""
    from encola.cli import _settings, open_store

    for found, cuit_list in open_store(_settings()).list_operators():
        seen = "all workspaces" if found.all_workspaces else (", ".join(cuit_list) or "no workspace")
        click.echo(f"{found.email}\t{'active' if found.activo else 'disabled'}\t{seen}")
