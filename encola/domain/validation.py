"""Parse and validate a TF ``comprobante`` + ``cliente`` request into an :class:`Invoice`.

Strict where AFIP is strict or where TusFacturas' docs show it rejecting (letters and types,
reference-table codes, dates, external_reference, the total); liberal elsewhere: unknown fields
are ignored, ``null`` means absent, numbers may be strings, and the fields real clients omit get
the defaults listed in ``DEFAULTS`` (documented in ``docs/api.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from email_validator import EmailNotValidError, validate_email

from encola.domain import fields as f
from encola.domain import tables as t
from encola.domain.errors import Error, err
from encola.domain.invoice import (
    Asociado,
    Cliente,
    Invoice,
    Issuer,
    Item,
    Opcional,
    Periodo,
    Tributo,
)
from encola.domain.abono import parse_hasta
from encola.domain.totals import Totals, compute

EXTERNAL_REFERENCE_RE = re.compile(r"[A-Za-z0-9_-]{1,255}")
TOTAL_TOLERANCE = Decimal("0.01")  # AFIP's own tolerance on ImpTotal
AFIP_MAX_AMOUNT = Decimal("1e13")  # WSFEv1's amounts have 13 integer digits
# How far back AFIP accepts CbteFch: 5 days for products, 10 for services (WSFEv1 manual).
DATE_WINDOW_DAYS = {1: 5, 2: 10, 3: 10}
MAX_ABONO_FRECUENCIA = 120  # months: an abono repeats at least once in ten years
# From this amount in pesos AFIP refuses a comprobante B to an unidentified buyer (DocTipo 99,
# Obs 10015): RG 4444's limit, raised by RG 5700/2025 to $10,000,000 per the press (AFIP's manual
# does not publish it). The simulator applies the same (encola/afip_sim/rules.py).
CONSUMIDOR_FINAL_LIMIT = Decimal("10000000")
# Currencies worth far more than 50 pesos for years: a cotizacion of 1 or less is under 2 % of
# AFIP's official rate, which AFIP refuses (Obs 10119). Others (e.g. 011, 033) may be near 1.
STRONG_CURRENCIES = frozenset({"DOL", "060", "012"})

DEFAULTS = {
    "cliente.codigo": "",
    "cliente.rg5329": "N",
    "comprobante.idioma": 1,
    "comprobante.cotizacion (PES)": Decimal("1"),
    "detalle.afecta_stock": "N",
    "producto.unidad_medida": 7,
    "producto.actualiza_precio": "N",
    "producto.rg5329": "N",
    "producto.lista_precios": "",
    "producto.codigo": "",
}


@dataclass(frozen=True)
class Validated:
    invoice: Invoice | None
    totals: Totals | None
    errors: list[Error]


def external_reference_of(comprobante: object) -> str:
    """The raw external_reference as the client sent it (for envelopes and hooks), '' if none."""
    if not isinstance(comprobante, dict):
        return ""
    value = comprobante.get("external_reference")
    return "" if f.absent(value) else (f.text(value) or "")


def external_reference_errors(value: str) -> list[Error]:
    """TF's two documented messages: missing (plus invalid), or invalid characters."""
    if not value:
        return [err("TFC-8002-faltante"), err("TFC-8002")]
    if not EXTERNAL_REFERENCE_RE.fullmatch(value):
        return [err("TFC-8002")]
    return []


def validate(body: dict, issuer: Issuer, today: date, *, reference_required: bool = True) -> Validated:
    """Validate one request (the dict holding ``comprobante`` and ``cliente``).

    ``reference_required`` False (instant emission): an absent external_reference is fine, one
    sent must still be valid."""
    errors: list[Error] = []
    comprobante = body.get("comprobante")
    cliente_raw = body.get("cliente")
    external_reference = external_reference_of(comprobante)
    if reference_required or external_reference:
        errors += external_reference_errors(external_reference)
    if not isinstance(comprobante, dict):
        errors.append(err("TFC-1013", bloque="comprobante"))
        return Validated(None, None, errors)
    if not isinstance(cliente_raw, dict):
        errors.append(err("TFC-1013", bloque="cliente"))
    reader = _ComprobanteReader(comprobante, issuer, today, errors)
    invoice_parts = reader.read()
    cliente = _read_cliente(cliente_raw, errors) if isinstance(cliente_raw, dict) else None
    if cliente is not None and reader.tipo is not None:
        _check_letters(reader.tipo, cliente, issuer, errors)
    if errors or invoice_parts is None or cliente is None:
        return Validated(None, None, errors)
    invoice = Invoice(cliente=cliente, external_reference=external_reference, **invoice_parts)
    totals = compute(invoice)
    errors += _amount_errors(totals)
    if errors:
        return Validated(None, None, errors)
    _check_total(invoice, totals, errors)
    errors += _afip_certain_refusals(invoice, totals)
    if errors:
        return Validated(None, None, errors)
    return Validated(invoice, totals, [])


