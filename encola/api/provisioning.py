"""Points of sale: create (CLI ``pdv create`` and ``administrar`` A) and modify (``administrar`` M)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from encola.domain import credentials
from encola.domain.errors import Error, err
from encola.store.store import Pdv, Store
from encola.webhooks.urls import UrlRefused, check_url

CONDICIONES_EMISOR = ("RI", "M", "E")
CONCEPTOS = ("P", "S", "PS")


@dataclass(frozen=True)
class PdvSpec:
    cuit: str
    punto_venta: int
    condicion_iva: str
    razon_social: str
    conceptos: str = "P"
    webhook_url: str | None = None
    webhook_token: str | None = None
    activo: bool = True


@dataclass(frozen=True)
class Provisioned:
    pdv_id: int
    credentials: credentials.Credentials
    webhook_token: str
    webhook_secret: str
    created: bool


def check_spec(spec: PdvSpec, allow_private: bool) -> list[Error]:
    errors = []
    # Only the shape: AFIP itself vouches for the emitter's CUIT through its certificate, and
    # test set-ups (and the simulator) use made-up numbers.
    if not (len(spec.cuit) == 11 and spec.cuit.isascii() and spec.cuit.isdigit()):
        errors.append(err("TFC-5002"))
    if not 0 < spec.punto_venta < 99999:
        errors.append(err("TFC-5003"))
    if spec.condicion_iva not in CONDICIONES_EMISOR:
        errors.append(err("TFC-5007"))
    if spec.conceptos not in CONCEPTOS:
        errors.append(err("TFC-5008"))
    if not spec.razon_social.strip() or len(spec.razon_social) > 255:
        errors.append(err("TFC-5009"))
    errors += webhook_errors(spec.webhook_url, allow_private)
    if spec.webhook_token is not None and not valid_webhook_token(spec.webhook_token):
        errors.append(err("TFC-5010"))
    return errors


def valid_webhook_token(token: str) -> bool:
    return 8 <= len(token) <= 255 and token.isprintable() and token.strip() == token


def webhook_errors(url: str | None, allow_private: bool) -> list[Error]:
    if not url:
        return []
    try:
        check_url(url, allow_private)
    except UrlRefused as refused:
        if refused.host:
            return [err("TFC-5006", host=refused.host)]
        return [err("TFC-5005", detalle=refused.reason)]
    return []


class CuitOwnedElsewhere(Exception):
    """The CUIT belongs to a workspace other than the one named (operator side)."""


class NotOwnCuit(Exception):
    """administrar A named a CUIT the caller's workspace does not own (or that does not exist)."""


class PdvExists(Exception):
    """administrar A named a point of sale that already exists in the caller's workspace."""


def provision(store: Store, spec: PdvSpec, *, workspace_cuit: str | None = None) -> Provisioned:
    """Operator side (``encola pdv create``): the CUIT joins a workspace if it has none, the point
    of sale is created or updated, and its keys are issued.

    A new CUIT goes to the workspace that owns ``workspace_cuit`` when given, else to a new
    workspace. Keys are stored hashed, so they can only be shown once: provisioning an existing
    point of sale again updates its settings and issues fresh keys (the old ones stop working).
    Raises CuitOwnedElsewhere when the CUIT already belongs to another workspace than
    ``workspace_cuit``'s (or ``workspace_cuit`` has no workspace).
    """
    with store.writing() as connection:
        owner = store.owner_of(connection, spec.cuit)
        wanted = None
        if workspace_cuit is not None:
            wanted = store.owner_of(connection, workspace_cuit)
            if wanted is None:
                raise CuitOwnedElsewhere(f"no workspace holds CUIT {workspace_cuit}")
            if owner is not None and owner != wanted:
                raise CuitOwnedElsewhere(f"CUIT {spec.cuit} belongs to another workspace")
        if owner is None:
            owner = wanted if wanted is not None else store.create_workspace(connection, spec.razon_social)
            store.add_cuit(connection, spec.cuit, owner)
        existing = store.pdv(connection, cuit=spec.cuit, punto_venta=spec.punto_venta)
        if existing is not None:
            return _reissue(store, connection, existing, spec)
        return _insert(store, connection, spec, owner)


def add_point_of_sale(store: Store, spec: PdvSpec, workspace_id: int) -> Provisioned:
    """Tenant side (``administrar`` A): a new point of sale on a CUIT the workspace owns.

    Raises NotOwnCuit for any CUIT the workspace does not own, whether or not it exists, so the
    answer tells nothing about other tenants; PdvExists for one of its own points of sale.
    """
    with store.writing() as connection:
        if store.owner_of(connection, spec.cuit) != workspace_id:
            raise NotOwnCuit(spec.cuit)
        if store.pdv(connection, cuit=spec.cuit, punto_venta=spec.punto_venta) is not None:
            raise PdvExists(spec.cuit)
        return _insert(store, connection, spec, workspace_id)


def _hashed(keys: credentials.Credentials) -> dict:
    return dict(usertoken_hash=credentials.hash_token(keys.usertoken), apitoken_hash=credentials.hash_token(keys.apitoken))


def _reissue(store: Store, connection, existing: Pdv, spec: PdvSpec) -> Provisioned:
    keys = credentials.generate()
    token = spec.webhook_token or existing.webhook_token
    store.update_pdv(
        connection,
        existing.id,
        razon_social=spec.razon_social,
        condicion_iva=spec.condicion_iva,
        conceptos=spec.conceptos,
        webhook_url=spec.webhook_url if spec.webhook_url is not None else existing.webhook_url,
        webhook_token=token,
        activo=spec.activo,
        **_hashed(keys),
    )
    keys = credentials.Credentials(keys.usertoken, existing.apikey, keys.apitoken)
    return Provisioned(existing.id, keys, token, existing.webhook_secret or "", created=False)


def _insert(store: Store, connection, spec: PdvSpec, workspace_id: int) -> Provisioned:
    keys = credentials.generate()
    token = spec.webhook_token or credentials.generate_webhook_token()
    secret = credentials.generate_webhook_secret()
    for _ in range(5):  # apikeys are random; retry on the rare collision
        try:
            with connection.begin_nested():
                pdv_id = store.insert_pdv(
                    connection,
                    workspace_id=workspace_id,
                    cuit=spec.cuit,
                    punto_venta=spec.punto_venta,
                    razon_social=spec.razon_social,
                    condicion_iva=spec.condicion_iva,
                    conceptos=spec.conceptos,
                    webhook_url=spec.webhook_url,
                    webhook_token=token,
                    webhook_secret=secret,
                    apikey=keys.apikey,
                    activo=spec.activo,
                    **_hashed(keys),
                )
            return Provisioned(pdv_id, keys, token, secret, created=True)
        except IntegrityError:
            keys = credentials.Credentials(keys.usertoken, credentials.generate().apikey, keys.apitoken)
    raise RuntimeError("could not allocate a unique apikey")


def modify(store: Store, pdv: Pdv, values: dict) -> None:
    """administrar M: change the settings of the point of sale the keys belong to."""
    with store.writing() as connection:
        store.update_pdv(connection, pdv.id, **values)
