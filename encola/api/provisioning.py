"""Points of sale: create (CLI ``pdv create`` and ``administrar`` A) and modify (``administrar`` M)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.exc import IntegrityError

from encola.domain import credentials
from encola.domain.errors import Error, err
from encola.store.store import Pdv, Store
from encola.webhooks.urls import UrlRefused, check_url

CONDICIONES_EMISOR = ("RI", "M", "E")
CONCEPTOS = ("P", "S", "PS")
MAX_DOMICILIO = 255
MAX_IIBB = 64
MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_PIXELS = 2000  # a side: a larger logo only makes every render slower
LOGO_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}
_EMAIL = re.compile(r"[^@\s\x00-\x1f]+@[^@\s\x00-\x1f.]+(\.[^@\s\x00-\x1f.]+)+")


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
    # Issuer data for documents; None leaves it out (or, for an existing point of sale, as it is).
    domicilio: str | None = None
    iibb: str | None = None
    inicio_actividades: date | None = None
    logo: bytes | None = None
    mail_reply_to: str | None = None

    def issuer_values(self) -> dict:
        """The issuer columns this spec sets (those not None)."""
        names = ("domicilio", "iibb", "inicio_actividades", "logo", "mail_reply_to")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


@dataclass(frozen=True)
class Provisioned:
    pdv_id: int
    credentials: credentials.Credentials
    webhook_token: str
    webhook_secret: str
    created: bool


def check_spec(spec: PdvSpec, allow_private: bool, *, today: date | None = None) -> list[Error]:
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
    return errors + issuer_errors(**spec.issuer_values(), today=today)


def issuer_errors(
    *, domicilio: str | None = None, iibb: str | None = None, inicio_actividades: date | None = None,
    logo: bytes | None = None, mail_reply_to: str | None = None, today: date | None = None,
) -> list[Error]:
    """What is wrong with issuer data for documents (None is fine: not given)."""
    errors = []
    if domicilio is not None and not _printable(domicilio, MAX_DOMICILIO):
        errors.append(err("TFC-5013"))
    if iibb is not None and not _printable(iibb, MAX_IIBB):
        errors.append(err("TFC-5014"))
    if inicio_actividades is not None and not valid_inicio(inicio_actividades, today):
        errors.append(err("TFC-5015"))
    if logo is not None and (problem := logo_problem(logo)) is not None:
        errors.append(err("TFC-5016", maximo=MAX_LOGO_BYTES // 1024, pixeles=MAX_LOGO_PIXELS, detalle=problem))
    if mail_reply_to is not None and not valid_email(mail_reply_to):
        errors.append(err("TFC-5017"))
    return errors


def _printable(value: str, limit: int) -> bool:
    return len(value) <= limit and value.isprintable()


def valid_inicio(value: date, today: date | None = None) -> bool:
    """1900 or later, and not after today (a day of slack for time zones)."""
    return date(1900, 1, 1) <= value <= (today or date.today()) + timedelta(days=1)


def valid_email(value: str) -> bool:
    return len(value) <= 255 and _EMAIL.fullmatch(value) is not None


def logo_problem(data: bytes) -> str | None:
    """Why ``data`` cannot be a document's logo, in Spanish; None when it can (PNG or JPEG by its
    first bytes, within the size limits, and drawable by the PDF library)."""
    if len(data) > MAX_LOGO_BYTES:
        return f"pesa {len(data) // 1024} KiB"
    if not any(data.startswith(magic) for magic in LOGO_MAGIC):
        return "no es PNG ni JPEG"
    from fpdf import FPDF
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
        if max(width, height) > MAX_LOGO_PIXELS:
            return f"mide {width} x {height} pixeles"
        pdf = FPDF()
        pdf.add_page()
        pdf.image(io.BytesIO(data), x=0, y=0, h=14)
        pdf.output()
    except Exception:  # whatever Pillow or fpdf2 find wrong with it
        return "la imagen no se puede leer"
    return None


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
        **spec.issuer_values(),
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
                    **spec.issuer_values(),
                    **_hashed(keys),
                )
            return Provisioned(pdv_id, keys, token, secret, created=True)
        except IntegrityError:
            keys = credentials.Credentials(keys.usertoken, credentials.generate().apikey, keys.apitoken)
    raise RuntimeError("could not allocate a unique apikey")


def modify(store: Store, pdv: Pdv, values: dict) -> None:
    """administrar M and ``pdv update``: change a point of sale's settings (a change of its issuer
    data makes a new issuer version, for invoices emitted from now on)."""
    with store.writing() as connection:
        store.update_pdv(connection, pdv.id, **values)