def _afip_certain_refusals(invoice: Invoice, totals: Totals) -> list[Error]:
    """What AFIP is sure to reject, refused now rather than after the invoice waited in the queue."""
    errors = []
    if invoice.moneda in STRONG_CURRENCIES and invoice.cotizacion <= 1:
        errors.append(err("TFC-2038", moneda=invoice.moneda, cotizacion=f"{invoice.cotizacion.normalize():f}"))
    pesos = totals.total * invoice.cotizacion
    if invoice.tipo.letter == "B" and invoice.cliente.documento_tipo == "OTRO" and pesos >= CONSUMIDOR_FINAL_LIMIT:
        errors.append(err("TFC-3016", total=f"{pesos:.2f}", limite=f"{CONSUMIDOR_FINAL_LIMIT:.0f}"))
    return errors


def _check_letters(tipo: t.TipoComprobante, cliente: Cliente, issuer: Issuer, errors: list[Error]) -> None:
    letter = tipo.letter
    if letter not in t.LETRAS_POR_EMISOR.get(issuer.condicion_iva, frozenset()):
        errors.append(err("TFC-2032", condicion=issuer.condicion_iva, letra=letter))
    condicion = cliente.condicion_iva_operacion
    if letter not in t.LETRAS_POR_CONDICION.get(condicion, frozenset()):
        errors.append(err("TFC-8004", letra=letter))
    if letter in ("A", "M") and cliente.documento_tipo != "CUIT":
        errors.append(err("TFC-3014", letra=letter))


def _amount_errors(totals: Totals) -> list[Error]:
    """Every amount AFIP (and the stored answer) will carry, within WSFEv1's 13 integer digits."""
    amounts = [(f"del concepto {n}", line) for n, line in enumerate(totals.line_totals, start=1)]
    amounts += [(f"de IVA {g.rate}%", g.base) for g in totals.iva] + [(f"del tributo {t.afip_id}", t.importe) for t in totals.tributos]
    amounts += [
        ("neto gravado", totals.neto_gravado),
        ("de IVA", totals.imp_iva),
        ("exento", totals.exento),
        ("no gravado", totals.no_gravado),
        ("total", totals.total),
    ]
    for name, amount in amounts:
        if abs(amount) >= AFIP_MAX_AMOUNT:
            return [err("TFC-2036", campo=name, importe=f"{amount:.2f}")]
    return []


def _check_total(invoice: Invoice, totals: Totals, errors: list[Error]) -> None:
    expected = totals.total
    if expected < 0:
        errors.append(err("TFC-2027", campo="total"))
    elif abs(invoice.total - expected) > TOTAL_TOLERANCE:
        errors.append(err("TFC-2026", enviado=f"{invoice.total:.2f}", esperado=f"{expected:.2f}"))


# --- cliente -------------------------------------------------------------------------------


