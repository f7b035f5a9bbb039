"""``puntos_venta/administrar``: A adds a point of sale to the caller's workspace, M changes the caller's.

A adds points of sale only on CUITs the caller's workspace already owns: putting a CUIT in a
workspace is an operator's act (``encola pdv create``), since the CUIT's AFIP certificate, tickets
and numbers would otherwise serve whoever named it first."""

from __future__ import annotations

from encola.api.envelope import error_envelope
from encola.api.provisioning import (
    CONCEPTOS,
    NotOwnCuit,
    PdvExists,
    PdvSpec,
    add_point_of_sale,
    check_spec,
    issuer_errors,
    modify,
    valid_webhook_token,
    webhook_errors,
)
from encola.domain import fields as f
from encola.domain.errors import Error, err
from encola.settings import Settings
from encola.store.store import Pdv, Store
from encola.webhooks.signing import rotate_secret


def _flag(body: dict, name: str, errors: list[Error]) -> bool | None:
    value = f.flag(body.get(name), "")
    if value is None:
        errors.append(err("TFC-5011", campo=name))
        return None
    return None if value == "" else value == "S"


def _issuer_fields(body: dict, errors: list[Error]) -> dict:
    """TF's issuer fields (``direccion``, ``iibb``, ``fecha_inicio``) as pdvs columns; absent ones left out."""
    values: dict = {}
    for name, column in (("direccion", "domicilio"), ("iibb", "iibb")):
        value = body.get(name)
        if f.absent(value):
            continue
        word = f.text(value)
        if word is None:
            errors.append(err("TFC-5013" if name == "direccion" else "TFC-5014"))
        else:
            values[column] = word.strip()
    if not f.absent(body.get("fecha_inicio")):
        inicio = f.wire_date(body.get("fecha_inicio"))
        if inicio is None:
            errors.append(err("TFC-5015"))
        else:
            values["inicio_actividades"] = inicio
    return values


def administrar(store: Store, settings: Settings, pdv: Pdv, body: dict) -> dict:
    operacion = (f.text(body.get("operacion")) or "").strip().upper()
    if operacion == "A":
        return _alta(store, settings, pdv, body)
    if operacion == "M":
        return _modificacion(store, settings, pdv, body)
    return error_envelope([err("TFC-5001")], None)


def _alta(store: Store, settings: Settings, caller: Pdv, body: dict) -> dict:
    errors: list[Error] = []
    punto_venta = f.integer(body.get("punto_venta"))
    cuit = (f.text(body.get("cuit")) or caller.cuit).strip()
    activo = _flag(body, "esta_activo", errors)
    issuer = _issuer_fields(body, errors)
    spec = PdvSpec(
        cuit=cuit,
        punto_venta=punto_venta or 0,
        condicion_iva=(f.text(body.get("iva_condicion")) or caller.condicion_iva).strip().upper(),
        razon_social=(f.text(body.get("razon_social")) or caller.razon_social).strip(),
        conceptos=(f.text(body.get("conceptos_tipo")) or caller.conceptos).strip().upper(),
        webhook_url=(f.text(body.get("webhook")) or "").strip() or None,
        webhook_token=(f.text(body.get("webhook_token")) or None),
        activo=True if activo is None else activo,
        **issuer,
    )
    errors += check_spec(spec, settings.webhook_allow_private, today=store.clock.today())
    if errors:
        return error_envelope(errors, None)
    try:
        done = add_point_of_sale(store, spec, caller.workspace_id)
    except NotOwnCuit:
        # The same answer whether the CUIT is unknown or another tenant's: no existence oracle.
        return error_envelope([err("TFC-5012", cuit=spec.cuit)], None)
    except PdvExists:
        return error_envelope([err("TFC-5004", punto_venta=spec.punto_venta, cuit=spec.cuit)], None)
    return {
        "error": "N",
        "errores": [],
        "rta": f"El punto de venta {spec.punto_venta:05d} del CUIT {spec.cuit} se ha creado correctamente.",
        "cuit": spec.cuit,
        "punto_venta": spec.punto_venta,
        "webhook_token": done.webhook_token,
        "webhook_secret": done.webhook_secret,
        **done.credentials.as_json(),
    }


def _modificacion(store: Store, settings: Settings, pdv: Pdv, body: dict) -> dict:
    errors: list[Error] = []
    values: dict = {}
    if "webhook" in body:
        url = (f.text(body.get("webhook")) or "").strip() or None
        errors += webhook_errors(url, settings.webhook_allow_private)
        values["webhook_url"] = url
    token = f.text(body.get("webhook_token"))
    if not f.absent(token):
        if valid_webhook_token(token):
            values["webhook_token"] = token
        else:
            errors.append(err("TFC-5010"))
    conceptos = f.text(body.get("conceptos_tipo"))
    if not f.absent(conceptos):
        if conceptos.strip().upper() in CONCEPTOS:
            values["conceptos"] = conceptos.strip().upper()
        else:
            errors.append(err("TFC-5008"))
    razon_social = f.text(body.get("razon_social"))
    if not f.absent(razon_social):
        if len(razon_social) <= 255:
            values["razon_social"] = razon_social.strip()
        else:
            errors.append(err("TFC-5009"))
    activo = _flag(body, "esta_activo", errors)
    if activo is not None:
        values["activo"] = activo
    issuer = _issuer_fields(body, errors)
    errors += issuer_errors(**issuer, today=store.clock.today())
    values.update(issuer)
    rotate = _flag(body, "webhook_secret_rotar", errors)
    if errors:
        return error_envelope(errors, None)
    if values:
        modify(store, pdv, values)
    answer = {"error": "N", "errores": [], "rta": "El punto de venta se ha modificado correctamente."}
    if rotate:  # a new signing secret, shown once; the old one signs too for webhook_secret_grace
        answer["webhook_secret"] = rotate_secret(store, pdv.id, settings.webhook_secret_grace)
    return answer