def cuit_is_valid(number: str) -> bool:
    """CUIT/CUIL check digit (módulo 11)."""
    if len(number) != 11 or not f.ascii_digits(number):
        return False
    weights = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    remainder = sum(int(d) * w for d, w in zip(number, weights)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    if check == 10:
        check = 9  # AFIP issues such numbers with prefix 23/33 and check digit 9
    return check == int(number[10])


def _read_cliente(raw: dict, errors: list[Error]) -> Cliente | None:
    start = len(errors)
    documento_tipo = (f.text(raw.get("documento_tipo")) or "").strip().upper()
    if documento_tipo not in t.DOCUMENTO_TIPOS:
        errors.append(err("TFC-3001"))
    documento_nro = _documento_nro(raw.get("documento_nro"), documento_tipo, errors)
    razon_social = _required_text(raw.get("razon_social"), 255)
    if razon_social is None:
        errors.append(err("TFC-3003"))
    condicion_iva = (f.text(raw.get("condicion_iva")) or "").strip().upper()
    domicilio = _required_text(raw.get("domicilio"), 255)
    if domicilio is None and not (condicion_iva == "CF" and _blank_or_short(raw.get("domicilio"), 255)):
        # Production clients send a consumidor final without an address; AFIP does not ask for one.
        errors.append(err("TFC-3004"))
    provincia = f.integer(raw.get("provincia"))
    if provincia not in t.PROVINCIAS:
        errors.append(err("TFC-3005"))
    envia = f.flag(raw.get("envia_por_mail"))
    if envia is None:
        errors.append(err("TFC-3006"))
    condicion_pago = f.integer(raw.get("condicion_pago"))
    if condicion_pago not in t.CONDICIONES_VENTA:
        errors.append(err("TFC-3007"))
    otra = f.text(raw.get("condicion_pago_otra")) or ""
    if condicion_pago == t.CONDICION_VENTA_OTRA and (not otra.strip() or len(otra) > 100):
        errors.append(err("TFC-3008"))
    if condicion_iva not in t.CONDICIONES_IVA:
        errors.append(err("TFC-3009"))
    operacion_raw = raw.get("condicion_iva_operacion")
    condicion_operacion = condicion_iva
    if not f.absent(operacion_raw):
        condicion_operacion = (f.text(operacion_raw) or "").strip().upper()
        if condicion_operacion not in t.CONDICIONES_IVA:
            errors.append(err("TFC-3013"))
    email = (f.text(raw.get("email")) or "").strip()
    if email and not _emails_ok(email):
        errors.append(err("TFC-3010"))
    codigo = f.text(raw.get("codigo")) or DEFAULTS["cliente.codigo"]
    if len(codigo) > 20:
        errors.append(err("TFC-3011"))
    rg5329 = f.flag(raw.get("rg5329"), DEFAULTS["cliente.rg5329"])
    if rg5329 is None:
        errors.append(err("TFC-3012", campo="rg5329"))
    for name in ("reclama_deuda",):
        if f.flag(raw.get(name), "N") is None:
            errors.append(err("TFC-3012", campo=name))
    for name in ("reclama_deuda_dias", "reclama_deuda_repite_dias"):
        if not f.absent(raw.get(name)) and f.integer(raw.get(name)) is None:
            errors.append(err("TFC-3015", campo=name))
    nombre_fantasia = f.text(raw.get("nombre_fantasia")) or ""
    _check_length(nombre_fantasia, "cliente.nombre_fantasia", 255, errors)
    if len(errors) > start:
        return None
    return Cliente(
        documento_tipo=documento_tipo,
        documento_nro=documento_nro or "0",
        razon_social=razon_social or "",
        domicilio=domicilio or "",
        provincia=provincia or 0,
        envia_por_mail=envia or "N",
        condicion_pago=condicion_pago or 0,
        condicion_iva=condicion_iva,
        condicion_iva_operacion=condicion_operacion,
        email=email,
        condicion_pago_otra=otra,
        codigo=codigo,
        rg5329=rg5329 or "N",
        nombre_fantasia=nombre_fantasia,
    )


def _documento_nro(value: object, tipo: str, errors: list[Error]) -> str | None:
    number = f.text(value)
    number = number.strip() if number is not None else ""
    if not f.ascii_digits(number) or len(number) > 11:
        errors.append(err("TFC-3002", detalle="debe ser numerico, sin puntos ni guiones, de hasta 11 digitos"))
        return None
    if tipo in ("CUIT", "CUIL") and not cuit_is_valid(number):
        errors.append(err("TFC-3002", detalle=f"el {tipo} {number} no es valido"))
        return None
    if tipo not in ("OTRO", "CUIT", "CUIL") and int(number) == 0:
        errors.append(err("TFC-3002", detalle="solo el tipo OTRO admite el numero 0"))
        return None
    return number


def email_addresses(value: str) -> list[str] | None:
    """The buyer's addresses from TF's ``email`` field, or None when it is not valid.

    TF: the whole field at most 255 characters, at most 15 addresses separated by commas. Each
    must be an addr-spec with a dotted domain (email-validator, no DNS look-up), so nothing that
    could inject a header or a second recipient reaches the mail.
    """
    addresses = [a.strip() for a in value.split(",") if a.strip()]
    if not 0 < len(addresses) <= 15 or len(value) > 255:
        return None
    normalized = []
    for address in addresses:
        try:
            found = validate_email(address, check_deliverability=False, allow_smtputf8=True)
        except EmailNotValidError:
            return None
        normalized.append(found.normalized)
    return normalized


def _emails_ok(value: str) -> bool:
    return email_addresses(value) is not None


def _check_length(value: str, campo: str, limit: int, errors: list[Error]) -> None:
    """TF's documented maximum length of a text field (TFC-2037): refused, never cut and stored."""
    if len(value) > limit:
        errors.append(err("TFC-2037", campo=campo, maximo=limit, largo=len(value)))


def echo(value: str | None, limit: int = 64) -> str:
    """A client's value quoted back in a message, cut so a huge field never fills the answer."""
    value = value or ""
    return value if len(value) <= limit else value[:limit] + "..."


def _blank_or_short(value: object, limit: int) -> bool:
    """Absent, null or blank (within ``limit``): what an optional text field may be."""
    if value is None:
        return True
    word = f.text(value)
    return word is not None and not word.strip() and len(word) <= limit


def _required_text(value: object, limit: int) -> str | None:
    word = f.text(value)
    if word is None or not word.strip() or len(word) > limit:
        return None
    return word.strip()


# --- comprobante ---------------------------------------------------------------------------


class _ComprobanteReader:
    """Reads the comprobante block field by field, appending every problem to ``errors``."""

    def __init__(self, raw: dict, issuer: Issuer, today: date, errors: list[Error]):
        self.raw = raw
        self.issuer = issuer
        self.today = today
        self.errors = errors
        self.tipo: t.TipoComprobante | None = None

    def fail(self, code: str, **fields: object) -> None:
        self.errors.append(err(code, **fields))

    def read(self) -> dict | None:
        start = len(self.errors)
        raw = self.raw
        concepto = t.CONCEPTOS.get(self.issuer.conceptos, 1)
        self.tipo = self._tipo()
        fecha = f.wire_date(raw.get("fecha"))
        if fecha is None:
            self.fail("TFC-2001")
        elif fecha < self.today - timedelta(days=DATE_WINDOW_DAYS[concepto]):
            minima = self.today - timedelta(days=DATE_WINDOW_DAYS[concepto])
            self.fail("TFC-2018", fecha=f.format_date(fecha), minima=f.format_date(minima))
        vencimiento = self._date("vencimiento", required=True)
        operacion = (f.text(raw.get("operacion")) or "").strip().upper()
        if operacion != "V":
            self.fail("TFC-2005")
        idioma = f.integer(raw.get("idioma")) if not f.absent(raw.get("idioma")) else DEFAULTS["comprobante.idioma"]
        if idioma not in t.IDIOMAS:
            self.fail("TFC-2006")
        punto_venta = self._punto_venta()
        moneda, cotizacion = self._moneda()
        self._numero()
        periodo = self._periodo_facturado(concepto)
        if concepto != 1 and fecha and vencimiento and vencimiento < fecha:
            self.fail("TFC-2019", vencimiento=f.format_date(vencimiento), fecha=f.format_date(fecha))
        rubro = self._text_required("rubro")
        grupo = self._text_required("rubro_grupo_contable")
        items = self._items()
        bonificacion = self._non_negative("bonificacion")
        tributos = self._tributos()
        internos = self._non_negative("impuestos_internos", default=None)
        internos_base = self._non_negative("impuestos_internos_base", default=None)
        internos_alicuota = self._non_negative("impuestos_internos_alicuota", default=None)
        asociados, periodo_asociado = self._asociados(fecha)
        regimen, opcionales = self._rg_especiales()
        paga_misma_moneda = self._datos_informativos(moneda)
        tags = self._tags()
        total = f.decimal(raw.get("total"))
        if total is None or total < 0:
            self.fail("TFC-2025")
        extra = self._extra(total)
        leyenda_gral = self._bounded_text("leyenda_gral", 500)
        comentario = self._bounded_text("comentario", 255)
        if len(self.errors) > start:
            return None
        return dict(
            tipo=self.tipo,
            fecha=fecha,
            vencimiento=vencimiento,
            punto_venta=punto_venta,
            moneda=moneda,
            cotizacion=cotizacion,
            idioma=idioma,
            concepto=concepto,
            rubro=rubro,
            rubro_grupo_contable=grupo,
            items=items,
            total=f.money(total),
            periodo_facturado=periodo,
            bonificacion=f.money(bonificacion),
            tributos=tributos,
            impuestos_internos=internos,
            impuestos_internos_base=internos_base,
            impuestos_internos_alicuota=internos_alicuota,
            asociados=asociados,
            periodo_asociado=periodo_asociado,
            rg_regimen=regimen,
            opcionales=opcionales,
            paga_misma_moneda=paga_misma_moneda,
            tags=tags,
            leyenda_gral=leyenda_gral,
            comentario=comentario,
            extra=extra,
        )

    def _bounded_text(self, name: str, limit: int) -> str:
        value = f.text(self.raw.get(name)) or ""
        _check_length(value, f"comprobante.{name}", limit, self.errors)
        return value

    def _tipo(self) -> t.TipoComprobante | None:
        name = f.text(self.raw.get("tipo"))
        if f.absent(name):
            self.fail("TFC-2002")
            return None
        tipo = t.tipo_comprobante(name)
        if tipo is None:
            self.fail("TFC-2003", tipo=echo(name))
            return None
        if not tipo.queueable:
            self.fail("TFC-2004", tipo=tipo.name)
            return None
        return tipo

    def _date(self, name: str, required: bool) -> date | None:
        value = self.raw.get(name)
        if f.absent(value):
            if required:
                self.fail("TFC-2011", campo=name)
            return None
        parsed = f.wire_date(value)
        if parsed is None:
            self.fail("TFC-2011", campo=name)
        return parsed

    def _punto_venta(self) -> int | None:
        value = f.integer(self.raw.get("punto_venta"))
        if value is None or value > 99999:
            self.fail("TFC-2035")
            return None
        if value != self.issuer.punto_venta:
            self.fail("TFC-2007", enviado=value, esperado=self.issuer.punto_venta)
        return value

    def _moneda(self) -> tuple[str, Decimal]:
        code = (f.text(self.raw.get("moneda")) or "").strip().upper()
        if code not in t.MONEDAS:
            self.fail("TFC-2008", moneda=echo(code) or "vacia")
            return code, Decimal("1")
        value = self.raw.get("cotizacion")
        if code == "PES":
            cotizacion = f.decimal(value) if not f.absent(value) else DEFAULTS["comprobante.cotizacion (PES)"]
            if cotizacion != Decimal("1"):
                self.fail("TFC-2009")
            return code, Decimal("1")
        cotizacion = f.decimal(value)
        if cotizacion is None or cotizacion <= 0:
            self.fail("TFC-2009")
            return code, Decimal("1")
        return code, cotizacion.quantize(Decimal("0.000001"))

    def _numero(self) -> None:
        value = self.raw.get("numero")
        if f.absent(value):
            return
        if f.integer(value) != 0:
            self.fail("TFC-2010")

    def _periodo_facturado(self, concepto: int) -> Periodo | None:
        # A missing date is TFC-2012's to report; a malformed one is TFC-2011.
        desde = self._date("periodo_facturado_desde", required=False)
        hasta = self._date("periodo_facturado_hasta", required=False)
        if concepto != 1 and (desde is None or hasta is None):
            if not any(e.code == "TFC-2012" for e in self.errors):
                self.fail("TFC-2012")
            return None
        if desde and hasta:
            if desde > hasta:
                self.fail("TFC-2021", desde=f.format_date(desde), hasta=f.format_date(hasta))
            return Periodo(desde, hasta)
        return None

    def _text_required(self, name: str) -> str:
        value = _required_text(self.raw.get(name), 255)
        if value is None:
            self.fail("TFC-2013", campo=name)
            return ""
        return value

    def _non_negative(self, name: str, default: Decimal | None = Decimal("0")) -> Decimal | None:
        value = self.raw.get(name)
        if f.absent(value):
            return default
        number = f.decimal(value)
        if number is None or number < 0:
            self.fail("TFC-2027", campo=name)
            return default
        return number

    def _items(self) -> tuple[Item, ...]:
        detalle = self.raw.get("detalle")
        if not isinstance(detalle, list) or not detalle:
            self.fail("TFC-2015")
            return ()
        if len(detalle) > t.MAX_ITEMS:
            self.fail("TFC-2016", cantidad=len(detalle))
            return ()
        items = []
        for position, raw in enumerate(detalle, start=1):
            item = self._item(position, raw)
            if item is not None:
                items.append(item)
        return tuple(items)

    def _item(self, position: int, raw: object) -> Item | None:
        if not isinstance(raw, dict):
            self.fail("TFC-4001", posicion=position)
            return None
        start = len(self.errors)
        cantidad = f.decimal(raw.get("cantidad"))
        if cantidad is None or cantidad <= 0:
            self.fail("TFC-4002", posicion=position)
        bonificacion = f.decimal(raw.get("bonificacion_porcentaje", 0) if not f.absent(raw.get("bonificacion_porcentaje")) else 0)
        if bonificacion is None or not (0 <= bonificacion <= 100):
            self.fail("TFC-4009", posicion=position)
        afecta_stock = f.flag(raw.get("afecta_stock"), DEFAULTS["detalle.afecta_stock"])
        if afecta_stock is None:
            self.fail("TFC-4012", campo="afecta_stock", posicion=position)
        leyenda = f.text(raw.get("leyenda")) or ""
        if len(leyenda) > 1000:
            self.fail("TFC-4011", posicion=position)
        producto = raw.get("producto")
        if not isinstance(producto, dict):
            self.fail("TFC-4003", posicion=position)
            return None
        fields = self._producto(position, producto)
        if len(self.errors) > start or fields is None:
            return None
        return Item(
            cantidad=cantidad,
            bonificacion_porcentaje=bonificacion,
            afecta_stock=afecta_stock,
            leyenda=leyenda,
            **fields,
        )

    def _producto(self, position: int, raw: dict) -> dict | None:
        start = len(self.errors)
        descripcion = _required_text(raw.get("descripcion"), 255)
        if descripcion is None:
            self.fail("TFC-4004", posicion=position)
        precio = f.decimal(raw.get("precio_unitario_sin_iva"))
        if precio is None:
            self.fail("TFC-4005", posicion=position)
        alicuota = self._alicuota(position, raw.get("alicuota"))
        unidad_medida = raw.get("unidad_medida")
        unidad_medida = DEFAULTS["producto.unidad_medida"] if f.absent(unidad_medida) else f.integer(unidad_medida)
        if unidad_medida not in t.UNIDADES_MEDIDA:
            self.fail("TFC-4008", posicion=position)
        unidad_bulto = 1 if f.absent(raw.get("unidad_bulto")) else f.integer(raw.get("unidad_bulto"))
        if unidad_bulto is None or unidad_bulto < 1:
            self.fail("TFC-4010", posicion=position)
        actualiza = f.flag(raw.get("actualiza_precio"), DEFAULTS["producto.actualiza_precio"])
        if actualiza is None:
            self.fail("TFC-4012", campo="actualiza_precio", posicion=position)
        rg5329 = f.flag(raw.get("rg5329"), DEFAULTS["producto.rg5329"])
        if rg5329 is None:
            self.fail("TFC-4012", campo="rg5329", posicion=position)
        elif rg5329 == "S" and actualiza != "S":
            self.fail("TFC-4013", posicion=position)
        codigo = f.text(raw.get("codigo")) or DEFAULTS["producto.codigo"]
        if len(codigo) > 20:
            self.fail("TFC-4014", posicion=position)
        lista_precios = f.text(raw.get("lista_precios")) or DEFAULTS["producto.lista_precios"]
        _check_length(lista_precios, f"lista_precios del concepto {position}", 255, self.errors)
        internos = raw.get("impuestos_internos_alicuota")
        internos = Decimal("0") if f.absent(internos) else f.decimal(internos)
        if internos is None or internos < 0:
            self.fail("TFC-4015", posicion=position)
        if len(self.errors) > start:
            return None
        return dict(
            descripcion=descripcion,
            precio_unitario=f.price(precio),
            alicuota=alicuota,
            unidad_medida=unidad_medida,
            unidad_bulto=unidad_bulto,
            actualiza_precio=actualiza,
            rg5329=rg5329,
            codigo=codigo,
            lista_precios=lista_precios,
            impuestos_internos_alicuota=internos,
        )

    def _alicuota(self, position: int, value: object) -> Decimal:
        class_c = self.tipo is not None and self.tipo.letter == "C"
        if f.absent(value) and class_c:
            return Decimal("0")  # class C carries no IVA; clients often leave the rate out
        rate = f.decimal(value)
        allowed = set(t.ALICUOTAS_IVA) | {t.ALICUOTA_EXENTO, t.ALICUOTA_NO_GRAVADO}
        if rate is None or rate not in allowed:
            self.fail("TFC-4006", posicion=position, alicuota=echo(f.text(value)) or "vacia")
            return Decimal("0")
        if class_c and rate > 0:
            self.fail("TFC-4007", posicion=position)
        return rate.normalize() if rate != 0 else Decimal("0")

    def _tributos(self) -> tuple[Tributo, ...]:
        raw = self.raw.get("tributos")
        if f.absent(raw) or raw == []:
            return ()
        if not isinstance(raw, list):
            self.fail("TFC-2028", posicion=0, detalle="debe ser una lista")
            return ()
        if len(raw) > t.MAX_TRIBUTOS:
            self.fail("TFC-2034")
            return ()
        result = []
        for position, item in enumerate(raw, start=1):
            tributo = self._tributo(position, item)
            if tributo is not None:
                result.append(tributo)
        return tuple(result)

    def _tributo(self, position: int, raw: object) -> Tributo | None:
        if not isinstance(raw, dict):
            self.fail("TFC-2028", posicion=position, detalle="debe ser un objeto JSON")
            return None
        tipo = f.integer(raw.get("tipo"))
        regimen = f.integer(raw.get("regimen"))
        amounts = {name: f.decimal(raw.get(name)) for name in ("base_imponible", "alicuota", "total")}
        if tipo not in t.TRIBUTO_TIPOS:
            self.fail("TFC-2028", posicion=position, detalle="el tipo debe ser 1, 6 o 7")
        elif t.TRIBUTO_REGIMENES.get(regimen) != tipo:
            self.fail("TFC-2028", posicion=position, detalle="el regimen no corresponde al tipo de tributo")
        bad = [name for name, value in amounts.items() if value is None or value < 0]
        if bad:
            self.fail("TFC-2028", posicion=position, detalle=f"{', '.join(bad)} debe ser un numero mayor o igual a cero")
        if tipo not in t.TRIBUTO_TIPOS or t.TRIBUTO_REGIMENES.get(regimen) != tipo or bad:
            return None
        return Tributo(tipo, regimen, f.money(amounts["base_imponible"]), amounts["alicuota"], f.money(amounts["total"]))

    def _asociados(self, fecha: date | None) -> tuple[tuple[Asociado, ...], Periodo | None]:
        raw_list = self.raw.get("comprobantes_asociados")
        raw_periodo = self.raw.get("comprobantes_asociados_periodo")
        asociados = self._asociados_list(raw_list, fecha)
        periodo = None
        if not f.absent(raw_periodo) and raw_periodo not in ({}, []):
            periodo = self._periodo_asociado(raw_periodo)
        if self.tipo is not None and self.tipo.needs_asociados and not asociados and periodo is None:
            if not any(e.code in ("TFC-2023", "TFC-2024") for e in self.errors):
                self.fail("TFC-2022")
        return asociados, periodo

    def _asociados_list(self, raw: object, fecha: date | None) -> tuple[Asociado, ...]:
        if f.absent(raw) or raw == []:
            return ()
        if not isinstance(raw, list):
            self.fail("TFC-2023", posicion=0, detalle="comprobantes_asociados debe ser una lista")
            return ()
        result = []
        for position, item in enumerate(raw, start=1):
            asociado = self._asociado(position, item, fecha)
            if asociado is not None:
                result.append(asociado)
        return tuple(result)

    def _asociado(self, position: int, raw: object, fecha: date | None) -> Asociado | None:
        if not isinstance(raw, dict):
            self.fail("TFC-2023", posicion=position, detalle="debe ser un objeto JSON")
            return None
        problems = []
        tipo = t.tipo_comprobante(f.text(raw.get("tipo_comprobante")) or "")
        if tipo is None or tipo.cbte_tipo is None:
            problems.append("tipo_comprobante no valido")
        punto_venta = f.integer(raw.get("punto_venta"))
        if punto_venta is None or not 0 < punto_venta <= 99999:
            problems.append("punto_venta no valido")
        numero = f.integer(raw.get("numero"))
        if numero is None or not 0 < numero <= 99999999:
            problems.append("numero no valido")
        when = None
        if not f.absent(raw.get("comprobante_fecha")):
            when = f.wire_date(raw.get("comprobante_fecha"))
            if when is None:
                problems.append("comprobante_fecha debe tener el formato dd/mm/aaaa")
            elif fecha is not None and when > fecha:
                problems.append("comprobante_fecha no puede ser posterior a la fecha del comprobante")
        cuit = f.text(raw.get("cuit"))
        cuit = cuit.strip() if cuit else self.issuer.cuit
        if cuit != self.issuer.cuit:
            problems.append("el cuit debe ser el del emisor")
        if problems:
            self.fail("TFC-2023", posicion=position, detalle=", ".join(problems))
            return None
        return Asociado(tipo, punto_venta, numero, when, cuit)

    def _periodo_asociado(self, raw: object) -> Periodo | None:
        if not isinstance(raw, dict):
            self.fail("TFC-2024")
            return None
        desde = f.wire_date(raw.get("fecha_desde"))
        hasta = f.wire_date(raw.get("fecha_hasta"))
        if desde is None or hasta is None or desde > hasta:
            self.fail("TFC-2024")
            return None
        return Periodo(desde, hasta)

    def _rg_especiales(self) -> tuple[str, tuple[Opcional, ...]]:
        raw = self.raw.get("rg_especiales")
        if f.absent(raw) or raw in ({}, []):
            return "", ()
        if not isinstance(raw, dict):
            self.fail("TFC-2029", detalle="debe ser un objeto con regimen y datos")
            return "", ()
        datos = raw.get("datos") or []
        if not isinstance(datos, list):
            self.fail("TFC-2029", detalle="datos debe ser una lista")
            return "", ()
        opcionales = []
        for dato in datos:
            if not isinstance(dato, dict):
                self.fail("TFC-2029", detalle="cada dato debe ser un objeto con id y valor")
                return "", ()
            ident, valor = f.text(dato.get("id")), f.text(dato.get("valor"))
            if len(ident or "") > 4 or len(valor or "") > 250:
                # AFIP's Opcional: Id of up to 4 characters, Valor of up to 250.
                self.fail("TFC-2029", detalle="cada dato admite un id de hasta 4 caracteres y un valor de hasta 250")
                return "", ()
            # TF: "Si alguno de los items enviados posee un valor vacio, éste item no será procesado."
            if ident and valor and valor.strip():
                opcionales.append(Opcional(ident.strip(), valor.strip()))
        regimen = f.text(raw.get("regimen")) or ""
        if len(regimen) > 255:
            self.fail("TFC-2029", detalle="regimen admite hasta 255 caracteres")
            return "", ()
        return regimen, tuple(opcionales)

    def _datos_informativos(self, moneda: str) -> str:
        raw = self.raw.get("datos_informativos")
        if f.absent(raw) or raw == {}:
            return ""
        if not isinstance(raw, dict):
            self.fail("TFC-2031", detalle="debe ser un objeto JSON")
            return ""
        value = f.flag(raw.get("paga_misma_moneda"), "")
        if value is None:
            self.fail("TFC-2031", detalle="paga_misma_moneda debe ser S o N")
            return ""
        if value == "S" and moneda == "PES":
            self.fail("TFC-2031", detalle="paga_misma_moneda S requiere una moneda distinta a PES")
        return value

    def _tags(self) -> tuple[str, ...]:
        raw = self.raw.get("tags")
        if f.absent(raw) or raw == []:
            return ()
        if not isinstance(raw, list) or len(raw) > t.MAX_TAGS:
            self.fail("TFC-2017")
            return ()
        tags = [f.text(tag) for tag in raw]
        if any(tag is None or len(tag) > 255 for tag in tags):
            self.fail("TFC-2017")
            return ()
        return tuple(tags)

    def _extra(self, total: Decimal | None) -> dict:
        """abono and pagos: checked for shape, kept only to be shown back in consultas."""
        extra: dict = {}
        abono = f.flag(self.raw.get("abono"), "N")
        if abono is None:
            self.fail("TFC-2020")
        elif abono == "S":
            frecuencia = f.integer(self.raw.get("abono_frecuencia"))
            hasta = f.text(self.raw.get("abono_hasta")) or ""
            until = parse_hasta(hasta)
            actualiza = f.flag(self.raw.get("abono_actualiza_precios"))
            if not frecuencia or frecuencia > MAX_ABONO_FRECUENCIA or until is None or actualiza is None:
                self.fail("TFC-2020")
            else:
                extra["abono"] = {"frecuencia": frecuencia, "hasta": hasta.strip(), "actualiza_precios": actualiza}
        pagos = self.raw.get("pagos")
        if not f.absent(pagos) and pagos not in ({}, []):
            extra_pagos = self._pagos(pagos, total)
            if extra_pagos is not None:
                extra["pagos"] = extra_pagos
        return extra

    def _pagos(self, raw: object, total: Decimal | None) -> dict | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("formas_pago"), list):
            self.fail("TFC-2030", detalle="debe incluir formas_pago (lista) y total")
            return None
        formas = []
        for forma in raw["formas_pago"]:
            importe = f.decimal(forma.get("importe")) if isinstance(forma, dict) else None
            descripcion = f.text(forma.get("descripcion")) if isinstance(forma, dict) else None
            if importe is None or importe < 0 or not descripcion or len(descripcion) > 255:
                self.fail("TFC-2030", detalle="cada forma de pago requiere descripcion e importe")
                return None
            formas.append({"descripcion": descripcion, "importe": str(f.money(importe))})
        pagos_total = f.decimal(raw.get("total"))
        suma = sum((Decimal(x["importe"]) for x in formas), Decimal("0"))
        if pagos_total is None or abs(f.money(pagos_total) - suma) > TOTAL_TOLERANCE:
            self.fail("TFC-2030", detalle="el total no coincide con la suma de las formas de pago")
            return None
        if total is not None and pagos_total > total + TOTAL_TOLERANCE:
            self.fail("TFC-2030", detalle="el total de los pagos no puede superar el total del comprobante")
            return None
        return {"formas_pago": formas, "total": str(f.money(pagos_total))}
